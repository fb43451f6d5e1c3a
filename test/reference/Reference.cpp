//===- Reference.cpp ------------------------------------------------------===//
#include "Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace attnc::ref;

Tensor::Tensor(std::vector<int64_t> s, float fill) : shape(std::move(s)) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  data.assign(size_t(n), fill);
}

static int64_t offset(const std::vector<int64_t> &shape,
                      std::initializer_list<int64_t> idx) {
  int64_t off = 0, k = 0;
  for (int64_t i : idx)
    off = off * shape[size_t(k++)] + i;
  return off;
}

float &Tensor::at(std::initializer_list<int64_t> idx) {
  return data[size_t(offset(shape, idx))];
}
float Tensor::at(std::initializer_list<int64_t> idx) const {
  return data[size_t(offset(shape, idx))];
}

void Tensor::randomize(std::mt19937 &rng, float lo, float hi) {
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float &x : data)
    x = dist(rng);
}

Tensor attnc::ref::attend(const Tensor &q, const Tensor &k, const Tensor &v,
                          double scale, const Mask &mask, const Score &score) {
  int64_t B = q.shape[0], H = q.shape[1], Lq = q.shape[2], D = q.shape[3];
  int64_t Lk = k.shape[2], E = v.shape[3];
  Tensor out({B, H, Lq, E});
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
          out.at({b, h, i, e}) = sum > 0 ? float(acc / sum) : 0.0f;
        }
      }
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
