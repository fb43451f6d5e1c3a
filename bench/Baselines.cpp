//===- Baselines.cpp ------------------------------------------------------===//
#include "Baselines.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

using namespace attnc::bench;

__attribute__((target("avx2,fma"))) static double fmaLoopGflops();


double attnc::bench::measureFmaPeakGflops() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    return 0; // no AVX2 FMA: callers print no % of peak
  return fmaLoopGflops();
}

__attribute__((target("avx2,fma"))) static double fmaLoopGflops() {
  // 12 independent accumulators cover 2 FMA pipes × 4-cycle latency with
  // room to spare; the loop does 12 FMAs of 8 lanes = 192 flops per turn.
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(float(i) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  const int64_t turns = 50'000'000;
  auto start = std::chrono::steady_clock::now();
  for (int64_t t = 0; t < turns; ++t)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                              start).count();
  float sink = 0;
  for (int i = 0; i < 12; ++i) {
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, acc[i]);
    sink += lanes[0];
  }
  volatile float keep = sink;
  (void)keep;
  return double(turns) * 192.0 / secs / 1e9;
}

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
