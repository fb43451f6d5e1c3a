//===- Lsh.cpp - the algorithms of the Reformer LSH primitives ------------===//
//
// LANGUAGE.md "LSH semantics", step by step:
//  - hash_bucket: X·rot per round as a small matmul (positions × N/2), then
//    the first argmax of [p, −p]. Seeded rotations come from the runtime's
//    attn_lsh_rotation (Philox + Box–Muller in double), so every target
//    variant hashes identically.
//  - sort_chunk: the runtime's counting sort as a Halide extern stage
//    (linear per round; a scatter through moving cursors is not a Halide
//    update definition).
//  - chunked_attend: per chunk of the sorted sequence a small dense
//    attention. Rows are indexed (t, c) — slot t of chunk c — so that
//    nothing but the chunk's own C × (before+1+after)·C scores exists at a
//    time; a chunk's keys are gathered transposed (slots innermost), raw
//    (the normalisation scales the scores), and serve as its queries when
//    q is k; its values are gathered into contiguous rows. One
//    buffer holds per sorted slot the normalised output row and, in an
//    extra column E, the row's log-sum-exp; out and lse read it back
//    through the inverse permutation.
//  - combine_rounds: w_r = exp(lse_r − max lse) / Σ.
//
//===----------------------------------------------------------------------===//
#include "Algorithms.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

namespace {

// HF's LSHSelfAttention mask values (LANGUAGE.md, step 5).
constexpr float kCausalMasked = -1e9f;
constexpr float kSelfMasked = -1e5f;
constexpr float kKeyNormEps = 1e-6f;

/// 0, having prefetched (prefetchnta, no call) the first four cache lines
/// of row `row` of head (h, b) of `t` when `t` is a 4-D kernel argument
/// ([B, H, L, D], D innermost); else the constant 0. Prefetches never
/// fault, so the lines past a short row need no guard.
H::Expr prefetchRow(const TensorValue &t, H::Expr row, H::Expr h, H::Expr b) {
  if (!t.param || t.param->dimensions() != 4)
    return H::Expr(0);
  namespace I = H::Internal;
  const H::ImageParam &p = *t.param;
  H::Expr host = I::Variable::make(H::Handle(), p.name(), p.parameter());
  H::Expr offset = (0 - p.dim(0).min()) * p.dim(0).stride() +
                   (row - p.dim(1).min()) * p.dim(1).stride() +
                   (h - p.dim(2).min()) * p.dim(2).stride() +
                   (b - p.dim(3).min()) * p.dim(3).stride();
  const int step = 64 / p.type().bytes();
  H::Expr result = 0;
  for (int line = 3; line >= 0; --line) {
    H::Expr fetch = I::Call::make(p.type(), I::Call::prefetch,
                                  {host, offset + line * step, 1, 1},
                                  I::Call::Intrinsic);
    result = I::Call::make(H::Int(32), I::Call::return_second,
                           {fetch, result}, I::Call::PureIntrinsic);
  }
  return result;
}

} // namespace

