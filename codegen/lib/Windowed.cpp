//===- Windowed.cpp - the algorithm of attn.windowed_attend ---------------===//
//
// Candidates of query i: the window taps w < taps (key i + (w − left)·dil),
// then the global keys (w = taps + g) unless the window already holds them
// (each key counts once). Queries and keys run innermost: the window slides
// along the sequence, so scores vectorise across queries and read keys at a
// constant offset. Global query rows attend densely over every key (per
// head O(L), never L×L). Reads are clamped, so tiles may run past both ends.
//
//===----------------------------------------------------------------------===//
#include "Algorithms.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

// The band form: a block of B consecutive queries sees, together, the keys
// from its first query's left edge to its last query's right edge: B +
// left + right key slots, each the same key for every query of the block.
// So Q·Kᵀ and P·V are small dense matmuls with a key broadcast per register
// row (as in full attention) instead of one unaligned vector load per tap
// and query vector; the slots outside a query's own window are masked,
// (B − 1)/(B + left + right) of the slots (a fifth at 128 + 128, B = 64),
// of which whole register tiles are skipped (Zen 5, one
// thread, L = 4096 / 16384 / 65536: 16.4 / 64.3 / 253 ms -> 14.7 / 59.6 /
// 237). With a dilation, each residue class of queries is such a
// sequence (see defineBand); global keys are extra slots. For windows up to
// this many slots and dilations up to kMaxBandDilation; others take the tap
// form.
constexpr int64_t kMaxBandSlots = 2048;
// A tile covers every residue of its blocks: dil blocks of scores at once,
// so large dilations keep the tap form.
constexpr int32_t kMaxBandDilation = 8;

// Larger dilations would stage (taps - 1)·dil keys per tile (k_t covers the
// window's reach): 4096 keeps that below 16 Mi keys for windows of 4096 taps.
constexpr int64_t kMaxDilation = 4096;

