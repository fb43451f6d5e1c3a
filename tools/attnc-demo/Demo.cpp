//===- Demo.cpp - run every compiled example against the reference --------===//
//
// For each kernel: random inputs, the best of three timed calls (all cores),
// the plain C++ reference, and one table row with GFLOP/s of useful work
// (4·D per allowed query-key pair; for the reversible layer also its
// matmuls, 2 per multiply-add), % of the measured FP32 peak of all cores
// and the max abs error.
//
//===----------------------------------------------------------------------===//
#include "Baselines.h"
#include "Lsh.h"
#include "Reference.h"

#include "alibi.h"
#include "bigbird.h"
#include "causal.h"
#include "full.h"
#include "longformer.h"
#include "reformer.h"
#include "reversible.h"
#include "softcap.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

using namespace attnc;
using ref::Tensor;

namespace {

constexpr int64_t B = 1, H = 8, D = 64;
constexpr double kTolerance = 1e-4;

attn_tensor view(Tensor &t) {
  return attn_make_tensor(t.data.data(), ATTN_F32, int32_t(t.shape.size()),
                          t.shape.data());
}

Tensor random(std::mt19937 &rng, std::vector<int64_t> shape) {
  Tensor t(std::move(shape));
  t.randomize(rng);
  return t;
}

struct Row {
  std::string kernel, shape;
  double ms = 0, gflops = 0, peakPct = 0, err = 0;
  bool ok = false;
  std::string error;
};

double peakAllCores = 0;
int failures = 0;

/// Times `call` (best of three, `flops` each), then checks it with
/// `error` (the max abs error against the reference).
void runChecked(const char *kernel, std::string shape, double flops,
                const std::function<int()> &call,
                const std::function<double()> &error) {
  Row r;
  r.kernel = kernel;
  r.shape = std::move(shape);
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    int rc = call();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             t0).count();
    if (rc != 0) {
      r.error = attn_last_error();
      break;
    }
    best = std::min(best, s);
  }
  if (r.error.empty()) {
    r.ms = best * 1e3;
    r.gflops = flops / best / 1e9;
    r.peakPct = peakAllCores > 0 ? 100.0 * r.gflops / peakAllCores : 0.0;
    r.err = error();
    r.ok = r.err <= kTolerance;
  }
  failures += !r.ok;
  if (!r.error.empty())
    std::printf("%-25s %-22s  FAILED: %s\n", r.kernel.c_str(), r.shape.c_str(),
                r.error.c_str());
  else
    std::printf("%-25s %-22s %9.2f %9.1f %7.1f%% %11.2e  %s\n",
                r.kernel.c_str(), r.shape.c_str(), r.ms, r.gflops, r.peakPct,
                r.err, r.ok ? "ok" : "MISMATCH");
  std::fflush(stdout);
}

/// An attention kernel's row: `pairs` query-key pairs of useful work, its
/// output against `expected`.
void run(const char *kernel, std::string shape, double pairs,
         const std::function<int()> &call, const Tensor &out,
         const Tensor &expected) {
  runChecked(kernel, std::move(shape), 4.0 * D * pairs, call,
             [&] { return ref::maxAbsDiff(out, expected); });
}

