//===- AttendKernels.cpp - fused attention pipelines ----------------------===//
//
// Tile-local softmax: for each tile of queries, the scores against the keys
// it can see are computed into a tile-sized buffer, then row max, exp, row
// sum and P·V run over that buffer. Nothing of size L×L is ever allocated:
// memory is O(L·D + tile·L) per thread.
//
// A fully masked row has row max = `lowest`; its probabilities are forced to
// 0 so the row sum is 0 and the output row is zeros. Subtracting the row max
// keeps large logits (±1e4) finite.
//
//===----------------------------------------------------------------------===//
#include "HalideKernel.h"

#include <optional>

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

namespace {

const float kLowest = std::numeric_limits<float>::lowest();

/// Tile sizes chosen by attn-choose-schedule (attnc always runs it before
/// codegen; the numbers live there only).
struct Tiles {
  int queries = 0, vector = 0, rows = 0;
};

FailureOr<Tiles> tilesOf(Operation *op) {
  Tiles t;
  auto get = [&](StringRef name, int &out) {
    auto a = op->getAttrOfType<IntegerAttr>(name);
    if (a && a.getInt() >= 1 && a.getInt() <= 1024)
      out = int(a.getInt());
    return a != nullptr;
  };
  bool ok = get("attn.tile_queries", t.queries) &&
            get("attn.vector_width", t.vector);
  if (isa<attn::AttendOp>(op))
    ok = ok && get("attn.register_rows", t.rows);
  if (!ok || !t.queries || !t.vector)
    return op->emitError("codegen needs the attributes of "
                         "attn-choose-schedule (attn.tile_queries, "
                         "attn.vector_width, attn.register_rows)");
  return t;
}

/// An input as f32, computed where the schedule puts it.
H::Func asFloat(const TensorValue &t, const std::string &name) {
  H::Func f(name);
  std::vector<H::Var> vars(t.rank());
  std::vector<H::Expr> args(vars.begin(), vars.end());
  f(vars) = H::cast<float>(t.func(args));
  return f;
}

/// Values as f32 with the key and the value-width index clamped into v, so
/// that vectorised tiles may run past either edge.
H::Func clampedValues(const TensorValue &v) {
  H::Var c("c"), j("j"), h("h"), b("b");
  H::Func vf("v_f32");
  vf(c, j, h, b) = H::cast<float>(v.func(H::clamp(c, 0, v.shape[3] - 1),
                                         H::clamp(j, 0, v.shape[2] - 1), h, b));
  return vf;
}

/// Softmax over `n` candidate keys per query. `score(w, i, h, b)` is the
/// (masked) score of candidate w; `value(c, w, i, h, b)` its value vector.
struct Softmax {
  H::Func rowMax, probs, rowSum, acc, out;
  H::RDom r; // over the candidates
};

Softmax softmax(H::Func score, H::Expr n, H::Var c, H::Var w, H::Var i,
                H::Var h, H::Var b,
                const std::function<H::Expr(H::Expr, H::RVar)> &value,
                H::Type outType, const std::string &name) {
  Softmax s;
  s.rowMax = H::Func(name + "_max");
  s.probs = H::Func(name + "_p");
  s.rowSum = H::Func(name + "_sum");
  s.acc = H::Func(name + "_acc");
  s.out = H::Func(name + "_out");
  H::RDom r(0, n, name + "_r");
  s.r = r;
  s.rowMax(i, h, b) = kLowest;
  s.rowMax(i, h, b) = H::max(s.rowMax(i, h, b), score(r, i, h, b));
  H::Expr m = s.rowMax(i, h, b);
  s.probs(w, i, h, b) =
      H::select(m == kLowest, 0.0f, H::exp(score(w, i, h, b) - m));
  s.rowSum(i, h, b) = 0.0f;
  s.rowSum(i, h, b) += s.probs(r, i, h, b);
  s.acc(c, i, h, b) = 0.0f;
  s.acc(c, i, h, b) += s.probs(r, i, h, b) * value(c, r.x);
  H::Expr l = s.rowSum(i, h, b);
  s.out(c, i, h, b) =
      H::cast(outType, H::select(l > 0.0f, s.acc(c, i, h, b) / l, 0.0f));
  return s;
}

/// Computes `consumer` at `at`/`atVar` in register tiles of 2·VW (`inner`,
/// vectorised) × `rows` (`rowVar`, unrolled), and `accum` — the reduction
/// over `r` that `consumer` reads — once per tile with the reduction loop
/// outside, so its 2·rows vector accumulators stay in registers (DESIGN.md).
/// An `accum` indexed by tile (position in the tile `accInner`, `accRow`,
/// then the tile indices `tileVars`) lets a predicate on `r` that depends on
/// the tile bound or skip the whole reduction.
void registerTile(H::Func consumer, H::Func at, H::Var atVar, H::Func accum,
                  H::Var inner, H::Var rowVar, H::RVar r, int VW, int rows,
                  std::optional<std::pair<H::Var, H::Var>> accVars = {},
                  std::vector<H::VarOrRVar> tileVars = {}) {
  auto RoundUp = H::TailStrategy::RoundUp;
  H::Var accInner = accVars ? accVars->first : inner;
  H::Var accRow = accVars ? accVars->second : rowVar;
  H::Var o("o"), t("t"), in("in"), q("q"), vec("vec"), lane("lane");
  consumer.compute_at(at, atVar)
      .split(inner, o, in, 2 * VW, RoundUp)
      .split(rowVar, t, q, rows, RoundUp)
      .reorder(in, q, o, t)
      .split(in, vec, lane, VW)
      .vectorize(lane)
      .unroll(vec)
      .unroll(q);
  accum.compute_at(consumer, o)
      .split(accInner, vec, lane, VW, RoundUp)
      .vectorize(lane)
      .unroll(vec)
      .unroll(accRow);
  std::vector<H::VarOrRVar> order = {lane, vec, accRow, r};
  order.insert(order.end(), tileVars.begin(), tileVars.end());
  accum.update()
      .split(accInner, vec, lane, VW, RoundUp)
      .reorder(order)
      .vectorize(lane)
      .unroll(vec)
      .unroll(accRow);
}

H::Expr defaultScale(Operation *op, H::Expr d) {
  if (auto a = op->getAttrOfType<FloatAttr>("scale"))
    return H::Expr(float(a.getValueAsDouble()));
  return 1.0f / H::sqrt(H::cast<float>(d));
}

std::vector<TensorValue> captured(OperandRange captures, ValueTable &values) {
  std::vector<TensorValue> out;
  for (Value v : captures)
    out.push_back(values.tensors.lookup(v));
  return out;
}

} // namespace

