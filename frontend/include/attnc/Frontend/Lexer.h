//===- Lexer.h - tokens of the .attn language -----------------------------===//
#ifndef ATTNC_FRONTEND_LEXER_H
#define ATTNC_FRONTEND_LEXER_H

#include "attnc/Frontend/Diagnostics.h"

#include <string>
#include <vector>

namespace attnc {

enum class Tok {
  Eof, Ident, Int, Float,
  KwKernel, KwLet, KwReturn, KwTrue, KwFalse,
  LParen, RParen, LBracket, RBracket, LBrace, RBrace,
  Comma, Colon, Semi, Arrow /* -> */, FatArrow /* => */,
  Assign, Eq, Ne, Lt, Le, Gt, Ge,
  Plus, Minus, Star, Slash, Percent, AndAnd, OrOr, Bang,
  Error
};

/// How a token kind reads in a message ("')'", "identifier", ...).
const char *tokenName(Tok kind);

struct Token {
  Tok kind = Tok::Eof;
  std::string text;
  SourceLoc loc;
};

/// Splits a whole buffer into tokens. The last token is always Eof. An
/// unknown character or malformed number yields one Error token (with the
/// reason in `text`) and stops the lexer.
std::vector<Token> lex(const std::string &source,
                       const std::shared_ptr<std::string> &file);

} // namespace attnc

#endif
