//===- Reference.cpp ------------------------------------------------------===//
#include "Reference.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace attnc::ref;

int64_t attnc::ref::elementCount(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

int64_t attnc::ref::rowMajorOffset(const std::vector<int64_t> &shape,
                                   std::initializer_list<int64_t> idx) {
  int64_t off = 0, k = 0;
  for (int64_t i : idx)
    off = off * shape[size_t(k++)] + i;
  return off;
}

Tensor::Tensor(std::vector<int64_t> s, float fill) : shape(std::move(s)) {
  data.assign(size_t(elementCount(shape)), fill);
}

float &Tensor::at(std::initializer_list<int64_t> idx) {
  return data[size_t(rowMajorOffset(shape, idx))];
}
float Tensor::at(std::initializer_list<int64_t> idx) const {
  return data[size_t(rowMajorOffset(shape, idx))];
}

void Tensor::randomize(std::mt19937 &rng, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float &x : data)
    x = dist(rng);
}

std::vector<double> attnc::ref::attendExact(const Tensor &q, const Tensor &k,
                                            const Tensor &v, double scale,
                                            const Mask &mask,
                                            const Score &score) {
  int64_t B = q.shape[0], H = q.shape[1], Lq = q.shape[2], D = q.shape[3];
  int64_t Lk = k.shape[2], E = v.shape[3];
  std::vector<double> out(size_t(B * H * Lq * E), 0.0);
  std::vector<double> s(static_cast<size_t>(Lk));
  std::vector<char> ok(static_cast<size_t>(Lk));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < Lq; ++i) {
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < Lk; ++j) {
          ok[j] = !mask || mask(b, h, i, j);
          if (!ok[j])
            continue;
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += double(q.at({b, h, i, d})) * double(k.at({b, h, j, d}));
          s[j] = dot * scale;
          if (score)
            s[j] = score(s[j], b, h, i, j);
          m = std::max(m, s[j]);
        }
        double sum = 0;
        for (int64_t j = 0; j < Lk; ++j)
          if (ok[j])
            sum += std::exp(s[j] - m);
        for (int64_t e = 0; e < E; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < Lk; ++j)
            if (ok[j])
              acc += std::exp(s[j] - m) * double(v.at({b, h, j, e}));
          out[size_t(((b * H + h) * Lq + i) * E + e)] = sum > 0 ? acc / sum : 0.0;
        }
      }
  return out;
}

Tensor attnc::ref::attend(const Tensor &q, const Tensor &k, const Tensor &v,
                          double scale, const Mask &mask, const Score &score) {
  std::vector<double> exact = attendExact(q, k, v, scale, mask, score);
  Tensor out({q.shape[0], q.shape[1], q.shape[2], v.shape[3]});
  for (size_t e = 0; e < exact.size(); ++e)
    out.data[e] = float(exact[e]);
  return out;
}

Tensor attnc::ref::windowed(const Tensor &q, const Tensor &k, const Tensor &v,
                            int64_t left, int64_t right, int64_t dil,
                            const std::vector<int64_t> &globals) {
  auto isGlobal = [&](int64_t p) {
    return std::find(globals.begin(), globals.end(), p) != globals.end();
  };
  Mask mask = [&](int64_t, int64_t, int64_t i, int64_t j) {
    if (isGlobal(i) || isGlobal(j))
      return true;
    int64_t off = j - i;
    return off % dil == 0 && off >= -left * dil && off <= right * dil;
  };
  double scale = 1.0 / std::sqrt(double(q.shape[3]));
  return attend(q, k, v, scale, mask);
}

double attnc::ref::maxAbsDiff(const Tensor &a, const Tensor &b) {
  if (a.shape != b.shape)
    return std::numeric_limits<double>::infinity();
  double m = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (!std::isfinite(a.data[i]) || !std::isfinite(b.data[i]))
      return std::numeric_limits<double>::infinity();
    m = std::max(m, std::fabs(double(a.data[i]) - double(b.data[i])));
  }
  return m;
}

Tensor attnc::ref::linear(const Tensor &x, const Tensor &w, const Tensor *bias) {
  int64_t M = w.shape[0], N = w.shape[1], rows = x.size() / M;
  std::vector<int64_t> shape = x.shape;
  shape.back() = N;
  Tensor out(shape);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t n = 0; n < N; ++n) {
      double acc = bias ? double(bias->data[size_t(n)]) : 0.0;
      for (int64_t m = 0; m < M; ++m)
        acc += double(x.data[size_t(r * M + m)]) * double(w.data[size_t(m * N + n)]);
      out.data[size_t(r * N + n)] = float(acc);
    }
  return out;
}

Tensor attnc::ref::layerNorm(const Tensor &x, const Tensor &gamma,
                             const Tensor &beta, double eps) {
  int64_t N = x.shape.back(), rows = x.size() / N;
  Tensor out(x.shape);
  for (int64_t r = 0; r < rows; ++r) {
    const float *row = &x.data[size_t(r * N)];
    double mean = 0, var = 0;
    for (int64_t n = 0; n < N; ++n)
      mean += row[n];
    mean /= double(N);
    for (int64_t n = 0; n < N; ++n)
      var += (row[n] - mean) * (row[n] - mean);
    var /= double(N);
    for (int64_t n = 0; n < N; ++n)
      out.data[size_t(r * N + n)] =
          float((row[n] - mean) / std::sqrt(var + eps) * gamma.data[size_t(n)] +
                beta.data[size_t(n)]);
  }
  return out;
}

Tensor attnc::ref::map(const Tensor &x, const std::function<double(double)> &f) {
  Tensor out(x.shape);
  for (size_t i = 0; i < x.data.size(); ++i)
    out.data[i] = float(f(x.data[i]));
  return out;
}

Tensor attnc::ref::zip(const Tensor &a, const Tensor &b,
                       const std::function<double(double, double)> &f) {
  // Trailing broadcasting: the operand of lower rank repeats over the
  // other's leading dimensions; the result has the higher-rank operand's
  // shape (the left one at equal rank) — also when leading dimensions are 1
  // and both hold as many elements.
  bool aLonger = a.shape.size() >= b.shape.size();
  const Tensor &longer = aLonger ? a : b, &shorter = aLonger ? b : a;
  Tensor out(longer.shape);
  for (size_t i = 0; i < longer.data.size(); ++i) {
    double l = longer.data[i], s = shorter.data[i % shorter.data.size()];
    out.data[i] = float(aLonger ? f(l, s) : f(s, l));
  }
  return out;
}

double attnc::ref::gelu(double x) {
  return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

Tensor attnc::ref::splitHeads(const Tensor &x, int64_t heads) {
  int64_t B = x.shape[0], L = x.shape[1], E = x.shape[2], D = E / heads;
  Tensor out({B, heads, L, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t d = 0; d < D; ++d)
          out.at({b, h, l, d}) = x.at({b, l, h * D + d});
  return out;
}

Tensor attnc::ref::mergeHeads(const Tensor &x) {
  int64_t B = x.shape[0], H = x.shape[1], L = x.shape[2], D = x.shape[3];
  Tensor out({B, L, H * D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t d = 0; d < D; ++d)
          out.at({b, l, h * D + d}) = x.at({b, h, l, d});
  return out;
}

uint16_t attnc::ref::bf16Bits(double x) {
  float f = float(x);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (std::isnan(f))
    return uint16_t((u >> 16) | 0x40);
  u += 0x7fff + ((u >> 16) & 1);
  return uint16_t(u >> 16);
}

double attnc::ref::fromBf16Bits(uint16_t bits) {
  uint32_t u = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
