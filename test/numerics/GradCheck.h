//===- GradCheck.h - gradients against central differences ----------------===//
//
// A backward kernel's gradients against central differences of a reference
// forward: with loss = Σ dout · forward(inputs), dloss/dx_e is estimated as
// (loss(x_e + ε) − loss(x_e − ε)) / (x_e⁺ − x_e⁻), where x_e± are the
// perturbed float inputs as stored (the denominator is their exact
// difference). With a double reference and ε = 2^-16 rounding adds ~1e-10
// and the truncation error ε²·f'''/6 ~1e-10; a reference that rounds its
// outputs to float takes a larger step (2^-8: ~1e-5 and ~1e-6).
//
// Functions with kinks (min, max, abs, relu): an element whose perturbation
// crosses one has one-sided differences that disagree by more than
// curvature explains, and is skipped (at most a quarter may be).
//
// Per input, 40 random elements and the last 8 (the end of the last row,
// where tiles are padded) are checked; the error is normwise,
// max |g − fd| / max |fd| over them, and must be ≤ 1e-3 (float32 kernels).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TEST_NUMERICS_GRADCHECK_H
#define ATTNC_TEST_NUMERICS_GRADCHECK_H

#include "Reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace attnc::test {

/// The reference forward: every output, in double, reading the inputs the
/// check perturbs.
using Forward = std::function<std::vector<double>()>;

inline constexpr double kStep = 1.0 / 65536; // 2^-16
inline constexpr double kTolerance = 1e-3;


inline double loss(const Forward &forward, const ref::Tensor &dout) {
  std::vector<double> y = forward();
  double sum = 0;
  for (size_t e = 0; e < y.size(); ++e)
    sum += y[e] * double(dout.data[e]);
  return sum;
}

/// Compares `grads[t]` with finite differences of the loss in `inputs[t]`
/// (which `forward` reads) for every t. A sample whose one-sided differences
/// differ by more than `curvature`·step·max(1, |slope|) is taken for a kink
/// and skipped; a smooth loss with a larger second derivative (an input
/// multiplied by i − j, as ALiBi's slopes) needs a larger `curvature`.
inline void checkGradients(const std::string &what, std::vector<ref::Tensor *> inputs,
                    const std::vector<ref::Tensor *> &grads, const Forward &forward,
                    const ref::Tensor &dout, std::mt19937 &rng,
                    double step = kStep, double curvature = 8) {
  double base = loss(forward, dout);
  for (size_t t = 0; t < inputs.size(); ++t) {
    ref::Tensor &x = *inputs[t];
    const ref::Tensor &g = *grads[t];
    ASSERT_EQ(g.data.size(), x.data.size());
    for (float value : g.data)
      ASSERT_TRUE(std::isfinite(value)) << what << " input " << t;
    std::vector<size_t> sample;
    std::uniform_int_distribution<size_t> pick(0, x.data.size() - 1);
    for (int s = 0; s < 40; ++s)
      sample.push_back(pick(rng));
    for (size_t e = x.data.size() >= 8 ? x.data.size() - 8 : 0;
         e < x.data.size(); ++e)
      sample.push_back(e);
    double worst = 0, largest = 0;
    int skipped = 0;
    for (size_t e : sample) {
      float orig = x.data[e];
      float up = float(orig + step), down = float(orig - step);
      x.data[e] = up;
      double lossUp = loss(forward, dout);
      x.data[e] = down;
      double lossDown = loss(forward, dout);
      x.data[e] = orig;
      double right = (lossUp - base) / (double(up) - double(orig));
      double left = (base - lossDown) / (double(orig) - double(down));
      // Smooth: the one-sided differences differ by about step·f''.
      if (std::abs(right - left) >
          curvature * step * std::max(1.0, std::abs(right))) {
        ++skipped; // a kink of min, max or abs between the two sides
        continue;
      }
      double fd = (lossUp - lossDown) / (double(up) - double(down));
      worst = std::max(worst, std::abs(double(g.data[e]) - fd));
      largest = std::max(largest, std::abs(fd));
    }
    EXPECT_LE(skipped, int(sample.size()) / 4) << what << " input " << t;
    double rel = worst / std::max(largest, 1e-12);
    std::printf("%-16s d(input %zu): rel. error %.2e (max |fd| %.3f, %d of "
                "%zu at a kink)\n",
                what.c_str(), t, rel, largest, skipped, sample.size());
    EXPECT_LE(rel, kTolerance) << what << " input " << t;
  }
}

} // namespace attnc::test

#endif
