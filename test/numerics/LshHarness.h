//===- LshHarness.h - index tensors for the LSH kernels' tests ------------===//
#ifndef ATTNC_TEST_NUMERICS_LSHHARNESS_H
#define ATTNC_TEST_NUMERICS_LSHHARNESS_H

#include "Lsh.h"
#include "attnc/runtime.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace attnc::test {

/// A dense i32 descriptor for a reference index tensor (no copy).
inline attn_tensor viewI32(ref::IndexTensor &t) {
  return attn_make_tensor(t.data.data(), ATTN_I32, int32_t(t.shape.size()),
                          t.shape.data());
}

/// Random permutations of 0 … L−1 along the last dimension.
inline ref::IndexTensor randomOrder(std::mt19937 &rng, int64_t B, int64_t H,
                                    int64_t R, int64_t L) {
  ref::IndexTensor o({B, H, R, L});
  for (int64_t row = 0; row < B * H * R; ++row) {
    auto first = o.data.begin() + row * L;
    std::iota(first, first + L, 0);
    std::shuffle(first, first + L, rng);
  }
  return o;
}

} // namespace attnc::test

#endif
