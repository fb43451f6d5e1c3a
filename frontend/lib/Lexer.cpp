//===- Lexer.cpp ----------------------------------------------------------===//
#include "attnc/Frontend/Lexer.h"

#include <cctype>

using namespace attnc;

const char *attnc::tokenName(Tok kind) {
  switch (kind) {
  case Tok::Eof: return "end of file";
  case Tok::Ident: return "identifier";
  case Tok::Int: return "integer";
  case Tok::Float: return "number";
  case Tok::KwKernel: return "'kernel'";
  case Tok::KwLet: return "'let'";
  case Tok::KwReturn: return "'return'";
  case Tok::KwTrue: return "'true'";
  case Tok::KwFalse: return "'false'";
  case Tok::LParen: return "'('";
  case Tok::RParen: return "')'";
  case Tok::LBracket: return "'['";
  case Tok::RBracket: return "']'";
  case Tok::LBrace: return "'{'";
  case Tok::RBrace: return "'}'";
  case Tok::Comma: return "','";
  case Tok::Colon: return "':'";
  case Tok::Semi: return "';'";
  case Tok::Arrow: return "'->'";
  case Tok::FatArrow: return "'=>'";
  case Tok::Assign: return "'='";
  case Tok::Eq: return "'=='";
  case Tok::Ne: return "'!='";
  case Tok::Lt: return "'<'";
  case Tok::Le: return "'<='";
  case Tok::Gt: return "'>'";
  case Tok::Ge: return "'>='";
  case Tok::Plus: return "'+'";
  case Tok::Minus: return "'-'";
  case Tok::Star: return "'*'";
  case Tok::Slash: return "'/'";
  case Tok::Percent: return "'%'";
  case Tok::AndAnd: return "'&&'";
  case Tok::OrOr: return "'||'";
  case Tok::Bang: return "'!'";
  case Tok::Error: return "invalid token";
  }
  return "token";
}

namespace {

class Lexer {
public:
  Lexer(const std::string &src, const std::shared_ptr<std::string> &file)
      : src(src), file(file) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      skipSpaceAndComments();
      Token t = next();
      bool stop = t.kind == Tok::Eof || t.kind == Tok::Error;
      out.push_back(std::move(t));
      if (stop)
        break;
    }
    if (out.back().kind == Tok::Error)
      out.push_back(Token{Tok::Eof, "", out.back().loc});
    return out;
  }

private:
  char peek(size_t ahead = 0) const {
    return pos + ahead < src.size() ? src[pos + ahead] : '\0';
  }
  void advance() {
    if (src[pos] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    ++pos;
  }
  void skipSpaceAndComments() {
    while (pos < src.size()) {
      char c = src[pos];
      if (c == '#') {
        while (pos < src.size() && src[pos] != '\n')
          advance();
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        advance();
      } else {
        break;
      }
    }
  }
  SourceLoc here() const { return SourceLoc{file, line, col}; }

  Token make(Tok kind, size_t length, SourceLoc loc) {
    Token t{kind, src.substr(pos, length), loc};
    for (size_t i = 0; i < length; ++i)
      advance();
    return t;
  }

  Token number(SourceLoc loc) {
    size_t start = pos;
    bool isFloat = false;
    while (std::isdigit(static_cast<unsigned char>(peek())))
      advance();
    if (peek() == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))) {
      isFloat = true;
      advance();
      while (std::isdigit(static_cast<unsigned char>(peek())))
        advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      size_t save = pos;
      int saveLine = line, saveCol = col;
      advance();
      if (peek() == '+' || peek() == '-')
        advance();
      if (!std::isdigit(static_cast<unsigned char>(peek()))) {
        pos = save, line = saveLine, col = saveCol;
        return Token{Tok::Error, "malformed exponent in number", here()};
      }
      isFloat = true;
      while (std::isdigit(static_cast<unsigned char>(peek())))
        advance();
    }
    if (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_')
      return Token{Tok::Error,
                   "identifier cannot start with a digit", loc};
    return Token{isFloat ? Tok::Float : Tok::Int, src.substr(start, pos - start),
                 loc};
  }

  Token next() {
    SourceLoc loc = here();
    if (pos >= src.size())
      return Token{Tok::Eof, "", loc};
    char c = peek();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t start = pos;
      while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')
        advance();
      std::string word = src.substr(start, pos - start);
      Tok kind = word == "kernel"   ? Tok::KwKernel
                 : word == "let"    ? Tok::KwLet
                 : word == "return" ? Tok::KwReturn
                 : word == "true"   ? Tok::KwTrue
                 : word == "false"  ? Tok::KwFalse
                                    : Tok::Ident;
      return Token{kind, word, loc};
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1)))))
      return number(loc);
    char d = peek(1);
    switch (c) {
    case '(': return make(Tok::LParen, 1, loc);
    case ')': return make(Tok::RParen, 1, loc);
    case '[': return make(Tok::LBracket, 1, loc);
    case ']': return make(Tok::RBracket, 1, loc);
    case '{': return make(Tok::LBrace, 1, loc);
    case '}': return make(Tok::RBrace, 1, loc);
    case ',': return make(Tok::Comma, 1, loc);
    case ':': return make(Tok::Colon, 1, loc);
    case ';': return make(Tok::Semi, 1, loc);
    case '+': return make(Tok::Plus, 1, loc);
    case '*': return make(Tok::Star, 1, loc);
    case '/': return make(Tok::Slash, 1, loc);
    case '%': return make(Tok::Percent, 1, loc);
    case '-': return d == '>' ? make(Tok::Arrow, 2, loc) : make(Tok::Minus, 1, loc);
    case '=':
      if (d == '>') return make(Tok::FatArrow, 2, loc);
      if (d == '=') return make(Tok::Eq, 2, loc);
      return make(Tok::Assign, 1, loc);
    case '!': return d == '=' ? make(Tok::Ne, 2, loc) : make(Tok::Bang, 1, loc);
    case '<': return d == '=' ? make(Tok::Le, 2, loc) : make(Tok::Lt, 1, loc);
    case '>': return d == '=' ? make(Tok::Ge, 2, loc) : make(Tok::Gt, 1, loc);
    case '&':
      if (d == '&') return make(Tok::AndAnd, 2, loc);
      return Token{Tok::Error, "unexpected character '&' (did you mean '&&'?)", loc};
    case '|':
      if (d == '|') return make(Tok::OrOr, 2, loc);
      return Token{Tok::Error, "unexpected character '|' (did you mean '||'?)", loc};
    default:
      break;
    }
    std::string shown;
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isprint(u)) {
      shown = std::string("'") + c + "'";
    } else {
      static const char hex[] = "0123456789abcdef";
      shown = std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
    }
    return Token{Tok::Error, "unexpected character " + shown, loc};
  }

  const std::string &src;
  std::shared_ptr<std::string> file;
  size_t pos = 0;
  int line = 1, col = 1;
};

} // namespace

std::vector<Token> attnc::lex(const std::string &source,
                              const std::shared_ptr<std::string> &file) {
  return Lexer(source, file).run();
}
