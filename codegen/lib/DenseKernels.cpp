//===- DenseKernels.cpp - the dense helpers around attention --------------===//
//
// linear, layer_norm, gelu, relu, add/sub/mul, split_heads, merge_heads: each
// is one Func computed at root, parallel over its outermost dimension and
// vectorised along its innermost one.
//
//===----------------------------------------------------------------------===//
#include "HalideKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

namespace {

std::vector<H::Var> vars(int n) {
  std::vector<H::Var> v;
  for (int k = 0; k < n; ++k)
    v.push_back(H::Var("x" + std::to_string(k)));
  return v;
}

std::vector<H::Expr> exprs(const std::vector<H::Var> &v) {
  return std::vector<H::Expr>(v.begin(), v.end());
}

void scheduleRoot(H::Func f, const std::vector<H::Var> &v) {
  f.compute_root();
  if (v.size() > 1)
    f.parallel(v.back());
  f.vectorize(v.front(), 8, H::TailStrategy::GuardWithIf);
}

H::Type resultType(Operation *op) {
  return halideType(
      cast<RankedTensorType>(op->getResult(0).getType()).getElementType());
}

} // namespace

FailureOr<TensorValue> attnc::codegen::buildDense(Operation *op,
                                                  ValueTable &values) {
  auto in = [&](unsigned k) { return values.tensors.lookup(op->getOperand(k)); };
  H::Type type = resultType(op);
  H::Func f(op->getName().stripDialect().str());

  if (isa<attn::GeluOp, attn::ReluOp>(op)) {
    TensorValue x = in(0);
    auto v = vars(x.rank());
    H::Expr e = H::cast<float>(x.func(exprs(v)));
    if (isa<attn::ReluOp>(op)) {
      e = H::max(e, 0.0f);
    } else { // tanh approximation, as in BERT/GPT-2
      e = 0.5f * e *
          (1.0f + H::tanh(0.7978845608f * (e + 0.044715f * e * e * e)));
    }
    f(v) = H::cast(type, e);
    scheduleRoot(f, v);
    return TensorValue{f, x.shape, type};
  }
  if (isa<attn::AddOp, attn::SubOp, attn::MulOp>(op)) {
    TensorValue a = in(0), c = in(1);
    const TensorValue &longer = a.rank() >= c.rank() ? a : c;
    auto v = vars(longer.rank());
    // Trailing broadcasting: the shorter operand takes the innermost vars.
    auto call = [&](const TensorValue &t) {
      std::vector<H::Expr> args(v.begin(), v.begin() + t.rank());
      return H::cast<float>(t.func(args));
    };
    H::Expr x = call(a), y = call(c);
    H::Expr e = isa<attn::AddOp>(op) ? x + y : isa<attn::SubOp>(op) ? x - y : x * y;
    f(v) = H::cast(type, e);
    scheduleRoot(f, v);
    return TensorValue{f, longer.shape, type};
  }
  if (auto lin = dyn_cast<attn::LinearOp>(op)) {
    TensorValue x = in(0), w = in(1);
    auto v = vars(x.rank());
    H::RDom m(0, w.shape[0], "m");
    std::vector<H::Expr> xa = exprs(v);
    xa[0] = m;
    H::Func accum("linear_acc");
    accum(v) = lin.getBias() ? H::cast<float>(in(2).func(v[0])) : H::Expr(0.0f);
    accum(v) += H::cast<float>(x.func(xa)) * H::cast<float>(w.func(v[0], m));
    f(v) = H::cast(type, accum(v));
    scheduleRoot(f, v);
    accum.compute_at(f, v.back()).vectorize(v[0], 8, H::TailStrategy::RoundUp);
    accum.update().reorder(v[0], m).vectorize(v[0], 8, H::TailStrategy::RoundUp);
    std::vector<H::Expr> shape = x.shape;
    shape.back() = w.shape[1];
    return TensorValue{f, shape, type};
  }
  if (auto ln = dyn_cast<attn::LayerNormOp>(op)) {
    TensorValue x = in(0);
    auto v = vars(x.rank());
    std::vector<H::Var> rows(v.begin() + 1, v.end());
    H::Expr n = x.shape.back();
    H::RDom r(0, n, "r");
    std::vector<H::Expr> xa = exprs(v);
    xa[0] = r;
    H::Func mean("ln_mean"), var("ln_var");
    mean(rows) = 0.0f;
    mean(rows) += H::cast<float>(x.func(xa)) / H::cast<float>(n);
    std::vector<H::Expr> ra(rows.begin(), rows.end());
    H::Expr dev = H::cast<float>(x.func(xa)) - mean(ra);
    var(rows) = 0.0f;
    var(rows) += dev * dev / H::cast<float>(n);
    H::Expr e = (H::cast<float>(x.func(exprs(v))) - mean(ra)) /
                H::sqrt(var(ra) + float(ln.getEps().convertToDouble()));
    if (ln.getAffine().size() == 2)
      e = e * H::cast<float>(in(1).func(v[0])) +
          H::cast<float>(in(2).func(v[0]));
    f(v) = H::cast(type, e);
    scheduleRoot(f, v);
    mean.compute_at(f, v.back());
    var.compute_at(f, v.back());
    return TensorValue{f, x.shape, type};
  }
  if (auto sh = dyn_cast<attn::SplitHeadsOp>(op)) {
    // [B, L, H·D] -> [B, H, L, D]: out(d, l, h, b) = x(h·D + d, l, b).
    TensorValue x = in(0);
    H::Expr heads = values.scalars.lookup(sh.getHeads());
    H::Expr dh = x.shape[2] / heads;
    H::Var d("d"), l("l"), h("h"), b("b");
    f(d, l, h, b) = x.func(h * dh + d, l, b);
    scheduleRoot(f, {d, l, h, b});
    return TensorValue{f, {x.shape[0], heads, x.shape[1], dh}, type};
  }
  if (isa<attn::MergeHeadsOp>(op)) {
    // [B, H, L, D] -> [B, L, H·D]: out(e, l, b) = x(e % D, l, e / D, b).
    TensorValue x = in(0);
    H::Expr dh = x.shape[3];
    H::Var e("e"), l("l"), b("b");
    f(e, l, b) = x.func(e % dh, l, e / dh, b);
    scheduleRoot(f, {e, l, b});
    return TensorValue{f, {x.shape[0], x.shape[2], x.shape[1] * dh}, type};
  }
  return op->emitError() << "codegen does not support '" << op->getName()
                         << "' yet";
}
