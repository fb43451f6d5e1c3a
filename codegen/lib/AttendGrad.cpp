//===- AttendGrad.cpp - the algorithm of attn.attend_grad -----------------===//
//
// The backward of attention without anything stored by the forward: per
// tile of queries (FlashAttention-2's recomputation, tile × L buffers as in
// the forward, never L × L),
//
//   s  = scale · q·kᵀ,  t = score(s) where allowed       (recomputed)
//   P  = softmax_j(t)                                     (row max and sum)
//   dP = dO · vᵀ,       δ_i = Σ_j P_ij dP_ij
//   dS = P ∘ (dP − δ) ∘ score'(s) · scale                 (d(q·k) per pair)
//   dq = dS · k   (this tile's rows, whole)
//   dk += dSᵀ · q,  dv += Pᵀ · dO   (this tile's share, for every key)
//
// Using δ_i = Σ_j P_ij dP_ij instead of dO_i · O_i avoids recomputing the
// forward output. Each pair costs five D-long dot products where the forward
// costs two, so the backward is about 2.5× the forward's arithmetic.
//
// dq (indexed by query) and dk, dv (indexed by key) are written by one
// Halide update over the query tiles, so that the tile's dS is computed once
// for all three: the rows of `grads` are dq's (0 … Lq−1) and then dk's and
// dv's (Lq … Lq+Lk−1, a Tuple), and one reduction domain walks, per tile,
// the tile's dq rows and then every key row it reaches.
//
//===----------------------------------------------------------------------===//
#include "Algorithms.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

