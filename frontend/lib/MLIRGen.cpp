//===- MLIRGen.cpp - emit attn ops from a checked .attn AST ---------------===//
//
// The checker has already rejected every bad program, so this file trusts the
// AST's types. Lambdas become regions that are isolated from above: the outer
// values a lambda reads are found before emission (freeNames) and passed as
// `captures` operands that reappear as trailing block arguments.
//
//===----------------------------------------------------------------------===//
#include "attnc/Frontend/MLIRGen.h"

#include "attnc/Dialect/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include <map>
#include <set>

using namespace mlir;
using namespace attnc;
namespace attn = attnc::attn;

namespace {

/// The scope key of the kernel parameter that binds a dimension: not an
/// identifier, so no lambda parameter or let can shadow it (a mask
/// `(q, h, i, j) => j < L` reads L from the kernel's q, not its own q).
std::string dimKey(const std::string &param) { return "$" + param; }

/// Names a lambda reads from outside itself, in order of first use. A
/// dimension read inside a mask contributes the parameter that binds it,
/// under dimKey.
class FreeNames {
public:
  std::vector<std::string> names;

  void lambda(const Expr &e, std::set<std::string> bound) {
    for (const std::string &p : e.params)
      bound.insert(p);
    if (e.body)
      expr(*e.body, bound);
    for (const StmtPtr &s : e.block) {
      for (const ExprPtr &v : s->values)
        expr(*v, bound);
      for (const std::string &n : s->names)
        bound.insert(n);
    }
  }

private:
  void add(const std::string &n, const std::set<std::string> &bound) {
    if (bound.count(n) || seen.count(n))
      return;
    seen.insert(n);
    names.push_back(n);
  }
  void expr(const Expr &e, const std::set<std::string> &bound) {
    if (e.kind == Expr::Lambda) {
      lambda(e, bound);
      return;
    }
    if ((e.kind == Expr::Name || e.kind == Expr::Index) &&
        e.ref == NameRef::Value)
      add(e.name, bound);
    if (e.ref == NameRef::Dim)
      add(dimKey(e.dimParam), bound);
    for (const ExprPtr &i : e.items)
      expr(*i, bound);
    for (const KeywordArg &k : e.keywords)
      expr(*k.value, bound);
  }
  std::set<std::string> seen;
};

class Generator {
public:
  explicit Generator(MLIRContext &ctx) : ctx(ctx), b(&ctx) {}

  OwningOpRef<ModuleOp> run(const Module &m) {
    std::string file = m.kernels.empty() ? std::string("<input>")
                                         : m.kernels.front().loc.fileName();
    auto module = ModuleOp::create(FileLineColLoc::get(&ctx, file, 1, 1));
    b.setInsertionPointToEnd(module.getBody());
    for (const Kernel &k : m.kernels)
      kernel(k);
    return module;
  }

private:
  using Scope = std::map<std::string, Value>;

  Location loc(const SourceLoc &l) {
    return FileLineColLoc::get(&ctx, l.fileName(), l.line, l.col);
  }

  Type elementType(DType t) {
    switch (t) {
    case DType::F32: return b.getF32Type();
    case DType::F16: return b.getF16Type();
    case DType::BF16: return b.getBF16Type();
    case DType::I32: return b.getI32Type();
    }
    return b.getF32Type();
  }

  RankedTensorType tensorType(const attnc::TensorType &t) {
    SmallVector<int64_t> shape;
    for (const Dim &d : t.dims)
      shape.push_back(d.isStatic() ? d.value : ShapedType::kDynamic);
    return RankedTensorType::get(shape, elementType(t.dtype));
  }

  ArrayAttr dimsAttr(const attnc::TensorType &t) {
    SmallVector<Attribute> dims;
    for (const Dim &d : t.dims)
      dims.push_back(b.getStringAttr(d.str()));
    return b.getArrayAttr(dims);
  }

