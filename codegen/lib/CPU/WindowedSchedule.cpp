//===- WindowedSchedule.cpp - attn.windowed_attend on x86 -----------------===//
//
// Parallel over batch × head × query tiles. Per tile: window scores in
// register tiles of key_tile queries × register_rows taps, softmax
// vectorised across queries, P·V vectorised along the value width. Global
// rows: per head, dense and vectorised along keys.
//
//===----------------------------------------------------------------------===//
#include "CpuSchedules.h"

using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

void attnc::codegen::cpu::scheduleWindowed(WindowedFuncs &f,
                                           attn::ScheduleAttr s) {
  const int VW = int(s.getVectorWidth());
  auto RoundUp = H::TailStrategy::RoundUp;
  auto Guard = H::TailStrategy::GuardWithIf;
  H::Var c = f.c, i = f.i, j = f.j, w = f.w, g = f.g, h = f.h, b = f.b;
  H::Var io("io"), ii("ii"), ioh("ioh"), tile("tile"), ivo("ivo"), ivi("ivi"),
      co("co"), ci("ci");
  f.result.compute_root()
      .split(i, io, ii, int(s.getTileQueries()), Guard)
      .reorder(c, ii, io, h, b)
      .fuse(io, h, ioh)
      .fuse(ioh, b, tile)
      .parallel(tile)
      .vectorize(c, VW, Guard);
  f.softmax.rowMax.compute_at(f.result, tile);
  f.softmax.rowSum.compute_at(f.result, tile);
  f.pvAcc.compute_at(f.result, tile).vectorize(c, VW, RoundUp);
  f.qT.compute_at(f.result, tile).vectorize(i, VW, RoundUp);
  f.kT.compute_at(f.result, tile).vectorize(j, VW, RoundUp);
  f.vf.compute_at(f.result, tile).vectorize(c, VW, RoundUp);

  // Queries innermost in memory too, then register tiles.
  f.score.reorder_storage(i, w, h, b);
  f.winDot.reorder_storage(i, w, h, b);
  registerTile(f.score, f.result, tile, f.winDot, i, w, f.rd.x, VW,
               int(s.getKeyTile()), int(s.getRegisterRows()));
  f.softmax.rowMax.update().reorder(i, f.taps.x).vectorize(i, VW, Guard);
  f.softmax.probs.compute_at(f.result, tile)
      .reorder_storage(i, w, h, b)
      .vectorize(i, VW, RoundUp);
  f.softmax.rowSum.update().reorder(i, f.taps.x).vectorize(i, VW, Guard);
  f.pvAcc.update()
      .split(c, co, ci, kValueVectorsPerRow * VW, RoundUp)
      .reorder(ci, f.taps.x, co, i)
      .split(ci, ivo, ivi, VW)
      .vectorize(ivi)
      .unroll(ivo);
  if (f.globals == 0)
    return;
  f.globalRow.compute_at(f.result, tile);
  f.gk.compute_at(f.result, tile);
  f.gv.compute_at(f.result, tile).vectorize(c, VW, RoundUp);
  f.gDot.compute_at(f.result, tile).reorder_storage(i, g, h, b);
  f.gDot.update().reorder(i, f.rd.x, g).vectorize(i, VW, RoundUp);

  f.full.compute_root().parallel(b).vectorize(c, VW, Guard);
  for (H::Func x : {f.kAll, f.vAll, f.gqk, f.gscore, f.denseSoftmax.rowMax,
                    f.denseSoftmax.probs, f.denseSoftmax.rowSum, f.gPv})
    x.compute_at(f.full, h);
  f.gqk.vectorize(j, VW, RoundUp);
  f.gqk.update().vectorize(j, VW, RoundUp);
  f.denseSoftmax.probs.vectorize(j, VW, RoundUp);
  f.gPv.update().vectorize(c, VW, RoundUp);
}