FailureOr<TensorValue> attnc::codegen::buildAttend(attn::AttendOp op,
                                                   ValueTable &values) {
  TensorValue q = values.tensors.lookup(op.getQ());
  TensorValue k = values.tensors.lookup(op.getK());
  TensorValue v = values.tensors.lookup(op.getV());
  std::vector<TensorValue> caps = captured(op.getCaptures(), values);
  H::Var c("c"), d("d"), i("i"), j("j"), h("h"), b("b"), u("u");
  H::Expr D = q.shape[3], Lq = q.shape[2], Lk = k.shape[2], Dv = v.shape[3];
  FailureOr<Tiles> tiles = tilesOf(op);
  if (failed(tiles))
    return failure();
  Tiles t = *tiles;
  const int VW = t.vector, KB = 2 * VW, QR = t.rows; // KB: register tile

  // Keys are padded to a whole number of KB-blocks; padded keys are masked.
  // Reads are clamped so that tiles may run past the edges of every input.
  H::Expr Lp = (Lk + KB - 1) / KB * KB;
  H::Func qf("q_f32"), kt("k_t"), vf = clampedValues(v);
  qf(d, i, h, b) = H::cast<float>(q.func(d, H::clamp(i, 0, Lq - 1), h, b));
  kt(j, d, h, b) = H::cast<float>(k.func(d, H::clamp(j, 0, Lk - 1), h, b));

  // A band (attn-analyze-masks: causal, sliding windows) becomes static
  // iteration bounds: j − i ∈ [lo, hi] as RDom predicates, which Halide
  // turns into loop bounds, so only the band's keys are ever scored.
  bool isBand = false, isBlock = false;
  std::optional<int64_t> bandLo, bandHi;
  int64_t blockSize = 0;
  if (auto kind = op->getAttrOfType<StringAttr>("attn.mask_kind")) {
    isBand = kind.getValue() == "band";
    isBlock = kind.getValue() == "block";
  }
  if (auto a = op->getAttrOfType<IntegerAttr>("attn.block_size"))
    blockSize = a.getInt();
  // Dead blocks can be skipped whole when a lane group never straddles two.
  isBlock = isBlock && blockSize > 0 && blockSize % VW == 0 &&
            blockSize <= (1 << 20);
  if (auto a = op->getAttrOfType<IntegerAttr>("attn.band_lo"))
    bandLo = a.getInt();
  if (auto a = op->getAttrOfType<IntegerAttr>("attn.band_hi"))
    bandHi = a.getInt();

  H::RDom rd(0, D, "rd");
  H::Func dotAcc("qk");
  H::Var r("r"), g("g"), kl("kl"), jb("jb");
  // With a block-sparse mask, Q·Kᵀ is indexed by register tile (jb: KB
  // keys, g: QR rows) so that a tile whose first and last rows both lie in
  // dead blocks skips its reduction at run time. A tile spans one key
  // block (S % KB == 0) and at most two query blocks (QR <= S).
  bool blockQK = isBlock && blockSize % KB == 0 && QR <= blockSize;
  H::Expr dot;
  if (blockQK) {
    auto liveFirst = regionToExpr(op.getMask(), {b, h, g * QR, jb * KB}, caps);
    auto liveLast =
        regionToExpr(op.getMask(), {b, h, g * QR + (QR - 1), jb * KB}, caps);
    if (failed(liveFirst) || failed(liveLast))
      return failure();
    rd.where(*liveFirst || *liveLast);
    dotAcc(kl, r, jb, g, h, b) = 0.0f;
    dotAcc(kl, r, jb, g, h, b) +=
        qf(rd, g * QR + r, h, b) * kt(jb * KB + kl, rd, h, b);
    dot = dotAcc(j % KB, i % QR, j / KB, i / QR, h, b);
  } else {
    dotAcc(j, i, h, b) = 0.0f;
    dotAcc(j, i, h, b) += qf(rd, i, h, b) * kt(j, rd, h, b);
    dot = dotAcc(j, i, h, b);
  }
  H::Expr s = dot * defaultScale(op, D);
  if (!op.getScore().empty()) {
    auto e = regionToExpr(op.getScore(), {s, b, h, i, j}, caps);
    if (failed(e))
      return failure();
    s = H::cast<float>(*e);
  }
  H::Expr allowed = j < Lk;
  if (!op.getMask().empty()) {
    auto e = regionToExpr(op.getMask(), {b, h, i, j}, caps);
    if (failed(e))
      return failure();
    allowed = allowed && *e;
  }
  if (op.getCausal())
    allowed = allowed && j <= i;
  H::Func score("score");
  score(j, i, h, b) = H::select(allowed, s, kLowest);

  // Row max and row sum run over VW key lanes (rfactor), never across rows.
  H::RDom rk(0, VW, 0, Lp / VW, "rk");
  H::Expr key = rk.y * VW + rk.x;
  H::RDom rp(0, Lp, "rp");
  if (isBand) {
    // Whole VW-groups of keys that touch the band (the mask still rejects
    // the keys of a group outside it).
    H::Expr groupLo = rk.y * VW, groupHi = rk.y * VW + (VW - 1);
    H::Expr inGroup = H::Internal::const_true(), inKeys = H::Internal::const_true();
    if (bandHi) {
      inGroup = inGroup && groupLo <= i + int32_t(*bandHi);
      inKeys = inKeys && rp <= i + int32_t(*bandHi);
    }
    if (bandLo) {
      inGroup = inGroup && groupHi >= i + int32_t(*bandLo);
      inKeys = inKeys && rp >= i + int32_t(*bandLo);
    }
    rk.where(inGroup);
    rp.where(inKeys);
  }
  // A block-sparse mask (attn-analyze-masks: reads i and j only as i/S and
  // j/S) is evaluated once per lane group and once per key block: dead
  // blocks are skipped at run time by the row max, row sum and P·V loops.
  H::RDom rb(0, int32_t(std::max<int64_t>(blockSize, 1)), 0,
             (Lk + int32_t(std::max<int64_t>(blockSize, 1)) - 1) /
                 int32_t(std::max<int64_t>(blockSize, 1)),
             "rb");
  H::Expr pvKey = rp;
  if (isBlock) {
    auto liveGroup = regionToExpr(op.getMask(), {b, h, i, rk.y * VW}, caps);
    auto liveBlock = regionToExpr(op.getMask(),
                                  {b, h, i, rb.y * int32_t(blockSize)}, caps);
    if (failed(liveGroup) || failed(liveBlock))
      return failure();
    rk.where(*liveGroup);
    rb.where(*liveBlock);
    pvKey = rb.y * int32_t(blockSize) + rb.x;
  }
  H::Func rowMax("row_max"), probs("probs"), rowSum("row_sum");
  rowMax(i, h, b) = kLowest;
  rowMax(i, h, b) = H::max(rowMax(i, h, b), score(key, i, h, b));
  H::Expr m = rowMax(i, h, b);
  // fast_exp (polynomial, a few ulps) needs arguments it cannot underflow
  // on: differences below -87 are exp-zero anyway, and masked keys (score
  // = lowest) are forced to exactly 0.
  H::Expr sc = score(j, i, h, b);
  probs(j, i, h, b) = H::select(
      m == kLowest || sc == kLowest, 0.0f, H::fast_exp(H::max(sc - m, -87.0f)));
  rowSum(i, h, b) = 0.0f;
  rowSum(i, h, b) += probs(key, i, h, b);
  H::Func pvAcc("pv"), acc("acc"), out("attend");
  // For a band, P·V is indexed by row group g (QR rows r): the keys the
  // group can see, [g·QR + lo, g·QR + QR − 1 + hi], then bound a reduction
  // loop that runs outside the group's register tile. Keys a row of the
  // group does not see have probability 0, so the union is exact.
  H::RDom rg(0, Lp, "rg");
  if (isBand) {
    H::Expr first = g * QR, last = g * QR + (QR - 1);
    H::Expr inGroup = H::Internal::const_true();
    if (bandHi)
      inGroup = inGroup && rg <= last + int32_t(*bandHi);
    if (bandLo)
      inGroup = inGroup && rg >= first + int32_t(*bandLo);
    rg.where(inGroup);
    pvAcc(c, r, g, h, b) = 0.0f;
    pvAcc(c, r, g, h, b) +=
        probs(rg, g * QR + r, h, b) * vf(c, rg, h, b);
    acc(c, i, h, b) = pvAcc(c, i % QR, i / QR, h, b);
  } else {
    pvAcc(c, i, h, b) = 0.0f;
    pvAcc(c, i, h, b) += probs(pvKey, i, h, b) * vf(c, pvKey, h, b);
    acc(c, i, h, b) = pvAcc(c, i, h, b);
  }
  H::Expr l = rowSum(i, h, b);
  H::Type outType = halideType(
      cast<RankedTensorType>(op.getType()).getElementType());
  out(c, i, h, b) =
      H::cast(outType, H::select(l > 0.0f, acc(c, i, h, b) / l, 0.0f));

  // Schedule (DESIGN.md, "What a fast CPU schedule needs"): parallel over
  // batch × head; K transposed once per head; per tile of queries, QᵀK and
  // P·V accumulate in register tiles (KB keys × QR queries, KB values × QR
  // queries) with the reduction loop outside the tile.
  H::Var io("io"), ii("ii"), bh("bh"), jv("jv"), jl("jl"), co("co"),
      ci("ci");
  auto RoundUp = H::TailStrategy::RoundUp;
  out.compute_root()
      .split(i, io, ii, t.queries, H::TailStrategy::GuardWithIf)
      .reorder(c, ii, io, h, b)
      .fuse(h, b, bh)
      .parallel(bh)
      .vectorize(c, VW, H::TailStrategy::GuardWithIf);
  kt.compute_at(out, bh).vectorize(j, VW, RoundUp);
  vf.compute_at(out, bh).vectorize(c, VW, RoundUp);
  qf.compute_at(out, io);

  if (blockQK) {
    registerTile(score, out, io, dotAcc, j, i, rd.x, VW, QR,
                 std::make_pair(kl, r), {jb, g});
  } else {
    registerTile(score, out, io, dotAcc, j, i, rd.x, VW, QR);
  }

  rowMax.compute_at(out, io);
  H::Func maxLanes = rowMax.update().rfactor(rk.x, u);
  // Lanes innermost in memory: the rfactor Func's new Var comes last.
  maxLanes.compute_at(out, io).reorder_storage(u, i, h, b).vectorize(u);
  maxLanes.update().reorder(u, rk.y, i).vectorize(u);
  probs.compute_at(out, io).vectorize(j, VW, RoundUp);
  rowSum.compute_at(out, io);
  H::Func sumLanes = rowSum.update().rfactor(rk.x, u);
  sumLanes.compute_at(out, io).reorder_storage(u, i, h, b).vectorize(u);
  sumLanes.update().reorder(u, rk.y, i).vectorize(u);

  if (isBand) {
    registerTile(acc, out, io, pvAcc, c, i, rg.x, VW, QR,
                 std::make_pair(c, r), {g});
  } else if (isBlock) {
    // Row by row, block by block: the liveness test runs once per block.
    acc.compute_at(out, io).vectorize(c, VW, RoundUp);
    pvAcc.compute_at(out, io).vectorize(c, VW, RoundUp);
    pvAcc.update()
        .split(c, co, ci, 4 * VW, RoundUp)
        .reorder(ci, rb.x, rb.y, co, i)
        .split(ci, jv, jl, VW)
        .vectorize(jl)
        .unroll(jv);
  } else {
    registerTile(acc, out, io, pvAcc, c, i, rp.x, VW, QR);
  }
  return TensorValue{out, {q.shape[0], q.shape[1], q.shape[2], v.shape[3]},
                     outType};
}

