//===- MultiTargetTest.cpp - one library, several targets, one answer -----===//
//
// multi.a holds x86-64-v4, -v3 and -v2 variants of every kernel and picks
// one at run time; single_v3.a and single_v2.a hold one each (kernels
// renamed v3_*, v2_*). On every host: the automatic choice is the best
// variant this CPU runs and attn_selected_target() says so; every variant
// the CPU runs agrees with the single-target build of the same target
// within 1e-5 and with the reference within 1e-4; a variant it cannot run
// is refused with ATTN_ERR_DEVICE, never executed.
//
//===----------------------------------------------------------------------===//
#include "Harness.h"

#include "multi.h"
#include "single_v2.h"
#include "single_v3.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>

using namespace attnc;
using namespace attnc::test;
using ref::Tensor;

namespace {

constexpr int64_t B = 2, H = 3, L = 77, S = 83, D = 24, E = 20, NB = 2;
constexpr int64_t NB4 = (L + 3) / 4; // blocks of mt_small_blocks

/// What the test expects the runtime to pick, from CPUID (independently of
/// the runtime's own detection).
std::string bestTargetForThisCpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    return "x86-64-v4";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
      __builtin_cpu_supports("f16c"))
    return "x86-64-v3";
  return "x86-64-v2";
}

bool cpuRuns(const std::string &target) {
  std::string best = bestTargetForThisCpu();
  return target == "x86-64-v2" || target == best ||
         (target == "x86-64-v3" && best == "x86-64-v4");
}

enum class Build { Multi, SingleV3, SingleV2 };

/// One kernel of the three builds on fixed inputs, with its reference.
struct Case {
  const char *name;
  std::function<int(Build, Tensor &)> run;
  std::function<Tensor()> reference;
};

std::vector<Case> cases() {
  static std::mt19937 rng(7);
  static Tensor q = random(rng, {B, H, L, D}), k = random(rng, {B, H, S, D}),
                v = random(rng, {B, H, S, E}), kl = random(rng, {B, H, L, D}),
                vl = random(rng, {B, H, L, D}), slopes({H}),
                x = random(rng, {B, L, 40}), w = random(rng, {40, 24}, 0.3f),
                bias = random(rng, {24});
  static std::vector<int32_t> layout = [] {
    std::vector<int32_t> l(size_t(H * NB * NB));
    for (size_t n = 0; n < l.size(); ++n)
      l[n] = n % 3 != 1; // some dead blocks, head 0 block (0,1) dead
    return l;
  }();
  // Live and dead 4-key blocks alternating irregularly, so that a 6-row
  // group's first, middle and last rows see different blocks.
  static std::vector<int32_t> layout4 = [] {
    std::vector<int32_t> l(size_t(H * NB4 * NB4));
    for (size_t n = 0; n < l.size(); ++n)
      l[n] = (n * 7) % 5 < 2;
    return l;
  }();
  for (int64_t h = 0; h < H; ++h)
    slopes.data[size_t(h)] = std::pow(2.0f, -8.0f * float(h + 1) / float(H));
  double scale = 1.0 / std::sqrt(double(D));
  auto tensors = [](std::vector<Tensor *> ts) {
    std::vector<attn_tensor> out;
    for (Tensor *t : ts)
      out.push_back(view(*t));
    return out;
  };
  int64_t lshape[] = {H, NB, NB}, lshape4[] = {H, NB4, NB4};
  return {
      {"mt_full",
       [=](Build b, Tensor &out) {
         out = Tensor({B, H, L, E});
         auto t = tensors({&q, &k, &v, &out});
         auto fn = b == Build::Multi ? mt_full : b == Build::SingleV3 ? v3_mt_full : v2_mt_full;
         return fn(&t[0], &t[1], &t[2], &t[3]);
       },
       [=] { return ref::attend(q, k, v, scale); }},
      {"mt_causal_alibi",
       [=](Build b, Tensor &out) {
         out = Tensor({B, H, L, D});
         auto t = tensors({&q, &kl, &vl, &slopes, &out});
         auto fn = b == Build::Multi      ? mt_causal_alibi
                   : b == Build::SingleV3 ? v3_mt_causal_alibi
                                          : v2_mt_causal_alibi;
         return fn(&t[0], &t[1], &t[2], &t[3], &t[4]);
       },
       [=] {
         return ref::attend(
             q, kl, vl, scale,
             [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; },
             [](double s, int64_t, int64_t h, int64_t i, int64_t j) {
               return s - double(slopes.data[size_t(h)]) * double(i - j);
             });
       }},
      {"mt_blocks",
       [=](Build b, Tensor &out) {
         out = Tensor({B, H, L, D});
         auto t = tensors({&q, &kl, &vl, &out});
         attn_tensor tl = attn_make_tensor(layout.data(), ATTN_I32, 3, lshape);
         auto fn = b == Build::Multi ? mt_blocks : b == Build::SingleV3 ? v3_mt_blocks : v2_mt_blocks;
         return fn(&t[0], &t[1], &t[2], &tl, &t[3]);
       },
       [=] {
         return ref::attend(q, kl, vl, scale,
                            [](int64_t, int64_t h, int64_t i, int64_t j) {
                              return layout[size_t((h * NB + i / 64) * NB + j / 64)] != 0;
                            });
       }},
      {"mt_small_blocks",
       [=](Build b, Tensor &out) {
         out = Tensor({B, H, L, D});
         auto t = tensors({&q, &kl, &vl, &out});
         attn_tensor tl = attn_make_tensor(layout4.data(), ATTN_I32, 3, lshape4);
         auto fn = b == Build::Multi      ? mt_small_blocks
                   : b == Build::SingleV3 ? v3_mt_small_blocks
                                          : v2_mt_small_blocks;
         return fn(&t[0], &t[1], &t[2], &tl, &t[3]);
       },
       [=] {
         return ref::attend(q, kl, vl, scale,
                            [](int64_t, int64_t h, int64_t i, int64_t j) {
                              return layout4[size_t((h * NB4 + i / 4) * NB4 + j / 4)] != 0;
                            });
       }},
      {"mt_window",
       [=](Build b, Tensor &out) {
         out = Tensor({B, H, L, D});
         auto t = tensors({&q, &kl, &vl, &out});
         auto fn = b == Build::Multi ? mt_window : b == Build::SingleV3 ? v3_mt_window : v2_mt_window;
         return fn(&t[0], &t[1], &t[2], &t[3]);
       },
       [=] { return ref::windowed(q, kl, vl, 9, 4, 2, {0, 50}); }},
      {"mt_dense",
       [=](Build b, Tensor &out) {
         out = Tensor({B, L, 24});
         auto t = tensors({&x, &w, &bias, &out});
         auto fn = b == Build::Multi ? mt_dense : b == Build::SingleV3 ? v3_mt_dense : v2_mt_dense;
         return fn(&t[0], &t[1], &t[2], &t[3]);
       },
       [=] {
         Tensor ones({24}, 1.0f), zeros({24}, 0.0f);
         return ref::map(ref::layerNorm(ref::linear(x, w, &bias), ones, zeros, 1e-5),
                         ref::gelu);
       }},
  };
}

