//===- TrainBench.cpp - a training step of a reversible stack -------------===//
//
//   attnc-bench-train reversible|storing N [L]
//
// One training step (forward through N layers, then backward to the inputs
// and every weight) of bench/train.attn's layer on [1, L, 256] (L = 4096 by
// default), on every core:
//
//  - reversible: the forward keeps only the current pair of activations;
//    the backward runs rev_layer_backward from the top, each call
//    reconstructing its layer's inputs from its outputs (RevNet);
//  - storing: the same layer without `reversible` (plain_layer); the
//    forward stores every layer's inputs, the backward runs
//    plain_layer_backward (attnc --grad) on them.
//
// Prints the time of the step and the peak resident memory beyond what any
// depth needs: parameters and gradients of all N layers and one layer's
// activations (inputs, outputs and their gradients), allocated and touched
// before the step. One configuration per process: the peak is a high-water
// mark (VmHWM). bench/train.sh runs N = 2, 4, 8, 16 for both.
//
//===----------------------------------------------------------------------===//
#include "ResidentMemory.h"
#include "train.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

using attnc::bench::statusMiB;

namespace {

constexpr int64_t kWidth = 256, kHidden = 1024;

struct Buffer {
  std::vector<float> data;
  std::vector<int64_t> shape;
  attn_tensor t;
  explicit Buffer(std::vector<int64_t> s, std::mt19937 *rng = nullptr,
                  float scale = 1.0f, float offset = 0.0f)
      : shape(std::move(s)) {
    size_t n = 1;
    for (int64_t d : shape)
      n *= size_t(d);
    data.assign(n, 0.0f);
    if (rng) {
      std::uniform_real_distribution<float> u(-scale, scale);
      for (float &x : data)
        x = offset + u(*rng);
    }
    t = attn_make_tensor(data.data(), ATTN_F32, int32_t(shape.size()),
                         shape.data());
  }
  Buffer(const Buffer &) = delete;
};

/// One layer's weights (or their gradients), in the kernels' order.
struct Layer {
  std::vector<Buffer *> w;
  Layer(std::mt19937 *rng) {
    auto mk = [&](std::vector<int64_t> s, float scale, float offset = 0) {
      w.push_back(new Buffer(std::move(s), rng, scale, offset));
    };
    float p = 1.0f / 16, h = 1.0f / 32; // ±1/sqrt(fan-in)
    mk({kWidth}, 0.1f, 1.0f); mk({kWidth}, 0.1f);
    for (int k = 0; k < 3; ++k) // wqk, wv, wo
      mk({kWidth, kWidth}, p);
    mk({kWidth}, 0.1f, 1.0f); mk({kWidth}, 0.1f);
    mk({kWidth, kHidden}, p); mk({kHidden}, 0.1f);
    mk({kHidden, kWidth}, h); mk({kWidth}, 0.1f);
  }
  const attn_tensor *in(int k) const { return &w[size_t(k)]->t; }
  attn_tensor *out(int k) { return &w[size_t(k)]->t; }
};

#define WEIGHTS_IN(l) l.in(0), l.in(1), l.in(2), l.in(3), l.in(4), l.in(5), \
    l.in(6), l.in(7), l.in(8), l.in(9), l.in(10)
#define WEIGHTS_OUT(l) l.out(0), l.out(1), l.out(2), l.out(3), l.out(4), \
    l.out(5), l.out(6), l.out(7), l.out(8), l.out(9), l.out(10)

int fail(const char *what) {
  std::fprintf(stderr, "attnc-bench-train: %s: %s\n", what, attn_last_error());
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3 || (std::string(argv[1]) != "reversible" &&
                   std::string(argv[1]) != "storing")) {
    std::fprintf(stderr, "usage: attnc-bench-train reversible|storing N [L]\n");
    return 2;
  }
  bool reversible = std::string(argv[1]) == "reversible";
  int depth = std::atoi(argv[2]);
  int64_t L = argc > 3 ? std::atoll(argv[3]) : 4096;
  if (depth < 1 || L < 1) {
    std::fprintf(stderr, "attnc-bench-train: N and L must be positive\n");
    return 2;
  }
  std::mt19937 rng(3);
  std::vector<Layer> layers, grads;
  for (int n = 0; n < depth; ++n) {
    layers.emplace_back(&rng);
    grads.emplace_back(nullptr);
  }
  std::vector<int64_t> act = {1, L, kWidth};
  // One layer's activations: inputs, outputs and their gradients.
  Buffer a(act, &rng), b(act, &rng), c(act), d(act), da(act, &rng),
      db(act, &rng), dc(act), dd(act);
  double baseline = statusMiB("VmRSS");

  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<float>> saved; // storing: each layer's inputs
  for (int n = 0; n < depth; ++n) {
    Layer &l = layers[size_t(n)];
    if (reversible) {
      if (rev_layer(&a.t, &b.t, WEIGHTS_IN(l), &c.t, &d.t))
        return fail("rev_layer");
    } else {
      saved.push_back(a.data);
      saved.push_back(b.data);
      if (plain_layer(&a.t, &b.t, WEIGHTS_IN(l), &c.t, &d.t))
        return fail("plain_layer");
    }
    std::swap(a.data, c.data);
    std::swap(b.data, d.data);
    a.t.data = a.data.data(); b.t.data = b.data.data();
    c.t.data = c.data.data(); d.t.data = d.data.data();
  }
  for (int n = depth - 1; n >= 0; --n) {
    Layer &l = layers[size_t(n)], &g = grads[size_t(n)];
    if (reversible) {
      // (a, b) are the layer's outputs; c, d receive its inputs.
      if (rev_layer_backward(&a.t, &b.t, WEIGHTS_IN(l), &da.t, &db.t, &c.t,
                             &d.t, &dc.t, &dd.t, WEIGHTS_OUT(g)))
        return fail("rev_layer_backward");
      std::swap(a.data, c.data);
      std::swap(b.data, d.data);
    } else {
      Buffer x1(act), x2(act);
      x1.data.swap(saved[size_t(2 * n)]);
      x2.data.swap(saved[size_t(2 * n + 1)]);
      x1.t.data = x1.data.data();
      x2.t.data = x2.data.data();
      if (plain_layer_backward(&x1.t, &x2.t, WEIGHTS_IN(l), &da.t, &db.t,
                               &dc.t, &dd.t, WEIGHTS_OUT(g)))
        return fail("plain_layer_backward");
    }
    std::swap(da.data, dc.data);
    std::swap(db.data, dd.data);
    a.t.data = a.data.data(); b.t.data = b.data.data();
    c.t.data = c.data.data(); d.t.data = d.data.data();
    da.t.data = da.data.data(); db.t.data = db.data.data();
    dc.t.data = dc.data.data(); dd.t.data = dd.data.data();
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  double peak = statusMiB("VmHWM");
  double sum = 0;
  for (float v : da.data)
    sum += double(v);
  std::printf("%-10s N = %2d, L = %lld: step %.2f s (forward + backward), "
              "peak RSS %.1f MiB, %.1f MiB beyond parameters, gradients and "
              "one layer's activations (checksum of dx1 %.4g)\n",
              argv[1], depth, (long long)L, seconds, peak, peak - baseline,
              sum);
  return 0;
}
