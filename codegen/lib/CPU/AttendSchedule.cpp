//===- AttendSchedule.cpp - attn.attend on x86 ----------------------------===//
//
// DESIGN.md, "What a fast CPU schedule needs": parallel over batch × head;
// K transposed once per head; per tile of queries, Q·Kᵀ and P·V accumulate
// in register tiles (key_tile keys × register_rows queries, key_tile values
// × register_rows queries) with the reduction loop outside the tile; row
// max and sum rfactor over vector lanes.
//
//===----------------------------------------------------------------------===//
#include "CpuSchedules.h"

using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

namespace {

/// The RVar a register tile's reduction steps over and, for bf16 pairs
/// (r = (element of the pair, pair)), the element it vectorises with the
/// lanes (vdpbf16ps).
std::pair<H::RVar, std::optional<H::RVar>> reductionSteps(H::RDom r,
                                                          bool pairs) {
  if (pairs)
    return {r.y, r.x};
  return {r.x, std::nullopt};
}

} // namespace

void attnc::codegen::cpu::attendTileLoops(H::Func owner, H::Var c, H::Var i,
                                           H::Var h, H::Var b,
                                           attn::ScheduleAttr s) {
  H::Var io("io"), ii("ii"), bh("bh");
  owner.compute_root()
      .split(i, io, ii, int(s.getTileQueries()), H::TailStrategy::GuardWithIf)
      .reorder(c, ii, io, h, b)
      .fuse(h, b, bh)
      .parallel(bh)
      .vectorize(c, int(s.getVectorWidth()), H::TailStrategy::GuardWithIf);
  // Query tiles in parallel too, nested inside heads: with B·H = 1 they
  // are all the parallelism there is, and K transposed (per head, O(L·D))
  // stays shared by the head's tiles.
  owner.parallel(io);
}