  void kernel(const Kernel &k) {
    SmallVector<Type> args, results;
    for (const Param &p : k.params)
      args.push_back(tensorType(p.type.resolved()));
    for (const TypeAST &t : k.results)
      results.push_back(tensorType(t.resolved()));
    auto func = b.create<func::FuncOp>(loc(k.loc), k.name,
                                       b.getFunctionType(args, results));
    for (auto [i, p] : llvm::enumerate(k.params)) {
      func.setArgAttr(i, "attn.name", b.getStringAttr(p.name));
      func.setArgAttr(i, "attn.dims", dimsAttr(p.type.resolved()));
    }
    for (auto [i, t] : llvm::enumerate(k.results))
      func.setResultAttr(i, "attn.dims", dimsAttr(t.resolved()));

    OpBuilder::InsertionGuard guard(b);
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    Scope scope;
    for (auto [i, p] : llvm::enumerate(k.params)) {
      entry->getArgument(i).setLoc(loc(p.loc));
      scope[p.name] = entry->getArgument(i);
      scope[dimKey(p.name)] = entry->getArgument(i);
    }
    exact.clear();
    SmallVector<Value> returned = body(k.body, scope);
    const Stmt &ret = *k.body.back();
    b.create<func::ReturnOp>(loc(ret.loc), returned);
    if (!exact.empty()) {
      SmallVector<Attribute> texts;
      for (const std::string &x : exact)
        texts.push_back(b.getStringAttr(x));
      func->setAttr(attn::kExactAttrName, b.getArrayAttr(texts));
    }
  }

  /// Lets, then the returned values (pairs flattened).
  SmallVector<Value> body(const std::vector<StmtPtr> &stmts, Scope &scope) {
    SmallVector<Value> returned;
    for (const StmtPtr &s : stmts) {
      SmallVector<Value> values;
      for (const ExprPtr &e : s->values)
        for (Value v : expr(*e, scope))
          values.push_back(v);
      if (s->kind == Stmt::Return)
        return values;
      for (auto [i, n] : llvm::enumerate(s->names))
        scope[n] = values[i];
    }
    return returned;
  }

  SmallVector<Value, 2> expr(const Expr &e, Scope &scope) {
    if (e.type.isScalar())
      return {scalar(e, scope)};
    switch (e.kind) {
    case Expr::Name:
      return {scope.at(e.name)};
    case Expr::Binary: {
      Value l = expr(*e.items[0], scope)[0], r = expr(*e.items[1], scope)[0];
      Type t = tensorType(e.type.tensors[0]);
      if (e.name == "+")
        return {b.create<attn::AddOp>(loc(e.loc), t, l, r)};
      if (e.name == "-")
        return {b.create<attn::SubOp>(loc(e.loc), t, l, r)};
      return {b.create<attn::MulOp>(loc(e.loc), t, l, r)};
    }
    case Expr::Call:
      return call(e, scope);
    default:
      llvm_unreachable("checker admits no other tensor expression");
    }
  }

  IntegerAttr i64(int64_t v) { return b.getI64IntegerAttr(v); }
  BoolAttr boolean(const Expr &e, const char *n, bool def) {
    return b.getBoolAttr(boolKeyword(e, n, def));
  }
  Value operandOr(const Expr &e, size_t i, Scope &scope) {
    return i < e.items.size() ? expr(*e.items[i], scope)[0] : Value();
  }
  Value keywordTensor(const Expr &e, const char *n, Scope &scope) {
    const KeywordArg *k = e.keyword(n);
    return k ? expr(*k->value, scope)[0] : Value();
  }
  IntegerAttr optionalI64(const Expr &e, const char *n) {
    return e.keyword(n) ? i64(intKeyword(e, n, 0)) : IntegerAttr();
  }

  /// A dimension's run-time size, read from the parameter that binds it.
  Value dimValue(const Expr &name, Scope &scope) {
    Value t = scope.at(dimKey(name.dimParam));
    return b.create<tensor::DimOp>(loc(name.loc), t, name.dimAxis);
  }

