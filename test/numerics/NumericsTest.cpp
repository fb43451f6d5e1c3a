//===- NumericsTest.cpp - every generated kernel against the reference ----===//
//
// Shapes: B = 2, H = 3, L in {1, 7, 100, 1000}, D in {16, 64} (and 24, 40 at
// L = 100, 1000: partial vectors of the head dimension), value widths
// that differ from D, Lq != Lk, windows wider than L, dilation 2, global
// tokens at both ends, rows with no allowed key, logits around ±1e4.
//
//===----------------------------------------------------------------------===//
#include "Harness.h"

#include "alibi.h"
#include "bigbird.h"
#include "causal.h"
#include "full.h"
#include "kernels.h"
#include "longformer.h"
#include "softcap.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace attnc;
using namespace attnc::test;
using ref::Tensor;

namespace {

constexpr double kTolerance = 1e-4;
constexpr int64_t B = 2, H = 3;

struct Shape {
  int64_t L, D;
};

class Numerics : public ::testing::TestWithParam<Shape> {
protected:
  std::mt19937 rng{1234};
  int64_t L() const { return GetParam().L; }
  int64_t D() const { return GetParam().D; }
  double defaultScale() const { return 1.0 / std::sqrt(double(D())); }

  // A kernel `window(q, k, v) -> out` of value width E against the
  // reference window (left, right), no dilation or global tokens.
  template <typename Kernel>
  void checkWindow(Kernel window, int64_t E, int64_t left, int64_t right);
};

#define EXPECT_KERNEL_OK(call) \
  ASSERT_EQ((call), 0) << attn_last_error()

template <typename Kernel>
void Numerics::checkWindow(Kernel window, int64_t E, int64_t left,
                           int64_t right) {
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, L(), D()});
  Tensor v = random(rng, {B, H, L(), E}), out({B, H, L(), E});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(window(&tq, &tk, &tv, &to));
  EXPECT_LE(ref::maxAbsDiff(out, ref::windowed(q, k, v, left, right, 1, {})),
            kTolerance);
}

TEST_P(Numerics, FullCrossAttention) {
  int64_t S = L() + 5, E = 24; // Lq != Lk, value width != D
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, S, D()});
  Tensor v = random(rng, {B, H, S, E}), out({B, H, L(), E});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(full_attention(&tq, &tk, &tv, &to));
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, defaultScale())),
            kTolerance);
}

TEST_P(Numerics, Causal) {
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, L(), D()});
  Tensor v = random(rng, {B, H, L(), D()}), out({B, H, L(), D()});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(causal_attention(&tq, &tk, &tv, &to));
  auto mask = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, defaultScale(), mask)),
            kTolerance);
}

TEST_P(Numerics, LongformerWindowDilationGlobals) {
  // left = right = 128, dilation 2, globals [0, 1, 4095]: wider than L for
  // L <= 256, and 4095 is past the end (ignored).
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, L(), D()});
  Tensor v = random(rng, {B, H, L(), D()}), out({B, H, L(), D()});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(longformer_attention(&tq, &tk, &tv, &to));
  EXPECT_LE(ref::maxAbsDiff(out, ref::windowed(q, k, v, 128, 128, 2, {0, 1, 4095})),
            kTolerance);
}

TEST_P(Numerics, LongformerAsMask) {
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, L(), D()});
  Tensor v = random(rng, {B, H, L(), D()}), out({B, H, L(), D()});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(longformer_masked(&tq, &tk, &tv, &to));
  auto mask = [](int64_t, int64_t, int64_t i, int64_t j) {
    return (std::llabs(i - j) <= 256 && (i - j) % 2 == 0) || i == 0 || j == 0;
  };
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, defaultScale(), mask)),
            kTolerance);
}

TEST_P(Numerics, WindowWithGlobalsAtBothEnds) {
  // left 3, right 2, dilation 2, globals [0, 6, 99, 999]: the last position
  // is global for L = 7, 100 and 1000.
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, L(), D()});
  Tensor v = random(rng, {B, H, L(), D()}), out({B, H, L(), D()});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(window_globals(&tq, &tk, &tv, &to));
  EXPECT_LE(ref::maxAbsDiff(out, ref::windowed(q, k, v, 3, 2, 2, {0, 6, 99, 999})),
            kTolerance);
}

