//===- Bf16Test.cpp - bf16 attention on every variant this CPU runs -------===//
//
// bf16.attn is compiled for x86-64-v4+avx512_bf16 (vdpbf16ps: Q·Kᵀ on the
// bf16 inputs, P·V on probabilities rounded to bf16 when v is bf16) and
// x86-64-v3 (bf16 widened to f32). Every variant this CPU runs must match
// the double-precision reference on the same bf16 values within 1e-2
// (docs/language.md, "bf16 on the CPU"); the automatic choice must be the
// bf16 variant exactly where CPUID reports AVX512-BF16.
//
//===----------------------------------------------------------------------===//
#include "Harness.h"

#include "bf16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>

using namespace attnc;
using namespace attnc::test;
using ref::Tensor;

namespace {

constexpr int64_t B = 2, H = 3, L = 77, S = 83, D = 37, E = 20;
constexpr int64_t NB = (L + 31) / 32;
constexpr int64_t kLongKeys = 2300; // > 2 key chunks of 1024
constexpr const char *kBf16Target = "x86-64-v4+avx512_bf16";
constexpr const char *kV3Target = "x86-64-v3";

/// A random tensor whose values are bf16 numbers, and their bf16 bits.
struct Bf16Tensor {
  Tensor values;
  std::vector<uint16_t> bits;
  attn_tensor view() {
    return attn_make_tensor(bits.data(), ATTN_BF16, int32_t(values.shape.size()),
                            values.shape.data());
  }
};

Bf16Tensor randomBf16(std::mt19937 &rng, std::vector<int64_t> shape,
                      float scale = 1.0f) {
  Bf16Tensor t{random(rng, std::move(shape), scale), {}};
  for (float &x : t.values.data) {
    t.bits.push_back(ref::bf16Bits(x));
    x = float(ref::fromBf16Bits(t.bits.back()));
  }
  return t;
}

bool cpuHasBf16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

bool cpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}

/// Runs kernel(q, k, v, out) with a bf16 output of `shape`, read back as
/// f32 into `out`.
int runBf16Out(int (*kernel)(const attn_tensor *, const attn_tensor *, const attn_tensor *,
                             attn_tensor *),
               std::vector<int64_t> shape, Tensor &out, Bf16Tensor &q, Bf16Tensor &k,
               Bf16Tensor &v) {
  out = Tensor(std::move(shape));
  std::vector<uint16_t> bits(size_t(out.size()));
  attn_tensor a[4] = {q.view(), k.view(), v.view(),
                      attn_make_tensor(bits.data(), ATTN_BF16, 4, out.shape.data())};
  int rc = kernel(&a[0], &a[1], &a[2], &a[3]);
  for (size_t n = 0; n < bits.size(); ++n)
    out.data[n] = float(ref::fromBf16Bits(bits[n]));
  return rc;
}

struct Case {
  const char *name;
  std::function<int(Tensor &)> run; // the output as f32
  std::function<Tensor()> reference;
  const char *kernel = nullptr; // the kernel it runs, if not `name`
};

