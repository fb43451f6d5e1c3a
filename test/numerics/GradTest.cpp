//===- GradTest.cpp - generated backward kernels vs finite differences ----===//
//
// Each NAME_backward of test/numerics/grad.attn (attnc --grad) against
// central differences of the double-precision reference (ref::attendExact):
// with loss = Σ dout · attend(q, k, v), dloss/dx_e is estimated as
// (loss(x_e + ε) − loss(x_e − ε)) / (x_e⁺ − x_e⁻), where x_e± are the
// perturbed float inputs as stored (the denominator is their exact
// difference) and ε = 2^-16: the loss is evaluated in double, so rounding
// adds ~1e-10 and the truncation error ε²·f'''/6 ~1e-10.
//
// Score functions with min, max or abs have kinks; an element whose
// perturbation crosses one has different one-sided differences and is
// skipped (at most a quarter of the sampled elements may be).
//
// Per input, 40 random elements and the last 8 (the end of the last row,
// where tiles are padded) are checked; the error is normwise,
// max |g − fd| / max |fd| over them, and must be ≤ 1e-3 (float32 kernels).
//
//===----------------------------------------------------------------------===//
#include "Harness.h"
#include "grad.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

using namespace attnc;
using namespace attnc::test;
using ref::Tensor;

namespace {

constexpr double kStep = 1.0 / 65536; // 2^-16
constexpr double kTolerance = 1e-3;

using Forward = std::function<std::vector<double>()>;

double loss(const Forward &forward, const Tensor &dout) {
  std::vector<double> y = forward();
  double sum = 0;
  for (size_t e = 0; e < y.size(); ++e)
    sum += y[e] * double(dout.data[e]);
  return sum;
}

/// Compares `grads[t]` with finite differences of the loss in `inputs[t]`
/// (which `forward` reads) for every t.
void checkGradients(const std::string &what, std::vector<Tensor *> inputs,
                    const std::vector<Tensor *> &grads, const Forward &forward,
                    const Tensor &dout, std::mt19937 &rng) {
  double base = loss(forward, dout);
  for (size_t t = 0; t < inputs.size(); ++t) {
    Tensor &x = *inputs[t];
    const Tensor &g = *grads[t];
    ASSERT_EQ(g.data.size(), x.data.size());
    for (float value : g.data)
      ASSERT_TRUE(std::isfinite(value)) << what << " input " << t;
    std::vector<size_t> sample;
    std::uniform_int_distribution<size_t> pick(0, x.data.size() - 1);
    for (int s = 0; s < 40; ++s)
      sample.push_back(pick(rng));
    for (size_t e = x.data.size() >= 8 ? x.data.size() - 8 : 0;
         e < x.data.size(); ++e)
      sample.push_back(e);
    double worst = 0, largest = 0;
    int skipped = 0;
    for (size_t e : sample) {
      float orig = x.data[e];
      float up = float(orig + kStep), down = float(orig - kStep);
      x.data[e] = up;
      double lossUp = loss(forward, dout);
      x.data[e] = down;
      double lossDown = loss(forward, dout);
      x.data[e] = orig;
      double right = (lossUp - base) / (double(up) - double(orig));
      double left = (base - lossDown) / (double(orig) - double(down));
      if (std::abs(right - left) > 1e-4 * std::max(1.0, std::abs(right))) {
        ++skipped; // a kink of min, max or abs between the two sides
        continue;
      }
      double fd = (lossUp - lossDown) / (double(up) - double(down));
      worst = std::max(worst, std::abs(double(g.data[e]) - fd));
      largest = std::max(largest, std::abs(fd));
    }
    EXPECT_LE(skipped, int(sample.size()) / 4) << what << " input " << t;
    double rel = worst / std::max(largest, 1e-12);
    std::printf("%-16s d(input %zu): rel. error %.2e (max |fd| %.3f, %d of "
                "%zu at a kink)\n",
                what.c_str(), t, rel, largest, skipped, sample.size());
    EXPECT_LE(rel, kTolerance) << what << " input " << t;
  }
}

struct Shape {
  int64_t B, H, Lq, Lk, D, E;
};

// Ragged: lengths that are not multiples of the tile (24 queries) or of a
// register tile, Lq != Lk, E != D, one length shorter than a vector.
const Shape kShapes[] = {{2, 2, 37, 29, 16, 12}, {1, 3, 50, 50, 8, 8},
                         {1, 1, 5, 3, 16, 16}};

/// The usual q, k, v backward: kernel(q, k, v, dout, dq, dk, dv).
template <typename Backward>
void checkQKV(const std::string &name, Backward backward, const Shape &s,
              bool square, double scale, const ref::Mask &mask,
              const ref::Score &score, std::mt19937 &rng) {
  int64_t Lk = square ? s.Lq : s.Lk, E = square ? s.D : s.E;
  Tensor q = random(rng, {s.B, s.H, s.Lq, s.D}),
         k = random(rng, {s.B, s.H, Lk, s.D}),
         v = random(rng, {s.B, s.H, Lk, E}),
         dout = random(rng, {s.B, s.H, s.Lq, E});
  Tensor dq(q.shape, NAN), dk(k.shape, NAN), dv(v.shape, NAN);
  attn_tensor tq = view(q), tk = view(k), tv = view(v), td = view(dout),
              gq = view(dq), gk = view(dk), gv = view(dv);
  ASSERT_EQ(backward(&tq, &tk, &tv, &td, &gq, &gk, &gv), 0) << attn_last_error();
  Forward forward = [&] { return ref::attendExact(q, k, v, scale, mask, score); };
  checkGradients(name + " L=" + std::to_string(s.Lq), {&q, &k, &v},
                 {&dq, &dk, &dv}, forward, dout, rng);
}

ref::Mask causal = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };

