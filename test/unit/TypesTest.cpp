//===- TypesTest.cpp ------------------------------------------------------===//
#include "attnc/Frontend/Types.h"

#include <gtest/gtest.h>

using namespace attnc;

namespace {

TEST(Dim, EqualityIsByValueOrBySymbol) {
  EXPECT_EQ(Dim::lit(64), Dim::lit(64));
  EXPECT_NE(Dim::lit(64), Dim::lit(32));
  EXPECT_EQ(Dim::named("L"), Dim::named("L"));
  EXPECT_NE(Dim::named("L"), Dim::named("S"));
  // A symbol never equals a literal at compile time: the user must write
  // the same thing in both places.
  EXPECT_NE(Dim::named("D"), Dim::lit(64));
}

TEST(Dim, ArithmeticFoldsLiterals) {
  EXPECT_EQ(divDims(Dim::lit(512), Dim::lit(8)), Dim::lit(64));
  EXPECT_EQ(mulDims(Dim::lit(64), Dim::lit(8)), Dim::lit(512));
  EXPECT_EQ(divDims(Dim::named("E"), Dim::lit(8)).str(), "E/8");
  EXPECT_EQ(mulDims(Dim::named("H"), Dim::named("D")).str(), "H*D");
  // Products commute: the merge_heads result H*D equals a declared D*H.
  EXPECT_EQ(mulDims(Dim::named("D"), Dim::named("H")),
            mulDims(Dim::named("H"), Dim::named("D")));
  EXPECT_NE(mulDims(Dim::named("D"), Dim::named("H")), Dim::named("H"));
}

TEST(Dim, SplitThenMergeHeadsRoundTrips) {
  Dim e = Dim::named("E"), h = Dim::named("H");
  EXPECT_EQ(mulDims(divDims(e, h), h), e);
  Dim nested = divDims(Dim::named("E"), mulDims(Dim::named("A"), Dim::lit(2)));
  EXPECT_EQ(nested.str(), "E/2/A");
  EXPECT_EQ(mulDims(nested, mulDims(Dim::named("A"), Dim::lit(2))),
            Dim::named("E"));
}

TEST(Dim, LiteralWidthStaysLiteral) {
  // merge_heads(split_heads(x, heads = H)) on x: f32[B, L, 24].
  Dim h = Dim::named("H");
  Dim d = divDims(Dim::lit(24), h);
  EXPECT_EQ(d.str(), "24/H");
  Dim e = mulDims(h, d);
  EXPECT_TRUE(e.isStatic());
  EXPECT_EQ(e, Dim::lit(24));
  // (H*D)/H: split_heads(merge_heads(y), heads = H).
  EXPECT_EQ(divDims(mulDims(h, Dim::named("D")), h), Dim::named("D"));
  EXPECT_EQ(mulDims(Dim::lit(4), divDims(Dim::named("E"), Dim::lit(4))),
            Dim::named("E"));
}

TEST(Dim, OverflowingProductStaysSymbolic) {
  Dim big = Dim::lit(int64_t(1) << 40);
  Dim p = mulDims(big, big);
  EXPECT_FALSE(p.isStatic());
}

TEST(TensorType, Printing) {
  TensorType t{DType::BF16, {Dim::named("B"), Dim::lit(4)}};
  EXPECT_EQ(t.str(), "bf16[B, 4]");
  EXPECT_EQ(ValueType::pair(t, t).str(), "(bf16[B, 4], bf16[B, 4])");
}

} // namespace