  SmallVector<Value, 2> call(const Expr &e, Scope &scope) {
    Location l = loc(e.loc);
    const std::string &n = e.name;
    SmallVector<Value, 4> args;
    for (const ExprPtr &a : e.items)
      args.push_back(expr(*a, scope)[0]);
    auto result = [&](int i = 0) { return tensorType(e.type.tensors[i]); };

    if (n == "attend")
      return {attend(e, args, scope)};
    if (n == "windowed_attend")
      return {b.create<attn::WindowedAttendOp>(
          l, result(), args[0], args[1], args[2],
          i64(intKeyword(e, "left", 0)), i64(intKeyword(e, "right", 0)),
          i64(intKeyword(e, "dilation", 1)),
          b.getDenseI64ArrayAttr(intListKeyword(e, "global")))};
    if (n == "hash_bucket")
      return {b.create<attn::HashBucketOp>(
          l, result(), args[0], keywordTensor(e, "rotations", scope),
          i64(intKeyword(e, "buckets", 0)), i64(intKeyword(e, "rounds", 1)),
          optionalI64(e, "seed"))};
    if (n == "sort_chunk") {
      auto op = b.create<attn::SortChunkOp>(l, result(0), result(1), args[0],
                                            i64(intKeyword(e, "chunk", 0)));
      return {op.getOrder(), op.getUndo()};
    }
    if (n == "chunked_attend") {
      auto op = b.create<attn::ChunkedAttendOp>(
          l, result(0), result(1), args[0], args[1], args[2], args[3],
          i64(intKeyword(e, "chunk", 0)), i64(intKeyword(e, "before", 1)),
          i64(intKeyword(e, "after", 0)), boolean(e, "causal", false),
          boolean(e, "self_mask", true), boolean(e, "normalize_keys", true));
      return {op.getOut(), op.getLse()};
    }
    if (n == "combine_rounds")
      return {b.create<attn::CombineRoundsOp>(l, result(), args[0], args[1])};
    if (n == "lsh_attend")
      return {b.create<attn::LshAttendOp>(
          l, result(), args[0], args[1], keywordTensor(e, "rotations", scope),
          i64(intKeyword(e, "buckets", 0)), i64(intKeyword(e, "rounds", 1)),
          i64(intKeyword(e, "chunk", 0)), i64(intKeyword(e, "before", 1)),
          i64(intKeyword(e, "after", 0)), boolean(e, "causal", false),
          optionalI64(e, "seed"))};
    if (n == "linear")
      return {b.create<attn::LinearOp>(l, result(), args[0], args[1],
                                       args.size() > 2 ? args[2] : Value())};
    if (n == "layer_norm")
      return {b.create<attn::LayerNormOp>(
          l, result(), args[0], ValueRange(args).drop_front(),
          b.getF32FloatAttr(floatKeyword(e, "eps", 1e-5)))};
    if (n == "gelu")
      return {b.create<attn::GeluOp>(l, args[0])};
    if (n == "relu")
      return {b.create<attn::ReluOp>(l, args[0])};
    if (n == "split_heads") {
      const Expr &h = *e.keyword("heads")->value;
      Value heads = h.ref == NameRef::Dim
                        ? dimValue(h, scope)
                        : b.create<arith::ConstantIndexOp>(loc(h.loc),
                                                           *constInt(h));
      // The heads must divide the width: the runtime checks E/H before
      // the call (a literal width and literal heads were checked here).
      const Dim &width = e.type.tensors[0].dims[3];
      if (!width.isStatic() && width.str().find('/') != std::string::npos &&
          std::find(exact.begin(), exact.end(), width.str()) == exact.end())
        exact.push_back(width.str());
      return {b.create<attn::SplitHeadsOp>(l, result(), args[0], heads)};
    }
    if (n == "merge_heads")
      return {b.create<attn::MergeHeadsOp>(l, result(), args[0])};
    if (n == "reversible")
      return reversible(e, args, scope);
    llvm_unreachable("checker admits only known built-ins");
  }

  /// Captures shared by every lambda of one op, in order of first use.
  SmallVector<std::string> captureNames(std::initializer_list<const Expr *> ls) {
    FreeNames free;
    for (const Expr *l : ls)
      if (l)
        free.lambda(*l, {});
    return SmallVector<std::string>(free.names.begin(), free.names.end());
  }

  /// Fills `region` with one block: leading arguments, then one per capture;
  /// returns the scope the lambda body sees.
  Scope openRegion(Region &region, const Expr &lambda, ArrayRef<Type> leading,
                   ArrayRef<std::string> captures, ValueRange captureValues) {
    Block *block = new Block();
    region.push_back(block);
    Location l = loc(lambda.loc);
    Scope inner;
    for (auto [i, t] : llvm::enumerate(leading))
      inner[lambda.params[i]] = block->addArgument(t, l);
    for (auto [name, v] : llvm::zip(captures, captureValues)) {
      Value arg = block->addArgument(v.getType(), l);
      if (!inner.count(name)) // a lambda parameter shadows an outer name
        inner[name] = arg;
    }
    b.setInsertionPointToStart(block);
    return inner;
  }

  Value lambdaResult(const Expr &lambda, Scope &scope) {
    if (lambda.body)
      return expr(*lambda.body, scope)[0];
    return body(lambda.block, scope)[0];
  }

