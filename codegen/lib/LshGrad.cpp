//===- LshGrad.cpp - the algorithms of the LSH primitives' gradients ------===//
//
// chunked_attend_grad: the forward (Lsh.cpp) recomputed per chunk, then
// with P the chunk's probabilities, dP = dout·vᵀ and δ = Σ_j P·dP per query
// slot, the gradient of a pair's raw dot product q·k is
//
//   dS = P·(dP − δ + dlse)·a_k        (0 where a mask replaced the score)
//
// (dlse enters every pair of its row with weight P: ∂lse/∂s = P), a_k the
// key's normalisation scale. Per chunk, `grads` holds
//   rows 0 … C−1:           dq of the chunk's query slots = dS·K,
//   rows C + n·C + j:       key slot (j, n)'s shares Σ_t dS·q_t (column
//                           block 0) and Σ_t P·dout_t (block 1).
// A key slot is an entry of a neighbouring chunk, so every gradient is a
// gather, never a scatter: position i of round r is entry (slot, chunk)
// through `undo`, its query share is row slot of that chunk, and its key
// shares are row C + n·C + slot of chunk (chunk − n + before) mod chunks
// for every neighbour index n. Summing over rounds and n counts a key met
// twice twice, as the forward does.
//
// The normalisation k̂ = k·a(k), a = rsqrt(mean(k²) + eps)/sqrt(D), is
// differentiated once per position: the score is (q·k)·a and
// ∂a/∂k = −a³·k, so with g = Σ dS·q over every occurrence of the key,
// dk = g − a²·k·(k·g).
//
// combine_rounds_grad: with w the round weights and t_r = dy·out_r,
// dout_r = w_r·dy and dlse_r = w_r·(t_r − Σ_r' w_r'·t_r') (dy·y is
// Σ_r w_r·t_r, so the combined output is not recomputed).
//
//===----------------------------------------------------------------------===//
#include "Algorithms.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