std::vector<Case> cases() {
  static std::mt19937 rng(11);
  static Bf16Tensor q = randomBf16(rng, {B, H, L, D}), k = randomBf16(rng, {B, H, S, D}),
                    v = randomBf16(rng, {B, H, S, E}), kl = randomBf16(rng, {B, H, L, D}),
                    vl = randomBf16(rng, {B, H, L, D}),
                    // Logits of about ±4: peaked rows, which a wrong
                    // rescaling of a chunk would move by far more than 1e-2.
                    kLong = randomBf16(rng, {B, H, kLongKeys, D}, 12.0f),
                    vLong = randomBf16(rng, {B, H, kLongKeys, E});
  static std::vector<int32_t> layout = [] {
    std::vector<int32_t> l(size_t(H * NB * NB));
    for (size_t n = 0; n < l.size(); ++n)
      l[n] = n % 4 != 1; // some dead blocks, diagonal ones live
    return l;
  }();
  static int64_t lshape[3] = {H, NB, NB};
  const double scale = 1.0 / std::sqrt(double(D));
  return {
      {"bf16_full",
       [](Tensor &out) { return runBf16Out(bf16_full, {B, H, L, E}, out, q, k, v); },
       [=] { return ref::attend(q.values, k.values, v.values, scale); }},
      // More than two chunks of keys: the chunked softmax on bf16 pairs.
      {"bf16_full_long_keys",
       [](Tensor &out) {
         return runBf16Out(bf16_full, {B, H, L, E}, out, q, kLong, vLong);
       },
       [=] { return ref::attend(q.values, kLong.values, vLong.values, scale); },
       "bf16_full"},
      {"bf16_causal",
       [](Tensor &out) { return runBf16Out(bf16_causal, {B, H, L, D}, out, q, kl, vl); },
       [=] {
         return ref::attend(q.values, kl.values, vl.values, scale,
                            [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; });
       }},
      {"bf16_blocks",
       [](Tensor &out) {
         out = Tensor({B, H, L, D});
         std::vector<uint16_t> bits(size_t(out.size()));
         attn_tensor a[5] = {q.view(), kl.view(), vl.view(),
                             attn_make_tensor(layout.data(), ATTN_I32, 3, lshape),
                             attn_make_tensor(bits.data(), ATTN_BF16, 4, out.shape.data())};
         int rc = bf16_blocks(&a[0], &a[1], &a[2], &a[3], &a[4]);
         for (size_t n = 0; n < bits.size(); ++n)
           out.data[n] = float(ref::fromBf16Bits(bits[n]));
         return rc;
       },
       [=] {
         return ref::attend(q.values, kl.values, vl.values, scale,
                            [](int64_t, int64_t h, int64_t i, int64_t j) {
                              return layout[size_t((h * NB + i / 32) * NB + j / 32)] != 0;
                            });
       }},
      {"bf16_softcap",
       [](Tensor &out) { return runBf16Out(bf16_softcap, {B, H, L, E}, out, q, k, v); },
       [=] {
         return ref::attend(q.values, k.values, v.values, scale, nullptr,
                            [](double s, int64_t, int64_t, int64_t, int64_t) {
                              return 5.0 * std::tanh(s / 5.0);
                            });
       }},
  };
}

class Bf16 : public ::testing::Test {
protected:
  void TearDown() override { attn_force_target(nullptr); }
};

TEST_F(Bf16, PicksTheBf16VariantExactlyWhereTheCpuHasAvx512Bf16) {
  for (const Case &c : cases()) {
    const char *selected = attn_selected_target(c.kernel ? c.kernel : c.name);
    if (!cpuHasBf16() && !cpuHasAvx2()) {
      EXPECT_EQ(selected, nullptr) << c.name;
      continue;
    }
    ASSERT_NE(selected, nullptr) << c.name;
    EXPECT_STREQ(selected, cpuHasBf16() ? kBf16Target : kV3Target) << c.name;
  }
}

TEST_F(Bf16, EveryVariantThisCpuRunsMatchesTheReference) {
  int ran = 0;
  for (const char *target : {kBf16Target, kV3Target}) {
    bool runs = std::strcmp(target, kBf16Target) == 0 ? cpuHasBf16() : cpuHasAvx2();
    ASSERT_EQ(attn_force_target(target), 0);
    for (const Case &c : cases()) {
      Tensor out;
      int rc = c.run(out);
      if (!runs) { // refused, never executed
        EXPECT_EQ(rc, ATTN_ERR_DEVICE) << c.name << " on " << target;
        continue;
      }
      ASSERT_EQ(rc, 0) << c.name << " on " << target << ": " << attn_last_error();
      double err = ref::maxAbsDiff(out, c.reference());
      EXPECT_LE(err, 1e-2) << c.name << " on " << target;
      ++ran;
    }
  }
  if (ran == 0)
    GTEST_SKIP() << "this CPU runs neither x86-64-v3 nor AVX512-BF16 code";
}

} // namespace
