//===- Parser.cpp - recursive-descent parser for .attn --------------------===//
//
// program  := kernel*
// kernel   := 'kernel' IDENT '(' [param (',' param)*] ')' '->' results block
// param    := IDENT ':' type
// type     := DTYPE '[' [dim (',' dim)*] ']'         dim := IDENT | INT
// results  := type | '(' type (',' type)* ')'
// block    := '{' stmt* '}'
// stmt     := 'let' (IDENT | '(' IDENT ',' IDENT ')') '=' expr [';']
//           | 'return' expr [';']        (a tuple `(a, b)` returns two values)
// expr     := binary expression over unary over postfix over primary;
//             precedence || < && < == != < < <= > >= < + - < * / %
// primary  := INT | FLOAT | true | false | IDENT | IDENT '(' args ')'
//           | IDENT '[' expr, ... ']' | '[' expr, ... ']' | '(' expr ')'
//           | '(' expr ',' expr ')' | lambda
// lambda   := '(' [IDENT (',' IDENT)*] ')' '=>' (expr | block)
// args     := positional (',' positional)* then (IDENT '=' expr)*
//
//===----------------------------------------------------------------------===//
#include "attnc/Frontend/Parser.h"

#include <cerrno>
#include <cstdlib>

using namespace attnc;

namespace {

// Deep nesting would otherwise overflow the stack on adversarial input.
constexpr int kMaxDepth = 200;

class Parser {
public:
  Parser(DiagnosticEngine &diags)
      : diags(diags), toks(lex(diags.source(), diags.file())) {}

  std::optional<Module> run() {
    Module m;
    while (!at(Tok::Eof)) {
      if (at(Tok::Error))
        return lexError();
      if (!at(Tok::KwKernel))
        return fail("expected 'kernel' at top level, found " + describe(cur()));
      auto k = kernel();
      if (!k)
        return std::nullopt;
      m.kernels.push_back(std::move(*k));
    }
    return m;
  }

private:
  const Token &cur() const { return toks[pos]; }
  const Token &peekTok(size_t n) const {
    return toks[std::min(pos + n, toks.size() - 1)];
  }
  bool at(Tok k) const { return cur().kind == k; }
  Token take() {
    Token t = cur();
    if (pos + 1 < toks.size())
      ++pos;
    return t;
  }
  static std::string describe(const Token &t) {
    switch (t.kind) {
    case Tok::Ident: return "identifier '" + t.text + "'";
    case Tok::Int: case Tok::Float: return "number '" + t.text + "'";
    case Tok::Eof: return "end of file";
    default: return tokenName(t.kind);
    }
  }

  std::nullopt_t fail(const std::string &msg) { return failAt(cur().loc, msg); }
  std::nullopt_t failAt(const SourceLoc &loc, const std::string &msg) {
    if (cur().kind == Tok::Error)
      diags.error(cur().loc, cur().text);
    else
      diags.error(loc, msg);
    return std::nullopt;
  }
  std::nullopt_t lexError() { return failAt(cur().loc, cur().text); }

  /// Consumes `k` or reports "expected K <context>, found X".
  bool expect(Tok k, const std::string &context) {
    if (at(k)) {
      take();
      return true;
    }
    fail(std::string("expected ") + tokenName(k) +
         (context.empty() ? "" : " " + context) + ", found " +
         describe(cur()));
    return false;
  }

  std::optional<Token> ident(const std::string &what) {
    if (!at(Tok::Ident)) {
      fail("expected " + what + ", found " + describe(cur()));
      return std::nullopt;
    }
    return take();
  }

