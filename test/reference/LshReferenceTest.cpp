//===- LshReferenceTest.cpp - the LSH reference against its contract ------===//
//
// Checks test/reference/Lsh.cpp on its own: the rotation generator against
// the Random123 known answers and the Python model of scripts/lsh_goldens.py,
// the composite against Hugging Face's LSHSelfAttention (golden files), and
// properties on shapes HF cannot run (ragged chunks, L = 1).
//
//===----------------------------------------------------------------------===//
#include "Golden.h"
#include "Lsh.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>

using namespace attnc::ref;

namespace {

TEST(LshGenerator, PhiloxKnownAnswers) {
  // Random123 kat_vectors: philox4x32, 10 rounds.
  struct Kat {
    std::array<uint32_t, 4> ctr;
    std::array<uint32_t, 2> key;
    std::array<uint32_t, 4> want;
  } kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat &k : kats)
    EXPECT_EQ(philox4x32(k.ctr, k.key), k.want);
}

TEST(LshGenerator, FirstValues) {
  // seed 42, H = 1, D = 2, R = 1, N/2 = 2; printed by scripts/lsh_goldens.py
  // from its own Python implementation of the generator.
  Tensor rot = lshRotations(42, 1, 2, 1, 2);
  ASSERT_EQ(rot.shape, (std::vector<int64_t>{1, 2, 1, 2}));
  EXPECT_EQ(rot.at({0, 0, 0, 0}), -0.97018981f);
  EXPECT_EQ(rot.at({0, 0, 0, 1}), -0.07318151f);
  EXPECT_EQ(rot.at({0, 1, 0, 0}), 2.12769103f);
  EXPECT_EQ(rot.at({0, 1, 0, 1}), 2.02131915f);
  // Seeds using the key's high word, from the same Python model.
  EXPECT_EQ(lshRotation(0x123456789abcdef0ull, 3, 5, 2, 7), 0.233435541f);
  EXPECT_EQ(lshRotation(0xffffffffffffffffull, 0, 0, 0, 0), 1.09859574f);
  // The counter carries (n, r, d, h) and the key both halves of the seed.
  EXPECT_NE(lshRotation(42, 0, 0, 0, 0), lshRotation(42, 0, 0, 1, 0));
  EXPECT_NE(lshRotation(42, 0, 0, 0, 0), lshRotation(42, 1, 0, 0, 0));
  EXPECT_NE(lshRotation(42, 0, 0, 0, 0), lshRotation(42 + (1ull << 32), 0, 0,
                                                     0, 0));
}

TEST(LshGenerator, AgreesWithPythonModelOnEveryGolden) {
  // Every golden's rot was drawn by the Python generator: the C++ one must
  // reproduce it bit for bit.
  int checked = 0;
  for (const std::string &path : lshGoldenFiles()) {
    LshGolden g = loadLshGolden(path);
    if (!g.hasSeed)
      continue;
    Tensor rot = lshRotations(g.seed, g.H, g.D, g.R, g.buckets / 2);
    EXPECT_EQ(rot.data, g.rot.data) << g.name;
    ++checked;
  }
  EXPECT_GE(checked, 8);
}

TEST(LshGenerator, LooksStandardNormal) {
  Tensor rot = lshRotations(7, 4, 64, 8, 32); // 65536 values
  double s = 0, s2 = 0;
  for (float x : rot.data) {
    ASSERT_TRUE(std::isfinite(x));
    s += x;
    s2 += double(x) * x;
  }
  double n = double(rot.size()), mean = s / n, var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(var, 1.0, 0.02);
}

TEST(LshHash, TiesGoToTheFirstIndex) {
  // qk rows: zero (every p is 0: bucket 0), e0 and −e0 with rot = identity
  // columns: p = (1, 0) -> bucket 0; p = (−1, 0) -> [−1, 0, 1, 0] -> 2.
  Tensor qk({1, 1, 3, 2});
  qk.at({0, 0, 1, 0}) = 1;
  qk.at({0, 0, 2, 0}) = -1;
  Tensor rot({1, 2, 1, 2});
  rot.at({0, 0, 0, 0}) = 1;
  rot.at({0, 1, 0, 1}) = 1;
  IndexTensor b = hashBucket(qk, rot);
  ASSERT_EQ(b.shape, (std::vector<int64_t>{1, 1, 1, 3}));
  EXPECT_EQ(b.at({0, 0, 0, 0}), 0);
  EXPECT_EQ(b.at({0, 0, 0, 1}), 0);
  EXPECT_EQ(b.at({0, 0, 0, 2}), 2);
  // p = (0.5, 0.5): buckets 0 and 1 tie -> 0; p = (−0.5, −0.5) -> 2.
  qk.at({0, 0, 1, 1}) = 1;
  qk.at({0, 0, 2, 1}) = -1;
  b = hashBucket(qk, rot);
  EXPECT_EQ(b.at({0, 0, 0, 1}), 0);
  EXPECT_EQ(b.at({0, 0, 0, 2}), 2);
}