FailureOr<HashFuncs> attnc::codegen::defineHashBucket(attn::HashBucketOp op,
                                                      ValueTable &values) {
  HashFuncs f;
  TensorValue x = values.tensors.lookup(op.getX());
  H::Var n = f.n, r = f.r, t = f.t, d = f.d, h = f.h, b = f.b;
  H::Expr L = x.shape[2], D = x.shape[3];
  f.half = int32_t(op.getBuckets() / 2);
  int32_t half = f.half;

  // rot[h, d, r, n] as rot(n, r, d, h); n clamped so that register tiles
  // rounded up past N/2 read a valid rotation.
  H::Expr nc = H::clamp(n, 0, half - 1);
  f.rot = H::Func("lsh_rot");
  if (Value rot = op.getRotations()) {
    TensorValue rv = values.tensors.lookup(rot);
    f.rot(n, r, d, h) = H::cast<float>(rv.func(nc, r, d, h));
  } else {
    uint64_t seed = uint64_t(*op.getSeed());
    f.rot(n, r, d, h) = H::Internal::Call::make(
        H::Float(32), "attn_lsh_rotation",
        {H::Expr(seed), H::cast<uint32_t>(h), H::cast<uint32_t>(d),
         H::cast<uint32_t>(r), H::cast<uint32_t>(nc)},
        H::Internal::Call::PureExtern);
  }
  // Positions innermost: the projection vectorises across positions and
  // broadcasts one rotation entry per register-tile row.
  f.xT = H::Func("lsh_x_t");
  f.xT(t, d, h, b) =
      H::cast<float>(x.func(H::clamp(d, 0, D - 1), H::clamp(t, 0, L - 1), h, b));
  f.rd = H::RDom(0, D, "rd");
  f.proj = H::Func("lsh_proj");
  f.proj(t, n, r, h, b) = 0.0f;
  f.proj(t, n, r, h, b) += f.xT(t, f.rd, h, b) * f.rot(n, r, f.rd, h);
  f.projOut = H::Func("lsh_proj_tile");
  f.projOut(t, n, r, h, b) = f.proj(t, n, r, h, b);

  // First argmax over [p, −p]: a strictly greater value wins, so ties (and
  // an all-zero row, bucket 0) keep the lowest index.
  f.rk = H::RDom(0, 2 * half, "rk");
  H::Expr k = f.rk.x;
  H::Expr p = f.projOut(t, k % half, r, h, b);
  H::Expr value = H::select(k < half, p, -p);
  f.best = H::Func("lsh_argmax");
  f.best(t, r, h, b) = H::Tuple(H::Expr(0), H::Expr(kLowest));
  f.best(t, r, h, b) = H::tuple_select(
      value > f.best(t, r, h, b)[1], H::Tuple(k, value), f.best(t, r, h, b));
  f.bucket = H::Func("lsh_bucket");
  f.bucket(t, r, h, b) = f.best(t, r, h, b)[0];
  return f;
}

SortFuncs attnc::codegen::defineSortChunk(attn::SortChunkOp op,
                                          ValueTable &values) {
  SortFuncs f;
  TensorValue buckets = values.tensors.lookup(op.getBuckets());
  H::Var t = f.t, r = f.r, h = f.h, b = f.b;
  f.input = H::Func("lsh_buckets_in");
  f.input(t, r, h, b) = buckets.func(t, r, h, b);
  f.sorted = H::Func("lsh_sort");
  f.sorted.define_extern("attn_rt_sort_chunk",
                         {H::ExternFuncArgument(f.input),
                          H::ExternFuncArgument(buckets.shape[3])},
                         {H::Int(32), H::Int(32)}, {t, r, h, b},
                         H::NameMangling::C);
  f.order = H::Func("lsh_order");
  f.order(t, r, h, b) = f.sorted(t, r, h, b)[0];
  f.undo = H::Func("lsh_undo");
  f.undo(t, r, h, b) = f.sorted(t, r, h, b)[1];
  return f;
}

