//===- EmulatedKernelsTest.cpp - CUDA kernels run on the host, checked ----===//
//
// The CUDA kernels of the example programs (examples/cuda/*.attn in bf16,
// examples/*.attn in f32 on TF32 tensor cores, bench/gpu/f16.attn in f16,
// the windows of bench/gpu/kernels.attn) and of extra.attn, as `attnc
// --target=cuda --emit=gpu` builds them, run by the lockstep emulator
// (LockstepEmulator.h) on ragged shapes — L = 1, L not a multiple of the 64-row
// and 64-key tiles, Lq != Lk, rows with no allowed key — against the plain C++
// reference (test/reference) computed from the same inputs rounded to the
// kernel's input type. Within 2e-3 for 16-bit inputs (P is rounded to the input
// type before P·V, the output to bf16 or f16), 1e-5 for f32 with exact
// products, and 5e-3 for f32 with the TF32 operand truncation the tensor cores
// do.
//
//===----------------------------------------------------------------------===//
#include "LockstepEmulator.h"
#include "Reference.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>

using namespace attnc;

namespace {

enum class Ty { F32, BF16, F16, I32 };

int64_t bytesOf(Ty t) { return t == Ty::BF16 || t == Ty::F16 ? 2 : 4; }

/// x as the kernel reads it after rounding to `t`.
double rounded(double x, Ty t) {
  switch (t) {
  case Ty::BF16:
    return emu::fromBf16Bits(emu::bf16Bits(x));
  case Ty::F16:
    return emu::fromF16Bits(emu::f16Bits(x));
  case Ty::F32:
    return double(float(x));
  case Ty::I32:
    return double(int32_t(x));
  }
  return x;
}

/// A tensor in the emulated GPU's global memory: exactly its bytes, so
/// that the emulator catches any access past them.
struct Device {
  Ty ty;
  std::vector<int64_t> shape;
  std::vector<char> bytes;