FailureOr<TensorValue> attnc::codegen::buildWindowed(attn::WindowedAttendOp op,
                                                     ValueTable &values) {
  TensorValue q = values.tensors.lookup(op.getQ());
  TensorValue k = values.tensors.lookup(op.getK());
  TensorValue v = values.tensors.lookup(op.getV());
  H::Var c("c"), d("d"), i("i"), j("j"), w("w"), g("g"), h("h"), b("b");
  H::Expr D = q.shape[3], Lq = q.shape[2], Lk = k.shape[2], Dv = v.shape[3];
  int32_t left = int32_t(op.getLeft()), right = int32_t(op.getRight());
  int32_t dil = int32_t(op.getDilation());
  std::vector<int64_t> globals(op.getGlobal().begin(), op.getGlobal().end());
  int32_t taps = left + right + 1, G = int32_t(globals.size());
  H::Expr scale = defaultScale(op, D);
  H::Type outType = halideType(
      cast<RankedTensorType>(op.getType()).getElementType());
  FailureOr<Tiles> chosen = tilesOf(op);
  if (failed(chosen))
    return failure();
  Tiles tiles = *chosen;
  const int VW = tiles.vector;

  // Queries and keys innermost: the window slides along the sequence, so
  // scores vectorise across queries and read keys at a constant offset.
  // Reads are clamped, so tiles may run past both ends of the sequence.
  H::Func qT("q_t"), kT("k_t"), vf = clampedValues(v);
  qT(i, d, h, b) = H::cast<float>(q.func(d, H::clamp(i, 0, Lq - 1), h, b));
  kT(j, d, h, b) = H::cast<float>(k.func(d, H::clamp(j, 0, Lk - 1), h, b));
  H::RDom rd(0, D, "rd");

  // Window candidate w of query i: key i + (w - left)·dilation.
  auto tap = [&](H::Expr cand, H::Expr query) {
    return query + (cand - left) * dil;
  };
  H::Func winDot("win_qk");
  winDot(w, i, h, b) = 0.0f;
  winDot(w, i, h, b) += qT(i, rd, h, b) * kT(tap(w, i), rd, h, b);
  H::Expr wc = H::min(w, taps - 1);
  H::Expr winScore = H::select(tap(wc, i) >= 0 && tap(wc, i) < Lk,
                               winDot(wc, i, h, b) * scale, kLowest);

  // Global candidates w = taps + g: global key g for every query, unless
  // the window already holds it (each key counts once).
  auto globalAt = [&](H::Expr x) {
    H::Expr e = H::Expr(int32_t(globals.empty() ? 0 : globals.back()));
    for (int32_t y = G - 2; y >= 0; --y)
      e = H::select(x == y, int32_t(globals[y]), e);
    return e;
  };
  H::Func gk("global_k"), gv("global_v"), gDot("global_qk");
  H::Func score("score");
  if (G == 0) {
    score(w, i, h, b) = winScore;
  } else {
    // Read from the inputs directly: kT and vf hold only the tile's window.
    gk(d, g, h, b) =
        H::cast<float>(k.func(d, H::clamp(globalAt(g), 0, Lk - 1), h, b));
    gv(c, g, h, b) = H::cast<float>(
        v.func(H::clamp(c, 0, Dv - 1), H::clamp(globalAt(g), 0, Lk - 1), h, b));
    gDot(g, i, h, b) = 0.0f;
    gDot(g, i, h, b) += qT(i, rd, h, b) * gk(rd, g, h, b);
    H::Expr gc = H::max(w - taps, 0), key = globalAt(gc), off = key - i;
    H::Expr inWindow =
        off % dil == 0 && off >= -left * dil && off <= right * dil;
    H::Expr globalScore = H::select(key < Lk && !inWindow,
                                    gDot(gc, i, h, b) * scale, kLowest);
    score(w, i, h, b) = H::select(w < taps, winScore, globalScore);
  }
  Softmax win = softmax(
      score, taps + G, c, w, i, h, b,
      [&](H::Expr cc, H::RVar r) {
        H::Expr fromWindow = vf(cc, tap(H::min(r, taps - 1), i), h, b);
        if (G == 0)
          return fromWindow;
        return H::select(r < taps, fromWindow,
                         gv(cc, H::max(r - taps, 0), h, b));
      },
      H::Float(32), "win");

  H::Func result("windowed");
  H::Func full;
  if (G == 0) {
    result(c, i, h, b) = H::cast(outType, win.out(c, i, h, b));
  } else {
    // Global rows see every key: a dense softmax over all keys for the G
    // global query positions only (positions >= L never match a row).
    H::Var gi("gi");
    H::Func kt("k_all_t"), gscore("gscore"), gqk("gq_k");
    H::Func vAll = asFloat(v, "v_all");
    kt(j, d, h, b) = H::cast<float>(k.func(d, j, h, b));
    gqk(j, gi, h, b) = 0.0f;
    gqk(j, gi, h, b) +=
        H::cast<float>(q.func(rd, H::clamp(globalAt(gi), 0, Lq - 1), h, b)) *
        kt(j, rd, h, b);
    gscore(j, gi, h, b) = gqk(j, gi, h, b) * scale;
    Softmax dense = softmax(
        gscore, Lk, c, j, gi, h, b,
        [&](H::Expr cc, H::RVar r) { return vAll(cc, r, h, b); },
        H::Float(32), "global");
    full = dense.out;
    full.compute_root().parallel(b).vectorize(c, VW,
                                              H::TailStrategy::GuardWithIf);
    for (H::Func f : {kt, vAll, gqk, gscore, dense.rowMax, dense.probs,
                      dense.rowSum, dense.acc})
      f.compute_at(full, h);
    gqk.vectorize(j, VW, H::TailStrategy::RoundUp);
    gqk.update().vectorize(j, VW, H::TailStrategy::RoundUp);
    dense.probs.vectorize(j, VW, H::TailStrategy::RoundUp);
    dense.acc.update().vectorize(c, VW, H::TailStrategy::RoundUp);
    H::Expr row = win.out(c, i, h, b);
    for (int32_t x = G - 1; x >= 0; --x)
      row = H::select(i == int32_t(globals[x]), full(c, x, h, b), row);
    result(c, i, h, b) = H::cast(outType, row);
  }

  // Parallel over batch × head × query tiles. Per tile: QKᵀ in register
  // tiles of 2·VW queries × 4 candidates, softmax vectorised across
  // queries, P·V vectorised along the value width.
  auto RoundUp = H::TailStrategy::RoundUp;
  auto Guard = H::TailStrategy::GuardWithIf;
  H::Var io("io"), ii("ii"), ioh("ioh"), tile("tile"), ivo("ivo"),
      ivi("ivi"), co("co"), ci("ci");
  result.compute_root()
      .split(i, io, ii, tiles.queries, Guard)
      .reorder(c, ii, io, h, b)
      .fuse(io, h, ioh)
      .fuse(ioh, b, tile)
      .parallel(tile)
      .vectorize(c, VW, Guard);
  for (H::Func f : {win.out, win.rowMax, win.rowSum})
    f.compute_at(result, tile);
  qT.compute_at(result, tile).vectorize(i, VW, RoundUp);
  kT.compute_at(result, tile).vectorize(j, VW, RoundUp);
  vf.compute_at(result, tile).vectorize(c, VW, RoundUp);

  // Queries innermost in memory too, then tiles of 2·VW queries × 4
  // candidates.
  score.reorder_storage(i, w, h, b);
  winDot.reorder_storage(i, w, h, b);
  registerTile(score, result, tile, winDot, i, w, rd.x, VW, 4);
  win.rowMax.update().reorder(i, win.r).vectorize(i, VW, Guard);
  win.probs.compute_at(result, tile).reorder_storage(i, w, h, b)
      .vectorize(i, VW, RoundUp);
  win.rowSum.update().reorder(i, win.r).vectorize(i, VW, Guard);
  win.acc.compute_at(result, tile).vectorize(c, VW, RoundUp);
  win.acc.update()
      .split(c, co, ci, 4 * VW, RoundUp)
      .reorder(ci, win.r, co, i)
      .split(ci, ivo, ivi, VW)
      .vectorize(ivi)
      .unroll(ivo);
  if (G > 0) {
    gk.compute_at(result, tile);
    gv.compute_at(result, tile).vectorize(c, VW, RoundUp);
    gDot.compute_at(result, tile).reorder_storage(i, g, h, b);
    gDot.update().reorder(i, rd, g).vectorize(i, VW, RoundUp);
  }
  return TensorValue{result, {q.shape[0], q.shape[1], q.shape[2], v.shape[3]},
                     outType};
}
