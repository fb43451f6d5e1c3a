//===- Checker.h - internal: the checker shared by Sema and Builtins ------===//
#ifndef ATTNC_FRONTEND_LIB_CHECKER_H
#define ATTNC_FRONTEND_LIB_CHECKER_H

#include "attnc/Frontend/Sema.h"

#include <map>
#include <string>
#include <vector>

namespace attnc {

/// Tensor built-ins (attend, linear, ...) and the scalar functions available
/// inside mask and score functions.
bool isBuiltin(const std::string &name);
bool isScalarFunction(const std::string &name);

struct Scope {
  const Scope *parent = nullptr;
  bool scalar = false; // inside a mask/score function
  std::map<std::string, ValueType> vars;

  const ValueType *lookup(const std::string &n) const {
    for (const Scope *s = this; s; s = s->parent) {
      auto it = s->vars.find(n);
      if (it != s->vars.end())
        return &it->second;
    }
    return nullptr;
  }
};

class Checker {
public:
  explicit Checker(DiagnosticEngine &diags) : diags(diags) {}
  bool run(Module &m, std::vector<KernelInfo> *infos);

  // Everything below is used by the built-in table in Builtins.cpp.
  bool fail(const SourceLoc &loc, const std::string &msg) {
    diags.error(loc, msg);
    return false;
  }
  bool isDimName(const std::string &n) const { return info.dims.count(n); }

  // Sema.cpp: statements and expressions.
  bool kernel(Kernel &k);
  bool stmts(std::vector<StmtPtr> &body, Scope &scope, const SourceLoc &owner,
             std::vector<ValueType> &returned, std::vector<SourceLoc> &locs);
  bool define(Scope &scope, const std::string &n, const SourceLoc &loc,
              ValueType t);
  bool tensorExpr(Expr &e, Scope &scope);
  bool scalarExpr(Expr &e, Scope &scope);
  bool scalarCall(Expr &e, Scope &scope);
  bool lambda(Expr &e, Scope &scope, const std::vector<ValueType> &params,
              const char *what);

  // Builtins.cpp: one rule per tensor built-in.
  bool builtinCall(Expr &e, Scope &scope);
  bool signature(Expr &e, Scope &scope, const struct Signature &sig);
  bool tensorArg(Expr &call, size_t i, const char *name, int rank,
                 bool needFloat, TensorType &out);
  bool sameDim(const SourceLoc &loc, const TensorType &a, int ai,
               const char *an, const TensorType &b, int bi, const char *bn);
  bool sameDtype(const SourceLoc &loc, const TensorType &a, const char *an,
                 const TensorType &b, const char *bn);
  bool broadcast(Expr &e, const TensorType &a, const char *an,
                 const TensorType &b, const char *bn);
  bool qkv(Expr &e, TensorType &q, TensorType &k, TensorType &v);
  bool hashing(Expr &e, Scope &scope, const TensorType &x);
  bool attend(Expr &e, Scope &scope);
  bool windowedAttend(Expr &e, Scope &scope);
  bool hashBucket(Expr &e, Scope &scope);
  bool sortChunk(Expr &e, Scope &scope);
  bool chunkedAttend(Expr &e, Scope &scope);
  bool combineRounds(Expr &e, Scope &scope);
  bool lshAttend(Expr &e, Scope &scope);
  bool linear(Expr &e, Scope &scope);
  bool layerNorm(Expr &e, Scope &scope);
  bool unaryElementwise(Expr &e, Scope &scope);
  bool splitHeads(Expr &e, Scope &scope);
  bool mergeHeads(Expr &e, Scope &scope);
  bool reversible(Expr &e, Scope &scope);

  DiagnosticEngine &diags;
  KernelInfo info;
};

} // namespace attnc

#endif
