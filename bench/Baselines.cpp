//===- Baselines.cpp ------------------------------------------------------===//
#include "Baselines.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

using namespace attnc::bench;

// Both loops run kAcc* independent dependency chains, acc = acc·a + b, so
// the FMA pipes never wait on a result: kAcc* must be at least latency ×
// pipes (4 × 2 on Skylake-SP … Sapphire Rapids and on Zen 4). 12 AVX2
// accumulators + 2 constants fit the 16 ymm registers; AVX-512 has 32 zmm
// registers and uses 16. The best of `kRuns` runs is reported (noisy VMs).
constexpr int kAcc2 = 12, kAcc512 = 16, kRuns = 5;
constexpr int64_t kTurns = 20'000'000;

// The timed loops make no calls, so every accumulator stays in a register
// (a clock call inside the function made clang spill zmm accumulators to
// the stack in the loop); the state goes through memory once per run.
__attribute__((target("avx2,fma"), noinline)) static void
fmaChainsAvx2(float *state, int64_t turns) {
  __m256 acc[kAcc2];
  for (int i = 0; i < kAcc2; ++i)
    acc[i] = _mm256_loadu_ps(state + 8 * i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t t = 0; t < turns; ++t)
    for (int i = 0; i < kAcc2; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  for (int i = 0; i < kAcc2; ++i)
    _mm256_storeu_ps(state + 8 * i, acc[i]);
}

__attribute__((target("avx512f"), noinline)) static void
fmaChainsAvx512(float *state, int64_t turns) {
  __m512 acc[kAcc512];
  for (int i = 0; i < kAcc512; ++i)
    acc[i] = _mm512_loadu_ps(state + 16 * i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t t = 0; t < turns; ++t)
    for (int i = 0; i < kAcc512; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  for (int i = 0; i < kAcc512; ++i)
    _mm512_storeu_ps(state + 16 * i, acc[i]);
}

/// GFLOP/s of `chains` over `lanes` = accumulators × vector width floats,
/// the best of kRuns runs (the VM is noisy).
static double bestOf(void (*chains)(float *, int64_t), int lanes) {
  float state[kAcc512 * 16];
  for (int i = 0; i < lanes; ++i)
    state[i] = float(i % 16) * 1e-3f;
  double best = 0;
  for (int r = 0; r < kRuns; ++r) {
    auto start = std::chrono::steady_clock::now();
    chains(state, kTurns);
    double secs = std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start).count();
    best = std::max(best, double(kTurns) * lanes * 2 / secs / 1e9);
  }
  volatile float keep = state[0];
  (void)keep;
  return best;
}

/// XCR0 (the register state the OS saves) has the bits in `mask` set.
/// libgcc's and compiler-rt's __builtin_cpu_supports already require this
/// for AVX2 / AVX-512; checked again here so that under an OS that does not
/// save ZMM state no 512-bit instruction is ever reached.
static bool osEnables(uint32_t mask) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_OSXSAVE))
    return false;
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (lo & mask) == mask;
}

FmaPeak attnc::bench::measureFmaPeak() {
  __builtin_cpu_init();
  FmaPeak peak;
  // XCR0: 0x6 = SSE + AVX (YMM) state; 0xe6 adds opmask, ZMM0–15 upper
  // halves and ZMM16–31.
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      osEnables(0x6)) {
    peak.avx2Gflops = bestOf(fmaChainsAvx2, kAcc2 * 8);
    peak.isa = "avx2";
    peak.gflops = peak.avx2Gflops;
  }
  if (__builtin_cpu_supports("avx512f") && osEnables(0xe6)) {
    peak.avx512Gflops = bestOf(fmaChainsAvx512, kAcc512 * 16);
    // The widest FMA is the peak even where it is no faster than AVX2 (Zen 4
    // executes a 512-bit FMA on both 256-bit pipes): kernels may use either.
    peak.isa = "avx512";
    peak.gflops = peak.avx512Gflops;
  }
  return peak; // no AVX2 FMA: gflops = 0, callers print no % of peak
}

double attnc::bench::measureFmaPeakGflops() { return measureFmaPeak().gflops; }

void attnc::bench::naiveAttention(const float *q, const float *k,
                                  const float *v, float *out, int64_t BH,
                                  int64_t L, int64_t D, bool causal,
                                  int64_t window) {
  float scale = 1.0f / std::sqrt(float(D));
  float *s = new float[size_t(L)];
  for (int64_t bh = 0; bh < BH; ++bh) {
    const float *Q = q + bh * L * D, *K = k + bh * L * D, *V = v + bh * L * D;
    float *O = out + bh * L * D;
    for (int64_t i = 0; i < L; ++i) {
      int64_t lo = window < 0 ? 0 : std::max<int64_t>(0, i - window);
      int64_t hi = causal ? i : window < 0 ? L - 1 : std::min(L - 1, i + window);
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t j = lo; j <= hi; ++j) {
        float dot = 0;
        for (int64_t d = 0; d < D; ++d)
          dot += Q[i * D + d] * K[j * D + d];
        s[j] = dot * scale;
        m = std::max(m, s[j]);
      }
      float sum = 0;
      for (int64_t j = lo; j <= hi; ++j)
        sum += (s[j] = std::exp(s[j] - m));
      for (int64_t d = 0; d < D; ++d) {
        float acc = 0;
        for (int64_t j = lo; j <= hi; ++j)
          acc += s[j] * V[j * D + d];
        O[i * D + d] = acc / sum;
      }
    }
  }
  delete[] s;
}

void attnc::bench::unfusedAttention(const float *q, const float *k,
                                    const float *v, float *out, float *S,
                                    int64_t BH, int64_t L, int64_t D,
                                    bool causal) {
  float scale = 1.0f / std::sqrt(float(D));
  for (int64_t bh = 0; bh < BH; ++bh) {
    const float *Q = q + bh * L * D, *K = k + bh * L * D, *V = v + bh * L * D;
    float *O = out + bh * L * D;
    // 1. S = Q·Kᵀ·scale, the full L×L matrix.
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = 0; j < L; ++j) {
        float dot = 0;
        for (int64_t d = 0; d < D; ++d)
          dot += Q[i * D + d] * K[j * D + d];
        S[i * L + j] = causal && j > i ? -std::numeric_limits<float>::infinity()
                                       : dot * scale;
      }
    // 2. Row softmax in place.
    for (int64_t i = 0; i < L; ++i) {
      float *row = S + i * L, m = -std::numeric_limits<float>::infinity(), sum = 0;
      for (int64_t j = 0; j < L; ++j)
        m = std::max(m, row[j]);
      for (int64_t j = 0; j < L; ++j)
        sum += (row[j] = std::exp(row[j] - m));
      for (int64_t j = 0; j < L; ++j)
        row[j] /= sum;
    }
    // 3. O = P·V, i-j-d order so the d loop vectorises.
    for (int64_t i = 0; i < L; ++i) {
      float *o = O + i * D;
      std::fill(o, o + D, 0.0f);
      for (int64_t j = 0; j < L; ++j) {
        float p = S[i * L + j];
        for (int64_t d = 0; d < D; ++d)
          o[d] += p * V[j * D + d];
      }
    }
  }
}