FailureOr<AttendGradFuncs>
attnc::codegen::defineAttendGrad(attn::AttendGradOp op, ValueTable &values,
                                 int lanes, TileShape tile, int tileQueries) {
  AttendGradFuncs f;
  f.tileQueries = tileQueries;
  TensorValue q = values.tensors.lookup(op.getQ());
  TensorValue k = values.tensors.lookup(op.getK());
  TensorValue v = values.tensors.lookup(op.getV());
  TensorValue dout = values.tensors.lookup(op.getDout());
  std::vector<TensorValue> caps = capturedTensors(op.getCaptures(), values);
  H::Var c = f.c, d = f.d, i = f.i, j = f.j, h = f.h, b = f.b, r = f.r,
         g = f.g, t = f.t, x = f.x, n = f.n;
  H::Expr D = q.shape[3], E = v.shape[3], Lq = q.shape[2], Lk = k.shape[2];
  const int KB = tile.keys, QR = tile.rows, QT = tileQueries;

  auto mask = op->getAttrOfType<attn::MaskAttr>(attn::kMaskAttrName);
  bool isBand = mask && mask.getKind() == attn::MaskKind::band;
  std::optional<int32_t> bandLo, bandHi;
  if (isBand) {
    bandLo = bandBound(mask.getLo());
    bandHi = bandBound(mask.getHi());
  }

  H::Expr Lp = (Lk + KB - 1) / KB * KB; // keys padded to whole KB blocks
  f.qf = clampedF32(q, "q_f32", d, i);
  f.kt = clampedF32(k, "k_t", d, j, /*transposed=*/true);
  f.kf = clampedF32(k, "k_f32", d, j);
  f.vt = clampedF32(v, "v_t", c, j, /*transposed=*/true);
  f.dof = clampedF32(dout, "dout_f32", c, i);

  // The forward's scores, recomputed. `scaled` (s) is kept per tile: the
  // score's derivative is taken at s.
  f.rd = H::RDom(0, D, "rd");
  f.dotAcc = H::Func("qk");
  f.dotAcc(j, i, h, b) = 0.0f;
  f.dotAcc(j, i, h, b) += f.qf(f.rd, i, h, b) * f.kt(j, f.rd, h, b);
  f.scaled = H::Func("scaled");
  f.scaled(j, i, h, b) = f.dotAcc(j, i, h, b) * attendScale(op, D);
  H::Expr s = f.scaled(j, i, h, b);
  H::Expr score = s, scoreSlope = 1.0f;
  std::vector<H::Expr> captureSlopes; // d score / d (f32 capture read k)
  if (!op.getScore().empty()) {
    auto e = regionToExpr(op.getScore(), {s, b, h, i, j}, caps);
    auto de = translateRegion(op.getScoreGrad(), {s, b, h, i, j}, caps);
    if (failed(e) || failed(de))
      return failure();
    score = H::cast<float>(*e);
    scoreSlope = H::cast<float>(de->yielded[0]);
    for (size_t k = 1; k < de->yielded.size(); ++k)
      captureSlopes.push_back(H::cast<float>(de->yielded[k]));
  }
  // Rows past Lq (the last tile's padding) allow nothing: they must add
  // nothing to dk and dv.
  auto allowed = allowedPairs(op.getMask(), op.getCausal(), caps,
                              j < Lk && i < Lq, b, h, i, j);
  if (failed(allowed))
    return failure();
  f.score = H::Func("score");
  f.score(j, i, h, b) = H::select(*allowed, score, kLowest);

  // Row max and sum over lane groups, restricted to a band as the forward's.
  f.rk = H::RDom(0, lanes, 0, Lp / lanes, "rk");
  if (isBand) {
    H::Expr groupLo = f.rk.y * lanes;
    f.rk.where(meetsBand(groupLo, groupLo + (lanes - 1), i, i, bandLo, bandHi));
  }
  H::Expr key = f.rk.y * lanes + f.rk.x;
  f.softmax = rowSoftmax(f.score, f.rk, key, j, {i, h, b}, "row");
  f.invSum = H::Func("inv_sum");
  H::Expr sum = f.softmax.rowSum(i, h, b);
  f.invSum(i, h, b) = H::select(sum == 0.0f, 0.0f, 1.0f / sum);
  auto P = [&](H::Expr jj, H::Expr ii) {
    return f.softmax.probs(jj, ii, h, b) * f.invSum(ii, h, b);
  };

  f.rc = H::RDom(0, E, "rc");
  f.dpAcc = H::Func("dov");
  f.dpAcc(j, i, h, b) = 0.0f;
  f.dpAcc(j, i, h, b) += f.dof(f.rc, i, h, b) * f.vt(j, f.rc, h, b);
  f.dp = H::Func("dp");
  f.dp(j, i, h, b) = f.dpAcc(j, i, h, b);

  f.rowDot = H::Func("row_dot");
  f.rowDot(i, h, b) = 0.0f;
  f.rowDot(i, h, b) += P(key, i) * f.dp(key, i, h, b);

  // A pair with probability 0 (masked, or underflowed) has no gradient;
  // the test also keeps an infinite score slope at a masked pair out.
  // dScore = P ∘ (dP − δ) is the gradient of the score function's value.
  auto dScore = [&](H::Expr jj, H::Expr ii) {
    H::Expr p = P(jj, ii);
    return H::select(p == 0.0f, 0.0f,
                     p * (f.dp(jj, ii, h, b) - f.rowDot(ii, h, b)));
  };
  f.ds = H::Func("ds");
  f.ds(j, i, h, b) = dScore(j, i) * scoreSlope * attendScale(op, D);

  // Per f32 capture read k, each row's share of its gradient:
  // Σ_j dScore · d score / d read_k (a sum per (b, h) once over rows).
  for (auto [k, slope] : llvm::enumerate(captureSlopes)) {
    H::Func slopeAt("capture_slope" + std::to_string(k));
    slopeAt(j, i, h, b) = slope;
    H::Func row("row_capture_grad" + std::to_string(k));
    row(i, h, b) = 0.0f;
    row(i, h, b) += dScore(key, i) * slopeAt(key, i, h, b);
    f.rowCaptureGrads.push_back(row);
  }

  // dq per row group g (QR rows r): the keys the group can see bound the
  // reduction, as in the forward's band P·V.
  f.rg = H::RDom(0, Lp, "rg");
  if (isBand)
    f.rg.where(meetsBand(f.rg, f.rg, g * QR, g * QR + (QR - 1), bandLo, bandHi));
  f.dqAcc = H::Func("dq_acc");
  f.dqAcc(d, r, g, h, b) = 0.0f;
  f.dqAcc(d, r, g, h, b) +=
      f.ds(f.rg, g * QR + r, h, b) * f.kf(d, f.rg, h, b);
  f.dqTile = H::Func("dq_tile");
  f.dqTile(d, i, h, b) = f.dqAcc(d, i % QR, i / QR, h, b);

  // This tile's share of dk and dv, for every key (t: the tile).
  f.ri = H::RDom(0, QT, "ri");
  H::Expr row = t * QT + f.ri;
  f.dkAcc = H::Func("dk_acc");
  f.dkAcc(d, j, t, h, b) = 0.0f;
  f.dkAcc(d, j, t, h, b) += f.ds(j, row, h, b) * f.qf(d, row, h, b);
  f.dkPart = H::Func("dk_part");
  f.dkPart(d, j, t, h, b) = f.dkAcc(d, j, t, h, b);
  f.dvAcc = H::Func("dv_acc");
  f.dvAcc(c, j, t, h, b) = 0.0f;
  f.dvAcc(c, j, t, h, b) += P(j, row) * f.dof(c, row, h, b);
  f.dvPart = H::Func("dv_part");
  f.dvPart(c, j, t, h, b) = f.dvAcc(c, j, t, h, b);

  // grads: per tile u.y, rows u.x < QT are its dq rows, then key rows
  // u.x − QT. With a band's upper bound the keys past the tile's last
  // visible one are not visited (the predicate bounds the loop).
  H::Expr tiles = (Lq + QT - 1) / QT;
  f.u = H::RDom(0, Lk + QT, 0, tiles, "u");
  H::Expr ux = f.u.x, tileIdx = f.u.y;
  H::Expr queryRow = tileIdx * QT + ux, keyRow = ux - QT;
  H::Expr visit = ux >= QT || queryRow < Lq;
  // (Only the upper bound: a lower one would exclude the dq rows.)
  visit = visit && meetsBand(keyRow, keyRow, tileIdx * QT,
                             tileIdx * QT + (QT - 1), std::nullopt, bandHi);
  f.u.where(visit);
  H::Expr isQuery = ux < QT;
  H::Expr safeKey = H::max(keyRow, 0);
  H::Expr dqValue =
      f.dqTile(H::min(x, D - 1), tileIdx * QT + H::min(ux, QT - 1), h, b);
  H::Expr dkValue = f.dkPart(H::min(x, D - 1), safeKey, tileIdx, h, b);
  H::Expr dvValue = f.dvPart(H::min(x, E - 1), safeKey, tileIdx, h, b);
  f.grads = H::Func("grads");
  f.grads(x, n, h, b) = H::Tuple(0.0f, 0.0f);
  H::Expr target = H::select(isQuery, queryRow, Lq + keyRow);
  H::Expr captureValue = 0.0f; // column k: read k's share of this row
  for (auto [k, row] : llvm::enumerate(f.rowCaptureGrads))
    captureValue = H::select(x == int(k),
                             row(tileIdx * QT + H::min(ux, QT - 1), h, b),
                             captureValue);
  f.grads(x, target, h, b) = H::Tuple(
      f.grads(x, target, h, b)[0] + H::select(isQuery, dqValue, dkValue),
      f.grads(x, target, h, b)[1] + H::select(isQuery, captureValue, dvValue));

  f.dq = H::Func("attend_dq");
  f.dq(d, i, h, b) = H::cast(resultType(op, 0), f.grads(d, i, h, b)[0]);
  f.dk = H::Func("attend_dk");
  f.dk(d, j, h, b) = H::cast(resultType(op, 1), f.grads(d, Lq + j, h, b)[0]);
  f.dv = H::Func("attend_dv");
  f.dv(c, j, h, b) = H::cast(resultType(op, 2), f.grads(c, Lq + j, h, b)[1]);

  // Each f32 capture's gradient: zero, plus every read's row shares summed
  // into the element it read (indices of b and h only, clamped as the
  // forward's read is; attn-generate-backward checks that).
  H::RDom rows(0, Lq, 0, q.shape[1], 0, q.shape[0], "capture_rows");
  FailureOr<RegionExprs> at;
  if (!op.getScore().empty()) {
    at = translateRegion(op.getScore(),
                         {H::Expr(0.0f), rows.z, rows.y, H::Expr(0), H::Expr(0)},
                         caps);
    if (failed(at))
      return failure();
  }
  std::vector<Operation *> reads;
  if (!op.getScore().empty())
    for (Operation *read : attn::f32CaptureReads(op.getScore()))
      reads.push_back(read);
  for (auto [index, capture] : llvm::enumerate(op.getCaptures())) {
    if (!attn::isF32Capture(capture))
      continue;
    const TensorValue &cap = caps[index];
    std::vector<H::Var> vars;
    for (size_t k = 0; k < cap.shape.size(); ++k)
      vars.push_back(H::Var("cg" + std::to_string(k)));
    H::Func grad("attend_dcapture" + std::to_string(index));
    grad(vars) = 0.0f;
    for (auto [k, read] : llvm::enumerate(reads)) {
      auto arg = cast<BlockArgument>(cast<tensor::ExtractOp>(read).getTensor());
      if (arg.getArgNumber() != 5 + index)
        continue;
      const std::vector<H::Expr> &idx = at->readIndices.lookup(read);
      std::vector<H::Expr> innermostFirst(idx.rbegin(), idx.rend());
      grad(innermostFirst) += f.grads(int(k), rows.x, rows.y, rows.z)[1];
    }
    f.captureGrads.push_back(grad); // f32, as its capture
  }
  return f;
}
