//===- AST.cpp - constants, keyword access and the AST dump ---------------===//
#include "attnc/Frontend/AST.h"

#include <cmath>
#include <sstream>

using namespace attnc;

std::optional<int64_t> attnc::constInt(const Expr &e) {
  if (e.kind == Expr::Number && !e.isFloatLiteral)
    return e.integer;
  if (e.kind == Expr::Unary && e.name == "-")
    if (auto v = constInt(*e.items[0]))
      return -*v;
  return std::nullopt;
}

std::optional<double> attnc::constFloat(const Expr &e) {
  if (e.kind == Expr::Number)
    return e.number;
  if (e.kind == Expr::Unary && e.name == "-")
    if (auto v = constFloat(*e.items[0]))
      return -*v;
  return std::nullopt;
}

int64_t attnc::intKeyword(const Expr &call, const std::string &name,
                          int64_t def) {
  const KeywordArg *k = call.keyword(name);
  return k ? constInt(*k->value).value_or(def) : def;
}

double attnc::floatKeyword(const Expr &call, const std::string &name,
                           double def) {
  const KeywordArg *k = call.keyword(name);
  return k ? constFloat(*k->value).value_or(def) : def;
}

bool attnc::boolKeyword(const Expr &call, const std::string &name, bool def) {
  const KeywordArg *k = call.keyword(name);
  return k && k->value->kind == Expr::Bool ? k->value->boolean : def;
}

std::vector<int64_t> attnc::intListKeyword(const Expr &call,
                                           const std::string &name) {
  std::vector<int64_t> out;
  if (const KeywordArg *k = call.keyword(name))
    for (const ExprPtr &item : k->value->items)
      out.push_back(constInt(*item).value_or(0));
  return out;
}

//===----------------------------------------------------------------------===//
// Dump
//===----------------------------------------------------------------------===//

namespace {

class Dumper {
public:
  explicit Dumper(std::ostream &os) : os(os) {}

  void module(const Module &m) {
    for (const Kernel &k : m.kernels)
      kernel(k);
  }

private:
  std::string at(const SourceLoc &l) {
    return " @" + l.fileName() + ":" + std::to_string(l.line) + ":" +
           std::to_string(l.col);
  }
  void line(int depth, const std::string &s) {
    os << std::string(2 * depth, ' ') << s << "\n";
  }
  static std::string typed(const ValueType &t) {
    return t.kind == ValueType::Invalid ? "" : " : " + t.str();
  }

  void kernel(const Kernel &k) {
    line(0, "Kernel " + k.name + at(k.loc));
    for (const Param &p : k.params)
      line(1, "Param " + p.name + " : " + p.type.resolved().str() + at(p.loc));
    for (const TypeAST &t : k.results)
      line(1, "Result " + t.resolved().str() + at(t.loc));
    for (const StmtPtr &s : k.body)
      stmt(*s, 1);
  }

  void stmt(const Stmt &s, int d) {
    std::string names;
    for (const std::string &n : s.names)
      names += (names.empty() ? "" : ", ") + n;
    line(d, (s.kind == Stmt::Let ? "Let " + names : std::string("Return")) +
                at(s.loc));
    for (const ExprPtr &v : s.values)
      expr(*v, d + 1);
  }

  void expr(const Expr &e, int d) {
    std::string t = typed(e.type);
    switch (e.kind) {
    case Expr::Number: {
      std::ostringstream n;
      if (e.isFloatLiteral)
        n << e.number;
      else
        n << e.integer;
      line(d, "Number " + n.str() + t + at(e.loc));
      return;
    }
    case Expr::Bool:
      line(d, std::string("Bool ") + (e.boolean ? "true" : "false") + t +
                  at(e.loc));
      return;
    case Expr::Name: {
      std::string ref = e.ref == NameRef::Dim
                            ? " (dim of " + e.dimParam + "[" +
                                  std::to_string(e.dimAxis) + "])"
                            : "";
      line(d, "Name " + e.name + ref + t + at(e.loc));
      return;
    }
    case Expr::List:
      line(d, "List" + at(e.loc));
      break;
    case Expr::Tuple:
      line(d, "Tuple" + at(e.loc));
      break;
    case Expr::Call:
      line(d, "Call " + e.name + t + at(e.loc));
      break;
    case Expr::Index:
      line(d, "Index " + e.name + t + at(e.loc));
      break;
    case Expr::Unary:
      line(d, "Unary " + e.name + t + at(e.loc));
      break;
    case Expr::Binary:
      line(d, "Binary " + e.name + t + at(e.loc));
      break;
    case Expr::Lambda: {
      std::string ps;
      for (const std::string &p : e.params)
        ps += (ps.empty() ? "" : ", ") + p;
      line(d, "Lambda (" + ps + ")" + t + at(e.loc));
      if (e.body)
        expr(*e.body, d + 1);
      for (const StmtPtr &s : e.block)
        stmt(*s, d + 1);
      return;
    }
    }
    for (const ExprPtr &i : e.items)
      expr(*i, d + 1);
    for (const KeywordArg &k : e.keywords) {
      line(d + 1, "Keyword " + k.name + at(k.loc));
      expr(*k.value, d + 2);
    }
  }

  std::ostream &os;
};

} // namespace

void attnc::dumpAST(const Module &module, std::ostream &os) {
  Dumper(os).module(module);
}
