//===- LshGradTest.cpp - LSH backward kernels vs finite differences -------===//
//
// Each NAME_backward of test/numerics/lsh_grad.attn against central
// differences (GradCheck.h, ε = 2^-16) of the double-precision reference
// of LANGUAGE.md's LSH semantics (test/reference/Lsh.cpp). Shapes are
// ragged: R·L not a multiple of the chunk, L = 1, L below the chunk (the
// composite's one full pass), few chunks so that neighbours repeat.
// In the chain and the composite a perturbation may move a token to another
// bucket; the check skips such samples (its one-sided differences
// disagree), at most a quarter of them.
//
//===----------------------------------------------------------------------===//
#include "GradCheck.h"
#include "Harness.h"
#include "LshHarness.h"
#include "lsh_grad.h"
#include "reformer.h" // examples/reformer.attn with --grad

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

using namespace attnc;
using namespace attnc::test;
using ref::IndexTensor;
using ref::Tensor;

namespace {

struct ChunkedCase {
  int64_t chunk, before, after;
  bool causal, selfMask, normalizeKeys;
};

using ChunkedBackward = int (*)(const attn_tensor *, const attn_tensor *,
                                const attn_tensor *, const attn_tensor *,
                                const attn_tensor *, const attn_tensor *,
                                attn_tensor *, attn_tensor *, attn_tensor *);

/// chunked_attend with separate q and k under a random order: the loss
/// weighs out by dout and lse by dlse (both results carry a gradient).
void checkChunked(const std::string &name, ChunkedBackward backward,
                  const ChunkedCase &c, std::mt19937 &rng) {
  const int64_t B = 2, H = 2, D = 8, E = 6;
  for (int64_t R : {1, 2}) {
    for (int64_t L : {1, 3, 7, 13}) {
      Tensor q = random(rng, {B, H, L, D}), k = random(rng, {B, H, L, D}),
             v = random(rng, {B, H, L, E});
      IndexTensor order = randomOrder(rng, B, H, R, L);
      Tensor dout = random(rng, {B, H, R, L, E}),
             dlse = random(rng, {B, H, R, L});
      Tensor dq(q.shape, NAN), dk(k.shape, NAN), dv(v.shape, NAN);
      attn_tensor tq = view(q), tk = view(k), tv = view(v),
                  to = viewI32(order), tdo = view(dout), tdl = view(dlse),
                  gq = view(dq), gk = view(dk), gv = view(dv);
      ASSERT_EQ(backward(&tq, &tk, &tv, &to, &tdo, &tdl, &gq, &gk, &gv), 0)
          << attn_last_error();
      // One loss over both results: out's elements, then lse's.
      Tensor both({int64_t(dout.data.size() + dlse.data.size())});
      std::copy(dout.data.begin(), dout.data.end(), both.data.begin());
      std::copy(dlse.data.begin(), dlse.data.end(),
                both.data.begin() + dout.data.size());
      Forward forward = [&] {
        return ref::chunkedAttendExact(q, k, v, order, c.chunk, c.before,
                                       c.after, c.causal, c.selfMask,
                                       c.normalizeKeys);
      };
      checkGradients(name + " R=" + std::to_string(R) + " L=" +
                         std::to_string(L),
                     {&q, &k, &v}, {&dq, &dk, &dv}, forward, both, rng);
    }
  }
}

TEST(LshGrad, ChunkedAttend) {
  std::mt19937 rng(21);
  checkChunked("chunked", gl_chunked_backward, {4, 1, 0, false, true, true},
               rng);
}

TEST(LshGrad, ChunkedAttendCausalRepeatedNeighbours) {
  std::mt19937 rng(22);
  checkChunked("chunked causal", gl_chunked_causal_backward,
               {3, 2, 1, true, true, true}, rng);
}

TEST(LshGrad, ChunkedAttendRawKeysNoSelfMask) {
  std::mt19937 rng(23);
  checkChunked("chunked plain", gl_chunked_plain_backward,
               {5, 0, 1, false, false, false}, rng);
}

TEST(LshGrad, CombineRounds) {
  std::mt19937 rng(24);
  for (int64_t L : {1, 9}) {
    Tensor out = random(rng, {2, 2, 3, L, 5}), lse = random(rng, {2, 2, 3, L}, 3),
           dy = random(rng, {2, 2, L, 5});
    Tensor dout(out.shape, NAN), dlse(lse.shape, NAN);
    attn_tensor to = view(out), tl = view(lse), td = view(dy),
                go = view(dout), gl = view(dlse);
    ASSERT_EQ(gl_combine_backward(&to, &tl, &td, &go, &gl), 0)
        << attn_last_error();
    Forward forward = [&] { return ref::combineRoundsExact(out, lse); };
    checkGradients("combine L=" + std::to_string(L), {&out, &lse},
                   {&dout, &dlse}, forward, dy, rng);
  }
}

/// A shared-qk kernel (qk, v, [rot,] dy) -> (dqk, dv[, drot]) against
/// `exact` at lengths up to a few chunks.
/// (qk, v, rot, dy) -> (dqk, dv, drot); kernels without rotations ignore
/// those two.
using SharedBackward = int (*)(const attn_tensor *, const attn_tensor *,
                               const attn_tensor *, const attn_tensor *,
                               attn_tensor *, attn_tensor *, attn_tensor *);

/// A (qk, v, dy) -> (dqk, dv) backward as a SharedBackward.
template <int (*Backward)(const attn_tensor *, const attn_tensor *,
                          const attn_tensor *, attn_tensor *, attn_tensor *)>
int withoutRotations(const attn_tensor *qk, const attn_tensor *v,
                     const attn_tensor *, const attn_tensor *dy,
                     attn_tensor *dqk, attn_tensor *dv, attn_tensor *) {
  return Backward(qk, v, dy, dqk, dv);
}

void checkShared(const std::string &name, SharedBackward backward, Tensor *rot,
                 const std::function<std::vector<double>(const Tensor &,
                                                         const Tensor &)> &exact,
                 std::mt19937 &rng,
                 std::vector<int64_t> lengths = {1, 5, 11, 23},
                 int64_t D = 8, int64_t E = 6) {
  const int64_t B = 2, H = 2;
  for (int64_t L : lengths) {
    Tensor qk = random(rng, {B, H, L, D}), v = random(rng, {B, H, L, E}),
           dy = random(rng, {B, H, L, E});
    Tensor dqk(qk.shape, NAN), dv(v.shape, NAN);
    attn_tensor tqk = view(qk), tv = view(v), td = view(dy), gqk = view(dqk),
                gv = view(dv);
    Tensor drot(rot ? rot->shape : std::vector<int64_t>{1}, NAN);
    attn_tensor tr = view(rot ? *rot : drot), gr = view(drot);
    ASSERT_EQ(backward(&tqk, &tv, &tr, &td, &gqk, &gv, &gr), 0)
        << attn_last_error();
    if (rot)
      for (float x : drot.data) // written, and zero: hashing is flat
        ASSERT_EQ(x, 0.0f) << name;
    Forward forward = [&] { return exact(qk, v); };
    checkGradients(name + " L=" + std::to_string(L), {&qk, &v}, {&dqk, &dv},
                   forward, dy, rng);
  }
}

TEST(LshGrad, SeededChainOnSharedQueryKeys) {
  std::mt19937 rng(25);
  Tensor rot = ref::lshRotations(7, 2, 8, 3, 2);
  auto exact = [&](const Tensor &qk, const Tensor &v) {
    return ref::lshChainExact(qk, v, rot, 4, 1, 0, true);
  };
  checkShared("chain", withoutRotations<gl_chain_backward>, nullptr, exact,
              rng);
}

TEST(LshGrad, CompositeWithRotations) {
  std::mt19937 rng(26);
  Tensor rot = random(rng, {2, 8, 2, 2});
  auto exact = [&](const Tensor &qk, const Tensor &v) {
    return ref::lshAttendExact(qk, v, rot, 5, 1, 1, false);
  };
  checkShared("composite", gl_composite_backward, &rot, exact, rng);
}

// examples/reformer.attn's three kernels (8 buckets, 2 rounds, chunks of
// 64): L = 150 gives R·L = 300 entries, five chunks, the last one short;
// L = 40 is below the chunk (the composite's one full pass).
TEST(LshGrad, ReformerExamples) {
  std::mt19937 rng(27);
  const int64_t H = 2, D = 16, E = 16;
  Tensor seeded = ref::lshRotations(42, H, D, 2, 4);
  auto chain = [&](const Tensor &qk, const Tensor &v) {
    return ref::lshChainExact(qk, v, seeded, 64, 1, 0, true);
  };
  checkShared("ex reformer", withoutRotations<reformer_lsh_backward>, nullptr,
              chain, rng, {40, 150}, D, E);
  auto composite = [&](const Tensor &qk, const Tensor &v) {
    return ref::lshAttendExact(qk, v, seeded, 64, 1, 0, true);
  };
  checkShared("ex composite",
              withoutRotations<reformer_lsh_composite_backward>, nullptr,
              composite, rng, {40, 150}, D, E);
  Tensor rot = random(rng, {H, D, 2, 4});
  auto rotations = [&](const Tensor &qk, const Tensor &v) {
    return ref::lshAttendExact(qk, v, rot, 64, 1, 0, false);
  };
  checkShared("ex rotations", reformer_lsh_rotations_backward, &rot, rotations,
              rng, {40, 150}, D, E);
}

} // namespace
