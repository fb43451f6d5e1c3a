//===- SemaTest.cpp - dimension binding and inference ---------------------===//
#include "attnc/Frontend/Frontend.h"

#include <gtest/gtest.h>

using namespace attnc;

namespace {

struct Checked {
  DiagnosticEngine diags;
  std::vector<KernelInfo> infos;
  std::optional<Module> module;
  explicit Checked(const std::string &src) : diags("s.attn", src) {
    module = parseAndCheck(diags, infos);
  }
  const Expr &returned(size_t k = 0) const {
    return *module->kernels[k].body.back()->values.front();
  }
};

TEST(Sema, DimensionsBindAtTheirFirstOccurrence) {
  Checked c("kernel k(a: f32[B, S, D], b: f32[S, E], c: i32[E]) -> f32[B, S, D] {\n"
            "  return a\n}");
  ASSERT_TRUE(c.module) << c.diags.render();
  const auto &dims = c.infos[0].dims;
  ASSERT_EQ(dims.size(), 4u);
  EXPECT_EQ(dims.at("B").param, "a");
  EXPECT_EQ(dims.at("S").param, "a");
  EXPECT_EQ(dims.at("S").axis, 1);
  EXPECT_EQ(dims.at("E").param, "b");
  EXPECT_EQ(dims.at("E").axis, 1);
}

TEST(Sema, BindingIsPerKernel) {
  Checked c("kernel k1(a: f32[N]) -> f32[N] { return a }\n"
            "kernel k2(b: f32[M, N]) -> f32[M, N] { return b }");
  ASSERT_TRUE(c.module) << c.diags.render();
  EXPECT_EQ(c.infos[1].dims.at("N").param, "b");
  EXPECT_EQ(c.infos[1].dims.at("N").axis, 1);
}

TEST(Sema, InfersCrossAttentionShape) {
  Checked c("kernel k(q: f32[B, H, L, D], k: f32[B, H, S, D], "
            "v: f32[B, H, S, E]) -> f32[B, H, L, E] {\n"
            "  return attend(q, k, v)\n}");
  ASSERT_TRUE(c.module) << c.diags.render();
  EXPECT_EQ(c.returned().type.str(), "f32[B, H, L, E]");
}

TEST(Sema, InfersLshChainShapes) {
  Checked c("kernel k(x: f32[B, H, L, 64]) -> f32[B, H, L, 64] {\n"
            "  let b = hash_bucket(x, buckets = 4, rounds = 3, seed = 1)\n"
            "  let (o, u) = sort_chunk(b, chunk = 8)\n"
            "  let (out, lse) = chunked_attend(x, x, x, o, chunk = 8)\n"
            "  return combine_rounds(out, lse)\n}");
  ASSERT_TRUE(c.module) << c.diags.render();
  const Kernel &k = c.module->kernels[0];
  EXPECT_EQ(k.body[0]->values[0]->type.str(), "i32[B, H, 3, L]");
  EXPECT_EQ(k.body[2]->values[0]->type.str(),
            "(f32[B, H, 3, L, 64], f32[B, H, 3, L])");
  EXPECT_EQ(c.returned().type.str(), "f32[B, H, L, 64]");
}

TEST(Sema, BroadcastingTakesTheLongerShape) {
  Checked c("kernel k(x: f32[B, L, 64], b: f32[64]) -> f32[B, L, 64] {\n"
            "  return b * x + b\n}");
  ASSERT_TRUE(c.module) << c.diags.render();
  EXPECT_EQ(c.returned().type.str(), "f32[B, L, 64]");
}

TEST(Sema, ScalarTypesInsideLambdas) {
  Checked c("kernel k(q: f32[B, H, L, D], s: f32[H], l: i32[H]) -> f32[B, H, L, D] {\n"
            "  return attend(q, q, q, mask = (b, h, i, j) => l[h] > i / 2,\n"
            "                score = (x, b, h, i, j) => x + s[h] * i)\n}");
  ASSERT_TRUE(c.module) << c.diags.render();
  const Expr &call = c.returned();
  const Expr &mask = *call.keyword("mask")->value;
  EXPECT_EQ(mask.type.kind, ValueType::Bool);
  EXPECT_EQ(mask.body->items[0]->type.kind, ValueType::Int);   // l[h]
  const Expr &score = *call.keyword("score")->value;
  EXPECT_EQ(score.body->items[1]->type.kind, ValueType::Float); // s[h] * i
}

TEST(Sema, DimensionNamesResolveInsideMasks) {
  Checked c("kernel k(q: f32[B, H, L, D]) -> f32[B, H, L, D] {\n"
            "  return attend(q, q, q, mask = (b, h, i, j) => j < L)\n}");
  ASSERT_TRUE(c.module) << c.diags.render();
  const Expr &l = *c.returned().keyword("mask")->value->body->items[1];
  EXPECT_EQ(l.ref, NameRef::Dim);
  EXPECT_EQ(l.dimParam, "q");
  EXPECT_EQ(l.dimAxis, 2);
}

TEST(Sema, LambdaParametersShadowOuterNames) {
  // `b` is a kernel parameter (a bias) and the batch index of the mask.
  Checked c("kernel k(q: f32[B, H, L, D], b: f32[D]) -> f32[B, H, L, D] {\n"
            "  return attend(q, q, q, mask = (b, h, i, j) => b >= 0)\n}");
  ASSERT_TRUE(c.module) << c.diags.render();
}

struct ErrorCase {
  const char *src;
  const char *message;
};

TEST(Sema, ConflictsAreReportedWithTheirLocation) {
  const ErrorCase cases[] = {
      {"kernel k(a: f32[N], b: f32[M]) -> f32[N] {\n  return a + b\n}",
       "s.attn:2:12: error: dimension conflict: left operand dimension 0 is N "
       "but right operand dimension 0 is M"},
      {"kernel k(a: f32[N], b: f16[N]) -> f32[N] {\n  return a - b\n}",
       "s.attn:2:12: error: dtype conflict: right operand is f16 but left operand is f32"},
      {"kernel k(a: f32[N]) -> f32[M] {\n  return a\n}",
       "s.attn:1:28: error: result dimension 'M' is not bound by any "
       "parameter"},
      {"kernel k(a: f32[N]) -> f32[N, N] {\n  return a\n}",
       "s.attn:2:10: error: returned value has type f32[N] but the kernel "
       "declares f32[N, N]"},
  };
  for (const ErrorCase &ec : cases) {
    Checked c(ec.src);
    EXPECT_FALSE(c.module);
    EXPECT_EQ(c.diags.render().substr(0, std::string(ec.message).size()),
              ec.message)
        << c.diags.render();
  }
}

} // namespace
