//===- GradTest.cpp - generated backward kernels vs finite differences ----===//
//
// Each NAME_backward of test/numerics/grad.attn (attnc --grad) against
// central differences of a reference (GradCheck.h): the attention kernels
// against the double-precision ref::attendExact (ε = 2^-16), the dense
// helpers against a double reference of their own, the multi-head layer
// against the float reference ops (ε = 2^-8).
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"
#include "Harness.h"
#include "grad.h"

// The examples, compiled with --grad.
#include "alibi.h"
#include "bigbird.h"
#include "causal.h"
#include "full.h"
#include "longformer.h"
#include "softcap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>

using namespace attnc;
using namespace attnc::test;
using ref::Tensor;

namespace {

struct Shape {
  int64_t B, H, Lq, Lk, D, E;
};

// Ragged: lengths that are not multiples of the tile (48 queries) or of a
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

TEST(Grad, Windowed) {
  std::mt19937 rng(11);
  auto window = [](int64_t left, int64_t right, int64_t dil,
                   std::vector<int64_t> globals) {
    return [=](int64_t, int64_t, int64_t i, int64_t j) {
      for (int64_t g : globals)
        if (i == g || j == g)
          return true;
      int64_t off = j - i;
      return off % dil == 0 && off >= -left * dil && off <= right * dil;
    };
  };
  for (const Shape &s : kShapes) {
    double scale = 1 / std::sqrt(double(s.D));
    checkQKV("windowed", g_windowed_backward, s, true, scale,
             window(6, 2, 1, {}), nullptr, rng);
    checkQKV("windowed_dilated", g_windowed_dilated_backward, s, true, scale,
             window(4, 1, 3, {}), nullptr, rng);
    checkQKV("windowed_globals", g_windowed_globals_backward, s, true, scale,
             window(3, 2, 2, {0, 7, 99}), nullptr, rng);
  }
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

TEST(Grad, FloatCapturesInTheScore) {
  std::mt19937 rng(9);
  for (const Shape &s : kShapes) {
    Tensor q = random(rng, {s.B, s.H, s.Lq, s.D}),
           k = random(rng, {s.B, s.H, s.Lq, s.D}),
           v = random(rng, {s.B, s.H, s.Lq, s.D}),
           slopes = random(rng, {s.H}, 0.5f), temp = random(rng, {s.B, s.H}),
           dout = random(rng, {s.B, s.H, s.Lq, s.D});
    Tensor dq(q.shape, NAN), dk(k.shape, NAN), dv(v.shape, NAN),
        dslopes(slopes.shape, NAN), dtemp(temp.shape, NAN);
    attn_tensor tq = view(q), tk = view(k), tv = view(v), ts = view(slopes),
                tt = view(temp), td = view(dout), gq = view(dq), gk = view(dk),
                gv = view(dv), gs = view(dslopes), gt = view(dtemp);
    ASSERT_EQ(g_captures_backward(&tq, &tk, &tv, &ts, &tt, &td, &gq, &gk, &gv,
                                  &gs, &gt),
              0)
        << attn_last_error();
    ref::Score score = [&](double x, int64_t b, int64_t h, int64_t i,
                           int64_t j) {
      double t = temp.at({b, h});
      return x * t - slopes.at({h}) * double(i - j) + 0.5 * t * t;
    };
    Forward forward = [&] {
      return ref::attendExact(q, k, v, 1 / std::sqrt(double(s.D)), causal,
                              score);
    };
    // The score is smooth in every input (no kinks), but its curvature in
    // a slope grows with (i − j)²: up to ~200× the slope's gradient here.
    checkGradients("captures L=" + std::to_string(s.Lq),
                   {&q, &k, &v, &slopes, &temp},
                   {&dq, &dk, &dv, &dslopes, &dtemp}, forward, dout, rng, kStep,
                   /*curvature=*/1e4);
  }
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

// The multi-head layer's reference composes the float reference ops, whose
// outputs are rounded to float, so its step is larger (2^-8): rounding then
// adds ~1e-5 relative and the truncation error ~1e-6 (it has no kinks).
constexpr double kDenseStep = 1.0 / 256;

Tensor add(const Tensor &a, const Tensor &b) {
  return ref::zip(a, b, [](double x, double y) { return x + y; });
}

/// g_dense in double precision: relu(layer_norm(y)·g + beta)·g + gelu(y)
/// − x·w with y = x·w + bias, over x [B, L, 24] and w [24, 16]. In double,
/// so that the small step applies and relu's kinks are rarely crossed.
std::vector<double> denseExact(const Tensor &x, const Tensor &w,
                               const Tensor &bias, const Tensor &g,
                               const Tensor &beta) {
  int64_t rows = x.shape[0] * x.shape[1], M = 24, N = 16;
  std::vector<double> out(size_t(rows * N));
  std::vector<double> xw(static_cast<size_t>(N)), y(static_cast<size_t>(N));
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t n = 0; n < N; ++n) {
      double acc = 0;
      for (int64_t m = 0; m < M; ++m)
        acc += double(x.data[size_t(r * M + m)]) *
               double(w.data[size_t(m * N + n)]);
      xw[size_t(n)] = acc;
      y[size_t(n)] = acc + double(bias.data[size_t(n)]);
      mean += y[size_t(n)] / double(N);
    }
    for (int64_t n = 0; n < N; ++n)
      var += (y[size_t(n)] - mean) * (y[size_t(n)] - mean) / double(N);
    for (int64_t n = 0; n < N; ++n) {
      double gn = double(g.data[size_t(n)]);
      double ln = (y[size_t(n)] - mean) / std::sqrt(var + 1e-5) * gn +
                  double(beta.data[size_t(n)]);
      out[size_t(r * N + n)] =
          std::max(ln, 0.0) * gn + ref::gelu(y[size_t(n)]) - xw[size_t(n)];
    }
  }
  return out;
}

TEST(Grad, DenseHelpers) {
  std::mt19937 rng(9);
  for (int64_t L : {1, 7, 30}) {
    Tensor x = random(rng, {2, L, 24}), w = random(rng, {24, 16}, 0.3f),
           bias = random(rng, {16}, 0.5f), g = random(rng, {16}),
           beta = random(rng, {16}, 0.5f), dout = random(rng, {2, L, 16});
    std::vector<Tensor> grads = {Tensor(x.shape, NAN), Tensor(w.shape, NAN),
                                 Tensor(bias.shape, NAN), Tensor(g.shape, NAN),
                                 Tensor(beta.shape, NAN)};
    attn_tensor tx = view(x), tw = view(w), tb = view(bias), tg = view(g),
                tbeta = view(beta), td = view(dout), gx = view(grads[0]),
                gw = view(grads[1]), gb = view(grads[2]), gg = view(grads[3]),
                gbeta = view(grads[4]);
    ASSERT_EQ(g_dense_backward(&tx, &tw, &tb, &tg, &tbeta, &td, &gx, &gw, &gb,
                               &gg, &gbeta),
              0)
        << attn_last_error();
    Forward forward = [&] { return denseExact(x, w, bias, g, beta); };
    checkGradients("dense L=" + std::to_string(L), {&x, &w, &bias, &g, &beta},
                   {&grads[0], &grads[1], &grads[2], &grads[3], &grads[4]},
                   forward, dout, rng);
  }
}

TEST(Grad, MultiHeadLayer) {
  std::mt19937 rng(10);
  for (int64_t L : {1, 13, 40}) {
    Tensor x = random(rng, {2, L, 32}), wq = random(rng, {32, 32}, 0.3f),
           wo = random(rng, {32, 32}, 0.3f), dout = random(rng, {2, L, 32});
    Tensor dx(x.shape, NAN), dwq(wq.shape, NAN), dwo(wo.shape, NAN);
    attn_tensor tx = view(x), tq = view(wq), to = view(wo), td = view(dout),
                gx = view(dx), gq = view(dwq), go = view(dwo);
    ASSERT_EQ(g_heads_backward(&tx, &tq, &to, &td, &gx, &gq, &go), 0)
        << attn_last_error();
    Tensor ones({32}, 1.0f), zeros({32}, 0.0f);
    Forward forward = [&] {
      Tensor h = ref::layerNorm(x, ones, zeros, 1e-5);
      Tensor q = ref::splitHeads(ref::linear(h, wq), 2);
      Tensor kv = ref::splitHeads(h, 2);
      Tensor a = ref::attend(q, kv, kv, 0.25, causal);
      Tensor y = add(ref::linear(ref::mergeHeads(a), wo), x);
      return std::vector<double>(y.data.begin(), y.data.end());
    };
    checkGradients("heads L=" + std::to_string(L), {&x, &wq, &wo},
                   {&dx, &dwq, &dwo}, forward, dout, rng, kDenseStep);
  }
}

// The examples' own backward kernels (examples/*.attn compiled with --grad)
// on shapes small enough for the double reference, windows and blocks
// included: L = 300 crosses Longformer's 128- and 256-wide bands, and
// L = 150 three of BigBird's 64-row blocks.

TEST(GradExamples, FullCausalSoftcap) {
  std::mt19937 rng(31);
  const Shape ragged = {1, 2, 37, 29, 16, 12};
  checkQKV("ex full", full_attention_backward, ragged, false, 0.25, nullptr,
           nullptr, rng);
  checkQKV("ex causal", causal_attention_backward, ragged, true, 0.25, causal,
           nullptr, rng);
  auto cap = [](double x, int64_t, int64_t, int64_t, int64_t) {
    return 30 * std::tanh(x / 30);
  };
  checkQKV("ex softcap", softcap_attention_backward, ragged, true, 0.125,
           causal, cap, rng);
}

TEST(GradExamples, Longformer) {
  std::mt19937 rng(32);
  const Shape s = {1, 2, 300, 300, 16, 16};
  auto windowed = [](int64_t, int64_t, int64_t i, int64_t j) {
    int64_t off = j - i;
    return i == 0 || i == 1 || i == 4095 || j == 0 || j == 1 || j == 4095 ||
           (off % 2 == 0 && off >= -256 && off <= 256);
  };
  checkQKV("ex longformer", longformer_attention_backward, s, true, 0.25,
           windowed, nullptr, rng);
  auto masked = [](int64_t, int64_t, int64_t i, int64_t j) {
    return (std::abs(i - j) <= 256 && (i - j) % 2 == 0) || i == 0 || j == 0;
  };
  checkQKV("ex lf_masked", longformer_masked_backward, s, true, 0.25, masked,
           nullptr, rng);
}

TEST(GradExamples, AlibiAndBigBird) {
  std::mt19937 rng(33);
  const int64_t B = 1, H = 2, D = 16;
  for (int64_t L : {37, 150}) {
    Tensor q = random(rng, {B, H, L, D}), k = random(rng, {B, H, L, D}),
           v = random(rng, {B, H, L, D}), dout = random(rng, {B, H, L, D}),
           slopes = random(rng, {H}, 0.25f);
    Tensor dq(q.shape, NAN), dk(k.shape, NAN), dv(v.shape, NAN),
        dslopes(slopes.shape, NAN);
    attn_tensor tq = view(q), tk = view(k), tv = view(v), ts = view(slopes),
                td = view(dout), gq = view(dq), gk = view(dk), gv = view(dv),
                gs = view(dslopes);
    ASSERT_EQ(alibi_attention_backward(&tq, &tk, &tv, &ts, &td, &gq, &gk, &gv,
                                       &gs),
              0)
        << attn_last_error();
    ref::Score alibi = [&](double x, int64_t, int64_t h, int64_t i,
                           int64_t j) {
      return x - slopes.at({h}) * double(i - j);
    };
    Forward forward = [&] {
      return ref::attendExact(q, k, v, 0.25, causal, alibi);
    };
    checkGradients("ex alibi L=" + std::to_string(L), {&q, &k, &v, &slopes},
                   {&dq, &dk, &dv, &dslopes}, forward, dout, rng, kStep,
                   /*curvature=*/1e5);

    int64_t NB = (L + 63) / 64;
    // Diagonal blocks live (no row without keys), the others at random.
    std::vector<int32_t> layout(size_t(H * NB * NB));
    for (size_t e = 0; e < layout.size(); ++e)
      layout[e] = int32_t(e / size_t(NB) % size_t(NB) == e % size_t(NB) ||
                          rng() % 2);
    int64_t layoutShape[3] = {H, NB, NB};
    attn_tensor tl = attn_make_tensor(layout.data(), ATTN_I32, 3, layoutShape);
    ASSERT_EQ(bigbird_attention_backward(&tq, &tk, &tv, &tl, &td, &gq, &gk,
                                         &gv),
              0)
        << attn_last_error();
    ref::Mask blocks = [&](int64_t, int64_t h, int64_t i, int64_t j) {
      return layout[size_t((h * NB + i / 64) * NB + j / 64)] != 0;
    };
    Forward bigbird = [&] {
      return ref::attendExact(q, k, v, 0.25, blocks, nullptr);
    };
    checkGradients("ex bigbird L=" + std::to_string(L), {&q, &k, &v},
                   {&dq, &dk, &dv}, bigbird, dout, rng);
  }
}

} // namespace