TEST(LshSort, StablePermutationAndInverse) {
  const int64_t B = 2, H = 3, R = 3, L = 37;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int32_t> bucket(0, 3); // many ties
  IndexTensor buckets({B, H, R, L});
  for (int32_t &x : buckets.data)
    x = bucket(rng);
  IndexTensor order, undo;
  sortChunk(buckets, order, undo);
  ASSERT_EQ(order.shape, buckets.shape);
  ASSERT_EQ(undo.shape, buckets.shape);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t r = 0; r < R; ++r) {
        std::vector<int32_t> seen(size_t(L), 0);
        for (int64_t t = 0; t < L; ++t) {
          int32_t p = order.at({b, h, r, t});
          ASSERT_GE(p, 0);
          ASSERT_LT(p, L);
          ++seen[size_t(p)];
          EXPECT_EQ(undo.at({b, h, r, p}), t);
          if (t > 0) {
            int32_t q = order.at({b, h, r, t - 1});
            int32_t bp = buckets.at({b, h, r, p}), bq = buckets.at({b, h, r, q});
            EXPECT_TRUE(bq < bp || (bq == bp && q < p))
                << "not stable by (bucket, position) at " << t;
          }
        }
        EXPECT_EQ(seen, std::vector<int32_t>(size_t(L), 1));
      }
}

TEST(LshReference, MatchesHuggingFace) {
  std::vector<std::string> files = lshGoldenFiles();
  ASSERT_GE(files.size(), 8u) << "no golden files under " << goldenDir();
  for (const std::string &path : files) {
    LshGolden g = loadLshGolden(path);
    EXPECT_EQ(g.hfBits, 64) << g.name;
    Tensor got = lshAttend(g.qk, g.v, g.rot, g.chunk, g.before, g.after,
                           g.causal);
    ASSERT_EQ(got.shape, g.expected.shape) << g.name;
    double worst = 0;
    for (size_t i = 0; i < got.data.size(); ++i)
      worst = std::max(worst, std::fabs(double(got.data[i]) - g.expected64[i]));
    EXPECT_LE(worst, 1e-5) << g.name;
    std::printf("%-32s max |ref - HF| = %.3g\n", g.name.c_str(), worst);
    EXPECT_TRUE(std::isfinite(worst)) << g.name;
  }
}

/// A random permutation of 0..L−1 per (b, h, r).
IndexTensor randomOrder(int64_t B, int64_t H, int64_t R, int64_t L,
                        std::mt19937 &rng) {
  IndexTensor order({B, H, R, L});
  std::vector<int32_t> p(static_cast<size_t>(L));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t r = 0; r < R; ++r) {
        std::iota(p.begin(), p.end(), 0);
        std::shuffle(p.begin(), p.end(), rng);
        for (int64_t t = 0; t < L; ++t)
          order.at({b, h, r, t}) = p[size_t(t)];
      }
  return order;
}

struct Ragged {
  int64_t R, L, C, before, after;
};

TEST(LshProperties, RaggedLastChunk) {
  // R·L not a multiple of C: the last chunk is short and contributes only
  // its entries. With q = 0 every unmasked score is 0, so lse must be
  // log(number of keys whose position differs from the query's), the key
  // count decided in Lsh.h, computed here independently; with v = 1 every
  // row's weights must sum to 1.
  const Ragged cases[] = {{3, 7, 4, 1, 0}, {3, 7, 4, 2, 3}, {1, 10, 4, 0, 1},
                          {2, 5, 3, 1, 1}, {4, 3, 5, 1, 0}};
  std::mt19937 rng(11);
  for (const Ragged &c : cases) {
    const int64_t B = 2, H = 2, D = 4, E = 3, total = c.R * c.L;
    const int64_t n = (total + c.C - 1) / c.C;
    ASSERT_NE(total % c.C, 0);
    IndexTensor order = randomOrder(B, H, c.R, c.L, rng);
    Tensor k({B, H, c.L, D}), q({B, H, c.L, D}), ones({B, H, c.L, E}, 1.0f);
    k.randomize(rng);
    Tensor out, lse;
    chunkedAttend(q, k, ones, order, c.C, c.before, c.after, false, true, true,
                  out, lse);
    ASSERT_EQ(out.shape, (std::vector<int64_t>{B, H, c.R, c.L, E}));
    ASSERT_EQ(lse.shape, (std::vector<int64_t>{B, H, c.R, c.L}));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t f = 0; f < total; ++f) {
          int64_t r = f / c.L, pos = order.at({b, h, r, f % c.L});
          int64_t chunk = f / c.C, keys = 0;
          for (int64_t o = -c.before; o <= c.after; ++o) {
            int64_t nc = ((chunk + o) % n + n) % n;
            for (int64_t g = nc * c.C; g < std::min(total, (nc + 1) * c.C); ++g)
              keys += order.at({b, h, g / c.L, g % c.L}) != pos;
          }
          ASSERT_GT(keys, 0);
          EXPECT_NEAR(lse.at({b, h, r, pos}), std::log(double(keys)), 1e-5)
              << "R " << c.R << " L " << c.L << " C " << c.C << " f " << f;
          for (int64_t e = 0; e < E; ++e)
            EXPECT_NEAR(out.at({b, h, r, pos, e}), 1.0, 1e-6);
        }
    // With random q and v = 1 the rows stay finite and normalised.
    q.randomize(rng, -3, 3);
    chunkedAttend(q, k, ones, order, c.C, c.before, c.after, true, true, true,
                  out, lse);
    for (float x : lse.data)
      EXPECT_TRUE(std::isfinite(x));
    for (float x : out.data)
      EXPECT_NEAR(x, 1.0, 1e-6);
  }
}