  Device(const ref::Tensor &t, Ty ty) : ty(ty), shape(t.shape) {
    bytes.resize(size_t(t.size() * bytesOf(ty)));
    for (int64_t i = 0; i < t.size(); ++i) {
      char *p = bytes.data() + i * bytesOf(ty);
      double x = t.data[size_t(i)];
      if (ty == Ty::BF16 || ty == Ty::F16) {
        uint16_t h = ty == Ty::BF16 ? emu::bf16Bits(x) : emu::f16Bits(x);
        std::memcpy(p, &h, 2);
      } else if (ty == Ty::F32) {
        float f = float(x);
        std::memcpy(p, &f, 4);
      } else {
        int32_t v = int32_t(x);
        std::memcpy(p, &v, 4);
      }
    }
  }
  ref::Tensor read() const {
    ref::Tensor t(shape);
    for (int64_t i = 0; i < t.size(); ++i) {
      const char *p = bytes.data() + i * bytesOf(ty);
      uint16_t h;
      float f;
      if (ty == Ty::F32) {
        std::memcpy(&f, p, 4);
      } else {
        std::memcpy(&h, p, 2);
        f = float(ty == Ty::BF16 ? emu::fromBf16Bits(h) : emu::fromF16Bits(h));
      }
      t.data[size_t(i)] = f;
    }
    return t;
  }
  emu::Tensor view() {
    emu::Tensor t;
    t.data = bytes.data();
    t.bytes = bytes.size();
    t.shape = shape;
    t.strides.assign(shape.size(), 1);
    for (size_t d = shape.size(); d-- > 1;)
      t.strides[d - 1] = t.strides[d] * shape[d];
    return t;
  }
};

/// The gpu IR of the programs (built by attnc at build time), parsed once.
class Programs {
public:
  static Programs &get() {
    static Programs p;
    return p;
  }
  mlir::gpu::GPUFuncOp kernel(const std::string &program,
                              const std::string &name) {
    auto &m = modules[program];
    if (!m) {
      std::string path =
          std::string(ATTNC_EMULATED_GPU_DIR) + "/" + program + ".mlir";
      m = mlir::parseSourceFile<mlir::ModuleOp>(path, &ctx);
      if (!m)
        return {};
    }
    mlir::gpu::GPUFuncOp found;
    m->walk([&](mlir::gpu::GPUFuncOp f) {
      if (f.getName() == name)
        found = f;
    });
    return found;
  }

private:
  Programs() { emu::loadDialects(ctx); }
  mlir::MLIRContext ctx;
  std::map<std::string, mlir::OwningOpRef<mlir::ModuleOp>> modules;
};

struct Shape {
  int64_t B, H, Lq, Lk, D, E;
};

using Reference = std::function<ref::Tensor(
    const ref::Tensor &q, const ref::Tensor &k, const ref::Tensor &v)>;

/// One run: q, k, v of `shape` (uniform in [-qScale, qScale] for q, [-1, 1]
/// otherwise) rounded to `ty`, then `captures`, then the output of type
/// `outTy`, NaN-poisoned; its result against `expected` of the rounded
/// inputs.
void expectMatches(const std::string &program, const std::string &kernel, Ty ty,
                   Ty outTy, Shape s, const Reference &expected,
                   double tolerance, std::vector<Device> captures = {},
                   emu::Options options = {}, float qScale = 1.0f,
                   unsigned seed = 7) {
  SCOPED_TRACE(program + "/" + kernel + " B=" + std::to_string(s.B) +
               " H=" + std::to_string(s.H) + " Lq=" + std::to_string(s.Lq) +
               " Lk=" + std::to_string(s.Lk) + " D=" + std::to_string(s.D) +
               " E=" + std::to_string(s.E));
  mlir::gpu::GPUFuncOp fn = Programs::get().kernel(program, kernel);
  ASSERT_TRUE(fn) << "no kernel " << kernel << " in " << program << ".mlir";
  std::mt19937 rng(seed);
  ref::Tensor q({s.B, s.H, s.Lq, s.D}), k({s.B, s.H, s.Lk, s.D}),
      v({s.B, s.H, s.Lk, s.E});
  q.randomize(rng, -qScale, qScale);
  k.randomize(rng);
  v.randomize(rng);
  for (ref::Tensor *t : {&q, &k, &v})
    for (float &x : t->data)
      x = float(rounded(x, ty));
  std::vector<Device> args{Device(q, ty), Device(k, ty), Device(v, ty)};
  for (Device &c : captures)
    args.push_back(std::move(c));
  ref::Tensor poison({s.B, s.H, s.Lq, s.E}, std::nanf(""));
  args.emplace_back(poison, outTy);
  std::vector<emu::Tensor> views;
  for (Device &d : args)
    views.push_back(d.view());
  std::string error = emu::launch(fn, views, options);
  ASSERT_EQ(error, "");
  ref::Tensor want = expected(q, k, v);
  ref::Tensor got = args.back().read();
  ASSERT_EQ(got.shape, want.shape);
  // The output's own rounding to bf16 or f16 (half an ulp of the result)
  // comes on top of the kernel's error.
  double halfUlp = outTy == Ty::BF16 ? 0x1p-9 : outTy == Ty::F16 ? 0x1p-12 : 0;
  double err = 0;
  for (int64_t i = 0; i < got.size(); ++i) {
    double g = got.data[size_t(i)], w = want.data[size_t(i)];
    double e =
        std::isfinite(g) ? std::fabs(g - w) - halfUlp * std::fabs(w) : INFINITY;
    err = std::max(err, e);
  }
  EXPECT_LE(err, tolerance)
      << "max |emulated - reference| beyond the output's rounding";
  std::printf("%-16s %-30s Lq=%-4lld Lk=%-4lld D=%-3lld E=%-3lld max error "
              "%.2e (tolerance %.0e)%s\n",
              program.c_str(), kernel.c_str(), (long long)s.Lq, (long long)s.Lk,
              (long long)s.D, (long long)s.E, err, tolerance,
              options.tf32Truncation ? " tf32" : "");
  // Not vacuous: the outputs are not all zero.
  double largest = 0;
  for (float x : want.data)
    largest = std::max(largest, double(std::fabs(x)));
  EXPECT_GT(largest, 1e-3);
}

constexpr double kTol16 = 2e-3, kTolF32 = 1e-5, kTolTf32 = 5e-3;
/// Ragged lengths: one row, below one tile, across tiles.
constexpr int64_t kLengths[] = {1, 67, 130};

Reference attendRef(ref::Mask mask = nullptr, ref::Score score = nullptr,
                    double scale = 0) {
  return [=](const ref::Tensor &q, const ref::Tensor &k, const ref::Tensor &v) {
    double sc = scale ? scale : 1.0 / std::sqrt(double(q.shape[3]));
    return ref::attend(q, k, v, sc, mask, score);
  };
}
bool causal(int64_t, int64_t, int64_t i, int64_t j) { return j <= i; }

//===-- bf16 (examples/cuda), f16 (bench/gpu/f16.attn)
//----------------------===//

TEST(EmulatedBf16, FullCrossAttention) {
  for (auto [lq, lk] :
       {std::pair<int64_t, int64_t>{1, 1}, {67, 130}, {130, 1}, {200, 77}})
    expectMatches("bf16_full", "full_attention", Ty::BF16, Ty::BF16,
                  {2, 2, lq, lk, 64, 128}, attendRef(), kTol16);
}

TEST(EmulatedBf16, Causal) {
  for (int64_t L : kLengths)
    expectMatches("bf16_causal", "causal_attention", Ty::BF16, Ty::BF16,
                  {1, 2, L, L, 64, 64}, attendRef(causal), kTol16);
}

TEST(EmulatedBf16, CausalLargeLogits) {
  // Scores of several units: the running max changes across key tiles.
  expectMatches("bf16_causal", "causal_attention", Ty::BF16, Ty::BF16,
                {1, 1, 200, 200, 64, 64}, attendRef(causal), kTol16, {}, {},
                6.0f);
}

Reference longformerRef(int64_t L) {
  std::vector<int64_t> globals;
  for (int64_t g : {0, 1, 4095})
    if (g < L)
      globals.push_back(g);
  return [=](const ref::Tensor &q, const ref::Tensor &k, const ref::Tensor &v) {
    return ref::windowed(q, k, v, 128, 128, 2, globals);
  };
}

TEST(EmulatedBf16, LongformerWindowDilationGlobals) {
  for (int64_t L : {1, 67, 300})
    expectMatches("bf16_longformer", "longformer_attention", Ty::BF16, Ty::BF16,
                  {1, 2, L, L, 64, 64}, longformerRef(L), kTol16);
}

bool longformerMask(int64_t, int64_t, int64_t i, int64_t j) {
  return (std::abs(i - j) <= 256 && (i - j) % 2 == 0) || i == 0 || j == 0;
}

TEST(EmulatedBf16, LongformerAsMask) {
  for (int64_t L : {67, 300})
    expectMatches("bf16_longformer", "longformer_masked", Ty::BF16, Ty::BF16,
                  {1, 2, L, L, 64, 64}, attendRef(longformerMask), kTol16);
}

/// BigBird's layout i32[H, NB, NB], NB = ceil(L / 64): about a third of
/// the blocks, the diagonal, and for head 1 one block row of zeros (those
/// query rows see no key: zeros out).
ref::Tensor bigbirdLayout(int64_t H, int64_t L) {
  int64_t nb = (L + 63) / 64;
  ref::Tensor layout({H, nb, nb});
  std::mt19937 rng(11);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t r = 0; r < nb; ++r)
      for (int64_t c = 0; c < nb; ++c)
        layout.at({h, r, c}) = (r == c || rng() % 3 == 0) ? 1.0f : 0.0f;
  if (H > 1)
    for (int64_t c = 0; c < nb; ++c)
      layout.at({1, nb - 1, c}) = 0.0f;
  return layout;
}