TEST_P(Numerics, CausalWindowValueWidth) {
  checkWindow(window_causal, 20, 5, 0);
}

// The band form's key slots cross query-block edges on both sides.
TEST_P(Numerics, BandWindowAcrossBlocks) {
  checkWindow(window_band, 24, 70, 33);
}

TEST_P(Numerics, BigBirdBlockLayoutWithEmptyRows) {
  int64_t NB = (L() + 63) / 64;
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, L(), D()});
  Tensor v = random(rng, {B, H, L(), D()}), out({B, H, L(), D()});
  ref::Tensor layout({H, NB, NB});
  std::vector<int32_t> layoutI32(size_t(H * NB * NB));
  std::bernoulli_distribution keep(0.5);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t r = 0; r < NB; ++r)
      for (int64_t c = 0; c < NB; ++c) // head 1 has no allowed block at all
        layoutI32[size_t((h * NB + r) * NB + c)] = h != 1 && (r == c || keep(rng));
  int64_t lshape[] = {H, NB, NB};
  attn_tensor tl = attn_make_tensor(layoutI32.data(), ATTN_I32, 3, lshape);
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(bigbird_attention(&tq, &tk, &tv, &tl, &to));
  auto mask = [&](int64_t, int64_t h, int64_t i, int64_t j) {
    return layoutI32[size_t((h * NB + i / 64) * NB + j / 64)] != 0;
  };
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, defaultScale(), mask)),
            kTolerance);
}

TEST_P(Numerics, AlibiScoreFunction) {
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, L(), D()});
  Tensor v = random(rng, {B, H, L(), D()}), out({B, H, L(), D()});
  Tensor slopes({H});
  for (int64_t h = 0; h < H; ++h)
    slopes.data[size_t(h)] = std::pow(2.0f, -8.0f * float(h + 1) / float(H));
  attn_tensor tq = view(q), tk = view(k), tv = view(v), ts = view(slopes),
              to = view(out);
  EXPECT_KERNEL_OK(alibi_attention(&tq, &tk, &tv, &ts, &to));
  auto mask = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  auto score = [&](double s, int64_t, int64_t h, int64_t i, int64_t j) {
    return s - double(slopes.data[size_t(h)]) * double(i - j);
  };
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, defaultScale(), mask, score)),
            kTolerance);
}

TEST_P(Numerics, SoftCapping) {
  Tensor q = random(rng, {B, H, L(), D()}, 4.0f);
  Tensor k = random(rng, {B, H, L(), D()}, 4.0f);
  Tensor v = random(rng, {B, H, L(), D()}), out({B, H, L(), D()});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(softcap_attention(&tq, &tk, &tv, &to));
  auto mask = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  auto score = [](double s, int64_t, int64_t, int64_t, int64_t) {
    return 30.0 * std::tanh(s / 30.0);
  };
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, 0.125, mask, score)),
            kTolerance);
}

TEST_P(Numerics, RowsWithNoAllowedKeyAreZero) {
  int64_t S = L() / 2 + 1, E = 17;
  Tensor q = random(rng, {B, H, L(), D()}), k = random(rng, {B, H, S, D()});
  Tensor v = random(rng, {B, H, S, E}), out({B, H, L(), E}, 99.0f);
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(sparse_rows(&tq, &tk, &tv, &to));
  auto mask = [](int64_t, int64_t h, int64_t i, int64_t j) {
    return i % 3 != 0 && (j + h) % 2 == 0 && j <= i + 1;
  };
  Tensor expected = ref::attend(q, k, v, 0.5, mask);
  EXPECT_LE(ref::maxAbsDiff(out, expected), kTolerance);
  for (int64_t e = 0; e < E; ++e)
    ASSERT_EQ(out.at({1, 2, 0, e}), 0.0f); // row 0 has no allowed key
}

