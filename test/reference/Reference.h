//===- Reference.h - plain C++ attention, the numerical ground truth ------===//
//
// Deliberately naive and independent of attnc: three loops, double
// accumulation, the definitions of LANGUAGE.md written out directly.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TEST_REFERENCE_H
#define ATTNC_TEST_REFERENCE_H

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

namespace attnc::ref {

/// Elements of a tensor of `shape`, and the row-major offset of `idx`
/// (outermost first) in it.
int64_t elementCount(const std::vector<int64_t> &shape);
int64_t rowMajorOffset(const std::vector<int64_t> &shape,
                       std::initializer_list<int64_t> idx);

/// A dense row-major tensor, shape outermost first.
struct Tensor {
  std::vector<int64_t> shape;
  std::vector<float> data;

  Tensor() = default;
  explicit Tensor(std::vector<int64_t> s, float fill = 0.0f);
  int64_t size() const { return int64_t(data.size()); }
  float &at(std::initializer_list<int64_t> idx);
  float at(std::initializer_list<int64_t> idx) const;
  void randomize(std::mt19937 &rng, float lo = -1.0f, float hi = 1.0f);
};

using Mask = std::function<bool(int64_t b, int64_t h, int64_t i, int64_t j)>;
using Score = std::function<double(double s, int64_t b, int64_t h, int64_t i,
                                   int64_t j)>;

/// softmax_j(score(scale·q_i·k_j) where mask) · v; zeros for a row with no
/// allowed key. q [B,H,Lq,D], k [B,H,Lk,D], v [B,H,Lk,E] -> [B,H,Lq,E].
Tensor attend(const Tensor &q, const Tensor &k, const Tensor &v, double scale,
              const Mask &mask = nullptr, const Score &score = nullptr);

/// The same in double precision, unrounded (row-major [B, H, Lq, E]): what
/// finite differences of the attention need.
std::vector<double> attendExact(const Tensor &q, const Tensor &k,
                                const Tensor &v, double scale,
                                const Mask &mask = nullptr,
                                const Score &score = nullptr);

/// Longformer: query i sees i − left·dil … i + right·dil in steps of dil,
/// every global key, and a global query sees every key.
Tensor windowed(const Tensor &q, const Tensor &k, const Tensor &v,
                int64_t left, int64_t right, int64_t dil,
                const std::vector<int64_t> &globals);

/// x[..., M]·w[M, N] (+ bias[N]).
Tensor linear(const Tensor &x, const Tensor &w, const Tensor *bias = nullptr);
/// Over the last dimension: (x − mean)/sqrt(var + eps)·gamma + beta.
Tensor layerNorm(const Tensor &x, const Tensor &gamma, const Tensor &beta,
                 double eps);
/// Elementwise f, or f(a, b[broadcast over trailing dims]).
Tensor map(const Tensor &x, const std::function<double(double)> &f);
Tensor zip(const Tensor &a, const Tensor &b,
           const std::function<double(double, double)> &f);
double gelu(double x); // tanh approximation
/// [B, L, H·D] <-> [B, H, L, D].
Tensor splitHeads(const Tensor &x, int64_t heads);
Tensor mergeHeads(const Tensor &x);

/// bf16 bits of x rounded to nearest even (NaN stays NaN), and back: what
/// tests store in bf16 tensors and compare against.
uint16_t bf16Bits(double x);
double fromBf16Bits(uint16_t bits);

/// Largest |a − b| over all elements (infinity if shapes differ or a value
/// is not finite).
double maxAbsDiff(const Tensor &a, const Tensor &b);

} // namespace attnc::ref

#endif