template <Ty kInput>
void checkBigBird(const std::string &program, double tolerance,
                  emu::Options options = {}, int64_t D = 64) {
  for (int64_t L : {67, 130, 200}) {
    ref::Tensor layout = bigbirdLayout(2, L);
    ref::Mask mask = [layout](int64_t, int64_t h, int64_t i, int64_t j) {
      return layout.at({h, i / 64, j / 64}) != 0;
    };
    std::vector<Device> captures;
    captures.emplace_back(layout, Ty::I32);
    expectMatches(program,
                  kInput == Ty::F32 ? "bigbird_attention_d64_e64"
                                    : "bigbird_attention",
                  kInput, kInput, {1, 2, L, L, D, D}, attendRef(mask),
                  tolerance, std::move(captures), options);
  }
}

TEST(EmulatedBf16, BigBirdBlockSkipAndEmptyRows) {
  checkBigBird<Ty::BF16>("bf16_bigbird", kTol16);
}

Reference alibiRef(const ref::Tensor &slopes) {
  return attendRef(
      causal, [slopes](double s, int64_t, int64_t h, int64_t i, int64_t j) {
        return s - double(slopes.data[size_t(h)]) * double(i - j);
      });
}
ref::Tensor alibiSlopes(int64_t H) {
  ref::Tensor slopes({H});
  for (int64_t h = 0; h < H; ++h)
    slopes.data[size_t(h)] = std::exp2f(-8.0f * float(h + 1) / float(H));
  return slopes;
}