TEST_P(Numerics, HugeLogitsStayFinite) {
  // q·k·scale reaches about ±1e4: the row max keeps exp finite.
  Tensor q = random(rng, {B, H, L(), D()}, 400.0f / float(std::sqrt(D())));
  Tensor k = random(rng, {B, H, L(), D()}, 400.0f / float(std::sqrt(D())));
  Tensor v = random(rng, {B, H, L(), D()}), out({B, H, L(), D()});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(full_attention(&tq, &tk, &tv, &to));
  Tensor expected = ref::attend(q, k, v, defaultScale());
  // At 1e4 an f32 has an ulp of ~1e-3, so the logits themselves differ from
  // the double reference by that much and a weight by the same relative
  // amount: 1e-4 is out of reach for any f32 kernel here, 4e-3 is not.
  // What this test guards is finiteness and the right softmax winner.
  for (float x : out.data)
    ASSERT_TRUE(std::isfinite(x));
  EXPECT_LE(ref::maxAbsDiff(out, expected), 4e-3);
}

TEST_P(Numerics, DenseHelpersChained) {
  Tensor x = random(rng, {B, L(), 48}), w = random(rng, {48, 32});
  Tensor bias = random(rng, {32}), g = random(rng, {32}), beta = random(rng, {32});
  Tensor out({B, L(), 32});
  attn_tensor tx = view(x), tw = view(w), tb = view(bias), tg = view(g),
              tbeta = view(beta), to = view(out);
  EXPECT_KERNEL_OK(dense_block(&tx, &tw, &tb, &tg, &tbeta, &to));
  Tensor y = ref::linear(x, w, &bias);
  Tensor normed = ref::map(ref::layerNorm(y, g, beta, 1e-5),
                           [](double t) { return t > 0 ? t : 0; });
  auto mul = [](double a, double b) { return a * b; };
  auto add = [](double a, double b) { return a + b; };
  auto sub = [](double a, double b) { return a - b; };
  Tensor expected =
      ref::zip(ref::zip(ref::zip(normed, g, mul), ref::map(y, ref::gelu), add),
               ref::linear(x, w), sub);
  EXPECT_LE(ref::maxAbsDiff(out, expected), kTolerance);
}

TEST_P(Numerics, SplitAttendMergeHeads) {
  Tensor x = random(rng, {B, L(), 64}), out({B, L(), 64});
  attn_tensor tx = view(x), to = view(out);
  EXPECT_KERNEL_OK(heads_roundtrip(&tx, &to));
  Tensor h = ref::splitHeads(x, 4);
  auto causal = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  Tensor expected = ref::mergeHeads(ref::attend(h, h, h, 0.25, causal));
  EXPECT_LE(ref::maxAbsDiff(out, expected), kTolerance);
}

TEST(Layouts, SymbolicHeadsAndDerivedDimension) {
  std::mt19937 rng(11);
  int64_t L = 13, E = 24, Hn = 3;
  Tensor x = random(rng, {B, L, E}), heads({Hn}), out({B, Hn, L, E / Hn});
  attn_tensor tx = view(x), th = view(heads), to = view(out);
  ASSERT_EQ(split_symbolic(&tx, &th, &to), 0) << attn_last_error();
  EXPECT_EQ(ref::maxAbsDiff(out, ref::splitHeads(x, Hn)), 0.0);
}

std::string shapeName(const ::testing::TestParamInfo<Shape> &info) {
  return "L" + std::to_string(info.param.L) + "_D" + std::to_string(info.param.D);
}

INSTANTIATE_TEST_SUITE_P(RaggedShapes, Numerics,
                         ::testing::Values(Shape{1, 16}, Shape{7, 16},
                                           Shape{100, 16}, Shape{1000, 16},
                                           Shape{1, 64}, Shape{7, 64},
                                           Shape{100, 64}, Shape{1000, 64},
                                           // Head dimensions that are not
                                           // a whole number of vectors:
                                           // the last block of staged Q
                                           // and packed K is partial.
                                           Shape{100, 24}, Shape{1000, 40}),
                         shapeName);