TEST(Grad, Full) {
  std::mt19937 rng(1);
  for (const Shape &s : kShapes)
    checkQKV("full", g_full_backward, s, false, 1 / std::sqrt(double(s.D)),
             nullptr, nullptr, rng);
}

TEST(Grad, Causal) {
  std::mt19937 rng(2);
  for (const Shape &s : kShapes)
    checkQKV("causal", g_causal_backward, s, true, 1 / std::sqrt(double(s.D)),
             causal, nullptr, rng);
}

TEST(Grad, WindowWithEmptyRows) {
  std::mt19937 rng(3);
  auto window = [](int64_t, int64_t, int64_t i, int64_t j) {
    return j - i >= -3 && j - i <= 5;
  };
  for (const Shape &s : kShapes)
    checkQKV("window", g_window_backward, s, false, 0.3, window, nullptr, rng);
}

TEST(Grad, Elementwise) {
  std::mt19937 rng(4);
  auto mask = [](int64_t, int64_t h, int64_t i, int64_t j) {
    return (i + 2 * j + h) % 3 != 0;
  };
  for (const Shape &s : kShapes)
    checkQKV("elementwise", g_elementwise_backward, s, false,
             1 / std::sqrt(double(s.D)), mask, nullptr, rng);
}

TEST(Grad, SoftCapping) {
  std::mt19937 rng(5);
  auto cap = [](double x, int64_t, int64_t, int64_t, int64_t) {
    return 2 * std::tanh(x / 2);
  };
  for (const Shape &s : kShapes)
    checkQKV("softcap", g_softcap_backward, s, true, 0.9, causal, cap, rng);
}

TEST(Grad, ScoreOperations) {
  std::mt19937 rng(6);
  auto f = [](double x, int64_t, int64_t, int64_t i, int64_t j) {
    return std::max(x, -1.2) - 0.25 * std::abs(x - 2.5) +
           std::log(1 + std::exp(x) / 3) + std::sqrt(x * x + 1) / (2 + x * x) -
           std::min(x * 0.5, 0.6) * double(i - j) / 8;
  };
  for (const Shape &s : kShapes)
    checkQKV("score_ops", g_score_ops_backward, s, true, 1.0, nullptr, f, rng);
}

TEST(Grad, BlockLayout) {
  std::mt19937 rng(7);
  for (int64_t L : {37, 50}) {
    int64_t NB = (L + 7) / 8;
    Tensor q = random(rng, {1, 2, L, 16}), k = random(rng, {1, 2, L, 16}),
           v = random(rng, {1, 2, L, 16}), dout = random(rng, {1, 2, L, 16});
    std::vector<int32_t> layout(size_t(2 * NB * NB));
    for (size_t e = 0; e < layout.size(); ++e)
      layout[e] = int32_t(rng() % 3 == 0);
    int64_t layoutShape[3] = {2, NB, NB};
    attn_tensor tl = attn_make_tensor(layout.data(), ATTN_I32, 3, layoutShape);
    Tensor dq(q.shape, NAN), dk(k.shape, NAN), dv(v.shape, NAN);
    attn_tensor tq = view(q), tk = view(k), tv = view(v), td = view(dout),
                gq = view(dq), gk = view(dk), gv = view(dv);
    ASSERT_EQ(g_blocks_backward(&tq, &tk, &tv, &tl, &td, &gq, &gk, &gv), 0)
        << attn_last_error();
    auto mask = [&](int64_t, int64_t h, int64_t i, int64_t j) {
      return layout[size_t((h * NB + i / 8) * NB + j / 8)] != 0;
    };
    Forward forward = [&] {
      return ref::attendExact(q, k, v, 0.25, mask, nullptr);
    };
    checkGradients("blocks L=" + std::to_string(L), {&q, &k, &v},
                   {&dq, &dk, &dv}, forward, dout, rng);
  }
}

TEST(Grad, OneTensorAsQueryKeyAndValue) {
  std::mt19937 rng(8);
  for (int64_t L : {1, 29, 50}) {
    Tensor x = random(rng, {2, 2, L, 16}), dout = random(rng, {2, 2, L, 16});
    Tensor dx(x.shape, NAN);
    attn_tensor tx = view(x), td = view(dout), gx = view(dx);
    ASSERT_EQ(g_self_backward(&tx, &td, &gx), 0) << attn_last_error();
    Forward forward = [&] {
      return ref::attendExact(x, x, x, 0.25, causal, nullptr);
    };
    checkGradients("self L=" + std::to_string(L), {&x}, {&dx}, forward, dout,
                   rng);
  }
}

} // namespace
