//===- LshGradSchedule.cpp - the LSH primitives' gradients on x86 ---------===//
//
// chunked_attend_grad as its forward (LshSchedule.cpp): one parallel loop
// over (chunk, head, batch) in which everything a chunk needs is computed
// — its gathered keys and values, the recomputed scores and softmax, dP,
// δ, dS and the three small products, each matmul in register tiles — and
// written to the chunk's rows of `grads`. The per-position sums then gather
// from `grads` in blocks of positions. The chunk's neighbours are gathered
// per chunk (no sliding window across chunks as in the forward): the
// backward does about five times the forward's arithmetic per gathered row.
//
//===----------------------------------------------------------------------===//
#include "CpuSchedules.h"

using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

// Positions per task of the per-position sums.
constexpr int kPositionsPerTask = 64;

void attnc::codegen::cpu::scheduleChunkedAttendGrad(ChunkedGradFuncs &g,
                                                    attn::ScheduleAttr s) {
  const int VW = int(s.getVectorWidth()), W = int(s.getKeyTile()),
            QR = int(s.getRegisterRows());
  auto RoundUp = H::TailStrategy::RoundUp;
  auto Guard = H::TailStrategy::GuardWithIf;
  ChunkedFuncs &f = g.fwd;
  H::Var x = f.x, t = f.t, j = f.j, c = f.c, i = f.i, d = f.d, h = f.h,
         b = f.b;

  scheduleChunkedPerHead(f, VW);

  // Chunks and heads are two nested parallel loops, not one fused loop:
  // with the chunk a plain loop variable, Halide bounds the per-chunk
  // buffers to one chunk (through a fused index it would size them for
  // every chunk and allocate that per iteration).
  H::Var hb("hb"), chb = c;
  g.grads.compute_root()
      .reorder(x, g.row, c, h, b)
      .fuse(h, b, hb)
      .parallel(hb)
      .parallel(c)
      .vectorize(x, VW, Guard);
  f.keysT.compute_at(g.grads, chb).vectorize(t, VW, RoundUp);
  f.values.compute_at(g.grads, chb).vectorize(x, VW, RoundUp);
  scheduleChunkSoftmax(f, g.grads, chb, s);
  g.invSum.compute_at(g.grads, chb).vectorize(t, VW, RoundUp);
  g.doutRows.compute_at(g.grads, chb).vectorize(x, VW, RoundUp);
  g.doutT.compute_at(g.grads, chb).vectorize(t, VW, RoundUp);
  g.dlseSorted.compute_at(g.grads, chb).vectorize(t, VW, RoundUp);
  g.qRows.compute_at(g.grads, chb).vectorize(d, VW, RoundUp);
  registerTile(g.dp, g.grads, chb, g.dpAcc, t, j, g.rx.x, VW, W, QR);
  g.delta.compute_at(g.grads, chb).vectorize(t, VW, RoundUp);
  g.delta.update().reorder(t, g.rjn.x, g.rjn.y).vectorize(t, VW, RoundUp);
  g.ds.compute_at(g.grads, chb).vectorize(t, VW, RoundUp);
  registerTile(g.dqT, g.grads, chb, g.dqAcc, t, d, g.rjn.x, VW, W, QR, {},
               {g.rjn.y});
  registerTile(g.keyPart, g.grads, chb, g.keyAcc, d, j, g.rt.x, VW, W, QR);
  registerTile(g.valPart, g.grads, chb, g.valAcc, x, j, g.rt.x, VW, W, QR);

  // Per block of positions: the sums over rounds and neighbours.
  H::Var io("io"), ii("ii"), ioh("ioh"), task("task");
  for (H::Func out : {g.dq, g.dk, g.dv}) {
    H::Var w = out.args()[0];
    out.compute_root()
        .split(i, io, ii, kPositionsPerTask, Guard)
        .reorder(w, ii, io, h, b)
        .fuse(io, h, ioh)
        .fuse(ioh, b, task)
        .parallel(task)
        .vectorize(w, VW, Guard);
  }
  for (auto [sum, out] : {std::pair{g.dqSum, g.dq}, {g.keySum, g.dk},
                          {g.valSum, g.dv}}) {
    H::Var w = sum.args()[0];
    sum.compute_at(out, task).vectorize(w, VW, RoundUp);
    sum.update().vectorize(w, VW, RoundUp);
  }
  if (g.keyDot.defined())
    g.keyDot.compute_at(g.dk, task);
}

void attnc::codegen::cpu::scheduleCombineRoundsGrad(CombineGradFuncs &g,
                                                    int lanes) {
  auto Guard = H::TailStrategy::GuardWithIf;
  CombineFuncs &f = g.fwd;
  H::Var x = f.x, i = f.i, h = f.h, b = f.b;
  // The per-row weights and dot products once at the root (they are R + 2
  // floats per row); then both gradients, vectorised along their rows.
  for (H::Func fn : {f.maxLse, f.weightSum, g.rowDot}) {
    fn.compute_root().parallel(h).vectorize(i, lanes, Guard);
    fn.update().parallel(h).vectorize(i, lanes, Guard);
  }
  f.weight.compute_root().parallel(h).vectorize(i, lanes, Guard);
  g.roundDot.compute_root().parallel(h).vectorize(i, lanes, Guard);
  g.roundDot.update().parallel(h).vectorize(i, lanes, Guard);
  g.dout.compute_root().parallel(h).vectorize(x, lanes, Guard);
  g.dlse.compute_root().parallel(h).vectorize(i, lanes, Guard);
}
