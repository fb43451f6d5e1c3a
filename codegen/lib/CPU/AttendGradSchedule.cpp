//===- AttendGradSchedule.cpp - attn.attend_grad on x86 -------------------===//
//
// The forward's structure (AttendSchedule.cpp) per tile of queries: the
// update of `grads` runs parallel over batch × head and, inside, over the
// tiles; everything a tile needs (scores, probabilities, dO·Vᵀ, dS and the
// three products) is computed at the tile, each matmul in register tiles
// with its reduction loop outside. K, K transposed and V transposed are
// laid out once per head.
//
//===----------------------------------------------------------------------===//
#include "CpuSchedules.h"

using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

void attnc::codegen::cpu::scheduleAttendGrad(AttendGradFuncs &f,
                                             attn::ScheduleAttr s) {
  const int VW = int(s.getVectorWidth()), KB = int(s.getKeyTile()),
            QR = int(s.getRegisterRows());
  H::Var c = f.c, d = f.d, i = f.i, j = f.j, h = f.h, b = f.b, x = f.x;
  H::Var bh("bh");
  H::RVar tile = f.u.y;
  auto RoundUp = H::TailStrategy::RoundUp;
  auto Guard = H::TailStrategy::GuardWithIf;

  for (H::Func out : {f.dq, f.dk, f.dv}) {
    H::Var w = out.args()[0];
    out.compute_root()
        .fuse(h, b, bh)
        .parallel(bh)
        .vectorize(w, VW, Guard);
  }
  f.grads.compute_root().vectorize(x, VW, Guard).parallel(b);
  f.grads.update()
      .reorder(x, f.u.x, f.u.y, h, b)
      .fuse(h, b, bh)
      .parallel(bh)
      .vectorize(x, VW, Guard);

  f.kt.compute_at(f.grads, bh).vectorize(j, VW, RoundUp);
  f.kf.compute_at(f.grads, bh).vectorize(d, VW, RoundUp);
  f.vt.compute_at(f.grads, bh).vectorize(j, VW, RoundUp);
  f.qf.compute_at(f.grads, tile).vectorize(d, VW, RoundUp);
  f.dof.compute_at(f.grads, tile).vectorize(c, VW, RoundUp);

  registerTile(f.scaled, f.grads, tile, f.dotAcc, j, i, f.rd.x, VW, KB, QR);
  RowSoftmax &sm = f.softmax;
  scheduleLaneReduction(sm.rowMax, f.rk.x, f.rk.y, f.grads, tile, i, h, b);
  sm.probs.compute_at(f.grads, tile).vectorize(j, VW, RoundUp);
  scheduleLaneReduction(sm.rowSum, f.rk.x, f.rk.y, f.grads, tile, i, h, b);
  f.invSum.compute_at(f.grads, tile);

  registerTile(f.dp, f.grads, tile, f.dpAcc, j, i, f.rc.x, VW, KB, QR);
  scheduleLaneReduction(f.rowDot, f.rk.x, f.rk.y, f.grads, tile, i, h, b);
  for (H::Func row : f.rowCaptureGrads)
    scheduleLaneReduction(row, f.rk.x, f.rk.y, f.grads, tile, i, h, b);
  // A capture's gradient sums B·H·Lq row shares: small, serial.
  for (H::Func grad : f.captureGrads)
    grad.compute_root();
  f.ds.compute_at(f.grads, tile).vectorize(j, VW, RoundUp);

  registerTile(f.dqTile, f.grads, tile, f.dqAcc, d, i, f.rg.x, VW, KB, QR,
               std::make_pair(d, f.r), {f.g});
  registerTile(f.dkPart, f.grads, tile, f.dkAcc, d, j, f.ri.x, VW, KB, QR);
  registerTile(f.dvPart, f.grads, tile, f.dvAcc, c, j, f.ri.x, VW, KB, QR);
}
