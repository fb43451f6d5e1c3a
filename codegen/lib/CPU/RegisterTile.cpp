//===- RegisterTile.cpp - register tiles, lane reductions, transposes ----===//
#include "CpuSchedules.h"

using namespace attnc::codegen;
namespace H = Halide;

namespace {

void computeAt(H::Func f, H::Func at, H::VarOrRVar atVar) {
  if (atVar.is_rvar)
    f.compute_at(at, atVar.rvar);
  else
    f.compute_at(at, atVar.var);
}

} // namespace

void attnc::codegen::cpu::registerTile(
    H::Func consumer, H::Func at, H::VarOrRVar atVar, H::Func accum, H::Var inner,
    H::Var rowVar, H::RVar r, int lanes, int width, int rows,
    std::optional<std::pair<H::Var, H::Var>> accVars,
    std::vector<H::VarOrRVar> tileVars, std::optional<H::RVar> pairElement) {
  auto RoundUp = H::TailStrategy::RoundUp;
  H::Var accInner = accVars ? accVars->first : inner;
  H::Var accRow = accVars ? accVars->second : rowVar;
  H::Var o("o"), t("t"), in("in"), q("q"), vec("vec"), lane("lane");
  computeAt(consumer, at, atVar);
  // An accumulator indexed by tile: the consumer's region starts on a
  // tile boundary, so that Halide can prove each consumer tile reads one
  // accumulator tile. Otherwise the accumulator's extent is not a constant
  // (a tile could straddle two), and it went to the heap, allocated and
  // freed per tile (causal P·V: 3 % of L = 1024 on Zen 5).
  if (accVars) {
    consumer.align_bounds(rowVar, rows);
    if (accInner.name() != inner.name())
      consumer.align_bounds(inner, width);
  }
  consumer.split(inner, o, in, width, RoundUp)
      .split(rowVar, t, q, rows, RoundUp)
      .reorder(in, q, o, t)
      .split(in, vec, lane, lanes)
      .vectorize(lane)
      .unroll(vec)
      .unroll(q);
  registerAccumulator(accum, H::LoopLevel(consumer, o), accInner, accRow, r,
                      lanes, tileVars, pairElement);
}

void attnc::codegen::cpu::registerAccumulator(
    H::Func accum, H::LoopLevel at, H::Var accInner, H::Var accRow, H::RVar r,
    int lanes, std::vector<H::VarOrRVar> tileVars,
    std::optional<H::RVar> pairElement) {
  auto RoundUp = H::TailStrategy::RoundUp;
  H::Var vec("vec"), lane("lane");
  accum.compute_at(at)
      .split(accInner, vec, lane, lanes, RoundUp)
      .vectorize(lane)
      .unroll(vec)
      .unroll(accRow);
  registerTileUpdate(accum.update(), accInner, accRow, r, lanes, tileVars,
                     pairElement);
}

void attnc::codegen::cpu::registerTileUpdate(
    H::Stage update, H::Var accInner, H::Var accRow, H::RVar r, int lanes,
    std::vector<H::VarOrRVar> tileVars, std::optional<H::RVar> pairElement) {
  H::Var vec("vec"), lane("lane");
  std::vector<H::VarOrRVar> order = {lane, vec, accRow, r};
  order.insert(order.end(), tileVars.begin(), tileVars.end());
  if (pairElement)
    order.insert(order.begin(), *pairElement);
  update.split(accInner, vec, lane, lanes, H::TailStrategy::RoundUp)
      .reorder(order);
  // The pair's two products summed into one lane: a vector reduction
  // (atomic: Halide then may reassociate the sum), vdpbf16ps.
  if (pairElement)
    update.atomic().vectorize(*pairElement);
  update.vectorize(lane).unroll(vec).unroll(accRow);
}

void attnc::codegen::cpu::scheduleLaneReduction(H::Func rowFn, H::RVar lanesVar,
                                                H::RVar groupVar, H::Func at,
                                                H::VarOrRVar atVar, H::Var i,
                                                H::Var h, H::Var b,
                                                std::optional<H::RVar> outerGroupVar) {
  H::Var u("u");
  computeAt(rowFn, at, atVar);
  H::Func lanes = rowFn.update().rfactor(lanesVar, u);
  // Lanes innermost in memory: the rfactor Func's new Var comes last.
  computeAt(lanes, at, atVar);
  lanes.reorder_storage(u, i, h, b).vectorize(u);
  if (outerGroupVar)
    lanes.update().reorder(u, groupVar, *outerGroupVar, i).vectorize(u);
  else
    lanes.update().reorder(u, groupVar, i).vectorize(u);
}

void attnc::codegen::cpu::transposeInBlocks(H::Func f, H::Var x, H::Var y,
                                            int lanes) {
  H::Var xo("xo"), xi("xi"), yo("yo"), yi("yi");
  f.split(x, xo, xi, lanes, H::TailStrategy::RoundUp)
      .split(y, yo, yi, lanes, H::TailStrategy::RoundUp)
      .reorder(xi, yi, yo, xo)
      .vectorize(xi)
      .vectorize(yi);
}