void attnc::codegen::cpu::scheduleAttend(AttendFuncs &f, attn::ScheduleAttr s,
                                         std::optional<H::Func> tileOwner) {
  const int VW = int(s.getVectorWidth()), KB = int(s.getKeyTile()),
            QR = int(s.getRegisterRows()), VT = int(s.getValueTile()),
            VR = int(s.getValueRows());
  H::Var c = f.c, i = f.i, j = f.j, h = f.h, b = f.b;
  H::Var io("io"), bh("bh");
  auto RoundUp = H::TailStrategy::RoundUp;
  // `loops` owns the loops over heads (bh) and query tiles (io): the
  // output, or the Func that picks between two forms of it per tile.
  H::Func loops = f.out;
  if (tileOwner) {
    loops = *tileOwner;
    f.out.compute_at(loops, io).vectorize(c, VW, H::TailStrategy::GuardWithIf);
  } else {
    attendTileLoops(f.out, c, i, h, b, s);
  }
  // K transposed once per head, Q staged per tile (their layouts are in
  // defineAttend: the Q·Kᵀ register tile's broadcasts at constant offsets
  // from one base address). bf16 pairs are stored (element, query, pair).
  if (f.bf16Dot) {
    // Pairs gathered along keys, vectorised along them alone: blocks
    // vectorised along pairs too (transposeInBlocks) were slower, 7.1 ->
    // 7.4 ms for full attention at L = 1024 on Zen 5.
    H::Var jo("jo"), ji("ji");
    f.kt.compute_at(loops, bh)
        .bound(f.t, 0, 2)
        .unroll(f.t)
        .bound(f.kl, 0, KB)
        .split(f.kl, jo, ji, VW, RoundUp)
        .reorder(ji, f.p, jo)
        .vectorize(ji);
    f.qf.compute_at(loops, io).bound(f.t, 0, 2).unroll(f.t);
  } else {
    transposeInBlocks(f.kt.compute_at(loops, bh).bound(f.kl, 0, KB), f.kl,
                      f.d, VW);
    // The blocks innermost, so that Halide peels the last (its clamp).
    f.qf.compute_at(loops, io)
        .bound(f.d, 0, VW)
        .vectorize(f.d)
        .reorder(f.d, f.db, i);
  }
  if (f.pvPairs)
    f.vf.compute_at(loops, bh).bound(f.t, 0, 2).unroll(f.t).vectorize(c, VW, RoundUp);
  else
    f.vf.compute_at(loops, bh).vectorize(c, VW, RoundUp);

  // Where a chunk's work (scores, softmax, P·V) is computed: per tile, or
  // with chunks inside the merge's loop over them, one chunk at a time.
  H::Func at = loops;
  H::VarOrRVar atv = io;
  if (f.chunked) {
    f.state.compute_at(loops, io).vectorize(c, VW, RoundUp);
    f.state.update().reorder(c, i, f.rc).vectorize(c, VW, RoundUp);
    at = f.state;
    atv = f.rc.x;
  }

  auto [dStep, dPair] = reductionSteps(f.rd, f.bf16Dot);
  if (f.qk == AttendFuncs::QK::BlockTiled) {
    // The scores' update visits live register tiles (rows gq·QR + rr, key
    // tile rs.y) and computes each tile's accumulator there.
    H::Var gq("gq"), rr("rr");
    H::RVar vec("vec"), lane("lane");
    f.score.compute_at(H::LoopLevel(at, atv)).align_bounds(i, QR);
    f.score.update()
        .split(i, gq, rr, QR, H::TailStrategy::GuardWithIf)
        .split(f.rs.x, vec, lane, VW)
        .reorder(lane, vec, rr, f.rs.y, gq)
        .allow_race_conditions()
        .vectorize(lane)
        .unroll(vec)
        .unroll(rr);
    registerAccumulator(f.dotAcc, H::LoopLevel(f.score, f.rs.y), f.kl, f.r,
                        dStep, VW, {f.jb, f.g}, dPair);
  } else
    registerTile(f.score, at, atv, f.dotAcc, j, i, dStep, VW, KB, QR,
                 std::make_pair(f.kl, f.r), {f.jb, f.g}, dPair);

  RowSoftmax &sm = f.softmax;
  // A block mask's reductions have a third dimension, the key block,
  // outside the lane groups (its liveness test is per block).
  std::optional<H::RVar> blocks;
  if (f.rk.dimensions() == 3)
    blocks = f.rk.z;
  if (f.liveBlock.defined())
    f.liveBlock.compute_at(H::LoopLevel(at, atv));
  scheduleLaneReduction(sm.rowMax, f.rk.x, f.rk.y, at, atv, i, h, b,
                        blocks);
  sm.probs.compute_at(H::LoopLevel(at, atv)).vectorize(f.jl, VW, RoundUp);
  // Lanes x of a group write keys y·lanes + x: distinct keys, which
  // Halide cannot prove of the sum.
  if (sm.probsOver)
    sm.probs.update().allow_race_conditions().vectorize(sm.probsOver->x);
  scheduleLaneReduction(sm.rowSum, f.rk.x, f.rk.y, at, atv, i, h, b,
                        blocks);
  // P·V on bf16 pairs: the chunk's probabilities rounded once
  // (vcvtneps2bf16), each then read by a whole row of value vectors.
  if (f.pvPairs)
    f.probsBf16.compute_at(H::LoopLevel(at, atv)).vectorize(f.jl, VW, RoundUp);

  switch (f.pv) {
  case AttendFuncs::PV::BandTiled: {
    auto [key, pair] = reductionSteps(f.rg, f.pvPairs);
    registerTile(f.chunkAcc, at, atv, f.pvAcc, c, i, key, VW, VT, VR,
                 std::make_pair(c, f.r), {f.g}, pair);
    break;
  }
  case AttendFuncs::PV::BlockTiled:
    // The liveness test runs once per key block and row group.
    registerTile(f.chunkAcc, at, atv, f.pvAcc, c, i, f.rb.x, VW, VT,
                 VR, std::make_pair(c, f.r), {f.rb.y, f.g});
    break;
  case AttendFuncs::PV::Dense: {
    auto [key, pair] = reductionSteps(f.rp, f.pvPairs);
    registerTile(f.chunkAcc, at, atv, f.pvAcc, c, i, key, VW, VT, VR,
                 std::nullopt, {}, pair);
    break;
  }
  }
}
