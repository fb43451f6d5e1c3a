//===- ReversibleTest.cpp - reversible layers and their inverse -----------===//
//
// rev_layer (test/numerics/reversible.attn) against the plain C++ reference
// of y1 = x1 + F(x2), y2 = x2 + G(y1) on ragged lengths, and
// rev_layer_inverse reconstructing the inputs of a stack of 1, 8 and 32
// layers from its outputs (LANGUAGE.md: a stack trained with reversible
// layers recomputes its activations instead of storing them).
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"
#include "Harness.h"
#include "reversible.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

using namespace attnc;
using namespace attnc::test;
using ref::Tensor;

namespace {

/// The layer's weights: projections scaled like a transformer's
/// initialisation (uniform ±1/sqrt(fan-in)) so that a deep stack stays in
/// range.
struct Weights {
  Tensor lnG, lnB, wq, wk, wv, wo, w1, b1, w2, b2;
  explicit Weights(std::mt19937 &rng)
      : lnG(random(rng, {32}, 0.5f)), lnB(random(rng, {32}, 0.1f)),
        wq(random(rng, {32, 32}, 0.18f)), wk(random(rng, {32, 32}, 0.18f)),
        wv(random(rng, {32, 32}, 0.18f)), wo(random(rng, {32, 32}, 0.18f)),
        w1(random(rng, {32, 64}, 0.18f)), b1(random(rng, {64}, 0.1f)),
        w2(random(rng, {64, 32}, 0.12f)), b2(random(rng, {32}, 0.1f)) {
    for (float &g : lnG.data)
      g += 1.0f;
  }
};

Tensor add(const Tensor &a, const Tensor &b) {
  return ref::zip(a, b, [](double x, double y) { return x + y; });
}

Tensor F(const Tensor &x, const Weights &w) {
  Tensor h = ref::layerNorm(x, w.lnG, w.lnB, 1e-5);
  Tensor q = ref::splitHeads(ref::linear(h, w.wq), 2);
  Tensor k = ref::splitHeads(ref::linear(h, w.wk), 2);
  Tensor v = ref::splitHeads(ref::linear(h, w.wv), 2);
  auto causal = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  Tensor a = ref::attend(q, k, v, 1.0 / std::sqrt(16.0), causal);
  return ref::linear(ref::mergeHeads(a), w.wo);
}

Tensor G(const Tensor &x, const Weights &w) {
  Tensor h = ref::layerNorm(x, w.lnG, w.lnB, 1e-5);
  return ref::linear(ref::map(ref::linear(h, w.w1, &w.b1), ref::gelu), w.w2,
                     &w.b2);
}

/// Calls `kernel` (rev_layer or rev_layer_inverse) on (a, b) -> (c, d).
template <typename Kernel>
void call(Kernel kernel, Tensor &a, Tensor &b, Weights &w, Tensor &c,
          Tensor &d) {
  attn_tensor ta = view(a), tb = view(b), tg = view(w.lnG), tbeta = view(w.lnB),
              tq = view(w.wq), tk = view(w.wk), tv = view(w.wv),
              to = view(w.wo), t1 = view(w.w1), tb1 = view(w.b1),
              t2 = view(w.w2), tb2 = view(w.b2), tc = view(c), td = view(d);
  ASSERT_EQ(kernel(&ta, &tb, &tg, &tbeta, &tq, &tk, &tv, &to, &t1, &tb1, &t2,
                   &tb2, &tc, &td),
            0)
      << attn_last_error();
}

TEST(Reversible, ForwardMatchesReference) {
  std::mt19937 rng(21);
  Weights w(rng);
  for (int64_t L : {1, 13, 70}) {
    Tensor x1 = random(rng, {2, L, 32}), x2 = random(rng, {2, L, 32});
    Tensor y1({2, L, 32}, NAN), y2({2, L, 32}, NAN);
    call(rev_layer, x1, x2, w, y1, y2);
    Tensor e1 = add(x1, F(x2, w));
    Tensor e2 = add(x2, G(e1, w));
    EXPECT_LE(ref::maxAbsDiff(y1, e1), 1e-4) << "L = " << L;
    EXPECT_LE(ref::maxAbsDiff(y2, e2), 1e-4) << "L = " << L;
    // F and G are not negligible: the outputs are not the inputs.
    EXPECT_GT(ref::maxAbsDiff(y1, x1), 0.05);
    EXPECT_GT(ref::maxAbsDiff(y2, x2), 0.05);
  }
}

TEST(Reversible, InverseReconstructsInputs) {
  std::mt19937 rng(22);
  Weights w(rng);
  Tensor x1 = random(rng, {2, 45, 32}), x2 = random(rng, {2, 45, 32});
  Tensor y1({2, 45, 32}, NAN), y2({2, 45, 32}, NAN);
  call(rev_layer, x1, x2, w, y1, y2);
  Tensor r1({2, 45, 32}, NAN), r2({2, 45, 32}, NAN);
  call(rev_layer_inverse, y1, y2, w, r1, r2);
  EXPECT_LE(ref::maxAbsDiff(r1, x1), 1e-5);
  EXPECT_LE(ref::maxAbsDiff(r2, x2), 1e-5);
}

// A stack of N layers (each its own weights) run forward, then undone
// layer by layer from the top: the inputs come back within 1e-4. The error
// after each depth is printed (it grows with depth as each inverse step
// subtracts F and G recomputed from already-rounded values).
TEST(Reversible, DeepStackReconstructsInputs) {
  std::mt19937 rng(23);
  std::vector<Weights> layers;
  for (int n = 0; n < 32; ++n)
    layers.emplace_back(rng);
  Tensor x1 = random(rng, {1, 37, 32}), x2 = random(rng, {1, 37, 32});
  for (int depth : {1, 8, 32}) {
    Tensor a = x1, b = x2, c({1, 37, 32}), d({1, 37, 32});
    for (int n = 0; n < depth; ++n) {
      call(rev_layer, a, b, layers[size_t(n)], c, d);
      std::swap(a, c);
      std::swap(b, d);
    }
    double largest = 0;
    for (float v : a.data)
      largest = std::max(largest, double(std::fabs(v)));
    for (int n = depth - 1; n >= 0; --n) {
      call(rev_layer_inverse, a, b, layers[size_t(n)], c, d);
      std::swap(a, c);
      std::swap(b, d);
    }
    double err = std::max(ref::maxAbsDiff(a, x1), ref::maxAbsDiff(b, x2));
    std::printf("reversible stack of %2d layers: max |x - inverse(forward(x))| "
                "= %.2e (largest |y1| %.1f)\n",
                depth, err, largest);
    EXPECT_LE(err, 1e-4) << depth << " layers";
  }
}

/// The reference layer on (x1, x2), both outputs in one vector (y1 then y2).
std::vector<double> referenceLayer(const Tensor &x1, const Tensor &x2,
                                   const Weights &w) {
  Tensor y1 = add(x1, F(x2, w));
  Tensor y2 = add(x2, G(y1, w));
  std::vector<double> out(y1.data.begin(), y1.data.end());
  out.insert(out.end(), y2.data.begin(), y2.data.end());
  return out;
}

/// The weights' tensors in the kernel's order (after x1, x2).
std::vector<Tensor *> tensorsOf(Weights &w) {
  return {&w.lnG, &w.lnB, &w.wq, &w.wk, &w.wv, &w.wo, &w.w1, &w.b1, &w.w2, &w.b2};
}

/// rev_layer_backward(y1, y2, weights, dy1, dy2) -> x1, x2, dx1, dx2, and
/// one gradient per weight (`dw`, shaped like `w`'s tensors).
void backward(Tensor &y1, Tensor &y2, Weights &w, Tensor &dy1, Tensor &dy2,
              Tensor &x1, Tensor &x2, Tensor &dx1, Tensor &dx2, Weights &dw) {
  std::vector<attn_tensor> in;
  for (Tensor *t : {&y1, &y2})
    in.push_back(view(*t));
  for (Tensor *t : tensorsOf(w))
    in.push_back(view(*t));
  for (Tensor *t : {&dy1, &dy2})
    in.push_back(view(*t));
  std::vector<attn_tensor> out;
  for (Tensor *t : {&x1, &x2, &dx1, &dx2})
    out.push_back(view(*t));
  for (Tensor *t : tensorsOf(dw))
    out.push_back(view(*t));
  ASSERT_EQ(rev_layer_backward(&in[0], &in[1], &in[2], &in[3], &in[4], &in[5],
                               &in[6], &in[7], &in[8], &in[9], &in[10],
                               &in[11], &in[12], &in[13], &out[0], &out[1],
                               &out[2], &out[3], &out[4], &out[5], &out[6],
                               &out[7], &out[8], &out[9], &out[10], &out[11],
                               &out[12], &out[13]),
            0)
      << attn_last_error();
}

// F and G compose the float reference ops, whose rounding a step of 2^-6
// keeps below 2.5e-4 of the gradients (2^-8: up to 9.6e-4 on the stack).
constexpr double kLayerStep = 1.0 / 64;

TEST(Reversible, BackwardMatchesFiniteDifferences) {
  std::mt19937 rng(24);
  for (int64_t L : {1, 13}) {
    Weights w(rng), dw(rng);
    Tensor x1 = random(rng, {2, L, 32}), x2 = random(rng, {2, L, 32});
    Tensor y1({2, L, 32}, NAN), y2({2, L, 32}, NAN);
    call(rev_layer, x1, x2, w, y1, y2);
    Tensor dy1 = random(rng, {2, L, 32}), dy2 = random(rng, {2, L, 32});
    Tensor r1({2, L, 32}, NAN), r2({2, L, 32}, NAN), dx1({2, L, 32}, NAN),
        dx2({2, L, 32}, NAN);
    backward(y1, y2, w, dy1, dy2, r1, r2, dx1, dx2, dw);
    // The inputs come back from the outputs, as NAME_inverse gives them.
    EXPECT_LE(ref::maxAbsDiff(r1, x1), 1e-5);
    EXPECT_LE(ref::maxAbsDiff(r2, x2), 1e-5);
    Tensor dout({2 * 2 * L * 32});
    std::copy(dy1.data.begin(), dy1.data.end(), dout.data.begin());
    std::copy(dy2.data.begin(), dy2.data.end(), dout.data.begin() + dy1.size());
    std::vector<Tensor *> inputs = {&x1, &x2}, grads = {&dx1, &dx2};
    for (Tensor *t : tensorsOf(w))
      inputs.push_back(t);
    for (Tensor *t : tensorsOf(dw))
      grads.push_back(t);
    Forward forward = [&] { return referenceLayer(x1, x2, w); };
    checkGradients("reversible L=" + std::to_string(L), inputs, grads, forward,
                   dout, rng, kLayerStep);
  }
}

// Training a stack without stored activations: the forward keeps only the
// top outputs, then each layer's backward, from the top, takes the outputs
// and gradients the layer above returned and returns its own inputs and
// gradients. The bottom gradients (x1, x2 and the first layer's weights)
// match central differences of the whole stack.
TEST(Reversible, StackBackwardChains) {
  std::mt19937 rng(25);
  const int depth = 4;
  const int64_t L = 11;
  std::vector<Weights> layers, grads;
  for (int n = 0; n < depth; ++n) {
    layers.emplace_back(rng);
    grads.emplace_back(rng);
  }
  Tensor x1 = random(rng, {1, L, 32}), x2 = random(rng, {1, L, 32});
  Tensor a = x1, b = x2, c({1, L, 32}), d({1, L, 32});
  for (int n = 0; n < depth; ++n) {
    call(rev_layer, a, b, layers[size_t(n)], c, d);
    std::swap(a, c);
    std::swap(b, d);
  }
  Tensor dy1 = random(rng, {1, L, 32}), dy2 = random(rng, {1, L, 32});
  Tensor da = dy1, db = dy2, dc({1, L, 32}), dd({1, L, 32});
  for (int n = depth - 1; n >= 0; --n) {
    backward(a, b, layers[size_t(n)], da, db, c, d, dc, dd, grads[size_t(n)]);
    std::swap(a, c);
    std::swap(b, d);
    std::swap(da, dc);
    std::swap(db, dd);
  }
  EXPECT_LE(ref::maxAbsDiff(a, x1), 1e-4);
  EXPECT_LE(ref::maxAbsDiff(b, x2), 1e-4);
  Tensor dout({2 * L * 32});
  std::copy(dy1.data.begin(), dy1.data.end(), dout.data.begin());
  std::copy(dy2.data.begin(), dy2.data.end(), dout.data.begin() + dy1.size());
  Forward stack = [&] {
    Tensor p = x1, q = x2;
    for (int n = 0; n < depth; ++n) {
      p = add(p, F(q, layers[size_t(n)]));
      q = add(q, G(p, layers[size_t(n)]));
    }
    std::vector<double> out(p.data.begin(), p.data.end());
    out.insert(out.end(), q.data.begin(), q.data.end());
    return out;
  };
  std::vector<Tensor *> inputs = {&x1, &x2}, got = {&da, &db};
  for (Tensor *t : tensorsOf(layers[0]))
    inputs.push_back(t);
  for (Tensor *t : tensorsOf(grads[0]))
    got.push_back(t);
  checkGradients("stack of 4", inputs, got, stack, dout, rng, kLayerStep);
}

} // namespace
