//===- Builtins.cpp - signatures and shape rules of the tensor built-ins --===//
//
// Every built-in first goes through one generic signature check (positional
// count, known keywords, keyword kinds, required keywords), then through its
// own shape rule. Range checks on values (buckets even, dilation >= 1, ...)
// live in the dialect's verifiers only, which report them at the call's
// file:line:col; repeating them here would give two sources of truth.
//
//===----------------------------------------------------------------------===//
#include "Checker.h"

#include <algorithm>
#include <cmath>

using namespace attnc;

namespace attnc {

enum class KwKind { Int, Float, Bool, IntList, Tensor, Lambda, IntOrDim };

struct KwSpec {
  const char *name;
  KwKind kind;
  bool required = false;
};

struct Signature {
  const char *name;
  std::vector<const char *> positional; // names, for messages
  size_t minPositional;
  std::vector<KwSpec> keywords;
  bool (Checker::*rule)(Expr &, Scope &);
};

static const std::vector<Signature> &signatures() {
  using K = KwKind;
  static const std::vector<Signature> table = {
      {"attend", {"q", "k", "v"}, 3,
       {{"mask", K::Lambda}, {"score", K::Lambda}, {"scale", K::Float},
        {"causal", K::Bool}},
       &Checker::attend},
      {"windowed_attend", {"q", "k", "v"}, 3,
       {{"left", K::Int, true}, {"right", K::Int, true},
        {"dilation", K::Int}, {"global", K::IntList}},
       &Checker::windowedAttend},
      {"hash_bucket", {"x"}, 1,
       {{"buckets", K::Int, true}, {"rounds", K::Int}, {"seed", K::Int},
        {"rotations", K::Tensor}},
       &Checker::hashBucket},
      {"sort_chunk", {"buckets"}, 1, {{"chunk", K::Int, true}},
       &Checker::sortChunk},
      {"chunked_attend", {"q", "k", "v", "order"}, 4,
       {{"chunk", K::Int, true}, {"before", K::Int}, {"after", K::Int},
        {"causal", K::Bool}, {"self_mask", K::Bool},
        {"normalize_keys", K::Bool}},
       &Checker::chunkedAttend},
      {"combine_rounds", {"out", "lse"}, 2, {}, &Checker::combineRounds},
      {"lsh_attend", {"qk", "v"}, 2,
       {{"buckets", K::Int, true}, {"rounds", K::Int},
        {"chunk", K::Int, true}, {"before", K::Int}, {"after", K::Int},
        {"causal", K::Bool}, {"seed", K::Int}, {"rotations", K::Tensor}},
       &Checker::lshAttend},
      {"linear", {"x", "w", "b"}, 2, {}, &Checker::linear},
      {"layer_norm", {"x", "gamma", "beta"}, 1, {{"eps", K::Float}},
       &Checker::layerNorm},
      {"gelu", {"x"}, 1, {}, &Checker::unaryElementwise},
      {"relu", {"x"}, 1, {}, &Checker::unaryElementwise},
      {"split_heads", {"x"}, 1, {{"heads", K::IntOrDim, true}},
       &Checker::splitHeads},
      {"merge_heads", {"x"}, 1, {}, &Checker::mergeHeads},
      {"reversible", {"x1", "x2"}, 2,
       {{"f", K::Lambda, true}, {"g", K::Lambda, true}},
       &Checker::reversible},
  };
  return table;
}

static const Signature *findSignature(const std::string &name) {
  for (const Signature &s : signatures())
    if (name == s.name)
      return &s;
  return nullptr;
}

bool isBuiltin(const std::string &name) { return findSignature(name); }

bool isScalarFunction(const std::string &name) {
  static const char *names[] = {"abs", "min", "max", "exp",
                                "log", "sqrt", "tanh"};
  return std::find_if(std::begin(names), std::end(names), [&](const char *n) {
           return name == n;
         }) != std::end(names);
}

static std::string join(const std::vector<const char *> &names, size_t from,
                        size_t to) {
  std::string s;
  for (size_t i = from; i < to; ++i)
    s += std::string(i > from ? ", " : "") + names[i];
  return s;
}

bool Checker::builtinCall(Expr &e, Scope &scope) {
  const Signature *sig = findSignature(e.name);
  if (!sig) {
    if (scope.lookup(e.name))
      return fail(e.loc, "'" + e.name + "' is a value, not a function");
    return fail(e.loc, "unknown built-in '" + e.name + "'");
  }
  return signature(e, scope, *sig) && (this->*sig->rule)(e, scope);
}

bool Checker::signature(Expr &e, Scope &scope, const Signature &sig) {
  size_t n = e.items.size(), max = sig.positional.size();
  if (n < sig.minPositional || n > max) {
    std::string expected =
        sig.minPositional == max
            ? std::to_string(max)
            : std::to_string(sig.minPositional) + " to " + std::to_string(max);
    std::string names = join(sig.positional, 0, sig.minPositional);
    if (max > sig.minPositional)
      names += "[, " + join(sig.positional, sig.minPositional, max) + "]";
    return fail(e.loc, "'" + e.name + "' expects " + expected +
                           " positional argument(s) (" + names + "), got " +
                           std::to_string(n));
  }
  for (size_t i = 0; i < n; ++i) {
    Expr &a = *e.items[i];
    if (!tensorExpr(a, scope))
      return false;
    if (a.type.kind != ValueType::Tensor)
      return fail(a.loc, "argument '" + std::string(sig.positional[i]) +
                             "' of '" + e.name + "' must be a tensor, got " +
                             a.type.str());
  }
  for (size_t i = 0; i < e.keywords.size(); ++i) {
    KeywordArg &kw = e.keywords[i];
    const KwSpec *spec = nullptr;
    for (const KwSpec &s : sig.keywords)
      if (kw.name == s.name)
        spec = &s;
    if (!spec) {
      std::string known;
      for (const KwSpec &s : sig.keywords)
        known += std::string(known.empty() ? "" : ", ") + s.name;
      return fail(kw.loc, "'" + e.name + "' has no keyword argument '" +
                              kw.name + "'" +
                              (known.empty() ? "; it takes none"
                                             : "; expected one of " + known));
    }
    for (size_t j = 0; j < i; ++j)
      if (e.keywords[j].name == kw.name)
        return fail(kw.loc, "keyword argument '" + kw.name + "' given twice");
    Expr &v = *kw.value;
    auto expectKind = [&](bool ok, const char *what) {
      return ok || fail(v.loc, "keyword argument '" + kw.name +
                                   "' of '" + e.name + "' expects " + what);
    };
    switch (spec->kind) {
    case KwKind::Int:
      if (!expectKind(constInt(v).has_value(), "an integer"))
        return false;
      v.type = ValueType::scalar(ValueType::Int);
      break;
    case KwKind::Float:
      if (!expectKind(constFloat(v).has_value(), "a number"))
        return false;
      v.type = ValueType::scalar(ValueType::Float);
      break;
    case KwKind::Bool:
      if (!expectKind(v.kind == Expr::Bool, "true or false"))
        return false;
      v.type = ValueType::scalar(ValueType::Bool);
      break;
    case KwKind::IntList: {
      bool ok = v.kind == Expr::List;
      for (ExprPtr &item : v.items)
        ok = ok && constInt(*item).has_value();
      if (!expectKind(ok, "a list of integers, e.g. [0, 1]"))
        return false;
      break;
    }
    case KwKind::Tensor:
      if (!tensorExpr(v, scope))
        return false;
      if (!expectKind(v.type.kind == ValueType::Tensor, "a tensor"))
        return false;
      break;
    case KwKind::Lambda:
      break; // arity and body are checked by the built-in's rule
    case KwKind::IntOrDim:
      if (v.kind == Expr::Name && isDimName(v.name)) {
        const DimBinding &b = info.dims.at(v.name);
        v.ref = NameRef::Dim;
        v.dimParam = b.param;
        v.dimAxis = b.axis;
      } else if (!expectKind(constInt(v).has_value(),
                             "an integer or a dimension name")) {
        return false;
      }
      v.type = ValueType::scalar(ValueType::Int);
      break;
    }
  }
  for (const KwSpec &s : sig.keywords)
    if (s.required && !e.keyword(s.name))
      return fail(e.loc, "'" + e.name + "' requires keyword argument '" +
                             s.name + "'");
  return true;
}

//===----------------------------------------------------------------------===//
// Shape helpers
//===----------------------------------------------------------------------===//

bool Checker::tensorArg(Expr &call, size_t i, const char *layout, int rank,
                        bool needFloat, TensorType &out) {
  const Signature *sig = findSignature(call.name);
  const char *name = sig->positional[i];
  Expr &a = *call.items[i];
  out = a.type.tensors[0];
  if (rank >= 0 && int(out.dims.size()) != rank)
    return fail(a.loc, "'" + call.name + "' expects " + name + " of rank " +
                           std::to_string(rank) + " " + layout + ", got " +
                           out.str());
  if (rank < 0 && out.dims.size() < size_t(-rank))
    return fail(a.loc, "'" + call.name + "' expects " + name +
                           " of rank at least " + std::to_string(-rank) +
                           ", got " + out.str());
  if (needFloat && !isFloat(out.dtype))
    return fail(a.loc, "'" + call.name + "' expects " + name +
                           " to be a floating-point tensor, got " + out.str());
  if (!needFloat && out.dtype != DType::I32)
    return fail(a.loc, "'" + call.name + "' expects " + name +
                           " to be an i32 tensor, got " + out.str());
  return true;
}

static int norm(const TensorType &t, int i) {
  return i < 0 ? int(t.dims.size()) + i : i;
}

bool Checker::sameDim(const SourceLoc &loc, const TensorType &a, int ai,
                      const char *an, const TensorType &b, int bi,
                      const char *bn) {
  ai = norm(a, ai);
  bi = norm(b, bi);
  if (a.dims[ai] == b.dims[bi])
    return true;
  return fail(loc, std::string("dimension conflict: ") + an + " dimension " +
                       std::to_string(ai) + " is " + a.dims[ai].str() +
                       " but " + bn + " dimension " + std::to_string(bi) +
                       " is " + b.dims[bi].str());
}

bool Checker::sameDtype(const SourceLoc &loc, const TensorType &a,
                        const char *an, const TensorType &b, const char *bn) {
  if (a.dtype == b.dtype)
    return true;
  return fail(loc, std::string("dtype conflict: ") + bn + " is " +
                       dtypeName(b.dtype) + " but " + an + " is " +
                       dtypeName(a.dtype));
}

bool Checker::broadcast(Expr &e, const TensorType &a, const char *an,
                        const TensorType &b, const char *bn) {
  if (!isFloat(a.dtype) || !isFloat(b.dtype))
    return fail(e.loc, "operator '" + e.name + "' expects floating-point "
                       "tensors, got " + a.str() + " and " + b.str());
  if (!sameDtype(e.loc, a, an, b, bn))
    return false;
  const TensorType &longer = a.dims.size() >= b.dims.size() ? a : b;
  const TensorType &shorter = &longer == &a ? b : a;
  for (int i = 1; i <= int(shorter.dims.size()); ++i)
    if (!sameDim(e.loc, longer, -i, &longer == &a ? an : bn, shorter, -i,
                 &longer == &a ? bn : an))
      return false;
  e.type = ValueType::tensor(longer);
  return true;
}

bool Checker::qkv(Expr &e, TensorType &q, TensorType &k, TensorType &v) {
  const char *l = "[B, H, L, D]";
  if (!tensorArg(e, 0, l, 4, true, q) || !tensorArg(e, 1, l, 4, true, k) ||
      !tensorArg(e, 2, l, 4, true, v))
    return false;
  SourceLoc kl = e.items[1]->loc, vl = e.items[2]->loc;
  return sameDtype(kl, q, "q", k, "k") && sameDtype(vl, q, "q", v, "v") &&
         sameDim(kl, k, 0, "k", q, 0, "q") &&
         sameDim(kl, k, 1, "k", q, 1, "q") &&
         sameDim(kl, k, 3, "k", q, 3, "q") &&
         sameDim(vl, v, 0, "v", q, 0, "q") &&
         sameDim(vl, v, 1, "v", q, 1, "q") &&
         sameDim(vl, v, 2, "v", k, 2, "k");
}

//===----------------------------------------------------------------------===//
// Rules
//===----------------------------------------------------------------------===//

bool Checker::attend(Expr &e, Scope &scope) {
  TensorType q, k, v;
  if (!qkv(e, q, k, v))
    return false;
  ValueType idx = ValueType::scalar(ValueType::Int);
  if (const KeywordArg *m = e.keyword("mask")) {
    if (!lambda(*m->value, scope, {idx, idx, idx, idx}, "mask"))
      return false;
    if (m->value->type.kind != ValueType::Bool)
      return fail(m->value->loc, "mask function must return a boolean, got " +
                                     m->value->type.str());
  }
  if (const KeywordArg *s = e.keyword("score")) {
    if (!lambda(*s->value, scope,
                {ValueType::scalar(ValueType::Float), idx, idx, idx, idx},
                "score"))
      return false;
    if (s->value->type.kind != ValueType::Float &&
        s->value->type.kind != ValueType::Int)
      return fail(s->value->loc, "score function must return a number, got " +
                                     s->value->type.str());
  }
  e.type = ValueType::tensor(
      TensorType{q.dtype, {q.dims[0], q.dims[1], q.dims[2], v.dims[3]}});
  return true;
}

bool Checker::windowedAttend(Expr &e, Scope &) {
  TensorType q, k, v;
  if (!qkv(e, q, k, v))
    return false;
  e.type = ValueType::tensor(
      TensorType{q.dtype, {q.dims[0], q.dims[1], q.dims[2], v.dims[3]}});
  return true;
}

/// seed xor rotations; rotations [H, D, R, N/2] agree with x [B, H, L, D].
bool Checker::hashing(Expr &e, Scope &, const TensorType &x) {
  const KeywordArg *seed = e.keyword("seed");
  const KeywordArg *rot = e.keyword("rotations");
  if (seed && rot)
    return fail(rot->loc, "'" + e.name + "' takes either 'seed' or "
                          "'rotations', not both");
  if (!seed && !rot)
    return fail(e.loc, "'" + e.name + "' requires keyword argument 'seed' "
                       "or 'rotations'");
  if (!rot)
    return true;
  const TensorType &r = rot->value->type.tensors[0];
  if (r.dims.size() != 4 || !isFloat(r.dtype))
    return fail(rot->value->loc, "rotations must be a floating-point tensor "
                                 "of rank 4 [H, D, R, N/2], got " + r.str());
  return sameDim(rot->value->loc, r, 0, "rotations", x, 1, "x") &&
         sameDim(rot->value->loc, r, 1, "rotations", x, 3, "x");
}

bool Checker::hashBucket(Expr &e, Scope &scope) {
  TensorType x;
  if (!tensorArg(e, 0, "[B, H, L, D]", 4, true, x) || !hashing(e, scope, x))
    return false;
  int64_t rounds = intKeyword(e, "rounds", 1);
  e.type = ValueType::tensor(TensorType{
      DType::I32, {x.dims[0], x.dims[1], Dim::lit(rounds), x.dims[2]}});
  return true;
}

bool Checker::sortChunk(Expr &e, Scope &) {
  TensorType b;
  if (!tensorArg(e, 0, "[B, H, R, L]", 4, false, b))
    return false;
  e.type = ValueType::pair(b, b);
  return true;
}

bool Checker::chunkedAttend(Expr &e, Scope &) {
  TensorType q, k, v, order;
  if (!qkv(e, q, k, v) || !tensorArg(e, 3, "[B, H, R, L]", 4, false, order))
    return false;
  SourceLoc kl = e.items[1]->loc, ol = e.items[3]->loc;
  if (!sameDim(kl, k, 2, "k", q, 2, "q") ||
      !sameDim(ol, order, 0, "order", q, 0, "q") ||
      !sameDim(ol, order, 1, "order", q, 1, "q") ||
      !sameDim(ol, order, 3, "order", q, 2, "q"))
    return false;
  std::vector<Dim> brl = {q.dims[0], q.dims[1], order.dims[2], q.dims[2]};
  std::vector<Dim> out = brl;
  out.push_back(v.dims[3]);
  e.type = ValueType::pair(TensorType{q.dtype, out}, TensorType{DType::F32, brl});
  return true;
}

bool Checker::combineRounds(Expr &e, Scope &) {
  TensorType out, lse;
  if (!tensorArg(e, 0, "[B, H, R, L, Dv]", 5, true, out) ||
      !tensorArg(e, 1, "[B, H, R, L]", 4, true, lse))
    return false;
  for (int i = 0; i < 4; ++i)
    if (!sameDim(e.items[1]->loc, lse, i, "lse", out, i, "out"))
      return false;
  e.type = ValueType::tensor(TensorType{
      out.dtype, {out.dims[0], out.dims[1], out.dims[3], out.dims[4]}});
  return true;
}

bool Checker::lshAttend(Expr &e, Scope &scope) {
  TensorType qk, v;
  const char *l = "[B, H, L, D]";
  if (!tensorArg(e, 0, l, 4, true, qk) || !tensorArg(e, 1, l, 4, true, v) ||
      !hashing(e, scope, qk))
    return false;
  SourceLoc vl = e.items[1]->loc;
  if (!sameDtype(vl, qk, "qk", v, "v") || !sameDim(vl, v, 0, "v", qk, 0, "qk") ||
      !sameDim(vl, v, 1, "v", qk, 1, "qk") ||
      !sameDim(vl, v, 2, "v", qk, 2, "qk"))
    return false;
  e.type = ValueType::tensor(
      TensorType{qk.dtype, {qk.dims[0], qk.dims[1], qk.dims[2], v.dims[3]}});
  return true;
}

bool Checker::linear(Expr &e, Scope &) {
  TensorType x, w, b;
  if (!tensorArg(e, 0, "", -1, true, x) ||
      !tensorArg(e, 1, "[M, N]", 2, true, w) ||
      !sameDtype(e.items[1]->loc, x, "x", w, "w") ||
      !sameDim(e.items[1]->loc, w, 0, "w", x, -1, "x"))
    return false;
  if (e.items.size() == 3 &&
      (!tensorArg(e, 2, "[N]", 1, true, b) ||
       !sameDim(e.items[2]->loc, b, 0, "b", w, 1, "w")))
    return false;
  TensorType r = x;
  r.dims.back() = w.dims[1];
  e.type = ValueType::tensor(r);
  return true;
}

bool Checker::layerNorm(Expr &e, Scope &) {
  TensorType x, g, b;
  if (!tensorArg(e, 0, "", -1, true, x))
    return false;
  if (e.items.size() == 2)
    return fail(e.loc, "'layer_norm' takes gamma and beta together; got "
                       "gamma without beta");
  if (e.items.size() == 3 &&
      (!tensorArg(e, 1, "[N]", 1, true, g) ||
       !tensorArg(e, 2, "[N]", 1, true, b) ||
       !sameDim(e.items[1]->loc, g, 0, "gamma", x, -1, "x") ||
       !sameDim(e.items[2]->loc, b, 0, "beta", x, -1, "x")))
    return false;
  e.type = ValueType::tensor(x);
  return true;
}

bool Checker::unaryElementwise(Expr &e, Scope &) {
  TensorType x;
  if (!tensorArg(e, 0, "", -1, true, x))
    return false;
  e.type = ValueType::tensor(x);
  return true;
}

bool Checker::splitHeads(Expr &e, Scope &) {
  TensorType x;
  if (!tensorArg(e, 0, "[B, L, H*D]", 3, true, x))
    return false;
  const Expr &h = *e.keyword("heads")->value;
  Dim heads = h.ref == NameRef::Dim ? Dim::named(h.name)
                                    : Dim::lit(*constInt(h));
  if (heads.isStatic() && heads.value < 1)
    return fail(h.loc, "heads must be at least 1, got " + heads.str());
  if (heads.isStatic() && x.dims[2].isStatic() &&
      x.dims[2].value % heads.value != 0)
    return fail(h.loc, "heads " + heads.str() +
                           " does not divide the model dimension " +
                           x.dims[2].str());
  e.type = ValueType::tensor(TensorType{
      x.dtype, {x.dims[0], heads, x.dims[1], divDims(x.dims[2], heads)}});
  return true;
}

bool Checker::mergeHeads(Expr &e, Scope &) {
  TensorType x;
  if (!tensorArg(e, 0, "[B, H, L, D]", 4, true, x))
    return false;
  e.type = ValueType::tensor(TensorType{
      x.dtype, {x.dims[0], x.dims[2], mulDims(x.dims[1], x.dims[3])}});
  return true;
}

bool Checker::reversible(Expr &e, Scope &scope) {
  TensorType x1, x2;
  if (!tensorArg(e, 0, "", -1, true, x1) || !tensorArg(e, 1, "", -1, true, x2))
    return false;
  // y1 = x1 + f(x2), y2 = x2 + g(y1): f maps x2's type to x1's, g the reverse.
  Expr &f = *e.keyword("f")->value, &g = *e.keyword("g")->value;
  if (!lambda(f, scope, {ValueType::tensor(x2)}, "f"))
    return false;
  if (f.type.kind != ValueType::Tensor || f.type.tensors[0] != x1)
    return fail(f.loc, "f must return x1's type " + x1.str() + ", got " +
                           f.type.str());
  if (!lambda(g, scope, {ValueType::tensor(x1)}, "g"))
    return false;
  if (g.type.kind != ValueType::Tensor || g.type.tensors[0] != x2)
    return fail(g.loc, "g must return x2's type " + x2.str() + ", got " +
                           g.type.str());
  e.type = ValueType::pair(x1, x2);
  return true;
}

} // namespace attnc