  Value attend(const Expr &e, ArrayRef<Value> args, Scope &scope) {
    const KeywordArg *mask = e.keyword("mask"), *score = e.keyword("score");
    SmallVector<std::string> names = captureNames(
        {mask ? mask->value.get() : nullptr, score ? score->value.get() : nullptr});
    SmallVector<Value> captures;
    for (const std::string &n : names)
      captures.push_back(scope.at(n));
    FloatAttr scale;
    if (e.keyword("scale"))
      scale = b.getF32FloatAttr(floatKeyword(e, "scale", 1.0));
    UnitAttr causal = boolKeyword(e, "causal", false) ? b.getUnitAttr()
                                                      : UnitAttr();
    auto op = b.create<attn::AttendOp>(loc(e.loc),
                                       tensorType(e.type.tensors[0]), args[0],
                                       args[1], args[2], captures, scale,
                                       causal);
    OpBuilder::InsertionGuard guard(b);
    Type idx = b.getIndexType(), f32 = b.getF32Type();
    if (mask) {
      const Expr &lam = *mask->value;
      Scope inner = openRegion(op.getMask(), lam, {idx, idx, idx, idx}, names,
                               captures);
      Value v = lambdaResult(lam, inner);
      b.create<attn::YieldOp>(loc(lam.loc), v);
    }
    if (score) {
      const Expr &lam = *score->value;
      Scope inner = openRegion(op.getScore(), lam, {f32, idx, idx, idx, idx},
                               names, captures);
      Value v = toFloat(lambdaResult(lam, inner), loc(lam.loc));
      b.create<attn::YieldOp>(loc(lam.loc), v);
    }
    return op;
  }

  SmallVector<Value, 2> reversible(const Expr &e, ArrayRef<Value> args,
                                   Scope &scope) {
    const Expr &f = *e.keyword("f")->value, &g = *e.keyword("g")->value;
    SmallVector<std::string> names = captureNames({&f, &g});
    SmallVector<Value> captures;
    for (const std::string &n : names)
      captures.push_back(scope.at(n));
    Type t1 = args[0].getType(), t2 = args[1].getType();
    auto op = b.create<attn::ReversibleBlockOp>(loc(e.loc), t1, t2, args[0],
                                                args[1], captures);
    OpBuilder::InsertionGuard guard(b);
    for (auto [region, lam, in] :
         {std::tuple<Region *, const Expr *, Type>{&op.getF(), &f, t2},
          {&op.getG(), &g, t1}}) {
      Scope inner = openRegion(*region, *lam, {in}, names, captures);
      Value v = lambdaResult(*lam, inner);
      b.create<attn::YieldOp>(loc(lam->loc), v);
    }
    return {op.getY1(), op.getY2()};
  }

  //===--------------------------------------------------------------------===//
  // Scalars inside mask and score functions: ints are `index`, floats `f32`,
  // booleans `i1`.
  //===--------------------------------------------------------------------===//

  Value toFloat(Value v, Location l) {
    if (v.getType().isF32())
      return v;
    Value i = b.create<arith::IndexCastOp>(l, b.getI64Type(), v);
    return b.create<arith::SIToFPOp>(l, b.getF32Type(), i);
  }

  /// A scalar converted to f32; integer literals become f32 constants directly.
  Value floatScalar(const Expr &e, Scope &scope) {
    if (e.kind == Expr::Number)
      return b.create<arith::ConstantOp>(loc(e.loc),
                                         b.getF32FloatAttr(e.number));
    return toFloat(scalar(e, scope), loc(e.loc));
  }

  Value scalar(const Expr &e, Scope &scope) {
    Location l = loc(e.loc);
    bool isFloatResult = e.type.kind == ValueType::Float;
    switch (e.kind) {
    case Expr::Number:
      if (e.isFloatLiteral)
        return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(e.number));
      return b.create<arith::ConstantIndexOp>(l, e.integer);
    case Expr::Bool:
      return b.create<arith::ConstantIntOp>(l, e.boolean, 1);
    case Expr::Name:
      if (e.ref == NameRef::Dim)
        return dimValue(e, scope);
      return scope.at(e.name);
    case Expr::Index: {
      SmallVector<Value> idx;
      for (const ExprPtr &i : e.items)
        idx.push_back(scalar(*i, scope));
      Value v = b.create<tensor::ExtractOp>(l, scope.at(e.name), idx);
      if (v.getType().isInteger(32))
        return b.create<arith::IndexCastOp>(l, b.getIndexType(), v);
      if (!v.getType().isF32())
        return b.create<arith::ExtFOp>(l, b.getF32Type(), v);
      return v;
    }
    case Expr::Unary: {
      Value x = scalar(*e.items[0], scope);
      if (e.name == "!")
        return b.create<arith::XOrIOp>(
            l, x, b.create<arith::ConstantIntOp>(l, 1, 1));
      if (isFloatResult)
        return b.create<arith::NegFOp>(l, x);
      return b.create<arith::SubIOp>(
          l, b.create<arith::ConstantIndexOp>(l, 0), x);
    }
    case Expr::Binary:
      return binary(e, scope);
    case Expr::Call:
      return scalarCall(e, scope);
    default:
      llvm_unreachable("checker admits no other scalar expression");
    }
  }