TEST(LshProperties, SingleToken) {
  std::mt19937 rng(3);
  Tensor qk({2, 2, 1, 4}), v({2, 2, 1, 4});
  qk.randomize(rng);
  v.randomize(rng);
  Tensor rot = lshRotations(1, 2, 4, 3, 2);
  for (bool causal : {false, true}) {
    // L = 1 <= C: only the token itself, whatever the mask value.
    EXPECT_EQ(maxAbsDiff(lshAttend(qk, v, rot, 4, 1, 0, causal), v), 0.0);
    // The primitive chain with R = 3, C = 2: R·L = 3, a short last chunk.
    IndexTensor order, undo;
    sortChunk(hashBucket(qk, rot), order, undo);
    Tensor out, lse;
    chunkedAttend(qk, qk, v, order, 2, 1, 0, causal, true, true, out, lse);
    Tensor comb = combineRounds(out, lse);
    EXPECT_LE(maxAbsDiff(comb, v), 1e-7);
    // Each query met its own position 3 times (chunk 0 holds rounds 0 and
    // 1, chunk 1 round 2; each sees both chunks), all at the self-mask
    // value −1e5: lse = −1e5 + log 3 (float spacing there is 1/128).
    for (float x : lse.data)
      EXPECT_NEAR(x, -1e5 + std::log(3.0), 0.01);
  }
}

TEST(LshProperties, ShortSequenceIsDenseAttention) {
  std::mt19937 rng(17);
  const int64_t B = 2, H = 2, L = 6, D = 8;
  Tensor qk({B, H, L, D}), v({B, H, L, D});
  qk.randomize(rng, -2, 2);
  v.randomize(rng);
  // Keys normalised in float the direct way, as Reference.h's attend wants.
  Tensor keys({B, H, L, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < L; ++t) {
        double ms = 0;
        for (int64_t d = 0; d < D; ++d)
          ms += double(qk.at({b, h, t, d})) * qk.at({b, h, t, d}) / double(D);
        for (int64_t d = 0; d < D; ++d)
          keys.at({b, h, t, d}) = float(qk.at({b, h, t, d}) /
                                        std::sqrt(ms + 1e-6) / std::sqrt(D));
      }
  Tensor rot = lshRotations(9, H, D, 2, 2);
  for (bool causal : {false, true}) {
    Tensor want = attend(qk, keys, v, 1.0, nullptr,
                         [&](double s, int64_t, int64_t, int64_t i, int64_t j) {
                           if (causal && i < j)
                             s = -1e9;
                           if (i == j)
                             s = -1e5;
                           return s;
                         });
    for (int64_t C : {L, int64_t(8)})
      EXPECT_LE(maxAbsDiff(lshAttend(qk, v, rot, C, 1, 0, causal), want), 2e-6)
          << "causal " << causal << " C " << C;
  }
}

TEST(LshProperties, CombineRoundsAtTheSelfMaskValue) {
  // Every round saw only the token itself: lse ≈ −1e5 (float spacing 1/128
  // there). The weights are softmax(delta) of the small differences.
  const int64_t R = 4, L = 3, E = 2;
  const double delta[R] = {0.0, 0.5, -1.25, 2.0};
  Tensor out({1, 1, R, L, E}), lse({1, 1, R, L});
  for (int64_t r = 0; r < R; ++r)
    for (int64_t t = 0; t < L; ++t) {
      lse.at({0, 0, r, t}) = float(-1e5 + delta[r] + double(t));
      ASSERT_EQ(double(lse.at({0, 0, r, t})), -1e5 + delta[r] + double(t));
      for (int64_t e = 0; e < E; ++e)
        out.at({0, 0, r, t, e}) = float(r + 1) * (e ? -1.0f : 1.0f);
    }
  Tensor got = combineRounds(out, lse);
  double sum = 0, mix = 0;
  for (int64_t r = 0; r < R; ++r) {
    sum += std::exp(delta[r]);
    mix += std::exp(delta[r]) * double(r + 1);
  }
  for (int64_t t = 0; t < L; ++t) {
    EXPECT_NEAR(got.at({0, 0, t, 0}), mix / sum, 1e-6);
    EXPECT_NEAR(got.at({0, 0, t, 1}), -mix / sum, 1e-6);
  }
}

TEST(LshGolden, LoaderRejectsBadFiles) {
  EXPECT_THROW(loadLshGolden(goldenDir() + "/lsh/no-such-file.bin"),
               std::runtime_error);
  // Not a golden file: this source's own folder has Lsh.h.
  EXPECT_THROW(loadLshGolden(goldenDir() + "/../Lsh.h"), std::runtime_error);
}

} // namespace
