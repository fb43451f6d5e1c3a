//===- LshTest.cpp - Reformer LSH kernels against the C++ reference -------===//
//
// Every primitive alone and the composite, on ragged shapes, against
// test/reference/Lsh.cpp (double precision) and against Hugging Face's
// LSHSelfAttention (the committed goldens). Each kernel runs under every
// target variant it was compiled for (x86-64-v3 and -v4) that this CPU
// supports; hash_bucket must agree bit for bit across them.
//
//===----------------------------------------------------------------------===//
#include "Golden.h"
#include "Harness.h"
#include "LshHarness.h"

#include "lsh.h"
#include "lsh_golden.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

using namespace attnc;
using attnc::ref::IndexTensor;
using attnc::test::randomOrder;
using attnc::test::viewI32;
using attnc::ref::Tensor;

namespace {

/// The variants lsh.attn was compiled for; those this CPU cannot run are
/// skipped (attn_selected_target says which one runs by default).
const char *const kTargets[] = {"x86-64-v3", "x86-64-v4"};

struct ForcedTarget {
  explicit ForcedTarget(const char *t) { attn_force_target(t); }
  ~ForcedTarget() { attn_force_target(nullptr); }
};

/// Runs `body` once per target variant this CPU runs.
void forEachTarget(const std::function<void(const char *)> &body) {
  int ran = 0;
  for (const char *target : kTargets) {
    bool runs = std::string(target) == "x86-64-v3" ||
                std::string(attn_selected_target("lsh_sort") ?: "") == target;
    if (!runs)
      continue;
    ForcedTarget forced(target);
    SCOPED_TRACE(target);
    body(target);
    ++ran;
  }
  ASSERT_GT(ran, 0);
}

/// Largest |a − b| / max(1, |b|): lse values near −1e5 (rows that saw only
/// themselves) keep float32's relative, not absolute, precision.
double maxRelDiff(const Tensor &a, const Tensor &b) {
  if (a.shape != b.shape)
    return INFINITY;
  double worst = 0;
  for (size_t x = 0; x < a.data.size(); ++x) {
    double d = std::fabs(double(a.data[x]) - b.data[x]) /
               std::max(1.0, std::fabs(double(b.data[x])));
    if (!(d <= worst))
      worst = std::isnan(d) ? INFINITY : d;
  }
  return worst;
}

constexpr double kTol = 1e-5;

struct Shape {
  int64_t B, H, L, D, E;
};
// Ragged: L = 1, L below, at and above the chunk, not a multiple of it;
// D ≠ E; several heads and batches.
const Shape kShapes[] = {{1, 1, 1, 3, 2},  {2, 3, 3, 5, 4},  {1, 2, 4, 8, 8},
                         {2, 2, 7, 4, 6},  {1, 3, 13, 6, 5}, {2, 1, 29, 7, 3},
                         {1, 2, 64, 16, 16}};

TEST(LshHash, SeededRotationsMatchReferenceOnEveryTarget) {
  std::mt19937 rng(11);
  for (const Shape &s : kShapes) {
    Tensor x = test::random(rng, {s.B, s.H, s.L, s.D});
    // Ties: an all-zero row lands in bucket 0; duplicated rows agree.
    for (int64_t d = 0; d < s.D; ++d)
      x.at({0, 0, 0, d}) = 0.0f;
    if (s.L > 2)
      for (int64_t d = 0; d < s.D; ++d)
        x.at({0, 0, 2, d}) = x.at({0, 0, 1, d});
    Tensor rot = ref::lshRotations(42, s.H, s.D, 3, 4);
    IndexTensor want = ref::hashBucket(x, rot);
    std::vector<std::vector<int32_t>> perTarget;
    forEachTarget([&](const char *) {
      IndexTensor got({s.B, s.H, 3, s.L}, -7);
      attn_tensor tx = test::view(x), to = viewI32(got);
      ASSERT_EQ(lsh_hash_seed(&tx, &to), 0) << attn_last_error();
      EXPECT_EQ(got.data, want.data) << "L = " << s.L << ", D = " << s.D;
      perTarget.push_back(got.data);
    });
    for (auto &p : perTarget)
      EXPECT_EQ(p, perTarget.front()) << "targets disagree";
  }
}

TEST(LshHash, SameBucketsInEveryRun) {
  std::mt19937 rng(12);
  Tensor x = test::random(rng, {2, 2, 50, 8});
  IndexTensor a({2, 2, 3, 50}), b({2, 2, 3, 50});
  attn_tensor tx = test::view(x), ta = viewI32(a), tb = viewI32(b);
  attn_set_num_threads(1);
  ASSERT_EQ(lsh_hash_seed(&tx, &ta), 0) << attn_last_error();
  attn_set_num_threads(0);
  ASSERT_EQ(lsh_hash_seed(&tx, &tb), 0) << attn_last_error();
  EXPECT_EQ(a.data, b.data);
}

TEST(LshHash, RuntimeGeneratorIsTheDocumentedOne) {
  // attn_lsh_rotation (runtime) against the reference's independent
  // Philox + Box–Muller, bit for bit.
  for (uint64_t seed : {0ull, 42ull, 0x123456789abcdefull})
    for (uint32_t h = 0; h < 3; ++h)
      for (uint32_t d = 0; d < 5; ++d)
        for (uint32_t n = 0; n < 4; ++n)
          EXPECT_EQ(attn_lsh_rotation(seed, h, d, 1, n),
                    ref::lshRotation(seed, h, d, 1, n));
}

TEST(LshHash, CallerRotations) {
  std::mt19937 rng(13);
  for (const Shape &s : kShapes) {
    Tensor x = test::random(rng, {s.B, s.H, s.L, s.D});
    Tensor rot = test::random(rng, {s.H, s.D, 2, 3});
    IndexTensor want = ref::hashBucket(x, rot);
    forEachTarget([&](const char *) {
      IndexTensor got({s.B, s.H, 2, s.L}, -7);
      attn_tensor tx = test::view(x), tr = test::view(rot), to = viewI32(got);
      ASSERT_EQ(lsh_hash_rot(&tx, &tr, &to), 0) << attn_last_error();
      EXPECT_EQ(got.data, want.data) << "L = " << s.L;
    });
  }
}

TEST(LshHash, WrongRotationShapeIsAnError) {
  Tensor x({1, 2, 5, 4}), rot({2, 4, 2, 2}); // N/2 = 3 declared
  IndexTensor out({1, 2, 2, 5});
  attn_tensor tx = test::view(x), tr = test::view(rot), to = viewI32(out);
  EXPECT_EQ(lsh_hash_rot(&tx, &tr, &to), ATTN_ERR_SHAPE);
  EXPECT_NE(std::string(attn_last_error()).find("rot"), std::string::npos)
      << attn_last_error();
}

TEST(LshSort, StableCountingSortMatchesReference) {
  std::mt19937 rng(14);
  for (int64_t L : {1, 2, 7, 16, 33, 100})
    for (int64_t R : {1, 3}) {
      IndexTensor buckets({2, 2, R, L});
      for (auto &v : buckets.data)
        v = int32_t(rng() % 6);
      IndexTensor wantOrder, wantUndo;
      ref::sortChunk(buckets, wantOrder, wantUndo);
      forEachTarget([&](const char *) {
        IndexTensor order({2, 2, R, L}, -1), undo({2, 2, R, L}, -1);
        attn_tensor tb = viewI32(buckets), to = viewI32(order),
                    tu = viewI32(undo);
        ASSERT_EQ(lsh_sort(&tb, &to, &tu), 0) << attn_last_error();
        EXPECT_EQ(order.data, wantOrder.data) << "L = " << L << ", R = " << R;
        EXPECT_EQ(undo.data, wantUndo.data) << "L = " << L << ", R = " << R;
      });
    }
}

TEST(LshSort, BucketOutOfRangeIsAnError) {
  for (int32_t bad : {-1, 65536}) {
    IndexTensor buckets({1, 1, 2, 5}), order({1, 1, 2, 5}), undo({1, 1, 2, 5});
    buckets.at({0, 0, 1, 3}) = bad;
    attn_tensor tb = viewI32(buckets), to = viewI32(order), tu = viewI32(undo);
    EXPECT_EQ(lsh_sort(&tb, &to, &tu), ATTN_ERR_VALUES);
    std::string msg = attn_last_error();
    EXPECT_NE(msg.find("'buckets'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[0, 0, 1, :]"), std::string::npos) << msg;
  }
}

using ChunkedKernel = int (*)(const attn_tensor *, const attn_tensor *,
                              const attn_tensor *, const attn_tensor *,
                              attn_tensor *, attn_tensor *);
struct ChunkedCase {
  const char *name;
  ChunkedKernel kernel;
  int64_t chunk, before, after;
  bool causal, selfMask, normalizeKeys;
};
const ChunkedCase kChunked[] = {
    {"lsh_chunked", lsh_chunked, 4, 1, 0, false, true, true},
    {"lsh_chunked_causal", lsh_chunked_causal, 3, 2, 1, true, true, true},
    {"lsh_chunked_plain", lsh_chunked_plain, 5, 0, 1, false, false, false},
};

TEST(LshChunked, MatchesReferenceOnRaggedShapes) {
  std::mt19937 rng(15);
  for (const ChunkedCase &kc : kChunked)
    for (const Shape &s : kShapes)
      for (int64_t R : {1, 2, 3}) {
        SCOPED_TRACE(std::string(kc.name) + " L = " + std::to_string(s.L) +
                     " R = " + std::to_string(R));
        Tensor q = test::random(rng, {s.B, s.H, s.L, s.D});
        Tensor k = test::random(rng, {s.B, s.H, s.L, s.D});
        Tensor v = test::random(rng, {s.B, s.H, s.L, s.E});
        if (s.L > 3) // a duplicated key and a zero query
          for (int64_t d = 0; d < s.D; ++d) {
            k.at({0, 0, 3, d}) = k.at({0, 0, 1, d});
            q.at({0, 0, 2, d}) = 0.0f;
          }
        IndexTensor order = randomOrder(rng, s.B, s.H, R, s.L);
        Tensor wantOut, wantLse;
        ref::chunkedAttend(q, k, v, order, kc.chunk, kc.before, kc.after,
                           kc.causal, kc.selfMask, kc.normalizeKeys, wantOut,
                           wantLse);
        forEachTarget([&](const char *) {
          Tensor out({s.B, s.H, R, s.L, s.E}, NAN), lse({s.B, s.H, R, s.L}, NAN);
          attn_tensor tq = test::view(q), tk = test::view(k),
                      tv = test::view(v), tor = viewI32(order),
                      to = test::view(out), tl = test::view(lse);
          ASSERT_EQ(kc.kernel(&tq, &tk, &tv, &tor, &to, &tl), 0)
              << attn_last_error();
          EXPECT_LE(ref::maxAbsDiff(out, wantOut), kTol);
          EXPECT_LE(maxRelDiff(lse, wantLse), kTol);
        });
      }
}

TEST(LshChunked, OrderThatIsNotAPermutationIsAnError) {
  Tensor q({1, 1, 6, 4}), v({1, 1, 6, 4});
  Tensor out({1, 1, 2, 6, 4}), lse({1, 1, 2, 6});
  for (int variant = 0; variant < 2; ++variant) {
    std::mt19937 rng(3);
    IndexTensor order = randomOrder(rng, 1, 1, 2, 6);
    if (variant == 0)
      order.at({0, 0, 1, 4}) = order.at({0, 0, 1, 2}); // a repeat
    else
      order.at({0, 0, 0, 5}) = 6; // out of range
    attn_tensor tq = test::view(q), tv = test::view(v), tor = viewI32(order),
                to = test::view(out), tl = test::view(lse);
    EXPECT_EQ(lsh_chunked(&tq, &tq, &tv, &tor, &to, &tl), ATTN_ERR_VALUES);
    std::string msg = attn_last_error();
    EXPECT_NE(msg.find("'order'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(variant == 0 ? "[0, 0, 1, :]" : "[0, 0, 0, :]"),
              std::string::npos)
        << msg;
  }
}

TEST(LshCombine, MatchesReference) {
  std::mt19937 rng(16);
  for (const Shape &s : kShapes)
    for (int64_t R : {1, 2, 4}) {
      Tensor out = test::random(rng, {s.B, s.H, R, s.L, s.E});
      Tensor lse = test::random(rng, {s.B, s.H, R, s.L}, 30.0f);
      // Rows that saw only themselves in every round: lse ≈ −1e5.
      for (int64_t r = 0; r < R; ++r)
        lse.at({0, 0, r, 0}) = -1e5f + 0.25f * float(r);
      Tensor want = ref::combineRounds(out, lse);
      forEachTarget([&](const char *) {
        Tensor got({s.B, s.H, s.L, s.E}, NAN);
        attn_tensor to = test::view(out), tl = test::view(lse),
                    tg = test::view(got);
        ASSERT_EQ(lsh_combine(&to, &tl, &tg), 0) << attn_last_error();
        EXPECT_LE(ref::maxAbsDiff(got, want), kTol) << "L = " << s.L;
      });
    }
}

TEST(LshComposite, MatchesReference) {
  std::mt19937 rng(17);
  for (const Shape &s : kShapes) {
    SCOPED_TRACE("L = " + std::to_string(s.L));
    Tensor qk = test::random(rng, {s.B, s.H, s.L, s.D});
    Tensor v = test::random(rng, {s.B, s.H, s.L, s.E});
    Tensor rot2 = test::random(rng, {s.H, s.D, 2, 2});
    Tensor rot3 = test::random(rng, {s.H, s.D, 3, 4});
    Tensor want2 = ref::lshAttend(qk, v, rot2, 4, 1, 0, false);
    Tensor want3 = ref::lshAttend(qk, v, rot3, 5, 2, 1, true);
    forEachTarget([&](const char *) {
      Tensor got2({s.B, s.H, s.L, s.E}, NAN), got3({s.B, s.H, s.L, s.E}, NAN);
      attn_tensor tq = test::view(qk), tv = test::view(v),
                  tr2 = test::view(rot2), tr3 = test::view(rot3),
                  to2 = test::view(got2), to3 = test::view(got3);
      ASSERT_EQ(lsh_composite(&tq, &tv, &tr2, &to2), 0) << attn_last_error();
      ASSERT_EQ(lsh_composite_causal(&tq, &tv, &tr3, &to3), 0)
          << attn_last_error();
      EXPECT_LE(ref::maxAbsDiff(got2, want2), kTol);
      EXPECT_LE(ref::maxAbsDiff(got3, want3), kTol);
    });
  }
}

TEST(LshComposite, SeededCompositeAndChain) {
  // The chain follows steps 1–7 even when L <= chunk; the composite then
  // attends the whole sequence once.
  std::mt19937 rng(18);
  for (const Shape &s : kShapes) {
    SCOPED_TRACE("L = " + std::to_string(s.L));
    Tensor qk = test::random(rng, {s.B, s.H, s.L, s.D});
    Tensor v = test::random(rng, {s.B, s.H, s.L, s.D});
    Tensor rot = ref::lshRotations(7, s.H, s.D, 2, 4);
    Tensor wantComposite = ref::lshAttend(qk, v, rot, 8, 1, 0, true);
    IndexTensor order, undo;
    ref::sortChunk(ref::hashBucket(qk, rot), order, undo);
    Tensor out, lse;
    ref::chunkedAttend(qk, qk, v, order, 8, 1, 0, true, true, true, out, lse);
    Tensor wantChain = ref::combineRounds(out, lse);
    forEachTarget([&](const char *) {
      Tensor composite({s.B, s.H, s.L, s.D}, NAN), chain({s.B, s.H, s.L, s.D}, NAN);
      attn_tensor tq = test::view(qk), tv = test::view(v),
                  tc = test::view(composite), th = test::view(chain);
      ASSERT_EQ(lsh_composite_seed(&tq, &tv, &tc), 0) << attn_last_error();
      ASSERT_EQ(lsh_chain_seed(&tq, &tv, &th), 0) << attn_last_error();
      EXPECT_LE(ref::maxAbsDiff(composite, wantComposite), kTol);
      EXPECT_LE(ref::maxAbsDiff(chain, wantChain), kTol);
    });
  }
}

using GoldenKernel = int (*)(const attn_tensor *, const attn_tensor *,
                             attn_tensor *);
struct GoldenEntry {
  const char *name;
  GoldenKernel kernel;
};
#define GOLDEN(n) {#n, golden_##n}
const GoldenEntry kGoldens[] = {
    GOLDEN(full_r1_l6_c8_causal),        GOLDEN(full_r2_l8_c8),
    GOLDEN(r1_n4_c4_b1a0),               GOLDEN(r2_n4_c8_b1a0_causal),
    GOLDEN(r2_n8_c8_b2a1_causal),        GOLDEN(r4_n2_c4_b0a1),
    GOLDEN(r4_n8_c4_b2a1),               GOLDEN(r4_n8_c8_b1a0_causal),
    GOLDEN(repeat_r1_n2_c4_b2a1_causal), GOLDEN(repeat_r1_n4_c4_b2a1),
    GOLDEN(ties_r1_n8_c4_b0a1),          GOLDEN(ties_r2_n4_c4_b1a0),
    GOLDEN(ties_r4_n4_c4_b2a1_causal),
};
#undef GOLDEN

TEST(LshGolden, HuggingFaceOutputsWithin1e5) {
  std::vector<std::string> files = ref::lshGoldenFiles();
  ASSERT_EQ(files.size(), std::size(kGoldens))
      << "a golden without a kernel in lsh_golden.attn, or the reverse";
  for (const std::string &path : files) {
    ref::LshGolden g = ref::loadLshGolden(path);
    auto entry = std::find_if(std::begin(kGoldens), std::end(kGoldens),
                              [&](const GoldenEntry &e) { return g.name == e.name; });
    ASSERT_NE(entry, std::end(kGoldens)) << g.name;
    ASSERT_TRUE(g.hasSeed) << g.name;
    forEachTarget([&](const char *) {
      Tensor got(g.expected.shape, NAN);
      attn_tensor tq = test::view(g.qk), tv = test::view(g.v),
                  to = test::view(got);
      ASSERT_EQ(entry->kernel(&tq, &tv, &to), 0) << attn_last_error();
      EXPECT_LE(ref::maxAbsDiff(got, g.expected), kTol) << g.name;
    });
  }
}

} // namespace
