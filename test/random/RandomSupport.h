//===- RandomSupport.h - what the generated random-program tests use ------===//
//
// test/random/generate.py writes one TEST per random kernel; each fills the
// kernel's inputs, calls it through its C header and compares with the
// reference built from these helpers (on top of test/reference). Everything
// here follows docs/language.md: C division (truncating; by zero gives 0),
// clamped tensor reads inside mask and score functions, trailing
// broadcasting, layer_norm without gamma/beta.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TEST_RANDOM_SUPPORT_H
#define ATTNC_TEST_RANDOM_SUPPORT_H

#include "Reference.h"
#include "attnc/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace attnc::random_programs {

using ref::Tensor;
namespace ref = attnc::ref;

/// Absolute tolerance, relative to max(1, max |expected|).
constexpr double kTolerance = 1e-4;
/// attendRef's scale meaning "1/sqrt(D)", as when `scale` is not given.
constexpr double kDefaultScale = std::numeric_limits<double>::quiet_NaN();

struct ITensor {
  std::vector<int64_t> shape;
  std::vector<int32_t> data;
};

inline int64_t numel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Uniform in [-amp, amp].
inline Tensor rnd(std::mt19937 &rng, std::vector<int64_t> shape, float amp) {
  Tensor t(std::move(shape));
  t.randomize(rng, -amp, amp);
  return t;
}

/// Multiples of 1/8 in [-1, 1]: sums and small products are exact in f32,
/// so comparisons on them cannot flip between the kernel and the reference.
inline Tensor rndq(std::mt19937 &rng, std::vector<int64_t> shape) {
  Tensor t(std::move(shape));
  std::uniform_int_distribution<int> k(-8, 8);
  for (float &x : t.data)
    x = float(k(rng)) / 8.0f;
  return t;
}

inline ITensor rndi(std::mt19937 &rng, std::vector<int64_t> shape, int lo,
                    int hi) {
  ITensor t{std::move(shape), {}};
  std::uniform_int_distribution<int> d(lo, hi);
  t.data.resize(size_t(numel(t.shape)));
  for (int32_t &x : t.data)
    x = d(rng);
  return t;
}

/// 0/1 with P(1) = p; with more than one leading slice, one of them (chosen
/// at random) is all zero: rows with no allowed key.
inline ITensor rndbits(std::mt19937 &rng, std::vector<int64_t> shape, double p) {
  ITensor t{std::move(shape), {}};
  std::bernoulli_distribution keep(p);
  t.data.resize(size_t(numel(t.shape)));
  for (int32_t &x : t.data)
    x = keep(rng) ? 1 : 0;
  if (t.shape.size() >= 3 && t.shape[0] > 1) {
    int64_t slice = int64_t(t.data.size()) / t.shape[0];
    int64_t z = std::uniform_int_distribution<int64_t>(0, t.shape[0] - 1)(rng);
    std::fill(t.data.begin() + z * slice, t.data.begin() + (z + 1) * slice, 0);
  }
  return t;
}

inline Tensor nanTensor(std::vector<int64_t> shape) {
  return Tensor(std::move(shape), std::numeric_limits<float>::quiet_NaN());
}

inline attn_tensor view(Tensor &t) {
  return attn_make_tensor(t.data.data(), ATTN_F32, int32_t(t.shape.size()),
                          t.shape.data());
}
inline attn_tensor view(ITensor &t) {
  return attn_make_tensor(t.data.data(), ATTN_I32, int32_t(t.shape.size()),
                          t.shape.data());
}

/// Memory for a tensor passed with other strides than the dense ones.
struct Storage {
  std::vector<float> f;
  std::vector<int32_t> i;
  std::vector<int64_t> shape;
};