template <typename ChunkedOp>
FailureOr<ChunkedFuncs>
attnc::codegen::defineChunkedAttend(ChunkedOp op, ValueTable &values,
                                    std::optional<H::Func> knownUndo) {
  ChunkedFuncs f;
  TensorValue q = values.tensors.lookup(op.getQ());
  TensorValue k = values.tensors.lookup(op.getK());
  TensorValue v = values.tensors.lookup(op.getV());
  TensorValue order = values.tensors.lookup(op.getOrder());
  H::Var x = f.x, t = f.t, j = f.j, n = f.n, c = f.c, i = f.i, r = f.r, d = f.d,
         h = f.h, b = f.b, l = f.l;
  H::Expr L = q.shape[2], D = q.shape[3], E = v.shape[3], R = order.shape[2];
  if (op.getChunk() > kMaxExtent || op.getBefore() + op.getAfter() >= 64)
    return op.emitError() << "chunk " << op.getChunk() << " with "
                          << op.getBefore() + op.getAfter()
                          << " neighbouring chunks is larger than attnc "
                             "compiles (chunk < 2^30, before + after < 64)";
  const int32_t C = int32_t(op.getChunk());
  const int32_t before = int32_t(op.getBefore());
  const int32_t neighbours = int32_t(op.getBefore() + 1 + op.getAfter());
  H::Expr RL = R * L;
  f.valueWidth = E;

  // Segments: chunks of C over the R·L sorted entries, the last one short;
  // or, for a short sequence with full_if_short, one segment per round.
  H::Expr shortMode =
      op.getFullIfShort() ? (L <= C) : H::Internal::const_false();
  H::Expr S = H::select(shortMode, L, C);
  f.numChunks = H::select(shortMode, R, (RL + (C - 1)) / C);
  f.shortMode = shortMode;
  f.slots = S;
  f.before = before;
  f.neighbours = neighbours;

  // Entry f of the rounds laid end to end is position posFlat(f).
  f.ro = H::RDom(0, L, 0, R, "ro");
  f.posFlat = H::Func("lsh_pos");
  f.posFlat(l, h, b) = 0;
  f.posFlat(f.ro.y * L + f.ro.x, h, b) = H::clamp(
      order.func(f.ro.x, f.ro.y, h, b), 0, L - 1);
  // Undo: from sort_chunk when the order came from it, else inverted here
  // (attn_invoke checked that an order from the caller is a permutation).
  if (knownUndo) {
    f.undo = *knownUndo;
  } else {
    f.undo = H::Func("lsh_undo_inv");
    f.undo(l, r, h, b) = 0;
    f.undo(H::clamp(order.func(f.ro.x, f.ro.y, h, b), 0, L - 1), f.ro.y, h,
           b) = f.ro.x;
    f.inverted = true;
  }

  // Key scale per position: rsqrt(mean(x²) + eps)/sqrt(D), or 1.
  // Inputs as f32, clamped: register tiles and vectors run past E and L.
  f.kf = clampedF32(k, "lsh_k_f32", d, l);
  f.vf = clampedF32(v, "lsh_v_f32", x, l);
  f.rd = H::RDom(0, D, "rd");
  f.keySq = H::Func("lsh_key_sq");
  f.keySq(l, h, b) = 0.0f;
  f.keySq(l, h, b) += f.kf(f.rd, l, h, b) * f.kf(f.rd, l, h, b);
  f.keyScale = H::Func("lsh_key_scale");
  if (op.getNormalizeKeys())
    f.keyScale(l, h, b) =
        1.0f / (H::sqrt(f.keySq(l, h, b) / H::cast<float>(D) + kKeyNormEps) *
                H::sqrt(H::cast<float>(D)));
  else
    f.keyScale(l, h, b) = 1.0f;

  // Slot t of chunk c holds entry c·S + t; key slot (j, n) of chunk c is
  // slot j of its neighbour n, chunk (c + n − before) mod chunks (wrapping),
  // or of the segment itself in short mode. -1 marks an empty slot. Key
  // slots are two-dimensional so that consecutive rows of a register tile
  // are consecutive rows of one gathered chunk (affine addresses).
  auto entry = [&](H::Expr chunk, H::Expr slot) { return chunk * S + slot; };
  H::Expr queryEntry = entry(c, t);
  f.queryPos = H::Func("lsh_query_pos");
  f.queryPos(t, c, h, b) = H::select(
      t < S && queryEntry < RL,
      f.posFlat(H::clamp(queryEntry, 0, RL - 1), h, b), -1);
  // Halide's % is Euclidean: a negative neighbour index wraps from the end.
  // In short mode only the block of the chunk itself (n == before) holds
  // keys.
  H::Expr keyChunk = H::select(shortMode, c, (c + n - before) % f.numChunks);
  H::Expr keyEntry = entry(keyChunk, j);
  H::Expr keyLive = j < C && j < S && n < neighbours && keyEntry < RL &&
                    (!shortMode || n == before);
  f.keyPos = H::Func("lsh_key_pos");
  f.keyPos(j, n, c, h, b) = H::select(
      keyLive, f.posFlat(H::clamp(keyEntry, 0, RL - 1), h, b), -1);

  // Queries of a chunk, transposed (slots innermost), when q is not k.
  f.qT = H::Func("lsh_q_t");
  // Positions are loaded values: every use clamps them, which is what
  // bounds Halide's reads (and keeps an empty slot's -1 in range).
  auto position = [&](H::Expr p) { return H::clamp(p, 0, L - 1); };
  f.qT(t, d, c, h, b) = H::cast<float>(
      q.func(H::clamp(d, 0, D - 1), position(f.queryPos(t, c, h, b)), h, b));
  H::Expr kp = f.keyPos(j, n, c, h, b);
  // The keys and values of chunk u mod chunks, gathered. Indexed by the
  // unwrapped neighbour index u = c + n − before, so that consecutive
  // chunks' needs overlap in u: computed per chunk with storage across a
  // block of chunks, Halide's sliding window gathers each chunk once per
  // block instead of before+1+after times, and the loads from scattered
  // rows overlap in a copy loop instead of stalling the register tiles.
  // Keys are gathered raw and transposed (slots innermost): a register
  // tile's key rows are then consecutive floats at each step of the
  // reduction, and with shared query-keys (q and k one tensor, as in the
  // Reformer) a chunk's own keys are its queries, so the queries need no
  // gather of their own. The key normalisation scales the scores instead.
  H::Var u("u"); // unwrapped neighbour chunk
  H::Expr gatheredEntry = entry(u % f.numChunks, t);
  H::Expr gatheredPos =
      position(f.posFlat(H::clamp(gatheredEntry, 0, RL - 1), h, b));
  f.keysT = H::Func("lsh_keys_t");
  f.keysT(t, d, u, h, b) = f.kf(d, gatheredPos, h, b);
  f.values = H::Func("lsh_values");
  f.values(x, t, u, h, b) = f.vf(x, gatheredPos, h, b);
  f.sharedQK = op.getQ() == op.getK();
  auto neighbour = [&](H::Expr n) { return c + n - before; };
  H::Expr query =
      f.sharedQK ? f.keysT(t, f.rd, c, h, b) : f.qT(t, f.rd, c, h, b);
  f.dot = H::Func("lsh_qk");
  // The register tiles' accumulators start at 0 after prefetching rows that
  // a gather will read a few microseconds later, spread over the chunk's
  // arithmetic instead of stalling the gather on scattered rows: the Q·Kᵀ
  // tiles of the newest neighbour fetch the values rows of its slots
  // (gathered after the softmax), the P·V tiles the key rows of the next
  // chunk's newest neighbour.
  H::Expr newest = n == neighbours - 1 && j < S && !shortMode;
  f.dot(t, j, n, c, h, b) = H::cast<float>(H::Internal::Call::make(
      H::Int(32), H::Internal::Call::if_then_else,
      {newest, prefetchRow(v, position(kp), h, b), H::Expr(0)},
      H::Internal::Call::PureIntrinsic));
  f.dot(t, j, n, c, h, b) += query * f.keysT(j, f.rd, neighbour(n), h, b);
  f.keySlotScale = H::Func("lsh_key_slot_scale");
  f.keySlotScale(j, n, c, h, b) = f.keyScale(position(kp), h, b);
  H::Expr qp = f.queryPos(t, c, h, b);
  H::Expr s = f.dot(t, j, n, c, h, b);
  if (op.getNormalizeKeys())
    s = s * f.keySlotScale(j, n, c, h, b);
  if (op.getCausal())
    s = H::select(qp < kp, kCausalMasked, s);
  if (op.getSelfMask())
    s = H::select(qp == kp, kSelfMasked, s);
  f.score = H::Func("lsh_score");
  f.score(t, j, n, c, h, b) = H::select(kp >= 0, s, kLowest);

  // Softmax over the key slots, queries along the vector.
  f.rj = H::RDom(0, C, 0, neighbours, "rj");
  f.rowMax = H::Func("lsh_max");
  f.rowMax(t, c, h, b) = kLowest;
  f.rowMax(t, c, h, b) =
      H::max(f.rowMax(t, c, h, b), f.score(t, f.rj.x, f.rj.y, c, h, b));
  f.probs = H::Func("lsh_p");
  f.probs(t, j, n, c, h, b) =
      softmaxWeight(f.score(t, j, n, c, h, b), f.rowMax(t, c, h, b));
  f.rowSum = H::Func("lsh_sum");
  f.rowSum(t, c, h, b) = 0.0f;
  f.rowSum(t, c, h, b) += f.probs(t, f.rj.x, f.rj.y, c, h, b);

  f.pvAcc = H::Func("lsh_pv");
  H::Expr nextEntry =
      entry((c + 1 + (neighbours - 1 - before)) % f.numChunks, t);
  H::Expr nextPos = position(f.posFlat(H::clamp(nextEntry, 0, RL - 1), h, b));
  H::Expr nextRows = prefetchRow(k, nextPos, h, b);
  if (!f.sharedQK)
    nextRows = nextRows + prefetchRow(q, nextPos, h, b);
  f.pvAcc(x, t, c, h, b) = H::cast<float>(H::Internal::Call::make(
      H::Int(32), H::Internal::Call::if_then_else,
      {t < S && !shortMode, nextRows, H::Expr(0)},
      H::Internal::Call::PureIntrinsic));
  f.pvAcc(x, t, c, h, b) +=
      f.probs(t, f.rj.x, f.rj.y, c, h, b) *
      f.values(x, f.rj.x, neighbour(f.rj.y), h, b);
  f.pvOut = H::Func("lsh_pv_tile");
  f.pvOut(x, t, c, h, b) = f.pvAcc(x, t, c, h, b);

  // Column E holds the log-sum-exp (one log per row, not per column); the
  // others the normalised output.
  H::Expr sum = f.rowSum(t, c, h, b);
  f.rowLse = H::Func("lsh_row_lse");
  f.rowLse(t, c, h, b) = f.rowMax(t, c, h, b) + H::log(sum);
  f.result = H::Func("lsh_chunk_result");
  f.result(x, t, c, h, b) = H::select(
      x < E, normalized(f.pvOut(H::min(x, E - 1), t, c, h, b), sum, H::Float(32)),
      f.rowLse(t, c, h, b));

  // Back to original positions: round r's position i sits at sorted entry
  // r·L + undo (segment r, slot undo, in short mode).
  H::Expr slot = position(f.undo(i, r, h, b));
  H::Expr flat = H::select(shortMode, r * C + slot, r * L + slot);
  H::Expr slotT = flat % C, slotC = H::clamp(flat / C, 0, f.numChunks - 1);
  H::Type outType = resultType(op, 0);
  f.out = H::Func("lsh_out");
  f.out(x, i, r, h, b) = H::cast(outType, f.result(x, slotT, slotC, h, b));
  f.lse = H::Func("lsh_lse");
  f.lse(i, r, h, b) = H::cast(resultType(op, 1), f.result(E, slotT, slotC, h, b));
  return f;
}