TEST(EmulatedBf16, Alibi) {
  ref::Tensor slopes = alibiSlopes(2);
  for (int64_t L : {67, 130}) {
    std::vector<Device> captures;
    captures.emplace_back(slopes, Ty::F32);
    expectMatches("bf16_alibi", "alibi_attention", Ty::BF16, Ty::BF16,
                  {1, 2, L, L, 64, 64}, alibiRef(slopes), kTol16,
                  std::move(captures));
  }
}

double softcap(double s, int64_t, int64_t, int64_t, int64_t) {
  return 30.0 * std::tanh(s / 30.0);
}

TEST(EmulatedBf16, SoftCapping) {
  for (int64_t L : {67, 130})
    expectMatches("bf16_softcap", "softcap_attention", Ty::BF16, Ty::BF16,
                  {1, 2, L, L, 64, 64}, attendRef(causal, softcap, 0.125),
                  kTol16, {}, {}, 4.0f);
}

TEST(EmulatedBf16, RowsWithNoKeyAndElementMask) {
  ref::Mask mask = [](int64_t, int64_t, int64_t i, int64_t j) {
    return j <= i && i % 3 != 0 && (i + j) % 5 != 1;
  };
  for (int64_t L : {2, 67, 130}) // L = 2: row 0 sees nothing, row 1 key 1
    expectMatches("extra", "sparse_rows", Ty::BF16, Ty::BF16,
                  {2, 1, L, L, 32, 32}, attendRef(mask), kTol16);
}

Reference windowRef(int64_t left, int64_t right) {
  return [=](const ref::Tensor &q, const ref::Tensor &k, const ref::Tensor &v) {
    return ref::windowed(q, k, v, left, right, 1, {});
  };
}

TEST(EmulatedBf16, BandEdgesInsideTiles) {
  for (int64_t L : {1, 67, 300})
    expectMatches("extra", "band_window", Ty::BF16, Ty::BF16,
                  {1, 2, L, L, 64, 64}, windowRef(37, 90), kTol16);
}

TEST(EmulatedBf16, GpuBenchWindows) {
  for (auto [name, d] : {std::pair<const char *, int64_t>{"window_d64", 64},
                         {"window_d128", 128}})
    expectMatches("bench_kernels", name, Ty::BF16, Ty::BF16,
                  {1, 1, 330, 330, d, d}, windowRef(128, 127), kTol16);
}

TEST(EmulatedF16, FullCausalWindow) {
  expectMatches("f16", "full_f16", Ty::F16, Ty::F16, {1, 2, 130, 67, 64, 128},
                attendRef(), kTol16);
  expectMatches("f16", "causal_f16", Ty::F16, Ty::F16, {1, 2, 130, 130, 64, 64},
                attendRef(causal), kTol16);
  for (int64_t L : {67, 200}) {
    std::vector<int64_t> globals;
    for (int64_t g : {5, 70})
      if (g < L)
        globals.push_back(g);
    expectMatches(
        "f16", "window_f16", Ty::F16, Ty::F16, {1, 2, L, L, 64, 64},
        [&](const ref::Tensor &q, const ref::Tensor &k, const ref::Tensor &v) {
          return ref::windowed(q, k, v, 100, 30, 3, globals);
        },
        kTol16);
  }
}

//===-- f32 (examples/*.attn): TF32 tensor cores
//----------------------------===//

const emu::Options kExact{}, kTf32{/*tf32Truncation=*/true};

