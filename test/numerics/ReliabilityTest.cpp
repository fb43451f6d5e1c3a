//===- ReliabilityTest.cpp - hostile values, layouts and names ------------===//
//
// Each test is a class of failure that once gave a wrong answer or no
// answer: integers past 32 bits, division by zero, windows wider than any
// sequence, global tokens beside a narrow window, user names that collide
// with generated C, bias widths that are no multiple of a vector, NaN,
// outputs that share memory with inputs, strided rows, bad descriptors.
//
//===----------------------------------------------------------------------===//
#include "Harness.h"

#include "causal.h"
#include "reliability.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace attnc;
using namespace attnc::test;
using ref::Tensor;

namespace {

constexpr double kTolerance = 1e-4;

using Kernel4 = int (*)(const attn_tensor *, const attn_tensor *,
                        const attn_tensor *, attn_tensor *);

struct Qkv {
  Tensor q, k, v, out;
  Qkv(std::mt19937 &rng, int64_t B, int64_t H, int64_t L, int64_t D)
      : q(random(rng, {B, H, L, D})), k(random(rng, {B, H, L, D})),
        v(random(rng, {B, H, L, D})), out({B, H, L, D}) {}
  int run(Kernel4 kernel) {
    attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
    return kernel(&tq, &tk, &tv, &to);
  }
  double scale() const { return 1.0 / std::sqrt(double(q.shape[3])); }
};

bool causalMask(int64_t, int64_t, int64_t i, int64_t j) { return j <= i; }

class Reliability : public ::testing::Test {
protected:
  std::mt19937 rng{11};
};

TEST_F(Reliability, LiteralsBeyond32BitsKeepTheirValue) {
  for (int64_t L : {1, 37, 130}) {
    Qkv t(rng, 2, 2, L, 16);
    ASSERT_EQ(t.run(big_literals), 0) << attn_last_error();
    EXPECT_LE(ref::maxAbsDiff(t.out, ref::attend(t.q, t.k, t.v, t.scale(),
                                                 causalMask)),
              kTolerance);
  }
}

TEST_F(Reliability, ProductsBeyond32BitsAreExact) {
  // i·j·j passes 2^31 from L = 1291 on.
  Qkv t(rng, 1, 1, 1500, 16);
  ASSERT_EQ(t.run(wide_products), 0) << attn_last_error();
  auto mask = [](int64_t, int64_t, int64_t i, int64_t j) {
    return i * j * j <= i * i * i;
  };
  EXPECT_LE(ref::maxAbsDiff(t.out, ref::attend(t.q, t.k, t.v, t.scale(), mask)),
            kTolerance);
}

TEST_F(Reliability, DivisionByZeroIsZero) {
  for (int64_t L : {1, 9, 70}) {
    Qkv t(rng, 2, 3, L, 16);
    ASSERT_EQ(t.run(div_by_zero), 0) << attn_last_error();
    EXPECT_LE(ref::maxAbsDiff(t.out, ref::attend(t.q, t.k, t.v, t.scale(),
                                                 causalMask)),
              kTolerance);
  }
}

TEST_F(Reliability, DivisionByConstantsTruncatesTowardZero) {
  for (int64_t L : {1, 17, 64, 101}) {
    Qkv t(rng, 2, 2, L, 16);
    ASSERT_EQ(t.run(odd_divisors), 0) << attn_last_error();
    auto mask = [](int64_t, int64_t, int64_t i, int64_t j) { // C semantics
      return (j / 3) % 2 == (i / 5) % 2 || (i - 7) % 3 == -1 ||
             (j - 11) / 3 == -2;
    };
    EXPECT_LE(ref::maxAbsDiff(t.out, ref::attend(t.q, t.k, t.v, t.scale(), mask)),
              kTolerance)
        << "L = " << L;
  }
}

TEST_F(Reliability, WindowWiderThanAnySequence) {
  for (int64_t L : {1, 33, 300}) {
    Qkv t(rng, 1, 2, L, 16);
    ASSERT_EQ(t.run(huge_window), 0) << attn_last_error();
    EXPECT_LE(ref::maxAbsDiff(t.out, ref::attend(t.q, t.k, t.v, t.scale(),
                                                 causalMask)),
              kTolerance);
  }
}

TEST_F(Reliability, GlobalTokensBesideANarrowWindow) {
  for (int64_t L : {1, 2, 5, 100}) {
    Qkv t(rng, 2, 2, L, 16);
    ASSERT_EQ(t.run(window_globals_adjacent), 0) << attn_last_error();
    EXPECT_LE(ref::maxAbsDiff(t.out, ref::windowed(t.q, t.k, t.v, 1, 1, 1,
                                                   {0, 1, 3000000000LL})),
              kTolerance);
  }
}

TEST_F(Reliability, WindowsReachingPast2To20Positions) {
  struct Case {
    const char *name;
    Kernel4 kernel;
    int64_t left, right, dil;
    std::vector<int64_t> globals;
  };
  const Case cases[] = {
      {"window_far_dilated", window_far_dilated, int64_t(1) << 40,
       (int64_t(1) << 32) + 1, 3, {}},
      {"window_below_2_30", window_below_2_30, (1 << 30) - 1, (1 << 30) - 1, 1,
       {}},
      {"window_near_2_30", window_near_2_30, (1 << 30) - 5, (1 << 30) - 5, 1,
       {1, 4294967299LL}},
      {"window_reach_2_26", window_reach_2_26, (1 << 25) - 1, (1 << 25) - 1, 2,
       {}},
  };
  for (const Case &c : cases)
    for (int64_t L : {1, 7, 48, 130}) {
      Qkv t(rng, 2, 2, L, 16);
      ASSERT_EQ(t.run(c.kernel), 0) << c.name << ": " << attn_last_error();
      EXPECT_LE(ref::maxAbsDiff(t.out, ref::windowed(t.q, t.k, t.v, c.left,
                                                     c.right, c.dil, c.globals)),
                kTolerance)
          << c.name << ", L = " << L;
    }
}

TEST_F(Reliability, MergeHeadsIntoAProductDimension) {
  Tensor x = random(rng, {2, 3, 7, 5}), out({2, 7, 15});
  attn_tensor tx = view(x), to = view(out);
  ASSERT_EQ(merged_product(&tx, &to), 0) << attn_last_error();
  EXPECT_EQ(ref::maxAbsDiff(out, ref::mergeHeads(x)), 0.0);
}

TEST_F(Reliability, SplitAndMergeALiteralWidth) {
  Tensor x = random(rng, {2, 9, 24}), out({2, 9, 24});
  for (int64_t heads : {1, 3, 8, 24}) {
    Tensor h({heads});
    attn_tensor tx = view(x), th = view(h), to = view(out);
    ASSERT_EQ(literal_width_heads(&tx, &th, &to), 0) << attn_last_error();
    EXPECT_EQ(ref::maxAbsDiff(out, x), 0.0) << heads << " heads";
  }
  Tensor h5({5});
  attn_tensor tx = view(x), th = view(h5), to = view(out);
  EXPECT_EQ(literal_width_heads(&tx, &th, &to), ATTN_ERR_SHAPE);
  EXPECT_STREQ(attn_last_error(), "literal_width_heads: dimension 24/H is not "
                                  "a whole number (H = 5 from 'heads' "
                                  "dimension 0)");
}

TEST_F(Reliability, LambdaParameterShadowsTheBinderOfADimension) {
  for (int64_t L : {1, 6, 40}) {
    Qkv t(rng, 3, 2, L, 16);
    ASSERT_EQ(t.run(shadowed_binder), 0) << attn_last_error();
    auto mask = [L](int64_t b, int64_t, int64_t i, int64_t j) {
      return j <= i + b && j < L - 2;
    };
    EXPECT_LE(ref::maxAbsDiff(t.out, ref::attend(t.q, t.k, t.v, t.scale(), mask)),
              kTolerance)
        << "L = " << L;
  }
}

TEST_F(Reliability, UserNamesDoNotCollideWithGeneratedOnes) {
  // Parameters named like the old wrapper's spec, a C keyword, a runtime
  // type and a generated argument name.
  Tensor a = random(rng, {2, 3, 7, 16}), b = random(rng, {2, 3, 7, 16}),
         c = random(rng, {2, 3, 7, 16}), d = random(rng, {2, 3, 7, 16}),
         out({2, 3, 7, 16});
  attn_tensor ta = view(a), tb = view(b), tc = view(c), td = view(d),
              to = view(out);
  ASSERT_EQ(names(&ta, &tb, &tc, &td, &to), 0) << attn_last_error();
  Tensor expect({2, 3, 7, 16});
  for (size_t n = 0; n < expect.data.size(); ++n)
    expect.data[n] = std::max(a.data[n], 0.0f) + b.data[n] * c.data[n] - d.data[n];
  EXPECT_LE(ref::maxAbsDiff(out, expect), 1e-6);
}

TEST_F(Reliability, LinearBiasOfAnyWidth) {
  for (int64_t N : {1, 5, 10, 17, 33})
    for (int64_t M : {3, 20}) {
      Tensor x = random(rng, {2, 7, M}), w = random(rng, {M, N}),
             bias = random(rng, {N}), out({2, 7, N});
      attn_tensor tx = view(x), tw = view(w), tb = view(bias), to = view(out);
      ASSERT_EQ(linear_odd(&tx, &tw, &tb, &to), 0)
          << "N = " << N << ": " << attn_last_error();
      EXPECT_LE(ref::maxAbsDiff(out, ref::linear(x, w, &bias)), 1e-5)
          << "N = " << N << ", M = " << M;
    }
}

/// Rows (b = 0, h = 0) of `out` that contain a NaN.
std::vector<bool> nanRows(const Tensor &out) {
  int64_t L = out.shape[2], D = out.shape[3];
  std::vector<bool> rows(size_t(L), false);
  for (int64_t i = 0; i < L; ++i)
    for (int64_t d = 0; d < D; ++d)
      if (std::isnan(out.data[size_t(i * D + d)]))
        rows[size_t(i)] = true;
  return rows;
}

TEST_F(Reliability, NaNInAQueryPoisonsItsRowOnly) {
  Qkv t(rng, 1, 1, 20, 16);
  t.q.data[size_t(5 * 16 + 3)] = std::nanf("");
  ASSERT_EQ(t.run(causal_nan), 0) << attn_last_error();
  std::vector<bool> rows = nanRows(t.out);
  for (int64_t i = 0; i < 20; ++i)
    EXPECT_EQ(rows[size_t(i)], i == 5) << "row " << i;
}

TEST_F(Reliability, NaNInAKeyPoisonsTheRowsThatSeeIt) {
  Qkv t(rng, 1, 1, 20, 16);
  t.k.data[size_t(7 * 16)] = std::nanf("");
  ASSERT_EQ(t.run(causal_nan), 0) << attn_last_error();
  std::vector<bool> rows = nanRows(t.out);
  for (int64_t i = 0; i < 20; ++i) // causal: rows i >= 7 see key 7
    EXPECT_EQ(rows[size_t(i)], i >= 7) << "row " << i;
}

TEST_F(Reliability, InfinityInAValuePoisonsTheRowsThatSeeIt) {
  Qkv t(rng, 1, 1, 12, 16);
  t.v.data[size_t(4 * 16 + 2)] = INFINITY;
  ASSERT_EQ(t.run(causal_nan), 0) << attn_last_error();
  for (int64_t i = 0; i < 12; ++i) {
    float x = t.out.data[size_t(i * 16 + 2)];
    EXPECT_EQ(std::isinf(x), i >= 4) << "row " << i << ": " << x;
  }
}

TEST_F(Reliability, OutputThatIsAnInput) {
  Qkv t(rng, 2, 2, 33, 16);
  Tensor expect = ref::attend(t.q, t.k, t.v, t.scale(), causalMask);
  attn_tensor tq = view(t.q), tk = view(t.k), tv = view(t.v);
  ASSERT_EQ(causal_attention(&tq, &tk, &tv, &tq), 0) << attn_last_error();
  EXPECT_LE(ref::maxAbsDiff(t.q, expect), kTolerance);
}

TEST_F(Reliability, OutputPartlyOverlappingAnInput) {
  const int64_t B = 1, H = 2, L = 40, D = 16, n = B * H * L * D;
  std::vector<float> buffer(size_t(n + n / 2));
  std::uniform_real_distribution<float> u(-1, 1);
  for (float &x : buffer)
    x = u(rng);
  Tensor q({B, H, L, D}), k = random(rng, {B, H, L, D}),
         v = random(rng, {B, H, L, D});
  std::copy(buffer.begin(), buffer.begin() + n, q.data.begin());
  Tensor expect = ref::attend(q, k, v, 1.0 / 4.0, causalMask);
  int64_t shape[] = {B, H, L, D};
  attn_tensor tq = attn_make_tensor(buffer.data(), ATTN_F32, 4, shape);
  attn_tensor to = attn_make_tensor(buffer.data() + n / 2, ATTN_F32, 4, shape);
  attn_tensor tk = view(k), tv = view(v);
  ASSERT_EQ(causal_attention(&tq, &tk, &tv, &to), 0) << attn_last_error();
  Tensor out({B, H, L, D});
  std::copy(buffer.begin() + n / 2, buffer.end(), out.data.begin());
  EXPECT_LE(ref::maxAbsDiff(out, expect), kTolerance);
}

TEST_F(Reliability, StridedRowsInAndOut) {
  // q interleaved with another tensor (innermost stride 2), out every third
  // float: the README promises any strides.
  const int64_t B = 2, H = 2, L = 19, D = 16;
  Qkv t(rng, B, H, L, D);
  Tensor expect = ref::attend(t.q, t.k, t.v, t.scale(), causalMask);
  std::vector<float> qs(size_t(2 * t.q.size())), os(size_t(3 * t.q.size()));
  for (int64_t n = 0; n < t.q.size(); ++n)
    qs[size_t(2 * n)] = t.q.data[size_t(n)];
  attn_tensor tq = view(t.q), to = view(t.out), tk = view(t.k), tv = view(t.v);
  tq.data = qs.data();
  to.data = os.data();
  for (int d = 0; d < 4; ++d) {
    tq.strides[d] *= 2;
    to.strides[d] *= 3;
  }
  ASSERT_EQ(causal_attention(&tq, &tk, &tv, &to), 0) << attn_last_error();
  Tensor out({B, H, L, D});
  for (int64_t n = 0; n < out.size(); ++n)
    out.data[size_t(n)] = os[size_t(3 * n)];
  EXPECT_LE(ref::maxAbsDiff(out, expect), kTolerance);
}

TEST_F(Reliability, OutputsSharingMemoryAreRefused) {
  Tensor x = random(rng, {2, 5, 8}), both({2, 5, 8});
  attn_tensor tx = view(x), a = view(both), b = view(both);
  EXPECT_EQ(two_outputs(&tx, &a, &b), ATTN_ERR_STRIDES);
  EXPECT_NE(std::string(attn_last_error()).find("outputs 'out0' and 'out1' "
                                                "share memory"),
            std::string::npos)
      << attn_last_error();
  // An output may alias the input: both results are still exact.
  Tensor relu({2, 5, 8});
  attn_tensor tr = view(relu);
  Tensor expect = ref::map(x, [](double v) { return v > 0 ? v : 0; });
  Tensor gelu = ref::map(x, ref::gelu);
  ASSERT_EQ(two_outputs(&tx, &tr, &tx), 0) << attn_last_error();
  EXPECT_LE(ref::maxAbsDiff(relu, expect), 1e-6);
  EXPECT_LE(ref::maxAbsDiff(x, gelu), 1e-5);
}

TEST_F(Reliability, DescriptorWithoutShape) {
  float x = 0;
  attn_tensor bad = attn_make_tensor(&x, ATTN_F32, 4, nullptr);
  EXPECT_EQ(bad.rank, -1);
  attn_tensor tooDeep = attn_make_tensor(&x, ATTN_F32, 99, nullptr);
  EXPECT_EQ(tooDeep.rank, -1);
  Qkv t(rng, 1, 1, 4, 16);
  attn_tensor tk = view(t.k), tv = view(t.v), to = view(t.out);
  EXPECT_EQ(causal_attention(&bad, &tk, &tv, &to), ATTN_ERR_RANK);
  EXPECT_NE(std::string(attn_last_error()).find("argument 'q' is not a valid "
                                                "tensor descriptor"),
            std::string::npos)
      << attn_last_error();
}

} // namespace