namespace {

// The band form (kMaxBandSlots). Queries of one residue ρ modulo the
// dilation form a sequence of their own, and so do keys: row (t, blk, ρ)
// is query (blk·B + t)·dil + ρ, slot w < B + left + right of its block is
// key (blk·B − left + w)·dil + ρ, and the window of query t is slots t to
// t + left + right. Global keys follow as slots B + left + right + g (each
// key counts once: not where the window already holds it). Returns the
// normalised output row of query i.
H::Expr defineBand(WindowedFuncs &f, const TensorValue &q,
                   const TensorValue &k, int32_t left, int32_t right,
                   int32_t dil, int B, TileShape tile, H::Expr Lk,
                   H::Expr scale,
                   const std::function<H::Expr(H::Expr)> &globalAt,
                   const std::function<H::Expr(H::Expr, H::Expr, H::Expr)>
                       &globalScore) {
  H::Var c = f.c, d = f.d, t = f.t, w = f.w, blk = f.blk, rho = f.rho,
         g = f.g, i = f.i, h = f.h, b = f.b;
  f.band = true;
  f.blockQueries = B;
  f.dilation = dil;
  const int32_t slots = B + left + right;
  const int32_t G = f.globals;
  H::Expr D = q.shape[3], Lq = q.shape[2];
  auto key = [&](H::Expr slot) { return (blk * B - left + slot) * dil + rho; };
  H::Expr query = (blk * B + t) * dil + rho;
  f.qT = H::Func("q_band");
  f.qT(t, d, blk, rho, h, b) = H::cast<float>(
      q.func(H::clamp(H::likely(d), 0, D - 1),
             H::clamp(H::likely(query), 0, Lq - 1), h, b));
  f.kRows = clampedF32(k, "k_rows", d, f.j);
  f.bandDot = H::Func("band_qk");
  // Query t sees slots [t, t + left + right]: a fifth of a 64-query
  // block's slots at 128 + 128 lie outside, and the corners of whole
  // register tiles outside every window of their queries are skipped.
  // Global keys are slots every query sees: their dot products are a
  // matmul of their own (gDot) and their P·V a second update.
  const int KT = tile.keys, QR = tile.rows, VR = tile.valueRows;
  H::Expr firstSlot = f.sg * QR, firstQuery = f.tq * KT;
  // An RDom of its own: its predicate names the tile (global keys' dot
  // products reduce over f.rd).
  f.bandRd = H::RDom(0, D, "band_rd");
  f.bandRd.where(firstSlot + (QR - 1) >= firstQuery &&
                 firstSlot <= firstQuery + (KT - 1) + left + right);
  f.bandDot(f.tl, f.sr, f.tq, f.sg, blk, rho, h, b) = 0.0f;
  f.bandDot(f.tl, f.sr, f.tq, f.sg, blk, rho, h, b) +=
      f.qT(firstQuery + f.tl, f.bandRd, blk, rho, h, b) *
      f.kRows(f.bandRd, key(firstSlot + f.sr), h, b);
  H::Expr dot = f.bandDot(t % KT, w % QR, t / KT, w / QR, blk, rho, h, b);
  H::Expr live = w < slots && key(w) >= 0 && key(w) < Lk && w >= t &&
                 w <= t + left + right;
  f.bandScore = H::Func("band_score");
  f.bandScore(t, w, blk, rho, h, b) = H::select(live, dot * scale, kLowest);
  // Candidates: the band's slots, then the global keys.
  H::Func score = f.bandScore;
  if (G > 0) {
    f.gDot = H::Func("global_qk");
    f.gDot(g, t, blk, rho, h, b) = 0.0f;
    f.gDot(g, t, blk, rho, h, b) +=
        f.qT(t, f.rd, blk, rho, h, b) * f.gk(f.rd, g, h, b);
    H::Expr gc = H::max(w - slots, 0);
    score = H::Func("band_candidates");
    score(t, w, blk, rho, h, b) = H::select(
        w < slots, f.bandScore(t, H::min(w, slots - 1), blk, rho, h, b),
        globalScore(globalAt(gc), query, f.gDot(gc, t, blk, rho, h, b)));
    f.bandCandidates = score;
  }
  f.bandSlots = H::RDom(0, slots + G, "band_r");
  H::RVar r = f.bandSlots.x;
  f.bandMax = H::Func("band_max");
  f.bandMax(t, blk, rho, h, b) = kLowest;
  f.bandMax(t, blk, rho, h, b) =
      H::max(f.bandMax(t, blk, rho, h, b), score(t, r, blk, rho, h, b));
  f.bandProbs = H::Func("band_p");
  f.bandProbs(t, w, blk, rho, h, b) = softmaxWeight(
      score(t, w, blk, rho, h, b), f.bandMax(t, blk, rho, h, b));
  f.bandSum = H::Func("band_sum");
  f.bandSum(t, blk, rho, h, b) = 0.0f;
  f.bandSum(t, blk, rho, h, b) += f.bandProbs(t, r, blk, rho, h, b);
  f.bandPv = H::Func("band_pv");
  f.bandPvOut = H::Func("band_pv_tile");
  // Rows vg·VR + vr of a group see slots [vg·VR, vg·VR + VR − 1 + left +
  // right]; the others have probability 0.
  f.bandPvSlots = H::RDom(0, slots, "band_pv_r");
  H::RVar rp = f.bandPvSlots.x;
  f.bandPvSlots.where(rp >= f.vg * VR &&
                      rp <= f.vg * VR + (VR - 1) + left + right);
  f.bandPv(c, f.vr, f.vg, blk, rho, h, b) = 0.0f;
  f.bandPv(c, f.vr, f.vg, blk, rho, h, b) +=
      f.bandProbs(f.vg * VR + f.vr, rp, blk, rho, h, b) *
      f.vf(c, key(rp), h, b);
  if (G > 0) {
    f.globalPvSlots = H::RDom(0, G, "global_pv_r");
    H::RVar rg = f.globalPvSlots.x;
    f.bandPv(c, f.vr, f.vg, blk, rho, h, b) +=
        f.bandProbs(f.vg * VR + f.vr, slots + rg, blk, rho, h, b) *
        f.gv(c, rg, h, b);
  }
  f.bandPvOut(c, t, blk, rho, h, b) =
      f.bandPv(c, t % VR, t / VR, blk, rho, h, b);
  H::Expr p = i / dil, ti = p % B, bi = p / B, ri = i % dil;
  return normalized(f.bandPvOut(c, ti, bi, ri, h, b),
                    f.bandSum(ti, bi, ri, h, b), H::Float(32));
}

} // namespace

