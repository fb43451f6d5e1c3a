//===- LexerTest.cpp ------------------------------------------------------===//
#include "attnc/Frontend/Lexer.h"

#include <gtest/gtest.h>

using namespace attnc;

namespace {

std::vector<Token> lexString(const std::string &s) {
  return lex(s, std::make_shared<std::string>("t.attn"));
}

std::vector<Tok> kinds(const std::string &s) {
  std::vector<Tok> out;
  for (const Token &t : lexString(s))
    out.push_back(t.kind);
  return out;
}

TEST(Lexer, KeywordsIdentifiersAndPunctuation) {
  EXPECT_EQ(kinds("kernel let return true false kernels _x1"),
            (std::vector<Tok>{Tok::KwKernel, Tok::KwLet, Tok::KwReturn,
                              Tok::KwTrue, Tok::KwFalse, Tok::Ident,
                              Tok::Ident, Tok::Eof}));
  EXPECT_EQ(kinds("( ) [ ] { } , : ; -> => = == != < <= > >= + - * / % && || !"),
            (std::vector<Tok>{Tok::LParen, Tok::RParen, Tok::LBracket,
                              Tok::RBracket, Tok::LBrace, Tok::RBrace,
                              Tok::Comma, Tok::Colon, Tok::Semi, Tok::Arrow,
                              Tok::FatArrow, Tok::Assign, Tok::Eq, Tok::Ne,
                              Tok::Lt, Tok::Le, Tok::Gt, Tok::Ge, Tok::Plus,
                              Tok::Minus, Tok::Star, Tok::Slash, Tok::Percent,
                              Tok::AndAnd, Tok::OrOr, Tok::Bang, Tok::Eof}));
}

TEST(Lexer, MaximalMunchOnOperators) {
  // "a-->b" is a, '-', '->', b; "i<=-j" is i, '<=', '-', j.
  EXPECT_EQ(kinds("a-->b"), (std::vector<Tok>{Tok::Ident, Tok::Minus,
                                              Tok::Arrow, Tok::Ident,
                                              Tok::Eof}));
  EXPECT_EQ(kinds("i<=-j"), (std::vector<Tok>{Tok::Ident, Tok::Le, Tok::Minus,
                                              Tok::Ident, Tok::Eof}));
}

TEST(Lexer, Numbers) {
  auto toks = lexString("64 0.125 1e-5 2.5E+3 .5 7");
  ASSERT_EQ(toks.size(), 7u);
  EXPECT_EQ(toks[0].kind, Tok::Int);
  EXPECT_EQ(toks[0].text, "64");
  for (int i = 1; i <= 4; ++i)
    EXPECT_EQ(toks[i].kind, Tok::Float) << toks[i].text;
  EXPECT_EQ(toks[3].text, "2.5E+3");
  EXPECT_EQ(toks[5].kind, Tok::Int);
}

TEST(Lexer, LocationsAreOneBasedAndSkipComments) {
  auto toks = lexString("# a comment\n  kernel  # another\n\tf");
  ASSERT_EQ(toks.size(), 3u);
  EXPECT_EQ(toks[0].loc.line, 2);
  EXPECT_EQ(toks[0].loc.col, 3);
  EXPECT_EQ(toks[1].loc.line, 3);
  EXPECT_EQ(toks[1].loc.col, 2);
  EXPECT_EQ(toks[1].loc.fileName(), "t.attn");
}

TEST(Lexer, ErrorsStopTheStreamWithAReason) {
  auto toks = lexString("a $ b");
  ASSERT_EQ(toks.size(), 3u);
  EXPECT_EQ(toks[1].kind, Tok::Error);
  EXPECT_EQ(toks[1].text, "unexpected character '$'");
  EXPECT_EQ(toks[1].loc.col, 3);
  EXPECT_EQ(toks[2].kind, Tok::Eof);

  EXPECT_EQ(lexString("1e+")[0].text, "malformed exponent in number");
  EXPECT_EQ(lexString("3abc")[0].text, "identifier cannot start with a digit");
  EXPECT_EQ(lexString("a & b")[1].text,
            "unexpected character '&' (did you mean '&&'?)");
  EXPECT_EQ(lexString(std::string("x\x01", 2))[1].text,
            "unexpected character byte 0x01");
}

TEST(Lexer, EmptyInputIsJustEof) {
  auto toks = lexString("");
  ASSERT_EQ(toks.size(), 1u);
  EXPECT_EQ(toks[0].kind, Tok::Eof);
}

} // namespace