  std::optional<TypeAST> type() {
    TypeAST t;
    t.loc = cur().loc;
    auto dt = ident("a dtype (f32, f16, bf16, i32)");
    if (!dt)
      return std::nullopt;
    if (dt->text == "f32") t.dtype = DType::F32;
    else if (dt->text == "f16") t.dtype = DType::F16;
    else if (dt->text == "bf16") t.dtype = DType::BF16;
    else if (dt->text == "i32") t.dtype = DType::I32;
    else
      return failAt(dt->loc, "unknown dtype '" + dt->text +
                                 "'; expected f32, f16, bf16 or i32");
    if (!expect(Tok::LBracket, "after dtype"))
      return std::nullopt;
    while (!at(Tok::RBracket)) {
      DimAST d;
      d.loc = cur().loc;
      std::optional<Dim> dim = dimAtom();
      if (!dim)
        return std::nullopt;
      // E/H and H*D: derived dimensions, as split_heads/merge_heads produce.
      while (at(Tok::Slash) || at(Tok::Star)) {
        bool divide = take().kind == Tok::Slash;
        std::optional<Dim> rhs = dimAtom();
        if (!rhs)
          return std::nullopt;
        if (divide && rhs->isStatic() && rhs->value == 0)
          return failAt(d.loc, "division by zero in a dimension");
        dim = divide ? divDims(*dim, *rhs) : mulDims(*dim, *rhs);
        d.compound = true;
      }
      d.isLiteral = dim->isStatic();
      d.value = dim->value;
      d.name = dim->sym;
      t.dims.push_back(d);
      if (t.dims.size() > 8)
        return failAt(d.loc, "tensors have at most 8 dimensions");
      if (!at(Tok::RBracket) && !expect(Tok::Comma, "between dimensions"))
        return std::nullopt;
    }
    take();
    return t;
  }

  std::optional<Dim> dimAtom() {
    if (at(Tok::Int)) {
      int64_t v;
      if (!integer(take(), v))
        return std::nullopt;
      return Dim::lit(v);
    }
    if (at(Tok::Ident))
      return Dim::named(take().text);
    fail("expected a dimension (a name or an integer), found " +
         describe(cur()));
    return std::nullopt;
  }

  bool integer(const Token &t, int64_t &out) {
    errno = 0;
    char *end = nullptr;
    long long v = std::strtoll(t.text.c_str(), &end, 10);
    if (errno == ERANGE || v > (1LL << 40)) {
      diags.error(t.loc, "integer '" + t.text + "' is too large");
      return false;
    }
    out = v;
    return true;
  }

  std::optional<Kernel> kernel() {
    Kernel k;
    k.loc = take().loc;
    auto name = ident("kernel name after 'kernel'");
    if (!name)
      return std::nullopt;
    k.name = name->text;
    if (!expect(Tok::LParen, "after kernel name"))
      return std::nullopt;
    while (!at(Tok::RParen)) {
      Param p;
      p.loc = cur().loc;
      auto pn = ident("parameter name");
      if (!pn)
        return std::nullopt;
      p.name = pn->text;
      if (!expect(Tok::Colon, "after parameter name"))
        return std::nullopt;
      auto t = type();
      if (!t)
        return std::nullopt;
      p.type = std::move(*t);
      k.params.push_back(std::move(p));
      if (!at(Tok::RParen) && !expect(Tok::Comma, "between parameters"))
        return std::nullopt;
    }
    take();
    if (!expect(Tok::Arrow, "before the result type"))
      return std::nullopt;
    if (at(Tok::LParen)) {
      take();
      do {
        auto t = type();
        if (!t)
          return std::nullopt;
        k.results.push_back(std::move(*t));
      } while (at(Tok::Comma) && (take(), true));
      if (!expect(Tok::RParen, "after result types"))
        return std::nullopt;
    } else {
      auto t = type();
      if (!t)
        return std::nullopt;
      k.results.push_back(std::move(*t));
    }
    if (!block(k.body))
      return std::nullopt;
    return k;
  }

  bool block(std::vector<StmtPtr> &out) {
    if (!expect(Tok::LBrace, "to open a body"))
      return false;
    while (!at(Tok::RBrace)) {
      if (at(Tok::Error))
        return lexError(), false;
      auto s = stmt();
      if (!s)
        return false;
      out.push_back(std::move(s));
      while (at(Tok::Semi))
        take();
    }
    take();
    return true;
  }

