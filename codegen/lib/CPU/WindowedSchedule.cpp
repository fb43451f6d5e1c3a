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

namespace {

// Tiles (blocks of queries) per parallel task in the band form: a task's
// buffers are allocated once for its tiles (an allocation per tile of
// these sizes cost a tenth of the time in malloc and free), and 8 tiles of
// 64 queries still make 64 tasks per head at L = 4096.
constexpr int kBandTilesPerTask = 8;

// The band form: per tile (one block of queries) the keys and values rows
// of its band are staged, Q·Kᵀ runs in register tiles of key_tile queries ×
// register_rows key slots (a key broadcast per row, read from the staged
// rows: no transposition of the keys), the softmax across queries, P·V in
// register tiles of key_tile values × register_rows queries.
void scheduleGlobalRows(WindowedFuncs &f, int VW);

void scheduleBand(WindowedFuncs &f, attn::ScheduleAttr s) {
  const int VW = int(s.getVectorWidth()), W = int(s.getKeyTile()),
            QR = int(s.getRegisterRows());
  auto RoundUp = H::TailStrategy::RoundUp;
  auto Guard = H::TailStrategy::GuardWithIf;
  H::Var io("io"), ii("ii"), task("task"), tile("tile"), th("th");
  H::RVar r = f.bandSlots.x;
  f.result.compute_root()
      .split(f.i, io, ii, f.blockQueries * f.dilation, Guard)
      .split(io, task, tile, kBandTilesPerTask, Guard)
      .reorder(f.c, ii, tile, task, f.h, f.b)
      .fuse(task, f.h, th)
      .fuse(th, f.b, task)
      .parallel(task)
      .vectorize(f.c, VW, Guard);
  // Stored per task, computed per tile: one block's worth of each (folded
  // over blocks).
  auto perTile = [&](H::Func g) -> H::Func {
    return g.store_at(f.result, task).compute_at(f.result, tile);
  };
  auto perBlock = [&](H::Func g) -> H::Func {
    return perTile(g).fold_storage(f.blk, 1);
  };
  cpu::transposeInBlocks(perBlock(f.qT), f.t, f.d, VW);
  // The key and value rows of a task's bands, staged once per task: the
  // tiles' bands overlap by left + right rows, which Halide's sliding
  // window did not reuse (the band's first row is not provably monotonic
  // in the tile), so staging per tile copied all B + left + right rows for
  // each B queries — a sixth of the time at 128 + 128. Zen 5, one thread,
  // L = 1000 / 4096 / 16384, best of 3: 3.72 / 15.2 / 61.2 ms -> 3.25 /
  // 14.0 / 57.6.
  f.kRows.compute_at(f.result, task).vectorize(f.d, VW, RoundUp);
  f.vf.compute_at(f.result, task).vectorize(f.c, VW, RoundUp);
  cpu::registerTile(f.bandScore, f.result, tile, f.bandDot, f.t, f.w,
                    f.bandRd.x, VW, W, QR, std::make_pair(f.tl, f.sr),
                    {f.tq, f.sg});
  f.bandScore.store_at(f.result, task).fold_storage(f.blk, 1);
  perBlock(f.bandMax).vectorize(f.t, VW, RoundUp);
  f.bandMax.update().reorder(f.t, r).vectorize(f.t, VW, RoundUp);
  perBlock(f.bandProbs).vectorize(f.t, VW, RoundUp);
  perBlock(f.bandSum).vectorize(f.t, VW, RoundUp);
  f.bandSum.update().reorder(f.t, r).vectorize(f.t, VW, RoundUp);
  cpu::registerTile(f.bandPvOut, f.result, tile, f.bandPv, f.c, f.t,
                    f.bandPvSlots.x, VW, int(s.getValueTile()),
                    int(s.getValueRows()), std::make_pair(f.c, f.vr),
                    {f.vg});
  f.bandPvOut.store_at(f.result, task).fold_storage(f.blk, 1);
  if (f.globals == 0)
    return;
  // Global keys' P·V: the register tile's second update, scheduled like
  // the first.
  cpu::registerTileUpdate(f.bandPv.update(1), f.c, f.vr, f.globalPvSlots.x,
                          VW, {f.vg});
  f.globalRow.compute_at(f.result, tile);
  f.gk.compute_at(f.result, tile);
  f.gv.compute_at(f.result, tile).vectorize(f.c, VW, RoundUp);
  // The global keys' dot products: queries innermost in memory, as in
  // the vectors (with g innermost every access was a stride-G gather or
  // scatter), and the block's queries × global keys accumulated in
  // registers across the head dimension when they are no more than the
  // schedule's register tile (G is a constant, a block B / VW vectors of
  // queries). Longformer (3 globals), L = 4096, one thread, Zen 5: 19.6 ->
  // 18.5 ms.
  perBlock(f.gDot).reorder_storage(f.t, f.g).vectorize(f.t, VW, RoundUp);
  H::Var tv("tv"), tl("tl");
  const int accumulators = f.globals * (f.blockQueries / VW);
  if (f.blockQueries % VW == 0 && accumulators <= (W / VW) * QR) {
    f.gDot.update()
        .split(f.t, tv, tl, VW, RoundUp)
        .reorder(tl, tv, f.g, f.rd.x)
        .vectorize(tl)
        .unroll(tv)
        .unroll(f.g);
  } else {
    f.gDot.update().reorder(f.t, f.rd.x, f.g).vectorize(f.t, VW, RoundUp);
  }
  scheduleGlobalRows(f, VW);
}

// Global query rows: per head, a dense attention over every key, vectorised
// along keys.
void scheduleGlobalRows(WindowedFuncs &f, int VW) {
  auto RoundUp = H::TailStrategy::RoundUp;
  // Parallel over batch × head: with B = 1 over the batch alone, the
  // global rows ran on one thread while the others waited (Longformer,
  // L = 4096: two threads 1.73× one).
  H::Var hb("hb");
  f.full.compute_root()
      .fuse(f.h, f.b, hb)
      .parallel(hb)
      .vectorize(f.c, VW, H::TailStrategy::GuardWithIf);
  for (H::Func x : {f.kAll, f.vAll, f.gqk, f.gscore, f.denseSoftmax.rowMax,
                    f.denseSoftmax.probs, f.denseSoftmax.rowSum, f.gPv})
    x.compute_at(f.full, hb);
  // Staged per head: vectorised, or the copies cost more than the global
  // rows' arithmetic (Longformer, L = 4096: 16 % of the time, scalar).
  cpu::transposeInBlocks(f.kAll, f.j, f.d, VW);
  f.vAll.vectorize(f.c, VW, RoundUp);
  f.gqk.vectorize(f.j, VW, RoundUp);
  f.gqk.update().vectorize(f.j, VW, RoundUp);
  f.denseSoftmax.probs.vectorize(f.j, VW, RoundUp);
  f.gPv.update().vectorize(f.c, VW, RoundUp);
}

} // namespace

void attnc::codegen::cpu::scheduleWindowed(WindowedFuncs &f,
                                           attn::ScheduleAttr s) {
  if (f.band)
    return scheduleBand(f, s);
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
  scheduleGlobalRows(f, VW);
}