FailureOr<ChunkedGradFuncs>
attnc::codegen::defineChunkedAttendGrad(attn::ChunkedAttendGradOp op,
                                        ValueTable &values,
                                        std::optional<H::Func> knownUndo) {
  ChunkedGradFuncs g;
  FailureOr<ChunkedFuncs> forward = defineChunkedAttend(op, values, knownUndo);
  if (failed(forward))
    return failure();
  g.fwd = *forward;
  ChunkedFuncs &f = g.fwd;
  TensorValue q = values.tensors.lookup(op.getQ());
  TensorValue v = values.tensors.lookup(op.getV());
  TensorValue order = values.tensors.lookup(op.getOrder());
  TensorValue dout = values.tensors.lookup(op.getDout());
  TensorValue dlse = values.tensors.lookup(op.getDlse());
  H::Var x = f.x, t = f.t, j = f.j, n = f.n, c = f.c, i = f.i, d = f.d,
         h = f.h, b = f.b, row = g.row;
  H::Expr L = q.shape[2], D = q.shape[3], E = v.shape[3], R = order.shape[2];
  const int32_t C = int32_t(op.getChunk()), nb = f.neighbours;
  auto position = [&](H::Expr p) { return H::clamp(p, 0, L - 1); };
  auto neighbour = [&](H::Expr k) { return c + k - f.before; };

  // A query slot's round: its entry c·S + t lies in round entry / L (the
  // segment is the round in short mode). Dead slots (past the sequence)
  // get zero gradients, so they add nothing to any key or value.
  H::Expr qp = f.queryPos(t, c, h, b);
  H::Expr round =
      H::clamp(H::select(f.shortMode, c, (c * f.slots + t) / L), 0, R - 1);
  g.doutRows = H::Func("lshg_dout_rows");
  g.doutRows(x, t, c, h, b) = H::select(
      qp >= 0,
      H::cast<float>(dout.func(H::clamp(x, 0, E - 1), position(qp), round, h, b)),
      0.0f);
  g.doutT = H::Func("lshg_dout_t");
  g.doutT(t, x, c, h, b) = g.doutRows(x, t, c, h, b);
  g.dlseSorted = H::Func("lshg_dlse");
  g.dlseSorted(t, c, h, b) = H::select(
      qp >= 0, H::cast<float>(dlse.func(position(qp), round, h, b)), 0.0f);
  g.qRows = H::Func("lshg_q_rows");
  g.qRows(d, t, c, h, b) =
      H::cast<float>(q.func(H::clamp(d, 0, D - 1), position(qp), h, b));

  H::Expr sum = f.rowSum(t, c, h, b);
  g.invSum = H::Func("lshg_inv_sum");
  g.invSum(t, c, h, b) = H::select(sum == 0.0f, 0.0f, 1.0f / sum);
  auto P = [&](H::Expr tt, H::Expr jj, H::Expr nn) {
    return f.probs(tt, jj, nn, c, h, b) * g.invSum(tt, c, h, b);
  };

  g.rx = H::RDom(0, E, "rx");
  g.dpAcc = H::Func("lshg_dp_acc");
  g.dpAcc(t, j, n, c, h, b) = 0.0f;
  g.dpAcc(t, j, n, c, h, b) +=
      g.doutT(t, g.rx, c, h, b) * f.values(g.rx, j, neighbour(n), h, b);
  g.dp = H::Func("lshg_dp");
  g.dp(t, j, n, c, h, b) = g.dpAcc(t, j, n, c, h, b);

  g.rjn = H::RDom(0, C, 0, nb, "rjn");
  g.delta = H::Func("lshg_delta");
  g.delta(t, c, h, b) = 0.0f;
  g.delta(t, c, h, b) += P(t, g.rjn.x, g.rjn.y) *
                         g.dp(t, g.rjn.x, g.rjn.y, c, h, b);

  // Scores that a mask replaced are constants: no gradient.
  H::Expr kp = f.keyPos(j, n, c, h, b);
  H::Expr differentiable = kp >= 0;
  if (op.getCausal())
    differentiable = differentiable && qp >= kp;
  if (op.getSelfMask())
    differentiable = differentiable && qp != kp;
  H::Expr slope = op.getNormalizeKeys() ? f.keySlotScale(j, n, c, h, b)
                                        : H::Expr(1.0f);
  g.ds = H::Func("lshg_ds");
  g.ds(t, j, n, c, h, b) = H::select(
      differentiable,
      P(t, j, n) *
          (g.dp(t, j, n, c, h, b) - g.delta(t, c, h, b) + g.dlseSorted(t, c, h, b)) *
          slope,
      0.0f);

  // dq of the chunk's query slots (slots along the vector): dS · K (raw).
  g.dqAcc = H::Func("lshg_dq_acc");
  g.dqAcc(t, d, c, h, b) = 0.0f;
  g.dqAcc(t, d, c, h, b) += g.ds(t, g.rjn.x, g.rjn.y, c, h, b) *
                            f.keysT(g.rjn.x, d, neighbour(g.rjn.y), h, b);
  g.dqT = H::Func("lshg_dq_t");
  g.dqT(t, d, c, h, b) = g.dqAcc(t, d, c, h, b);

  // Key slot (j, n)'s shares: Σ_t dS·q_t and Σ_t P·dout_t.
  g.rt = H::RDom(0, C, "rt");
  g.keyAcc = H::Func("lshg_key_acc");
  g.keyAcc(d, j, n, c, h, b) = 0.0f;
  g.keyAcc(d, j, n, c, h, b) +=
      g.ds(g.rt, j, n, c, h, b) * g.qRows(d, g.rt, c, h, b);
  g.keyPart = H::Func("lshg_key_part");
  g.keyPart(d, j, n, c, h, b) = g.keyAcc(d, j, n, c, h, b);
  g.valAcc = H::Func("lshg_value_acc");
  g.valAcc(x, j, n, c, h, b) = 0.0f;
  g.valAcc(x, j, n, c, h, b) += P(g.rt, j, n) * g.doutRows(x, g.rt, c, h, b);
  g.valPart = H::Func("lshg_value_part");
  g.valPart(x, j, n, c, h, b) = g.valAcc(x, j, n, c, h, b);

  H::Expr keyRow = H::max(row - C, 0);
  H::Expr kj = keyRow % C, kn = H::min(keyRow / C, nb - 1);
  H::Expr isQuery = row < C;
  g.grads = H::Func("lshg_grads");
  g.grads(x, row, c, h, b) = H::Tuple(
      H::select(isQuery,
                g.dqT(H::clamp(row, 0, C - 1), H::min(x, D - 1), c, h, b),
                g.keyPart(H::min(x, D - 1), kj, kn, c, h, b)),
      H::select(isQuery, 0.0f, g.valPart(H::min(x, E - 1), kj, kn, c, h, b)));

  // Position i of round r: entry (slotT, slotC), as the forward reads it.
  auto entryOf = [&](H::Expr r) {
    H::Expr slot = position(f.undo(i, r, h, b));
    H::Expr flat = H::select(f.shortMode, r * C + slot, r * L + slot);
    return std::pair{flat % C, H::clamp(flat / C, 0, f.numChunks - 1)};
  };
  g.rr = H::RDom(0, R, "rr");
  auto [qSlot, qChunk] = entryOf(g.rr);
  g.dqSum = H::Func("lshg_dq_sum");
  g.dqSum(d, i, h, b) = 0.0f;
  g.dqSum(d, i, h, b) += g.grads(d, qSlot, qChunk, h, b)[0];

  g.rnr = H::RDom(0, nb, 0, R, "rnr");
  auto [kSlot, kChunk] = entryOf(g.rnr.y);
  H::Expr sharer = (kChunk - g.rnr.x + f.before) % f.numChunks; // Euclidean
  H::Expr sharedRow = C + g.rnr.x * C + kSlot;
  g.keySum = H::Func("lshg_key_sum");
  g.keySum(d, i, h, b) = 0.0f;
  g.keySum(d, i, h, b) += g.grads(d, sharedRow, sharer, h, b)[0];
  g.valSum = H::Func("lshg_value_sum");
  g.valSum(x, i, h, b) = 0.0f;
  g.valSum(x, i, h, b) += g.grads(x, sharedRow, sharer, h, b)[1];

  H::Expr kfi = f.kf(d, i, h, b);
  H::Expr dk = g.keySum(d, i, h, b);
  if (op.getNormalizeKeys()) {
    g.rd = H::RDom(0, D, "rdk");
    g.keyDot = H::Func("lshg_key_dot");
    g.keyDot(i, h, b) = 0.0f;
    g.keyDot(i, h, b) += f.kf(g.rd, i, h, b) * g.keySum(g.rd, i, h, b);
    H::Expr a = f.keyScale(i, h, b);
    dk = dk - kfi * g.keyDot(i, h, b) * a * a;
  }
  g.dq = H::Func("lsh_dq");
  g.dq(d, i, h, b) = H::cast(resultType(op, 0), g.dqSum(d, i, h, b));
  g.dk = H::Func("lsh_dk");
  g.dk(d, i, h, b) = H::cast(resultType(op, 1), dk);
  g.dv = H::Func("lsh_dv");
  g.dv(x, i, h, b) = H::cast(resultType(op, 2), g.valSum(x, i, h, b));
  return g;
}