  StmtPtr stmt() {
    if (at(Tok::KwLet)) {
      auto s = std::make_unique<Stmt>(Stmt::Let, take().loc);
      if (at(Tok::LParen)) {
        take();
        for (int i = 0; i < 2; ++i) {
          SourceLoc l = cur().loc;
          auto n = ident(i == 0 ? "a name to bind" : "a second name to bind");
          if (!n)
            return nullptr;
          s->names.push_back(n->text);
          s->nameLocs.push_back(l);
          if (i == 0 && !expect(Tok::Comma, "between the names of a pair"))
            return nullptr;
        }
        if (!expect(Tok::RParen, "after the names of a pair"))
          return nullptr;
      } else {
        SourceLoc l = cur().loc;
        auto n = ident("a name after 'let'");
        if (!n)
          return nullptr;
        s->names.push_back(n->text);
        s->nameLocs.push_back(l);
      }
      if (!expect(Tok::Assign, "after the name in 'let'"))
        return nullptr;
      ExprPtr e = expr();
      if (!e)
        return nullptr;
      s->values.push_back(std::move(e));
      return s;
    }
    if (at(Tok::KwReturn)) {
      auto s = std::make_unique<Stmt>(Stmt::Return, take().loc);
      ExprPtr e = expr();
      if (!e)
        return nullptr;
      if (e->kind == Expr::Tuple) {
        for (ExprPtr &item : e->items)
          s->values.push_back(std::move(item));
      } else {
        s->values.push_back(std::move(e));
      }
      return s;
    }
    fail("expected 'let', 'return' or '}', found " + describe(cur()));
    return nullptr;
  }

  static int precedence(Tok k) {
    switch (k) {
    case Tok::OrOr: return 1;
    case Tok::AndAnd: return 2;
    case Tok::Eq: case Tok::Ne: return 3;
    case Tok::Lt: case Tok::Le: case Tok::Gt: case Tok::Ge: return 4;
    case Tok::Plus: case Tok::Minus: return 5;
    case Tok::Star: case Tok::Slash: case Tok::Percent: return 6;
    default: return 0;
    }
  }

  struct DepthGuard {
    int &d;
    explicit DepthGuard(int &d) : d(d) { ++d; }
    ~DepthGuard() { --d; }
  };

  ExprPtr expr(int minPrec = 1) {
    DepthGuard guard(depth);
    if (depth > kMaxDepth) {
      fail("expression is nested too deeply");
      return nullptr;
    }
    ExprPtr lhs = unary();
    while (lhs) {
      int p = precedence(cur().kind);
      if (p < minPrec || p == 0)
        break;
      Token op = take();
      ExprPtr rhs = expr(p + 1);
      if (!rhs)
        return nullptr;
      auto b = std::make_unique<Expr>(Expr::Binary, op.loc);
      b->name = op.text;
      b->items.push_back(std::move(lhs));
      b->items.push_back(std::move(rhs));
      lhs = std::move(b);
    }
    return lhs;
  }

  ExprPtr unary() {
    if (at(Tok::Minus) || at(Tok::Bang)) {
      DepthGuard guard(depth);
      if (depth > kMaxDepth) {
        fail("expression is nested too deeply");
        return nullptr;
      }
      Token op = take();
      ExprPtr operand = unary();
      if (!operand)
        return nullptr;
      auto u = std::make_unique<Expr>(Expr::Unary, op.loc);
      u->name = op.text;
      u->items.push_back(std::move(operand));
      return u;
    }
    return primary();
  }

  /// '(' IDENT, ... ')' '=>' starts a lambda; anything else in parentheses
  /// is a grouped expression or a tuple.
  bool atLambda() const {
    size_t i = 1;
    if (peekTok(i).kind == Tok::RParen)
      return peekTok(i + 1).kind == Tok::FatArrow;
    while (peekTok(i).kind == Tok::Ident) {
      Tok after = peekTok(i + 1).kind;
      if (after == Tok::RParen)
        return peekTok(i + 2).kind == Tok::FatArrow;
      if (after != Tok::Comma)
        return false;
      i += 2;
    }
    return false;
  }

  bool exprList(Tok close, std::vector<ExprPtr> &out, const char *what) {
    while (!at(close)) {
      ExprPtr e = expr();
      if (!e)
        return false;
      out.push_back(std::move(e));
      if (!at(close) &&
          !expect(Tok::Comma, std::string("between ") + what))
        return false;
    }
    take();
    return true;
  }

