//===- ParserTest.cpp -----------------------------------------------------===//
#include "attnc/Frontend/Parser.h"

#include <gtest/gtest.h>

using namespace attnc;

namespace {

struct Parsed {
  DiagnosticEngine diags;
  std::optional<Module> module;
  explicit Parsed(const std::string &src) : diags("p.attn", src) {
    module = parseModule(diags);
  }
  const Expr &returned(size_t kernel = 0) const {
    return *module->kernels[kernel].body.back()->values.front();
  }
};

const std::string kHead =
    "kernel k(q: f32[B, H, L, D]) -> f32[B, H, L, D] {\n  return ";

TEST(Parser, PrecedenceOfBinaryOperators) {
  Parsed p(kHead + "a || b && c == d + e * f\n}");
  ASSERT_TRUE(p.module) << p.diags.render();
  const Expr &e = p.returned();
  ASSERT_EQ(e.kind, Expr::Binary);
  EXPECT_EQ(e.name, "||");
  const Expr &rhs = *e.items[1];
  EXPECT_EQ(rhs.name, "&&");
  EXPECT_EQ(rhs.items[1]->name, "==");
  EXPECT_EQ(rhs.items[1]->items[1]->name, "+");
  EXPECT_EQ(rhs.items[1]->items[1]->items[1]->name, "*");
}

TEST(Parser, LeftAssociativity) {
  Parsed p(kHead + "a - b - c\n}");
  ASSERT_TRUE(p.module);
  const Expr &e = p.returned();
  EXPECT_EQ(e.items[0]->kind, Expr::Binary); // (a - b) - c
  EXPECT_EQ(e.items[1]->name, "c");
}

TEST(Parser, LambdaVersusGroupingVersusPair) {
  Parsed p(kHead + "f(m = (b, h) => b, n = (x), o = (x + 1))\n}");
  ASSERT_TRUE(p.module) << p.diags.render();
  const Expr &call = p.returned();
  ASSERT_EQ(call.keywords.size(), 3u);
  EXPECT_EQ(call.keywords[0].value->kind, Expr::Lambda);
  EXPECT_EQ(call.keywords[0].value->params.size(), 2u);
  EXPECT_EQ(call.keywords[1].value->kind, Expr::Name);
  EXPECT_EQ(call.keywords[2].value->kind, Expr::Binary);

  Parsed pair(kHead + "(a, b)\n}");
  ASSERT_TRUE(pair.module);
  EXPECT_EQ(pair.module->kernels[0].body.back()->values.size(), 2u);
}

TEST(Parser, BlockLambdaAndDestructuringLet) {
  Parsed p("kernel k(x: f32[N]) -> f32[N] {\n"
           "  let (a, b) = g(x, f = (y) => { let z = y; return z })\n"
           "  return a\n}");
  ASSERT_TRUE(p.module) << p.diags.render();
  const Stmt &let = *p.module->kernels[0].body[0];
  EXPECT_EQ(let.names, (std::vector<std::string>{"a", "b"}));
  const Expr &lam = *let.values[0]->keywords[0].value;
  EXPECT_EQ(lam.kind, Expr::Lambda);
  EXPECT_EQ(lam.block.size(), 2u);
}

TEST(Parser, DerivedDimensionsInTypes) {
  Parsed p("kernel k(x: f32[B, L, E]) -> f32[B, 8, L, E/8] {\n  return x\n}");
  ASSERT_TRUE(p.module) << p.diags.render();
  const TypeAST &r = p.module->kernels[0].results[0];
  EXPECT_EQ(r.resolved().str(), "f32[B, 8, L, E/8]");
  EXPECT_TRUE(r.dims[3].compound);
}

TEST(Parser, FirstSyntaxErrorWithLocation) {
  Parsed p(kHead + "attend(q, k\n}");
  EXPECT_FALSE(p.module);
  EXPECT_EQ(p.diags.render().substr(0, 10), "p.attn:3:1");
  EXPECT_NE(p.diags.message().find("expected ',' or ')'"), std::string::npos);
}

TEST(Parser, DeepNestingIsAnErrorNotAStackOverflow) {
  Parsed p(kHead + std::string(100000, '(') + "q\n}");
  EXPECT_FALSE(p.module);
  EXPECT_EQ(p.diags.message(), "expression is nested too deeply");
  Parsed unary(kHead + std::string(100000, '-') + "q\n}");
  EXPECT_FALSE(unary.module);
}

} // namespace