FailureOr<WindowedFuncs>
attnc::codegen::defineWindowed(attn::WindowedAttendOp op, ValueTable &values,
                               int blockQueries, TileShape tile) {
  WindowedFuncs f;
  TensorValue q = values.tensors.lookup(op.getQ());
  TensorValue k = values.tensors.lookup(op.getK());
  TensorValue v = values.tensors.lookup(op.getV());
  H::Var c = f.c, d = f.d, i = f.i, j = f.j, w = f.w, g = f.g, gi = f.gi,
         h = f.h, b = f.b;
  H::Expr D = q.shape[3], Lq = q.shape[2], Lk = k.shape[2], Dv = v.shape[3];
  // At run time the window is cut to the taps that can reach a key: a
  // window wider than the sequence costs no more than the sequence. Left
  // tap t reaches key i − t·dil >= 0 only for t <= (Lq − 1)/dil; right tap
  // t reaches i + t·dil < Lk only for t <= (Lk − 1)/dil.
  // Dilations past kMaxDilation are refused rather than wrapped: offsets
  // (w − left)·dil must fit 32 bits in Halide's bounds arithmetic.
  if (op.getDilation() > kMaxDilation)
    return op.emitError() << "dilation " << op.getDilation()
                          << " exceeds " << kMaxDilation
                          << ", the largest attnc compiles";
  int32_t dil = int32_t(op.getDilation());
  // The runtime keeps every length below 2^30 (kMaxExtent), so no side ever
  // needs more than (2^30 − 2)/dil taps: an extent at or past that is the
  // cut alone. A constant extent near 2^30/dil overflowed Halide's interval
  // arithmetic: bounds such as (left + right + 1) rounded to register tiles
  // passed 2^31, the simplifier proved the score loop empty and dropped it
  // (left = 2^40, right = 2^32 + 1, dilation 3, or left = right = 2^30 − 5,
  // gave wrong rows; so did 2^26 − 1 on both sides). So an extent whose
  // reach (extent · dil) is 2^20 or more is loaded from a table at an index
  // Halide cannot fold (a load at a constant index folds back into the
  // constant), and Halide bounds it by the cut alone; the value at run time
  // is the same. Small extents stay constants, so the staging buffers of a
  // narrow window keep a fixed size.
  const int64_t reachable = (int64_t(kMaxExtent) - 2) / dil;
  const int64_t kConstantReach = int64_t(1) << 20;
  H::Buffer<int32_t> extents(2, 2); // unnamed: unique per op
  auto side = [&](int64_t extent, H::Expr length, int slot) {
    H::Expr cut = H::max(length - 1, 0) / dil;
    if (extent >= reachable)
      return cut;
    if (extent * dil < kConstantReach)
      return H::min(int32_t(extent), cut);
    // Both entries hold the extent; the index depends on the length, so
    // Halide cannot fold the load back into a constant.
    extents(slot, 0) = extents(slot, 1) = int32_t(extent);
    return H::clamp(extents(slot, H::clamp(length, 0, 1)), 0, cut);
  };
  H::Expr left = side(op.getLeft(), Lq, 0);
  H::Expr right = side(op.getRight(), Lk, 1);
  H::Expr taps = left + right + 1;
  std::vector<int32_t> globals;
  for (int64_t p : op.getGlobal())
    if (p < kMaxExtent)
      globals.push_back(int32_t(p));
  int32_t G = int32_t(globals.size());
  f.globals = G;
  H::Expr scale = 1.0f / H::sqrt(H::cast<float>(D));
  if (auto a = op->getAttrOfType<FloatAttr>("scale"))
    scale = H::Expr(float(a.getValueAsDouble()));
  H::Type outType = resultType(op);

  f.vf = clampedF32(v, "v_f32", c, j);
  f.rd = H::RDom(0, D, "rd");

  // Global positions as a table (one load per use, whatever G is: a select
  // chain would make every use O(G) and compile time O(G²)), and per query
  // row its index in the table or -1.
  H::Buffer<int32_t> table(std::max(G, 1)); // unnamed: unique per op
  for (int32_t x = 0; x < G; ++x)
    table(x) = globals[size_t(x)];
  if (G == 0)
    table(0) = 0;
  auto globalAt = [&](H::Expr x) { return table(H::clamp(x, 0, G - 1)); };
  f.gk = H::Func("global_k");
  f.gv = H::Func("global_v");
  f.gDot = H::Func("global_qk");
  if (G > 0) {
    // Read from the inputs directly: the staged keys and values hold only
    // the tile's window.
    f.gk(d, g, h, b) =
        H::cast<float>(k.func(d, H::clamp(globalAt(g), 0, Lk - 1), h, b));
    f.gv(c, g, h, b) = H::cast<float>(
        v.func(H::clamp(c, 0, Dv - 1), H::clamp(globalAt(g), 0, Lk - 1), h, b));
    f.globalRow = H::Func("global_row");
    H::RDom rg(0, G, "global_r");
    f.globalRow(i) = -1;
    f.globalRow(i) = H::select(globalAt(rg) == i, rg, f.globalRow(i));
  }
  // The score of global key `key` for `query` (with dot product `dot`): a
  // key the window already holds counts there, once.
  auto globalScore = [&](H::Expr key, H::Expr query, H::Expr dot) {
    H::Expr off = key - query;
    H::Expr inWindow =
        off % dil == 0 && off >= -left * dil && off <= right * dil;
    return H::select(key < Lk && !inWindow, dot * scale, kLowest);
  };

  H::Expr row;
  // Each side bounded alone first: extents are any 64-bit value, and their
  // sum must not wrap into the band's range.
  const bool bandFits = op.getLeft() <= uint64_t(kMaxBandSlots) &&
                        op.getRight() <= uint64_t(kMaxBandSlots) &&
                        int64_t(op.getLeft() + op.getRight()) + blockQueries +
                                G <=
                            kMaxBandSlots;
  if (blockQueries > 0 && dil <= kMaxBandDilation && bandFits) {
    row = defineBand(f, q, k, int32_t(op.getLeft()), int32_t(op.getRight()),
                     dil, blockQueries, tile, Lk, scale, globalAt,
                     globalScore);
  } else {
    f.qT = clampedF32(q, "q_t", d, i, /*transposed=*/true);
    f.kT = clampedF32(k, "k_t", d, j, /*transposed=*/true);
    auto tap = [&](H::Expr cand, H::Expr query) {
      return query + (cand - left) * dil;
    };
    f.winDot = H::Func("win_qk");
    f.winDot(w, i, h, b) = 0.0f;
    f.winDot(w, i, h, b) +=
        f.qT(i, f.rd, h, b) * f.kT(tap(w, i), f.rd, h, b);
    // Scores are read at w itself (not clamped to the last tap): the
    // register tile's region of winDot must have a constant extent to be
    // unrolled. Taps past the window read clamped keys and are masked here.
    H::Expr winScore =
        H::select(w < taps && tap(w, i) >= 0 && tap(w, i) < Lk,
                  f.winDot(w, i, h, b) * scale, kLowest);
    f.score = H::Func("score");
    if (G == 0) {
      f.score(w, i, h, b) = winScore;
    } else {
      f.gDot(g, i, h, b) = 0.0f;
      f.gDot(g, i, h, b) += f.qT(i, f.rd, h, b) * f.gk(f.rd, g, h, b);
      H::Expr gc = H::max(w - taps, 0);
      f.score(w, i, h, b) =
          H::select(w < taps, winScore,
                    globalScore(globalAt(gc), i, f.gDot(gc, i, h, b)));
    }
    f.taps = H::RDom(0, taps + G, "win_r");
    f.softmax = rowSoftmax(f.score, f.taps, f.taps.x, w, {i, h, b}, "win");
    H::Expr r = f.taps.x;
    H::Expr value = f.vf(c, tap(H::min(r, taps - 1), i), h, b);
    if (G > 0)
      value = H::select(r < taps, value, f.gv(c, H::max(r - taps, 0), h, b));
    f.pvAcc = H::Func("win_pv");
    f.pvAcc(c, i, h, b) = 0.0f;
    f.pvAcc(c, i, h, b) += f.softmax.probs(r, i, h, b) * value;
    row = normalized(f.pvAcc(c, i, h, b), f.softmax.rowSum(i, h, b),
                     H::Float(32));
  }

  f.result = H::Func("windowed");
  if (G > 0) {
    // Global rows see every key: a dense softmax over all keys for the G
    // global query positions only (positions >= L never match a row).
    f.gqk = H::Func("gq_k");
    f.gscore = H::Func("gscore");
    f.gPv = H::Func("global_pv");
    f.full = H::Func("global_out");
    f.kAll = clampedF32(k, "k_all_t", d, j, /*transposed=*/true);
    f.vAll = clampedF32(v, "v_all", c, j);
    f.gqk(j, gi, h, b) = 0.0f;
    f.gqk(j, gi, h, b) +=
        H::cast<float>(q.func(f.rd, H::clamp(globalAt(gi), 0, Lq - 1), h, b)) *
        f.kAll(j, f.rd, h, b);
    f.gscore(j, gi, h, b) = f.gqk(j, gi, h, b) * scale;
    f.keys = H::RDom(0, Lk, "keys");
    f.denseSoftmax =
        rowSoftmax(f.gscore, f.keys, f.keys.x, j, {gi, h, b}, "global");
    f.gPv(c, gi, h, b) = 0.0f;
    f.gPv(c, gi, h, b) +=
        f.denseSoftmax.probs(f.keys, gi, h, b) * f.vAll(c, f.keys, h, b);
    f.full(c, gi, h, b) = normalized(
        f.gPv(c, gi, h, b), f.denseSoftmax.rowSum(gi, h, b), H::Float(32));
    H::Expr gr = f.globalRow(i);
    row = H::select(gr >= 0, f.full(c, H::clamp(gr, 0, G - 1), h, b), row);
  }
  f.result(c, i, h, b) = H::cast(outType, row);
  return f;
}