  ExprPtr primary() {
    const Token &t = cur();
    switch (t.kind) {
    case Tok::Int: case Tok::Float: {
      auto e = std::make_unique<Expr>(Expr::Number, t.loc);
      e->isFloatLiteral = t.kind == Tok::Float;
      if (e->isFloatLiteral) {
        e->number = std::strtod(t.text.c_str(), nullptr);
      } else if (!integer(t, e->integer)) {
        return nullptr;
      } else {
        e->number = double(e->integer);
      }
      take();
      return e;
    }
    case Tok::KwTrue: case Tok::KwFalse: {
      auto e = std::make_unique<Expr>(Expr::Bool, t.loc);
      e->boolean = t.kind == Tok::KwTrue;
      take();
      return e;
    }
    case Tok::LBracket: {
      auto e = std::make_unique<Expr>(Expr::List, take().loc);
      if (!exprList(Tok::RBracket, e->items, "list elements"))
        return nullptr;
      return e;
    }
    case Tok::LParen:
      return atLambda() ? lambda() : parenthesised();
    case Tok::Ident:
      return nameOrCall();
    case Tok::Error:
      lexError();
      return nullptr;
    default:
      fail("expected an expression, found " + describe(t));
      return nullptr;
    }
  }

  ExprPtr parenthesised() {
    SourceLoc loc = take().loc;
    ExprPtr first = expr();
    if (!first)
      return nullptr;
    if (at(Tok::Comma)) {
      take();
      auto tuple = std::make_unique<Expr>(Expr::Tuple, loc);
      tuple->items.push_back(std::move(first));
      ExprPtr second = expr();
      if (!second)
        return nullptr;
      tuple->items.push_back(std::move(second));
      if (!expect(Tok::RParen, "after the second element of a pair"))
        return nullptr;
      return tuple;
    }
    if (!expect(Tok::RParen, "to close '('"))
      return nullptr;
    return first;
  }

  ExprPtr lambda() {
    auto e = std::make_unique<Expr>(Expr::Lambda, take().loc);
    while (at(Tok::Ident)) {
      e->paramLocs.push_back(cur().loc);
      e->params.push_back(take().text);
      if (at(Tok::Comma))
        take();
    }
    take(); // ')'
    take(); // '=>'
    if (at(Tok::LBrace)) {
      DepthGuard guard(depth);
      if (depth > kMaxDepth) {
        fail("expression is nested too deeply");
        return nullptr;
      }
      if (!block(e->block))
        return nullptr;
      return e;
    }
    e->body = expr();
    return e->body ? std::move(e) : nullptr;
  }

  ExprPtr nameOrCall() {
    Token id = take();
    if (at(Tok::LParen)) {
      auto call = std::make_unique<Expr>(Expr::Call, id.loc);
      call->name = id.text;
      take();
      while (!at(Tok::RParen)) {
        bool isKeyword =
            at(Tok::Ident) && peekTok(1).kind == Tok::Assign;
        if (isKeyword) {
          KeywordArg kw;
          kw.loc = cur().loc;
          kw.name = take().text;
          take();
          kw.value = expr();
          if (!kw.value)
            return nullptr;
          call->keywords.push_back(std::move(kw));
        } else {
          SourceLoc l = cur().loc;
          ExprPtr e = expr();
          if (!e)
            return nullptr;
          if (!call->keywords.empty()) {
            diags.error(l, "positional argument after keyword arguments in "
                           "call to '" + id.text + "'");
            return nullptr;
          }
          call->items.push_back(std::move(e));
        }
        if (!at(Tok::RParen) && !at(Tok::Comma)) {
          fail("expected ',' or ')' after an argument of '" + id.text +
               "', found " + describe(cur()));
          return nullptr;
        }
        if (at(Tok::Comma))
          take();
      }
      take();
      return call;
    }
    if (at(Tok::LBracket)) {
      auto idx = std::make_unique<Expr>(Expr::Index, id.loc);
      idx->name = id.text;
      take();
      if (!exprList(Tok::RBracket, idx->items, "indices"))
        return nullptr;
      return idx;
    }
    auto e = std::make_unique<Expr>(Expr::Name, id.loc);
    e->name = id.text;
    return e;
  }

  DiagnosticEngine &diags;
  std::vector<Token> toks;
  size_t pos = 0;
  int depth = 0;
};

} // namespace

std::optional<Module> attnc::parseModule(DiagnosticEngine &diags) {
  return Parser(diags).run();
}