  Value binary(const Expr &e, Scope &scope) {
    Location l = loc(e.loc);
    const std::string &op = e.name;
    const Expr &lhs = *e.items[0], &rhs = *e.items[1];
    bool useFloat = lhs.type.kind == ValueType::Float ||
                    rhs.type.kind == ValueType::Float;
    Value x = useFloat ? floatScalar(lhs, scope) : scalar(lhs, scope);
    Value y = useFloat ? floatScalar(rhs, scope) : scalar(rhs, scope);
    if (op == "&&")
      return b.create<arith::AndIOp>(l, x, y);
    if (op == "||")
      return b.create<arith::OrIOp>(l, x, y);
    static const std::map<std::string,
                          std::pair<arith::CmpIPredicate, arith::CmpFPredicate>>
        cmp = {{"<", {arith::CmpIPredicate::slt, arith::CmpFPredicate::OLT}},
               {"<=", {arith::CmpIPredicate::sle, arith::CmpFPredicate::OLE}},
               {">", {arith::CmpIPredicate::sgt, arith::CmpFPredicate::OGT}},
               {">=", {arith::CmpIPredicate::sge, arith::CmpFPredicate::OGE}},
               {"==", {arith::CmpIPredicate::eq, arith::CmpFPredicate::OEQ}},
               {"!=", {arith::CmpIPredicate::ne, arith::CmpFPredicate::UNE}}};
    auto c = cmp.find(op);
    if (c != cmp.end()) {
      if (useFloat)
        return b.create<arith::CmpFOp>(l, c->second.second, x, y);
      return b.create<arith::CmpIOp>(l, c->second.first, x, y);
    }
    if (useFloat) {
      if (op == "+") return b.create<arith::AddFOp>(l, x, y);
      if (op == "-") return b.create<arith::SubFOp>(l, x, y);
      if (op == "*") return b.create<arith::MulFOp>(l, x, y);
      if (op == "/") return b.create<arith::DivFOp>(l, x, y);
      return b.create<arith::RemFOp>(l, x, y);
    }
    // Integer division and remainder truncate toward zero, as in C.
    if (op == "+") return b.create<arith::AddIOp>(l, x, y);
    if (op == "-") return b.create<arith::SubIOp>(l, x, y);
    if (op == "*") return b.create<arith::MulIOp>(l, x, y);
    if (op == "/") return b.create<arith::DivSIOp>(l, x, y);
    return b.create<arith::RemSIOp>(l, x, y);
  }

  Value scalarCall(const Expr &e, Scope &scope) {
    Location l = loc(e.loc);
    const std::string &n = e.name;
    bool isFloatResult = e.type.kind == ValueType::Float;
    SmallVector<Value, 2> a;
    for (const ExprPtr &x : e.items)
      a.push_back(isFloatResult ? floatScalar(*x, scope) : scalar(*x, scope));
    if (n == "abs")
      return isFloatResult ? Value(b.create<math::AbsFOp>(l, a[0]))
                           : Value(b.create<math::AbsIOp>(l, a[0]));
    if (n == "min")
      return isFloatResult ? Value(b.create<arith::MinimumFOp>(l, a[0], a[1]))
                           : Value(b.create<arith::MinSIOp>(l, a[0], a[1]));
    if (n == "max")
      return isFloatResult ? Value(b.create<arith::MaximumFOp>(l, a[0], a[1]))
                           : Value(b.create<arith::MaxSIOp>(l, a[0], a[1]));
    if (n == "exp") return b.create<math::ExpOp>(l, a[0]);
    if (n == "log") return b.create<math::LogOp>(l, a[0]);
    if (n == "sqrt") return b.create<math::SqrtOp>(l, a[0]);
    return b.create<math::TanhOp>(l, a[0]);
  }

  MLIRContext &ctx;
  OpBuilder b;
  /// The kernel's split_heads widths (E/H), for its attn.exact attribute.
  std::vector<std::string> exact;
};

} // namespace

OwningOpRef<ModuleOp> attnc::mlirGen(MLIRContext &context,
                                     const Module &module) {
  return Generator(context).run(module);
}