TEST(EmulatedF32, FullEveryWidth) {
  for (auto [d, e] : {std::pair<int64_t, int64_t>{32, 32},
                      {64, 64},
                      {96, 96},
                      {128, 128},
                      {64, 128}})
    for (auto [lq, lk] : {std::pair<int64_t, int64_t>{1, 1}, {67, 130}}) {
      std::string name =
          "full_attention_d" + std::to_string(d) + "_e" + std::to_string(e);
      expectMatches("f32_full", name, Ty::F32, Ty::F32, {1, 2, lq, lk, d, e},
                    attendRef(), kTolF32, {}, kExact);
    }
}

TEST(EmulatedF32, CausalExactAndTf32) {
  for (int64_t L : kLengths) {
    expectMatches("f32_causal", "causal_attention_d64_e64", Ty::F32, Ty::F32,
                  {1, 2, L, L, 64, 64}, attendRef(causal), kTolF32, {}, kExact);
    expectMatches("f32_causal", "causal_attention_d64_e64", Ty::F32, Ty::F32,
                  {1, 2, L, L, 64, 64}, attendRef(causal), kTolTf32, {}, kTf32);
  }
}

TEST(EmulatedF32, LongformerBothForms) {
  for (int64_t L : {67, 300}) {
    expectMatches("f32_longformer", "longformer_attention_d64_e64", Ty::F32,
                  Ty::F32, {1, 1, L, L, 64, 64}, longformerRef(L), kTolF32, {},
                  kExact);
    expectMatches("f32_longformer", "longformer_masked_d64_e64", Ty::F32,
                  Ty::F32, {1, 1, L, L, 64, 64}, attendRef(longformerMask),
                  kTolF32, {}, kExact);
  }
}

TEST(EmulatedF32, BigBird) { checkBigBird<Ty::F32>("f32_bigbird", kTolF32); }

TEST(EmulatedF32, AlibiAndSoftCapping) {
  ref::Tensor slopes = alibiSlopes(2);
  std::vector<Device> captures;
  captures.emplace_back(slopes, Ty::F32);
  expectMatches("f32_alibi", "alibi_attention_d64_e64", Ty::F32, Ty::F32,
                {1, 2, 130, 130, 64, 64}, alibiRef(slopes), kTolF32,
                std::move(captures), kExact);
  expectMatches("f32_softcap", "softcap_attention_d64_e64", Ty::F32, Ty::F32,
                {1, 2, 130, 130, 64, 64}, attendRef(causal, softcap, 0.125),
                kTolF32, {}, kExact, 4.0f);
}

TEST(EmulatedF32, ScoreReadsCapture) {
  ref::Tensor bias({2, 2});
  std::mt19937 rng(3);
  bias.randomize(rng);
  ref::Score score = [bias](double s, int64_t b, int64_t h, int64_t,
                            int64_t j) {
    return s + double(bias.at({b, h})) * double(j % 7);
  };
  std::vector<Device> captures;
  captures.emplace_back(bias, Ty::F32);
  expectMatches("extra", "biased", Ty::F32, Ty::F32, {2, 2, 67, 130, 64, 32},
                attendRef(nullptr, score, 0.2), kTolF32, std::move(captures),
                kExact);
}

TEST(EmulatedF32, BandWrittenAsMask) {
  ref::Mask band = [](int64_t, int64_t, int64_t i, int64_t j) {
    return j <= i + 3 && i - j <= 100;
  };
  for (int64_t L : {1, 67, 300})
    expectMatches("extra", "band_mask", Ty::F32, Ty::F32, {1, 2, L, L, 64, 64},
                  attendRef(band), kTolF32, {}, kExact);
}

//===-- The emulator itself catches what a GPU would do wrong
//---------------===//

TEST(Emulator, RefusesTensorsShorterThanTheShapeSays) {
  mlir::gpu::GPUFuncOp fn =
      Programs::get().kernel("bf16_causal", "causal_attention");
  ASSERT_TRUE(fn);
  ref::Tensor t({1, 1, 70, 64});
  std::vector<Device> args(4, Device(t, Ty::BF16));
  std::vector<emu::Tensor> views;
  for (Device &d : args)
    views.push_back(d.view());
  views[1].bytes -= 128; // k claims 70 rows, holds 69
  std::string error = emu::launch(fn, views, {});
  EXPECT_NE(error.find("outside every tensor"), std::string::npos) << error;
}

} // namespace