/// examples/reversible.attn (E = 512, 8 heads of 64, feed-forward 2048):
/// the layer against the reference, then its generated inverse and
/// backward giving the inputs back from the outputs.
void runReversible(std::mt19937 &rng) {
  const int64_t L = 256, E = 512, F = 2048;
  auto weight = [&](int64_t in, int64_t out) {
    Tensor w({in, out});
    w.randomize(rng, -1.0f / std::sqrt(float(in)), 1.0f / std::sqrt(float(in)));
    return w;
  };
  Tensor x1 = random(rng, {B, L, E}), x2 = random(rng, {B, L, E});
  Tensor g1({E}, 1.0f), b1n({E}), g2({E}, 1.0f), b2n({E});
  Tensor wq = weight(E, E), wk = weight(E, E), wv = weight(E, E),
         wo = weight(E, E), w1 = weight(E, F), w2 = weight(F, E);
  Tensor bias1({F}), bias2({E});
  Tensor y1({B, L, E}), y2({B, L, E}), r1({B, L, E}), r2({B, L, E});
  std::vector<attn_tensor> weights = {view(g1), view(b1n), view(wq), view(wk),
                                      view(wv), view(wo),  view(g2), view(b2n),
                                      view(w1), view(bias1), view(w2), view(bias2)};
  attn_tensor tx1 = view(x1), tx2 = view(x2), ty1 = view(y1), ty2 = view(y2),
              tr1 = view(r1), tr2 = view(r2);
  auto layer = [&](decltype(reversible_layer) *kernel, attn_tensor *a,
                   attn_tensor *b, attn_tensor *c, attn_tensor *d) {
    attn_tensor *w = weights.data();
    return kernel(a, b, &w[0], &w[1], &w[2], &w[3], &w[4], &w[5], &w[6],
                  &w[7], &w[8], &w[9], &w[10], &w[11], c, d);
  };
  auto add = [](const Tensor &a, const Tensor &b) {
    return ref::zip(a, b, [](double x, double y) { return x + y; });
  };
  auto causal = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  auto f = [&](const Tensor &x) {
    Tensor h = ref::layerNorm(x, g1, b1n, 1e-5);
    Tensor a = ref::attend(ref::splitHeads(ref::linear(h, wq), 8),
                           ref::splitHeads(ref::linear(h, wk), 8),
                           ref::splitHeads(ref::linear(h, wv), 8),
                           1.0 / std::sqrt(64.0), causal);
    return ref::linear(ref::mergeHeads(a), wo);
  };
  auto g = [&](const Tensor &x) {
    Tensor h = ref::layerNorm(x, g2, b2n, 1e-5);
    return ref::linear(ref::map(ref::linear(h, w1, &bias1), ref::gelu), w2,
                       &bias2);
  };
  Tensor e1 = add(x1, f(x2));
  Tensor e2 = add(x2, g(e1));
  double flops = 2.0 * B * L * (4 * E * E + 2 * E * F) +
                 4.0 * 64 * B * 8 * double(L) * double(L + 1) / 2;
  std::string shape = "[" + std::to_string(B) + "," + std::to_string(L) +
                      "," + std::to_string(E) + "] x2";
  runChecked("reversible_layer", shape, flops,
             [&] { return layer(reversible_layer, &tx1, &tx2, &ty1, &ty2); },
             [&] {
               return std::max(ref::maxAbsDiff(y1, e1), ref::maxAbsDiff(y2, e2));
             });
  runChecked("reversible_layer_inverse", shape, flops,
             [&] {
               return layer(reversible_layer_inverse, &ty1, &ty2, &tr1, &tr2);
             },
             [&] {
               return std::max(ref::maxAbsDiff(r1, x1), ref::maxAbsDiff(r2, x2));
             });
  // The generated backward: from y1, y2 and their gradients, the inputs
  // (checked here, as the inverse's) and the gradients of x1, x2 and every
  // weight (checked against finite differences by ReversibleTest). Its
  // arithmetic: the inverse's, then twice the matmuls and 2.5× the
  // attention (the gradient rules).
  Tensor dy1 = random(rng, {B, L, E}), dy2 = random(rng, {B, L, E});
  Tensor bx1({B, L, E}), bx2({B, L, E}), dx1({B, L, E}), dx2({B, L, E});
  std::vector<Tensor> dw;
  for (Tensor *w : {&g1, &b1n, &wq, &wk, &wv, &wo, &g2, &b2n, &w1, &bias1,
                    &w2, &bias2})
    dw.emplace_back(w->shape);
  std::vector<attn_tensor> grads;
  for (Tensor &t : dw)
    grads.push_back(view(t));
  attn_tensor tdy1 = view(dy1), tdy2 = view(dy2), tbx1 = view(bx1),
              tbx2 = view(bx2), tdx1 = view(dx1), tdx2 = view(dx2);
  double linearFlops = 2.0 * B * L * (4 * E * E + 2 * E * F);
  double backwardFlops = flops + 2 * linearFlops + 2.5 * (flops - linearFlops);
  runChecked("reversible_layer_backward", shape, backwardFlops,
             [&] {
               attn_tensor *w = weights.data(), *d = grads.data();
               return reversible_layer_backward(
                   &ty1, &ty2, &w[0], &w[1], &w[2], &w[3], &w[4], &w[5],
                   &w[6], &w[7], &w[8], &w[9], &w[10], &w[11], &tdy1, &tdy2,
                   &tbx1, &tbx2, &tdx1, &tdx2, &d[0], &d[1], &d[2], &d[3],
                   &d[4], &d[5], &d[6], &d[7], &d[8], &d[9], &d[10], &d[11]);
             },
             [&] {
               return std::max(ref::maxAbsDiff(bx1, x1), ref::maxAbsDiff(bx2, x2));
             });
}