// chunked_attend_grad recomputes the forward from the same definition.
template FailureOr<ChunkedFuncs>
attnc::codegen::defineChunkedAttend(attn::ChunkedAttendOp, ValueTable &,
                                    std::optional<H::Func>);
template FailureOr<ChunkedFuncs>
attnc::codegen::defineChunkedAttend(attn::ChunkedAttendGradOp, ValueTable &,
                                    std::optional<H::Func>);

template <typename CombineOp>
CombineFuncs attnc::codegen::defineCombineRounds(CombineOp op,
                                                 ValueTable &values) {
  CombineFuncs f;
  TensorValue out = values.tensors.lookup(op.getOut());
  TensorValue lse = values.tensors.lookup(op.getLse());
  H::Var x = f.x, i = f.i, h = f.h, b = f.b;
  f.rr = H::RDom(0, out.shape[2], "rr");
  // Rows clamped: the schedule computes the weights of whole vectors of
  // rows, past L at the end.
  H::Expr row = H::clamp(i, 0, out.shape[3] - 1);
  H::Expr l = H::cast<float>(lse.func(row, f.rr, h, b));
  f.maxLse = H::Func("rounds_max");
  f.maxLse(i, h, b) = kLowest;
  f.maxLse(i, h, b) = H::max(f.maxLse(i, h, b), l);
  f.weight = H::Func("rounds_w");
  H::Var r("r");
  f.weight(r, i, h, b) =
      H::exp(H::cast<float>(lse.func(row, r, h, b)) - f.maxLse(i, h, b));
  f.weightSum = H::Func("rounds_wsum");
  f.weightSum(i, h, b) = 0.0f;
  f.weightSum(i, h, b) += f.weight(f.rr, i, h, b);
  f.acc = H::Func("rounds_acc");
  f.acc(x, i, h, b) = 0.0f;
  f.acc(x, i, h, b) += f.weight(f.rr, i, h, b) *
                       H::cast<float>(out.func(x, i, f.rr, h, b));
  f.result = H::Func("combine_rounds");
  H::Expr value = f.acc(x, i, h, b) / f.weightSum(i, h, b);
  if constexpr (std::is_same_v<CombineOp, attn::CombineRoundsOp>)
    value = H::cast(resultType(op), value); // the grad keeps f32
  f.result(x, i, h, b) = value;
  return f;
}

// combine_rounds_grad recomputes the forward from the same definition.
template CombineFuncs
attnc::codegen::defineCombineRounds(attn::CombineRoundsOp, ValueTable &);
template CombineFuncs
attnc::codegen::defineCombineRounds(attn::CombineRoundsGradOp, ValueTable &);
