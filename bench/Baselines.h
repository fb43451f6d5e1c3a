//===- Baselines.h - what attnc's kernels are compared against ------------===//
#ifndef ATTNC_BENCH_BASELINES_H
#define ATTNC_BENCH_BASELINES_H

#include <cstdint>

namespace attnc::bench {

/// Peak FP32 GFLOP/s of one core, measured with independent AVX2 FMA chains.
double measureFmaPeakGflops();

/// The naive three-loop attention (per query: scores, max, exp, sum, P·V),
/// f32, no blocking; `window` < 0 means full, else |i − j| ≤ window; causal
/// restricts to j ≤ i.
void naiveAttention(const float *q, const float *k, const float *v, float *out,
                    int64_t BH, int64_t L, int64_t D, bool causal,
                    int64_t window);

/// The unfused implementation: the whole L×L score matrix per head is
/// materialised (as framework code without a fused kernel does), then
/// softmax, then P·V; loops ordered for vectorisation.
void unfusedAttention(const float *q, const float *k, const float *v,
                      float *out, float *scores, int64_t BH, int64_t L,
                      int64_t D, bool causal);

} // namespace attnc::bench

#endif
