//===- Harness.h - calling generated kernels on reference tensors ---------===//
#ifndef ATTNC_TEST_NUMERICS_HARNESS_H
#define ATTNC_TEST_NUMERICS_HARNESS_H

#include "Reference.h"
#include "attnc/runtime.h"

namespace attnc::test {

/// A dense descriptor for a reference tensor (no copy).
inline attn_tensor view(ref::Tensor &t, attn_dtype dtype = ATTN_F32) {
  return attn_make_tensor(t.data.data(), dtype, int32_t(t.shape.size()),
                          t.shape.data());
}

/// Tensors of ragged sizes filled with uniform noise.
inline ref::Tensor random(std::mt19937 &rng, std::vector<int64_t> shape,
                          float scale = 1.0f) {
  ref::Tensor t(std::move(shape));
  t.randomize(rng, -scale, scale);
  return t;
}

} // namespace attnc::test

#endif