namespace detail {
/// Strides of a layout that stores `order` (outermost first) with `pad`
/// unused elements after every dimension.
inline std::vector<int64_t> paddedStrides(const std::vector<int64_t> &shape,
                                          const std::vector<int> &order,
                                          int64_t pad, int64_t &span) {
  std::vector<int64_t> strides(shape.size());
  int64_t n = 1;
  for (size_t k = order.size(); k-- > 0;) {
    strides[size_t(order[k])] = n;
    n *= shape[size_t(order[k])] + pad;
  }
  span = n;
  return strides;
}

/// Calls f(dense offset, strided offset) for every element.
template <class F>
void forEach(const std::vector<int64_t> &shape,
             const std::vector<int64_t> &strides, F f) {
  int64_t count = numel(shape);
  std::vector<int64_t> idx(shape.size(), 0);
  for (int64_t flat = 0; flat < count; ++flat) {
    int64_t off = 0;
    for (size_t d = 0; d < shape.size(); ++d)
      off += idx[d] * strides[d];
    f(flat, off);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

template <class E>
attn_tensor stridedCopy(const std::vector<E> &src,
                        const std::vector<int64_t> &shape,
                        std::vector<E> &storage, attn_dtype dtype,
                        const std::vector<int> &order, int64_t pad, E gap) {
  int64_t span;
  std::vector<int64_t> strides = paddedStrides(shape, order, pad, span);
  storage.assign(size_t(std::max<int64_t>(span, 1)), gap);
  forEach(shape, strides,
          [&](int64_t flat, int64_t off) { storage[size_t(off)] = src[size_t(flat)]; });
  attn_tensor t = attn_make_tensor(storage.data(), dtype, int32_t(shape.size()),
                                   shape.data());
  for (size_t d = 0; d < shape.size(); ++d)
    t.strides[d] = strides[d];
  return t;
}

/// Makes every slice along `axis` equal to slice 0.
template <class E>
void broadcastAxis(std::vector<E> &data, const std::vector<int64_t> &shape,
                   int axis) {
  int64_t inner = 1;
  for (size_t d = size_t(axis) + 1; d < shape.size(); ++d)
    inner *= shape[d];
  int64_t n = shape[size_t(axis)], outer = numel(shape) / std::max<int64_t>(n * inner, 1);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t a = 1; a < n; ++a)
      std::copy_n(data.begin() + (o * n) * inner, inner,
                  data.begin() + (o * n + a) * inner);
}
} // namespace detail

/// A copy of t stored in `order` (outermost first) with `pad` unused
/// elements (NaN, or 1000000 for i32) after every dimension.
inline attn_tensor stridedView(const Tensor &t, Storage &s,
                               const std::vector<int> &order, int64_t pad) {
  s.shape = t.shape;
  return detail::stridedCopy(t.data, s.shape, s.f, ATTN_F32, order, pad,
                             std::numeric_limits<float>::quiet_NaN());
}
inline attn_tensor stridedView(const ITensor &t, Storage &s,
                               const std::vector<int> &order, int64_t pad) {
  s.shape = t.shape;
  return detail::stridedCopy(t.data, s.shape, s.i, ATTN_I32, order, pad,
                             int32_t(1000000));
}

/// t made constant along `axis` and passed with stride 0 there.
inline attn_tensor zeroStrideView(Tensor &t, int axis) {
  detail::broadcastAxis(t.data, t.shape, axis);
  attn_tensor v = view(t);
  v.strides[axis] = 0;
  return v;
}
inline attn_tensor zeroStrideView(ITensor &t, int axis) {
  detail::broadcastAxis(t.data, t.shape, axis);
  attn_tensor v = view(t);
  v.strides[axis] = 0;
  return v;
}

/// The elements of a strided output; fails the test if the kernel wrote
/// anything into the padding.
inline Tensor gatherOutput(const Storage &s, const attn_tensor &t) {
  std::vector<int64_t> strides(t.strides, t.strides + t.rank);
  Tensor out(s.shape);
  std::vector<char> used(s.f.size(), 0);
  detail::forEach(s.shape, strides, [&](int64_t flat, int64_t off) {
    out.data[size_t(flat)] = s.f[size_t(off)];
    used[size_t(off)] = 1;
  });
  size_t written = 0;
  for (size_t k = 0; k < s.f.size(); ++k)
    written += !used[k] && !std::isnan(s.f[k]);
  EXPECT_EQ(written, 0u) << "the kernel wrote into an output's padding";
  return out;
}

/// Reads inside mask and score functions clamp every index into the tensor.
inline int64_t clampedOffset(const std::vector<int64_t> &shape,
                             std::initializer_list<int64_t> idx) {
  int64_t off = 0;
  size_t k = 0;
  for (int64_t i : idx) {
    int64_t n = shape[k++];
    off = off * n + std::clamp<int64_t>(i, 0, n - 1);
  }
  return off;
}
inline double rdf(const Tensor &t, std::initializer_list<int64_t> idx) {
  return double(t.data[size_t(clampedOffset(t.shape, idx))]);
}
inline int64_t rdi(const ITensor &t, std::initializer_list<int64_t> idx) {
  return t.data[size_t(clampedOffset(t.shape, idx))];
}

/// C division and remainder; by zero gives 0 (docs/language.md).
inline int64_t idiv(int64_t a, int64_t b) { return b == 0 ? 0 : a / b; }
inline int64_t imod(int64_t a, int64_t b) { return b == 0 ? 0 : a % b; }

/// ref::attend, where a score of -inf also counts as a masked key
/// (docs/language.md): a row whose every key is masked or -inf is zeros.
inline Tensor attendRef(const Tensor &q, const Tensor &k, const Tensor &v,
                        double scale, const ref::Mask &mask,
                        const ref::Score &score) {
  if (std::isnan(scale))
    scale = 1.0 / std::sqrt(double(q.shape[3]));
  if (!score)
    return ref::attend(q, k, v, scale, mask, score);
  // Keys whose score is -inf are masked: the mask is evaluated first, as the
  // kernel does (the score of a masked key is never looked at).
  int64_t D = q.shape[3];
  ref::Mask finite = [&](int64_t b, int64_t h, int64_t i, int64_t j) {
    if (mask && !mask(b, h, i, j))
      return false;
    double dot = 0;
    for (int64_t d = 0; d < D; ++d)
      dot += double(q.at({b, h, i, d})) * double(k.at({b, h, j, d}));
    return score(dot * scale, b, h, i, j) !=
           -std::numeric_limits<double>::infinity();
  };
  return ref::attend(q, k, v, scale, finite, score);
}

inline Tensor lnRef(const Tensor &x, double eps) {
  int64_t n = x.shape.back();
  return ref::layerNorm(x, Tensor({n}, 1.0f), Tensor({n}, 0.0f), eps);
}
inline Tensor lnRef(const Tensor &x, const Tensor &g, const Tensor &b,
                    double eps) {
  return ref::layerNorm(x, g, b, eps);
}
inline Tensor linearRef(const Tensor &x, const Tensor &w) {
  return ref::linear(x, w);
}
inline Tensor linearRef(const Tensor &x, const Tensor &w, const Tensor &b) {
  return ref::linear(x, w, &b);
}
inline Tensor geluRef(const Tensor &x) { return ref::map(x, ref::gelu); }
inline Tensor reluRef(const Tensor &x) {
  return ref::map(x, [](double t) { return t > 0 ? t : 0.0; });
}

/// Trailing broadcasting, as ref::zip defines it.
inline Tensor addRef(const Tensor &a, const Tensor &b) {
  return ref::zip(a, b, [](double x, double y) { return x + y; });
}
inline Tensor subRef(const Tensor &a, const Tensor &b) {
  return ref::zip(a, b, [](double x, double y) { return x - y; });
}
inline Tensor mulRef(const Tensor &a, const Tensor &b) {
  return ref::zip(a, b, [](double x, double y) { return x * y; });
}

inline std::string indexString(const std::vector<int64_t> &shape, size_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = int64_t(flat) % shape[d];
    flat /= size_t(shape[d]);
  }
  std::ostringstream s;
  s << "[";
  for (size_t d = 0; d < idx.size(); ++d)
    s << (d ? ", " : "") << idx[d];
  return s.str() + "]";
}

