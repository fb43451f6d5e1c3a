//===- RegisterTile.cpp - one register-tile schedule for every matmul -----===//
#include "CpuSchedules.h"

using namespace attnc::codegen;
namespace H = Halide;

void attnc::codegen::cpu::registerTile(
    H::Func consumer, H::Func at, H::Var atVar, H::Func accum, H::Var inner,
    H::Var rowVar, H::RVar r, int lanes, int width, int rows,
    std::optional<std::pair<H::Var, H::Var>> accVars,
    std::vector<H::VarOrRVar> tileVars) {
  auto RoundUp = H::TailStrategy::RoundUp;
  H::Var accInner = accVars ? accVars->first : inner;
  H::Var accRow = accVars ? accVars->second : rowVar;
  H::Var o("o"), t("t"), in("in"), q("q"), vec("vec"), lane("lane");
  consumer.compute_at(at, atVar)
      .split(inner, o, in, width, RoundUp)
      .split(rowVar, t, q, rows, RoundUp)
      .reorder(in, q, o, t)
      .split(in, vec, lane, lanes)
      .vectorize(lane)
      .unroll(vec)
      .unroll(q);
  accum.compute_at(consumer, o)
      .split(accInner, vec, lane, lanes, RoundUp)
      .vectorize(lane)
      .unroll(vec)
      .unroll(accRow);
  std::vector<H::VarOrRVar> order = {lane, vec, accRow, r};
  order.insert(order.end(), tileVars.begin(), tileVars.end());
  accum.update()
      .split(accInner, vec, lane, lanes, RoundUp)
      .reorder(order)
      .vectorize(lane)
      .unroll(vec)
      .unroll(accRow);
}