// More than two chunks of keys (#attn.schedule key_chunk = 1024 on every
// x86 target): the kernels take the chunked softmax, whose per-chunk
// maxima and sums are merged by rescaling. Few queries keep the reference
// cheap; S is ragged (the last chunk is partial and padded).
class LongKeys : public ::testing::Test {
protected:
  std::mt19937 rng{77};
  static constexpr int64_t Lq = 61, S = 2111, D = 64, E = 24;
};

TEST_F(LongKeys, FullCrossAttention) {
  Tensor q = random(rng, {B, H, Lq, D}), k = random(rng, {B, H, S, D});
  Tensor v = random(rng, {B, H, S, E}), out({B, H, Lq, E});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(full_attention(&tq, &tk, &tv, &to));
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, 0.125)), kTolerance);
}

TEST_F(LongKeys, HugeLogitsStayFinite) {
  // Each chunk's max differs from the row's by up to ~1e4: the merge must
  // rescale without overflow (see Numerics.HugeLogitsStayFinite for 4e-3).
  Tensor q = random(rng, {B, H, Lq, D}, 50.0f), k = random(rng, {B, H, S, D}, 50.0f);
  Tensor v = random(rng, {B, H, S, E}), out({B, H, Lq, E});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(full_attention(&tq, &tk, &tv, &to));
  for (float x : out.data)
    ASSERT_TRUE(std::isfinite(x));
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, 0.125)), 4e-3);
}

TEST_F(LongKeys, DeadChunksFirstLastAndWhole) {
  // late_keys: row i sees keys from 1100 + 10 i. Row 0's first chunk is
  // dead; rows from 93 on see only the last chunk; rows from 102 on see
  // nothing and come out as zeros. sparse_rows: keys up to i + 1, so
  // every chunk after the first is dead.
  int64_t L = 110;
  Tensor q = random(rng, {B, H, L, D}), k = random(rng, {B, H, S, D});
  Tensor v = random(rng, {B, H, S, E}), out({B, H, L, E}, 99.0f);
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  EXPECT_KERNEL_OK(late_keys(&tq, &tk, &tv, &to));
  auto late = [](int64_t, int64_t, int64_t i, int64_t j) { return j >= 1100 + 10 * i; };
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, 0.125, late)), kTolerance);
  for (int64_t e = 0; e < E; ++e)
    ASSERT_EQ(out.at({1, 2, L - 1, e}), 0.0f);

  Tensor sparse({B, H, L, E}, 99.0f);
  attn_tensor ts = view(sparse);
  EXPECT_KERNEL_OK(sparse_rows(&tq, &tk, &tv, &ts));
  auto early = [](int64_t, int64_t h, int64_t i, int64_t j) {
    return i % 3 != 0 && (j + h) % 2 == 0 && j <= i + 1;
  };
  EXPECT_LE(ref::maxAbsDiff(sparse, ref::attend(q, k, v, 0.5, early)), kTolerance);
}

TEST(Layouts, StridedInputsAreHonoured) {
  // q stored as [B, L, H, D] (heads interleaved) and passed with strides.
  std::mt19937 rng(7);
  int64_t L = 37, D = 16;
  Tensor qBLHD = random(rng, {B, L, H, D});
  Tensor q({B, H, L, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t d = 0; d < D; ++d)
          q.at({b, h, l, d}) = qBLHD.at({b, l, h, d});
  Tensor k = random(rng, {B, H, L, D}), v = random(rng, {B, H, L, D});
  Tensor out({B, H, L, D});
  attn_tensor tq = view(qBLHD);
  int64_t shape[] = {B, H, L, D}, strides[] = {L * H * D, D, H * D, 1};
  for (int d = 0; d < 4; ++d) {
    tq.shape[d] = shape[d];
    tq.strides[d] = strides[d];
  }
  attn_tensor tk = view(k), tv = view(v), to = view(out);
  ASSERT_EQ(causal_attention(&tq, &tk, &tv, &to), 0) << attn_last_error();
  auto mask = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  EXPECT_LE(ref::maxAbsDiff(out, ref::attend(q, k, v, 0.25, mask)), kTolerance);
}

} // namespace