class MultiTarget : public ::testing::Test {
protected:
  void TearDown() override { attn_force_target(nullptr); }
};

TEST_F(MultiTarget, PicksTheBestVariantThisCpuRuns) {
  std::string best = bestTargetForThisCpu();
  for (const Case &c : cases()) {
    const char *selected = attn_selected_target(c.name);
    ASSERT_NE(selected, nullptr) << c.name;
    EXPECT_EQ(std::string(selected), best) << c.name;
  }
  EXPECT_EQ(attn_selected_target("no_such_kernel"), nullptr);
  // The single-target builds have one variant each.
  EXPECT_STREQ(attn_selected_target("v2_mt_full"), "x86-64-v2");
}

TEST_F(MultiTarget, AutomaticChoiceMatchesReference) {
  for (const Case &c : cases()) {
    Tensor out;
    ASSERT_EQ(c.run(Build::Multi, out), 0) << c.name << ": " << attn_last_error();
    EXPECT_LE(ref::maxAbsDiff(out, c.reference()), 1e-4) << c.name;
  }
}

TEST_F(MultiTarget, EveryVariantMatchesItsSingleTargetBuild) {
  for (const char *target : {"x86-64-v4", "x86-64-v3", "x86-64-v2"}) {
    ASSERT_EQ(attn_force_target(target), 0);
    for (const Case &c : cases()) {
      Tensor out;
      int rc = c.run(Build::Multi, out);
      if (!cpuRuns(target)) {
        EXPECT_EQ(rc, ATTN_ERR_DEVICE) << c.name << " on " << target;
        EXPECT_NE(std::strstr(attn_last_error(), target), nullptr)
            << attn_last_error();
        EXPECT_EQ(attn_selected_target(c.name), nullptr);
        continue;
      }
      ASSERT_EQ(rc, 0) << c.name << " on " << target << ": " << attn_last_error();
      EXPECT_STREQ(attn_selected_target(c.name), target);
      EXPECT_LE(ref::maxAbsDiff(out, c.reference()), 1e-4)
          << c.name << " on " << target;
      if (std::string(target) == "x86-64-v4")
        continue; // no single-target v4 build: it would not run everywhere
      Build single =
          std::string(target) == "x86-64-v3" ? Build::SingleV3 : Build::SingleV2;
      Tensor alone;
      ASSERT_EQ(c.run(single, alone), 0) << attn_last_error();
      EXPECT_LE(ref::maxAbsDiff(out, alone), 1e-5) << c.name << " on " << target;
    }
  }
}

TEST_F(MultiTarget, UnknownForcedTargetIsAnError) {
  ASSERT_EQ(attn_force_target("x86-64-v9"), 0);
  Tensor out;
  EXPECT_EQ(cases()[0].run(Build::Multi, out), ATTN_ERR_DEVICE);
  EXPECT_NE(std::strstr(attn_last_error(), "no variant for the forced target "
                                           "'x86-64-v9'"),
            nullptr)
      << attn_last_error();
}

} // namespace
