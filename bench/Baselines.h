//===- Baselines.h - what attnc's kernels are compared against ------------===//
#ifndef ATTNC_BENCH_BASELINES_H
#define ATTNC_BENCH_BASELINES_H

#include <cstdint>

namespace attnc::bench {

/// The FP32 FMA peak of one core, measured at run time with the widest FMA
/// the CPU and OS support (CPUID + XCR0): 512-bit AVX-512F FMA where
/// available, else 256-bit AVX2 FMA. Each loop is compiled with a target
/// attribute, so the binary needs neither -mavx2 nor -mavx512f and runs on
/// any x86-64 CPU.
struct FmaPeak {
  const char *isa = "none"; ///< the widest ISA measured: "avx512", "avx2", "none"
  double gflops = 0;        ///< peak of `isa`; 0 when the CPU has no FMA
  double avx2Gflops = 0;    ///< 256-bit AVX2 FMA peak; 0 where unsupported
  double avx512Gflops = 0;  ///< 512-bit AVX-512F FMA peak; 0 where unsupported
};
FmaPeak measureFmaPeak();

/// measureFmaPeak().gflops: the peak of the widest FMA.
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