/// Every element finite and within kTolerance·max(1, max |expected|).
inline void expectClose(const Tensor &out, const Tensor &expected,
                        const char *what) {
  ASSERT_EQ(out.shape, expected.shape) << what;
  double scale = 1.0;
  for (float e : expected.data)
    scale = std::max(scale, double(std::fabs(e)));
  double worst = -1;
  size_t at = 0;
  for (size_t i = 0; i < out.data.size(); ++i) {
    double d = std::isfinite(out.data[i]) && std::isfinite(expected.data[i])
                   ? std::fabs(double(out.data[i]) - double(expected.data[i]))
                   : std::numeric_limits<double>::infinity();
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  if (out.data.empty())
    return;
  // ATTNC_RANDOM_REPORT=1: print how close every check comes to failing.
  static const bool report = std::getenv("ATTNC_RANDOM_REPORT") != nullptr;
  if (report)
    std::printf("error/tolerance %.3g %s %s\n", worst / (kTolerance * scale),
                ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                what);
  EXPECT_LE(worst, kTolerance * scale)
      << what << ": max |kernel - reference| = " << worst << " at "
      << indexString(out.shape, at) << " (kernel " << out.data[at]
      << ", reference " << expected.data[at] << "), tolerance "
      << kTolerance * scale;
}

} // namespace attnc::random_programs

#endif
