//===- RuntimeErrorsTest.cpp - bad arguments get a code and a message -----===//
#include "Harness.h"

#include "bigbird.h"
#include "causal.h"
#include "full.h"
#include "kernels.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace attnc;
using namespace attnc::test;
using ref::Tensor;

namespace {

class RuntimeErrors : public ::testing::Test {
protected:
  std::mt19937 rng{3};
  Tensor q = random(rng, {2, 3, 5, 16}), k = random(rng, {2, 3, 5, 16});
  Tensor v = random(rng, {2, 3, 5, 16}), out{{2, 3, 5, 16}};
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);

  void expectError(int rc, int code, const std::string &fragment) {
    EXPECT_EQ(rc, code);
    std::string msg = attn_last_error();
    EXPECT_NE(msg.find(fragment), std::string::npos) << msg;
  }

  // split_four (x f32[B, L, E] -> f32[B, 4, L, E/4]) on an x and an output
  // of these shapes is refused with `fragment`.
  void expectSplitFourError(const std::vector<int64_t> &xShape,
                            const std::vector<int64_t> &outShape,
                            const std::string &fragment) {
    Tensor x = random(rng, xShape), result(outShape);
    attn_tensor tx = view(x), tr = view(result);
    expectError(split_four(&tx, &tr), ATTN_ERR_SHAPE, fragment);
  }
};

TEST_F(RuntimeErrors, Valid) {
  ASSERT_EQ(causal_attention(&tq, &tk, &tv, &to), 0) << attn_last_error();
  EXPECT_STREQ(attn_last_error(), "");
}

TEST_F(RuntimeErrors, NullTensor) {
  expectError(causal_attention(&tq, nullptr, &tv, &to), ATTN_ERR_NULL,
              "causal_attention: argument 'k' is a null tensor");
}

TEST_F(RuntimeErrors, NullData) {
  tv.data = nullptr;
  expectError(causal_attention(&tq, &tk, &tv, &to), ATTN_ERR_NULL,
              "argument 'v' has a null data pointer");
}

TEST_F(RuntimeErrors, WrongRank) {
  tk.rank = 3;
  expectError(causal_attention(&tq, &tk, &tv, &to), ATTN_ERR_RANK,
              "argument 'k' has rank 3, expected 4");
}

TEST_F(RuntimeErrors, WrongDtype) {
  tq.dtype = ATTN_F16;
  expectError(causal_attention(&tq, &tk, &tv, &to), ATTN_ERR_DTYPE,
              "argument 'q' has dtype f16, expected f32");
}

TEST_F(RuntimeErrors, SymbolicDimensionsMustAgree) {
  Tensor k2 = random(rng, {2, 3, 6, 16});
  attn_tensor tk2 = view(k2);
  expectError(causal_attention(&tq, &tk2, &tv, &to), ATTN_ERR_SHAPE,
              "argument 'k' dimension 2 (L) is 6 but 'q' binds L = 5");
}

TEST_F(RuntimeErrors, OutputShapeIsChecked) {
  Tensor small({2, 3, 4, 16});
  attn_tensor ts = view(small);
  expectError(causal_attention(&tq, &tk, &tv, &ts), ATTN_ERR_SHAPE,
              "argument 'out' dimension 2 (L) is 4 but 'q' binds L = 5");
}

TEST_F(RuntimeErrors, NegativeShape) {
  tq.shape[0] = -1;
  expectError(causal_attention(&tq, &tk, &tv, &to), ATTN_ERR_SHAPE,
              "dimension 0 has size -1");
}

TEST_F(RuntimeErrors, NegativeStride) {
  tv.strides[3] = -1;
  expectError(causal_attention(&tq, &tk, &tv, &to), ATTN_ERR_STRIDES,
              "argument 'v' dimension 3 has stride -1");
}

TEST_F(RuntimeErrors, OverlappingOutput) {
  to.strides[2] = 8; // rows of 16 floats 8 apart
  expectError(causal_attention(&tq, &tk, &tv, &to), ATTN_ERR_STRIDES,
              "output 'out' has overlapping strides");
}

TEST_F(RuntimeErrors, ZeroStrideOutput) {
  to.strides[1] = 0;
  expectError(causal_attention(&tq, &tk, &tv, &to), ATTN_ERR_STRIDES,
              "argument 'out' dimension 1 has stride 0");
}

TEST_F(RuntimeErrors, DeviceMismatch) {
  tq.device = ATTN_CUDA;
  expectError(causal_attention(&tq, &tk, &tv, &to), ATTN_ERR_DEVICE,
              "built for the CPU");
}