CombineGradFuncs
attnc::codegen::defineCombineRoundsGrad(attn::CombineRoundsGradOp op,
                                        ValueTable &values) {
  CombineGradFuncs g;
  g.fwd = defineCombineRounds(op, values);
  CombineFuncs &f = g.fwd;
  TensorValue out = values.tensors.lookup(op.getOut());
  TensorValue dy = values.tensors.lookup(op.getDy());
  H::Var x = f.x, i = f.i, h = f.h, b = f.b, r = g.r;
  H::Expr L = out.shape[3], E = out.shape[4];
  H::Expr rowI = H::clamp(i, 0, L - 1);
  auto w = [&](H::Expr rr) {
    return f.weight(rr, i, h, b) / f.weightSum(i, h, b);
  };
  g.rx = H::RDom(0, E, "rx");
  g.roundDot = H::Func("rounds_dy_out");
  g.roundDot(r, i, h, b) = 0.0f;
  g.roundDot(r, i, h, b) += H::cast<float>(dy.func(g.rx, rowI, h, b)) *
                            H::cast<float>(out.func(g.rx, rowI, r, h, b));
  g.rowDot = H::Func("rounds_dy_y");
  g.rowDot(i, h, b) = 0.0f;
  g.rowDot(i, h, b) += w(f.rr) * g.roundDot(f.rr, i, h, b);
  g.dout = H::Func("rounds_dout");
  g.dout(x, i, r, h, b) = H::cast(
      resultType(op, 0), w(r) * H::cast<float>(dy.func(x, i, h, b)));
  g.dlse = H::Func("rounds_dlse");
  g.dlse(i, r, h, b) =
      H::cast(resultType(op, 1),
              w(r) * (g.roundDot(r, i, h, b) - g.rowDot(i, h, b)));
  return g;
}