/// Counts the query-key pairs a mask allows: the useful work.
double countPairs(int64_t Lq, int64_t Lk, const ref::Mask &mask) {
  double n = 0;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < Lq; ++i)
      for (int64_t j = 0; j < Lk; ++j)
        n += !mask || mask(0, h, i, j);
  return n * B;
}

std::string shapeOf(int64_t L) {
  return "[" + std::to_string(B) + "," + std::to_string(H) + "," +
         std::to_string(L) + "," + std::to_string(D) + "]";
}

} // namespace

int main() {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  double onePeak = bench::measureFmaPeakGflops();
  peakAllCores = onePeak * cores;
  std::printf("attnc demo: FP32 peak measured by an FMA loop: %.1f GFLOP/s "
              "per core x %u cores\n\n", onePeak, cores);
  std::printf("%-25s %-22s %9s %9s %8s %11s\n", "kernel", "shape [B,H,L,D]",
              "time(ms)", "GFLOP/s", "%peak", "max|err|");
  std::printf("%s\n", std::string(93, '-').c_str());

  std::mt19937 rng(2024);
  double scale = 1.0 / std::sqrt(double(D));
  const int64_t L = 1024;
  Tensor q = random(rng, {B, H, L, D}), k = random(rng, {B, H, L, D});
  Tensor v = random(rng, {B, H, L, D}), out({B, H, L, D});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);

  {
    int64_t S = 1536; // cross-attention: Lk != Lq
    Tensor kS = random(rng, {B, H, S, D}), vS = random(rng, {B, H, S, D});
    attn_tensor tks = view(kS), tvs = view(vS);
    run("full_attention", shapeOf(L) + " S=1536", double(B * H * L * S),
        [&] { return full_attention(&tq, &tks, &tvs, &to); }, out,
        ref::attend(q, kS, vS, scale));
  }
  auto causal = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  run("causal_attention", shapeOf(L), countPairs(L, L, causal),
      [&] { return causal_attention(&tq, &tk, &tv, &to); }, out,
      ref::attend(q, k, v, scale, causal));
  {
    const int64_t LL = 4096;
    Tensor ql = random(rng, {B, H, LL, D}), kl = random(rng, {B, H, LL, D});
    Tensor vl = random(rng, {B, H, LL, D}), ol({B, H, LL, D});
    attn_tensor a = view(ql), b = view(kl), c = view(vl), o = view(ol);
    std::vector<int64_t> globals = {0, 1, 4095};
    auto mask = [&](int64_t, int64_t, int64_t i, int64_t j) {
      for (int64_t g : globals)
        if (i == g || j == g)
          return true;
      return (j - i) % 2 == 0 && std::llabs(j - i) <= 256;
    };
    run("longformer_attention", shapeOf(LL), countPairs(LL, LL, mask),
        [&] { return longformer_attention(&a, &b, &c, &o); }, ol,
        ref::windowed(ql, kl, vl, 128, 128, 2, globals));
  }
  auto lfMask = [](int64_t, int64_t, int64_t i, int64_t j) {
    return (std::llabs(i - j) <= 256 && (i - j) % 2 == 0) || i == 0 || j == 0;
  };
  run("longformer_masked", shapeOf(L), countPairs(L, L, lfMask),
      [&] { return longformer_masked(&tq, &tk, &tv, &to); }, out,
      ref::attend(q, k, v, scale, lfMask));
  {
    int64_t NB = L / 64;
    std::vector<int32_t> layout(size_t(H * NB * NB));
    for (int64_t h = 0; h < H; ++h) // window of 3 blocks, global block 0, random
      for (int64_t r = 0; r < NB; ++r)
        for (int64_t c = 0; c < NB; ++c)
          layout[size_t((h * NB + r) * NB + c)] =
              std::llabs(r - c) <= 1 || r == 0 || c == 0 || (r * 7 + c * 3 + h) % 11 == 0;
    int64_t lshape[] = {H, NB, NB};
    attn_tensor tl = attn_make_tensor(layout.data(), ATTN_I32, 3, lshape);
    auto mask = [&](int64_t, int64_t h, int64_t i, int64_t j) {
      return layout[size_t((h * NB + i / 64) * NB + j / 64)] != 0;
    };
    run("bigbird_attention", shapeOf(L), countPairs(L, L, mask),
        [&] { return bigbird_attention(&tq, &tk, &tv, &tl, &to); }, out,
        ref::attend(q, k, v, scale, mask));
  }
  {
    Tensor slopes({H});
    for (int64_t h = 0; h < H; ++h)
      slopes.data[size_t(h)] = std::pow(2.0f, -8.0f * float(h + 1) / float(H));
    attn_tensor ts = view(slopes);
    run("alibi_attention", shapeOf(L), countPairs(L, L, causal),
        [&] { return alibi_attention(&tq, &tk, &tv, &ts, &to); }, out,
        ref::attend(q, k, v, scale, causal,
                    [&](double s, int64_t, int64_t h, int64_t i, int64_t j) {
                      return s - double(slopes.data[size_t(h)]) * double(i - j);
                    }));
  }
  run("softcap_attention", shapeOf(L), countPairs(L, L, causal),
      [&] { return softcap_attention(&tq, &tk, &tv, &to); }, out,
      ref::attend(q, k, v, 0.125, causal,
                  [](double s, int64_t, int64_t, int64_t, int64_t) {
                    return 30.0 * std::tanh(s / 30.0);
                  }));
  {
    // Reformer LSH (examples/reformer.attn): 8 buckets, 2 rounds, chunks of
    // 64 seeing themselves and the chunk before; useful pairs per head are
    // R·L·C·(before + 1).
    const int64_t LR = 2048, R = 2, C = 64;
    Tensor qk = random(rng, {B, H, LR, D}), vr = random(rng, {B, H, LR, D});
    Tensor orr({B, H, LR, D});
    attn_tensor a = view(qk), b = view(vr), o = view(orr);
    double pairs = double(B * H * R * LR * C * 2);
    Tensor seeded = ref::lshRotations(42, H, D, R, 4);
    ref::IndexTensor order, undo;
    ref::sortChunk(ref::hashBucket(qk, seeded), order, undo);
    Tensor chunkOut, chunkLse;
    ref::chunkedAttend(qk, qk, vr, order, C, 1, 0, true, true, true, chunkOut,
                       chunkLse);
    run("reformer_lsh", shapeOf(LR) + " R=2", pairs,
        [&] { return reformer_lsh(&a, &b, &o); }, orr,
        ref::combineRounds(chunkOut, chunkLse));
    run("reformer_lsh_composite", shapeOf(LR) + " R=2", pairs,
        [&] { return reformer_lsh_composite(&a, &b, &o); }, orr,
        ref::lshAttend(qk, vr, seeded, C, 1, 0, true));
    Tensor rot = random(rng, {H, D, R, 4});
    attn_tensor tr = view(rot);
    run("reformer_lsh_rotations", shapeOf(LR) + " R=2", pairs,
        [&] { return reformer_lsh_rotations(&a, &b, &tr, &o); }, orr,
        ref::lshAttend(qk, vr, rot, C, 1, 0, false));
  }
  runReversible(rng);
  std::printf("\n%s\n", failures ? "demo: some kernels FAILED"
                                 : "demo: every kernel matches the reference");
  return failures ? 1 : 0;
}
