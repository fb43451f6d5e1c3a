//===- AST.h - abstract syntax tree of .attn programs ---------------------===//
//
// Built by the parser, annotated in place by the checker (types, what each
// name refers to), read by MLIRGen and by the AST dump. Knows nothing of MLIR.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_FRONTEND_AST_H
#define ATTNC_FRONTEND_AST_H

#include "attnc/Frontend/Diagnostics.h"
#include "attnc/Frontend/Types.h"

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace attnc {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;

/// What a name refers to, resolved by the checker.
enum class NameRef {
  Unresolved,
  Value,       // a kernel parameter, a let binding or a tensor lambda param
  LambdaParam, // a scalar parameter of a mask/score function
  Dim,         // a dimension name, read as an int inside mask/score
};

struct KeywordArg {
  std::string name;
  ExprPtr value;
  SourceLoc loc;
};

struct Expr {
  enum Kind { Number, Bool, Name, List, Call, Index, Unary, Binary, Lambda,
              Tuple } kind;
  SourceLoc loc;
  ValueType type; // filled by the checker

  // Number
  bool isFloatLiteral = false;
  double number = 0;
  int64_t integer = 0;
  // Bool
  bool boolean = false;
  // Name, Call (callee), Index (base), Unary/Binary (operator spelling)
  std::string name;
  NameRef ref = NameRef::Unresolved;
  std::string dimParam; // Dim: the parameter that binds it
  int dimAxis = 0;      // Dim: its axis there
  // List, Tuple, Call (positional), Index (indices), Unary/Binary (operands)
  std::vector<ExprPtr> items;
  // Call
  std::vector<KeywordArg> keywords;
  // Lambda: parameter names (and their locations), then either an expression
  // body or a block body (lets then one return).
  std::vector<std::string> params;
  std::vector<SourceLoc> paramLocs;
  ExprPtr body;
  std::vector<StmtPtr> block;

  Expr(Kind k, SourceLoc l) : kind(k), loc(std::move(l)) {}
  const KeywordArg *keyword(const std::string &n) const {
    for (const KeywordArg &k : keywords)
      if (k.name == n)
        return &k;
    return nullptr;
  }
};

struct Stmt {
  enum Kind { Let, Return } kind;
  SourceLoc loc;
  std::vector<std::string> names; // Let: one name, or two when destructuring
  std::vector<SourceLoc> nameLocs;
  std::vector<ExprPtr> values; // Let: one; Return: one or two
  Stmt(Kind k, SourceLoc l) : kind(k), loc(std::move(l)) {}
};

struct DimAST {
  bool isLiteral = false;
  bool compound = false; // E/H, H*D: allowed in result types only
  int64_t value = 0;
  std::string name;
  SourceLoc loc;
};

struct TypeAST {
  DType dtype = DType::F32;
  std::vector<DimAST> dims;
  SourceLoc loc;
  TensorType resolved() const;
};

struct Param {
  std::string name;
  TypeAST type;
  SourceLoc loc;
};

struct Kernel {
  std::string name;
  SourceLoc loc;
  std::vector<Param> params;
  std::vector<TypeAST> results;
  std::vector<StmtPtr> body;
};

struct Module {
  std::vector<Kernel> kernels;
};

/// Prints the tree (with inferred types once checked), for `--emit=ast`.
void dumpAST(const Module &module, std::ostream &os);

} // namespace attnc

#endif

namespace attnc {

/// Integer and float constants as written in keyword arguments: a literal,
/// optionally negated.
std::optional<int64_t> constInt(const Expr &e);
std::optional<double> constFloat(const Expr &e);

/// Keyword values of a checked call, with the built-in's default when absent.
int64_t intKeyword(const Expr &call, const std::string &name, int64_t def);
double floatKeyword(const Expr &call, const std::string &name, double def);
bool boolKeyword(const Expr &call, const std::string &name, bool def);
std::vector<int64_t> intListKeyword(const Expr &call, const std::string &name);

} // namespace attnc
