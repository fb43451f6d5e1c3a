//===- Sema.cpp - the .attn checker ---------------------------------------===//
//
// Two expression worlds share one tree: tensor expressions (kernel bodies and
// the bodies of reversible's f/g) and scalar expressions (mask and score
// functions, evaluated per (b, h, i, j)). The checker knows which world it is
// in and says so in its messages when a construct belongs to the other.
//
//===----------------------------------------------------------------------===//
#include "attnc/Frontend/Sema.h"
#include "Checker.h"

#include <set>

using namespace attnc;

namespace attnc {

bool Checker::run(Module &m, std::vector<KernelInfo> *infos) {
  std::set<std::string> names;
  for (Kernel &k : m.kernels) {
    if (!names.insert(k.name).second)
      return fail(k.loc, "redefinition of kernel '" + k.name + "'");
    info = KernelInfo();
    if (!kernel(k))
      return false;
    if (infos)
      infos->push_back(info);
  }
  return true;
}

bool Checker::define(Scope &scope, const std::string &n, const SourceLoc &loc,
                     ValueType t) {
  if (scope.lookup(n))
    return fail(loc, "redefinition of '" + n + "'");
  if (isDimName(n))
    return fail(loc, "'" + n + "' is already the name of a dimension");
  if (isBuiltin(n))
    return fail(loc, "'" + n + "' is the name of a built-in");
  scope.vars[n] = std::move(t);
  return true;
}

bool Checker::kernel(Kernel &k) {
  Scope scope;
  // Bind dimensions first: a parameter name that is also a dimension name
  // would make `x` ambiguous inside a mask function.
  for (Param &p : k.params)
    for (size_t axis = 0; axis < p.type.dims.size(); ++axis) {
      const DimAST &d = p.type.dims[axis];
      if (d.compound)
        return fail(d.loc, "a parameter dimension must be a name or an "
                           "integer; derived dimensions such as E/H are for "
                           "result types");
      if (!d.isLiteral && !info.dims.count(d.name))
        info.dims[d.name] = DimBinding{p.name, int(axis)};
    }
  for (Param &p : k.params) {
    if (scope.vars.count(p.name))
      return fail(p.loc, "duplicate parameter '" + p.name + "'");
    if (info.dims.count(p.name))
      return fail(p.loc, "'" + p.name +
                             "' names both a parameter and a dimension");
    if (isBuiltin(p.name))
      return fail(p.loc, "'" + p.name + "' is the name of a built-in");
    scope.vars[p.name] = ValueType::tensor(p.type.resolved());
  }
  for (TypeAST &t : k.results)
    for (DimAST &d : t.dims)
      if (!d.isLiteral && !d.compound && !info.dims.count(d.name))
        return fail(d.loc, "result dimension '" + d.name +
                               "' is not bound by any parameter");

  std::vector<ValueType> returned;
  std::vector<SourceLoc> locs;
  if (!stmts(k.body, scope, k.loc, returned, locs))
    return false;
  if (returned.size() != k.results.size())
    return fail(locs.empty() ? k.loc : locs.front(),
                "kernel '" + k.name + "' returns " +
                    std::to_string(returned.size()) + " value(s) but declares " +
                    std::to_string(k.results.size()));
  for (size_t i = 0; i < returned.size(); ++i) {
    TensorType declared = k.results[i].resolved();
    if (returned[i].tensors[0] != declared)
      return fail(locs[i], "returned value has type " + returned[i].str() +
                               " but the kernel declares " + declared.str());
  }
  return true;
}

/// Checks a body (kernel, or a block lambda): lets, then exactly one return
/// as the last statement. Pairs returned whole count as two values.
bool Checker::stmts(std::vector<StmtPtr> &body, Scope &scope,
                    const SourceLoc &owner, std::vector<ValueType> &returned,
                    std::vector<SourceLoc> &locs) {
  bool sawReturn = false;
  for (StmtPtr &s : body) {
    if (sawReturn)
      return fail(s->loc, "statement after return");
    Expr &value = *s->values.front();
    if (s->kind == Stmt::Let) {
      if (!(scope.scalar ? scalarExpr(value, scope) : tensorExpr(value, scope)))
        return false;
      if (s->names.size() == 2) {
        if (value.type.kind != ValueType::Pair)
          return fail(s->loc, "cannot destructure a value of type " +
                                  value.type.str() + ": it is not a pair");
        for (int i = 0; i < 2; ++i)
          if (!define(scope, s->names[i], s->nameLocs[i],
                      ValueType::tensor(value.type.tensors[i])))
            return false;
      } else {
        if (value.type.kind == ValueType::Pair)
          return fail(s->loc, "'" + s->names[0] + "' would hold a pair; bind "
                              "it with let (a, b) = ...");
        if (!define(scope, s->names[0], s->nameLocs[0], value.type))
          return false;
      }
      continue;
    }
    sawReturn = true;
    for (ExprPtr &v : s->values) {
      if (!(scope.scalar ? scalarExpr(*v, scope) : tensorExpr(*v, scope)))
        return false;
      if (v->type.kind == ValueType::Pair) {
        for (int i = 0; i < 2; ++i) {
          returned.push_back(ValueType::tensor(v->type.tensors[i]));
          locs.push_back(v->loc);
        }
      } else {
        returned.push_back(v->type);
        locs.push_back(v->loc);
      }
    }
  }
  if (!sawReturn)
    return fail(owner, "body has no return statement");
  return true;
}

bool Checker::tensorExpr(Expr &e, Scope &scope) {
  switch (e.kind) {
  case Expr::Name: {
    const ValueType *t = scope.lookup(e.name);
    if (!t) {
      if (isDimName(e.name))
        return fail(e.loc, "'" + e.name + "' is a dimension; dimensions are "
                           "values only inside mask and score functions");
      return fail(e.loc, "unknown name '" + e.name + "'");
    }
    e.ref = NameRef::Value;
    e.type = *t;
    return true;
  }
  case Expr::Call:
    if (isScalarFunction(e.name) && !isBuiltin(e.name))
      return fail(e.loc, "'" + e.name + "' is only available inside mask "
                         "and score functions");
    return builtinCall(e, scope);
  case Expr::Binary: {
    const std::string &op = e.name;
    if (op != "+" && op != "-" && op != "*")
      return fail(e.loc, "operator '" + op + "' is not defined on tensors "
                         "(only +, - and * are)");
    Expr &l = *e.items[0], &r = *e.items[1];
    if (!tensorExpr(l, scope) || !tensorExpr(r, scope))
      return false;
    for (Expr *x : {&l, &r})
      if (x->type.kind != ValueType::Tensor)
        return fail(x->loc, "operand of '" + op + "' must be a tensor, got " +
                                x->type.str());
    return broadcast(e, l.type.tensors[0], "left operand", r.type.tensors[0],
                     "right operand");
  }
  case Expr::Number: case Expr::Bool:
    return fail(e.loc, "a scalar cannot be used as a tensor here; scalars "
                       "appear as keyword arguments or inside mask and "
                       "score functions");
  case Expr::Index:
    return fail(e.loc, "indexing is only available inside mask and score "
                       "functions");
  case Expr::Unary:
    return fail(e.loc, "operator '" + e.name + "' is not defined on tensors");
  case Expr::Lambda:
    return fail(e.loc, "a function is only allowed as a keyword argument "
                       "(mask, score, f, g)");
  case Expr::List:
    return fail(e.loc, "a list is only allowed as a keyword argument "
                       "(global)");
  case Expr::Tuple:
    return fail(e.loc, "a pair is only allowed after 'return'");
  }
  return fail(e.loc, "unsupported expression");
}

/// Checks a lambda against the parameter types its built-in gives it; the
/// body's type is left in e.type. Scalar parameters switch to scalar mode.
bool Checker::lambda(Expr &e, Scope &scope, const std::vector<ValueType> &params,
                     const char *what) {
  if (e.kind != Expr::Lambda)
    return fail(e.loc, std::string(what) + " must be a function, e.g. (" +
                           (params.size() == 1 ? "x" : "b, h, i, j") +
                           ") => ...");
  if (e.params.size() != params.size())
    return fail(e.loc, std::string(what) + " function takes " +
                           std::to_string(params.size()) + " parameter(s), got " +
                           std::to_string(e.params.size()));
  Scope inner;
  inner.parent = &scope;
  inner.scalar = params.front().isScalar();
  for (size_t i = 0; i < params.size(); ++i) {
    if (inner.vars.count(e.params[i]))
      return fail(e.paramLocs[i], "duplicate parameter '" + e.params[i] + "'");
    inner.vars[e.params[i]] = params[i];
  }
  if (e.body) {
    if (!(inner.scalar ? scalarExpr(*e.body, inner)
                       : tensorExpr(*e.body, inner)))
      return false;
    e.type = e.body->type;
  } else {
    std::vector<ValueType> returned;
    std::vector<SourceLoc> locs;
    if (!stmts(e.block, inner, e.loc, returned, locs))
      return false;
    if (returned.size() != 1)
      return fail(locs.front(), std::string(what) +
                                    " function must return one value");
    e.type = returned.front();
  }
  if (e.type.kind == ValueType::Pair)
    return fail(e.loc, std::string(what) + " function must return one value, "
                                           "not a pair");
  return true;
}

bool Checker::scalarExpr(Expr &e, Scope &scope) {
  switch (e.kind) {
  case Expr::Number:
    e.type = ValueType::scalar(e.isFloatLiteral ? ValueType::Float
                                                : ValueType::Int);
    return true;
  case Expr::Bool:
    e.type = ValueType::scalar(ValueType::Bool);
    return true;
  case Expr::Name: {
    if (const ValueType *t = scope.lookup(e.name)) {
      if (!t->isScalar())
        return fail(e.loc, "tensor '" + e.name + "' must be indexed here, "
                           "e.g. " + e.name + "[h, i]");
      // Scalars are only ever bound inside a mask or score function.
      e.ref = NameRef::LambdaParam;
      e.type = *t;
      return true;
    }
    auto dim = info.dims.find(e.name);
    if (dim == info.dims.end())
      return fail(e.loc, "unknown name '" + e.name + "'");
    e.ref = NameRef::Dim;
    e.dimParam = dim->second.param;
    e.dimAxis = dim->second.axis;
    e.type = ValueType::scalar(ValueType::Int);
    return true;
  }
  case Expr::Index: {
    const ValueType *t = scope.lookup(e.name);
    if (!t)
      return fail(e.loc, "unknown name '" + e.name + "'");
    if (t->kind != ValueType::Tensor)
      return fail(e.loc, "'" + e.name + "' is not a tensor and cannot be "
                         "indexed");
    const TensorType &tt = t->tensors[0];
    if (e.items.size() != tt.dims.size())
      return fail(e.loc, "'" + e.name + "' has rank " +
                             std::to_string(tt.dims.size()) +
                             " but is indexed with " +
                             std::to_string(e.items.size()) + " indices");
    for (ExprPtr &i : e.items) {
      if (!scalarExpr(*i, scope))
        return false;
      if (i->type.kind != ValueType::Int)
        return fail(i->loc, "index must be an integer, got " + i->type.str());
    }
    e.ref = NameRef::Value;
    e.type = ValueType::scalar(tt.dtype == DType::I32 ? ValueType::Int
                                                      : ValueType::Float);
    return true;
  }
  case Expr::Unary: {
    Expr &x = *e.items[0];
    if (!scalarExpr(x, scope))
      return false;
    if (e.name == "!") {
      if (x.type.kind != ValueType::Bool)
        return fail(e.loc, "operator '!' expects a boolean, got " +
                               x.type.str());
    } else if (x.type.kind == ValueType::Bool) {
      return fail(e.loc, "operator '-' expects a number, got bool");
    }
    e.type = x.type;
    return true;
  }
  case Expr::Binary: {
    Expr &l = *e.items[0], &r = *e.items[1];
    if (!scalarExpr(l, scope) || !scalarExpr(r, scope))
      return false;
    const std::string &op = e.name;
    ValueType::Kind a = l.type.kind, b = r.type.kind;
    if (op == "&&" || op == "||") {
      if (a != ValueType::Bool || b != ValueType::Bool)
        return fail(e.loc, "operator '" + op + "' expects booleans, got " +
                               l.type.str() + " and " + r.type.str());
      e.type = ValueType::scalar(ValueType::Bool);
      return true;
    }
    bool equality = op == "==" || op == "!=";
    if ((a == ValueType::Bool) != (b == ValueType::Bool) ||
        (a == ValueType::Bool && !equality))
      return fail(e.loc, "operator '" + op + "' cannot combine " +
                             l.type.str() + " and " + r.type.str());
    bool comparison = equality || op == "<" || op == "<=" || op == ">" ||
                      op == ">=";
    if (comparison) {
      e.type = ValueType::scalar(ValueType::Bool);
      return true;
    }
    // Integers combine with floats as floats.
    e.type = ValueType::scalar(a == ValueType::Float || b == ValueType::Float
                                   ? ValueType::Float
                                   : ValueType::Int);
    return true;
  }
  case Expr::Call:
    return scalarCall(e, scope);
  case Expr::Lambda:
    return fail(e.loc, "a function cannot appear inside a mask or score "
                       "function");
  case Expr::List:
    return fail(e.loc, "a list cannot appear inside a mask or score function");
  case Expr::Tuple:
    return fail(e.loc, "a pair cannot appear inside a mask or score function");
  }
  return fail(e.loc, "unsupported expression");
}

bool Checker::scalarCall(Expr &e, Scope &scope) {
  if (!isScalarFunction(e.name)) {
    if (isBuiltin(e.name))
      return fail(e.loc, "built-in '" + e.name + "' works on tensors and "
                         "cannot be called inside a mask or score function");
    return fail(e.loc, "unknown function '" + e.name + "'; inside mask and "
                       "score functions the functions are abs, min, max, "
                       "exp, log, sqrt and tanh");
  }
  if (!e.keywords.empty())
    return fail(e.keywords.front().loc, "'" + e.name +
                                            "' takes no keyword arguments");
  size_t arity = (e.name == "min" || e.name == "max") ? 2 : 1;
  if (e.items.size() != arity)
    return fail(e.loc, "'" + e.name + "' expects " + std::to_string(arity) +
                           " argument(s), got " +
                           std::to_string(e.items.size()));
  bool anyFloat = false;
  for (ExprPtr &a : e.items) {
    if (!scalarExpr(*a, scope))
      return false;
    if (a->type.kind == ValueType::Bool)
      return fail(a->loc, "'" + e.name + "' expects a number, got bool");
    anyFloat |= a->type.kind == ValueType::Float;
  }
  bool transcendental = e.name != "abs" && e.name != "min" && e.name != "max";
  e.type = ValueType::scalar(transcendental || anyFloat ? ValueType::Float
                                                         : ValueType::Int);
  return true;
}

} // namespace attnc

TensorType TypeAST::resolved() const {
  TensorType t;
  t.dtype = dtype;
  for (const DimAST &d : dims)
    t.dims.push_back(d.isLiteral ? Dim::lit(d.value) : Dim::named(d.name));
  return t;
}

bool attnc::checkModule(Module &module, DiagnosticEngine &diags,
                        std::vector<KernelInfo> *infos) {
  return Checker(diags).run(module, infos);
}
