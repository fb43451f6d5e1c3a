//===- Lsh.h - plain C++ reference of the LSH (Reformer) contract ---------===//
//
// Double-precision, naive-loop model of LANGUAGE.md "LSH semantics":
// hash_bucket, sort_chunk, chunked_attend, combine_rounds, lsh_attend, and
// the documented rotation generator (Philox-4x32-10 + Box-Muller). Like
// Reference.h it is independent of attnc. Checked against Hugging Face's
// LSHSelfAttention by test/reference/LshReferenceTest.cpp through the golden
// files of scripts/lsh_goldens.py.
//
// Decisions the language reference leaves to the implementation:
// - When C does not divide R·L, the last chunk is short: it holds
//   R·L − (n_chunks − 1)·C entries, and as a neighbour it contributes exactly
//   those entries (fewer keys). Neighbour indices are taken modulo n_chunks
//   for any before/after; a chunk met more than once is counted each time.
//   (Hugging Face requires C | L and takes neighbours with Python slices,
//   which equals the modulo only while before, after <= n_chunks.)
// - Masks replace scores, in this order: causal (query position < key
//   position) -> −1e9, then self (same original position) -> −1e5.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TEST_LSH_H
#define ATTNC_TEST_LSH_H

#include "Reference.h"

#include <array>
#include <cstdint>
#include <vector>

namespace attnc::ref {

/// i32 data, row-major, shape outermost first.
struct IndexTensor {
  std::vector<int64_t> shape;
  std::vector<int32_t> data;

  IndexTensor() = default;
  explicit IndexTensor(std::vector<int64_t> s, int32_t fill = 0);
  int32_t &at(std::initializer_list<int64_t> idx);
  int32_t at(std::initializer_list<int64_t> idx) const;
};

/// Philox-4x32-10 (Salmon et al., SC'11; Random123) of `counter` under `key`.
std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter,
                                   std::array<uint32_t, 2> key);

/// The documented rotation generator: value of rot[h, d, r, n] for `seed`.
/// Philox counter (n, r, d, h), key (uint32(seed), uint32(seed >> 32));
/// outputs x0, x1 -> u1 = (x0 + 0.5)·2^-32, u2 = x1·2^-32,
/// z = sqrt(−2 ln u1)·cos(2π u2) in double, rounded once to float.
float lshRotation(uint64_t seed, uint32_t h, uint32_t d, uint32_t r,
                  uint32_t n);
/// rot f32[H, D, R, N/2] from the generator.
Tensor lshRotations(uint64_t seed, int64_t H, int64_t D, int64_t R,
                    int64_t halfBuckets);
/// qk [B,H,L,D], rot [H,D,R,N/2] -> buckets i32[B,H,R,L]
/// (argmax over [p, −p], first index wins ties).
IndexTensor hashBucket(const Tensor &qk, const Tensor &rot);
/// buckets i32[B,H,R,L] -> order, undo i32[B,H,R,L] (stable by (bucket,
/// position) per round; undo = inverse within the round).
void sortChunk(const IndexTensor &buckets, IndexTensor &order,
               IndexTensor &undo);
/// q [B,H,L,D], k [B,H,L,D], v [B,H,L,E], order i32[B,H,R,L] ->
/// out [B,H,R,L,E], lse [B,H,R,L] in original positions.
void chunkedAttend(const Tensor &q, const Tensor &k, const Tensor &v,
                   const IndexTensor &order, int64_t chunk, int64_t before,
                   int64_t after, bool causal, bool selfMask,
                   bool normalizeKeys, Tensor &out, Tensor &lse);
/// out [B,H,R,L,E], lse [B,H,R,L] -> [B,H,L,E].
Tensor combineRounds(const Tensor &out, const Tensor &lse);
/// The composite (shared QK; keys normalised; self mask on); when
/// L <= chunk: one full pass over the sequence, rounds ignored.
Tensor lshAttend(const Tensor &qk, const Tensor &v, const Tensor &rot,
                 int64_t chunk, int64_t before, int64_t after, bool causal);

/// The same three unrounded, for finite-difference gradient checks:
/// chunkedAttendExact returns out then lse (flattened, row-major),
/// lshAttendExact the composite's result; lshChainExact is steps 1-7 at
/// every length (the primitive chain: no full pass when L <= chunk).
std::vector<double> chunkedAttendExact(const Tensor &q, const Tensor &k,
                                       const Tensor &v, const IndexTensor &order,
                                       int64_t chunk, int64_t before,
                                       int64_t after, bool causal,
                                       bool selfMask, bool normalizeKeys);
std::vector<double> combineRoundsExact(const Tensor &out, const Tensor &lse);
std::vector<double> lshChainExact(const Tensor &qk, const Tensor &v,
                                  const Tensor &rot, int64_t chunk,
                                  int64_t before, int64_t after, bool causal);
std::vector<double> lshAttendExact(const Tensor &qk, const Tensor &v,
                                   const Tensor &rot, int64_t chunk,
                                   int64_t before, int64_t after, bool causal);

/// The key normalisation of step 4: x·rsqrt(mean(x²) + 1e−6)/sqrt(D), in
/// double, for one row of D values.
std::vector<double> lshNormalizeKey(const float *x, int64_t D);

} // namespace attnc::ref

#endif