TEST_F(RuntimeErrors, I32ParameterDtype) {
  Tensor layout({3, 1, 1});
  attn_tensor tl = view(layout); // f32 where i32 is declared
  expectError(bigbird_attention(&tq, &tk, &tv, &tl, &to), ATTN_ERR_DTYPE,
              "argument 'layout' has dtype f32, expected i32");
}

TEST_F(RuntimeErrors, LiteralDimensionsAreChecked) {
  // examples/full.attn declares no literal; build one by hand from the
  // header's contract instead: value width E must agree between v and out.
  Tensor v2 = random(rng, {2, 3, 5, 8});
  attn_tensor tv2 = view(v2);
  expectError(full_attention(&tq, &tk, &tv2, &to), ATTN_ERR_SHAPE,
              "argument 'out' dimension 3 (E) is 16 but 'v' binds E = 8");
}

TEST_F(RuntimeErrors, DeclaredLiteralDimensions) {
  // dense_block declares w : f32[48, 32]; a [48, 31] weight is refused.
  Tensor x = random(rng, {2, 5, 48}), w = random(rng, {48, 31});
  Tensor b = random(rng, {32}), g = random(rng, {32}), beta = random(rng, {32});
  Tensor y({2, 5, 32});
  attn_tensor tx = view(x), tw = view(w), tb = view(b), tg = view(g),
              tbeta = view(beta), ty = view(y);
  expectError(dense_block(&tx, &tw, &tb, &tg, &tbeta, &ty), ATTN_ERR_SHAPE,
              "dense_block: argument 'w' dimension 1 is 31, declared 32");
}

TEST_F(RuntimeErrors, DerivedOutputDimensionIsChecked) {
  // E = 24 makes E/4 = 6.
  expectSplitFourError({2, 5, 24}, {2, 4, 5, 5},
                       "split_four: argument 'out' dimension 3 (E/4) is 5 but "
                       "E/4 = 6 (E = 24 from 'x' dimension 2)");
  expectSplitFourError({2, 5, 24}, {2, 3, 5, 6},
                       "argument 'out' dimension 1 is 3, declared 4");
}

TEST_F(RuntimeErrors, HeadsMustDivideTheWidth) {
  expectSplitFourError({2, 5, 10}, {2, 4, 5, 2},
                       "split_four: dimension E/4 is not a whole number (E = "
                       "10 from 'x' dimension 2)");
  // A head count bound at run time: E/H with H from 'heads'.
  Tensor x = random(rng, {2, 5, 10});
  attn_tensor tx = view(x);
  Tensor heads({4}), out2({2, 4, 5, 2});
  attn_tensor th = view(heads), to2 = view(out2);
  expectError(split_symbolic(&tx, &th, &to2), ATTN_ERR_SHAPE,
              "split_symbolic: dimension E/H is not a whole number (E = 10 "
              "from 'x' dimension 2, H = 4 from 'heads' dimension 0)");
  float scratch[2];
  int64_t noHeads[] = {0}, emptyOut[] = {2, 0, 5, 0};
  attn_tensor tn = attn_make_tensor(&scratch[0], ATTN_F32, 1, noHeads);
  attn_tensor to0 = attn_make_tensor(&scratch[1], ATTN_F32, 4, emptyOut);
  expectError(split_symbolic(&tx, &tn, &to0), ATTN_ERR_SHAPE,
              "split_symbolic: dimension E/H divides by zero");
}

TEST_F(RuntimeErrors, EmptySequenceIsANoOp) {
  int64_t shape[] = {2, 3, 0, 16};
  attn_tensor eq = attn_make_tensor(q.data.data(), ATTN_F32, 4, shape);
  attn_tensor eo = attn_make_tensor(out.data.data(), ATTN_F32, 4, shape);
  EXPECT_EQ(causal_attention(&eq, &eq, &eq, &eo), 0) << attn_last_error();
}

TEST_F(RuntimeErrors, NoKeysIsAnErrorNotACrash) {
  // Queries but no keys: Halide's bounds check refuses the empty k.
  int64_t kshape[] = {2, 3, 0, 16};
  attn_tensor ek = attn_make_tensor(k.data.data(), ATTN_F32, 4, kshape);
  attn_tensor ev = attn_make_tensor(v.data.data(), ATTN_F32, 4, kshape);
  expectError(full_attention(&tq, &ek, &ev, &to), ATTN_ERR_KERNEL,
              "Input buffer k is accessed at");
}

TEST_F(RuntimeErrors, StateIsPerCallNotSticky) {
  tq.dtype = ATTN_I32;
  EXPECT_NE(causal_attention(&tq, &tk, &tv, &to), 0);
  tq.dtype = ATTN_F32;
  EXPECT_EQ(causal_attention(&tq, &tk, &tv, &to), 0);
  EXPECT_STREQ(attn_last_error(), "");
}

} // namespace
