//===- Dense.cpp - the algorithms of the dense helpers --------------------===//
//
// linear, layer_norm, gelu, relu, add/sub/mul, split_heads, merge_heads:
// one output Func each (plus linear's accumulator and layer_norm's row
// statistics). CPU/DenseSchedule.cpp schedules them.
//
//===----------------------------------------------------------------------===//
#include "Algorithms.h"

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

} // namespace

H::Type attnc::codegen::resultType(Operation *op, unsigned index) {
  return halideType(
      cast<RankedTensorType>(op->getResult(index).getType()).getElementType());
}

FailureOr<DenseFuncs> attnc::codegen::defineDense(Operation *op,
                                                  ValueTable &values,
                                                  std::vector<H::Expr> &shape) {
  auto in = [&](unsigned k) { return values.tensors.lookup(op->getOperand(k)); };
  H::Type type = resultType(op);
  DenseFuncs f;
  f.out = H::Func(op->getName().stripDialect().str());

  if (isa<attn::GeluOp, attn::ReluOp>(op)) {
    TensorValue x = in(0);
    f.vars = vars(x.rank());
    H::Expr e = H::cast<float>(x.func(exprs(f.vars)));
    if (isa<attn::ReluOp>(op))
      e = H::max(e, 0.0f);
    else // tanh approximation, as in BERT/GPT-2
      e = 0.5f * e *
          (1.0f + H::tanh(0.7978845608f * (e + 0.044715f * e * e * e)));
    f.out(f.vars) = H::cast(type, e);
    shape = x.shape;
    return f;
  }
  if (isa<attn::AddOp, attn::SubOp, attn::MulOp>(op)) {
    TensorValue a = in(0), c = in(1);
    const TensorValue &longer = a.rank() >= c.rank() ? a : c;
    f.vars = vars(longer.rank());
    // Trailing broadcasting: the shorter operand takes the innermost vars.
    auto call = [&](const TensorValue &t) {
      std::vector<H::Expr> args(f.vars.begin(), f.vars.begin() + t.rank());
      return H::cast<float>(t.func(args));
    };
    H::Expr x = call(a), y = call(c);
    H::Expr e = isa<attn::AddOp>(op)   ? x + y
                : isa<attn::SubOp>(op) ? x - y
                                       : x * y;
    f.out(f.vars) = H::cast(type, e);
    shape = longer.shape;
    return f;
  }
  if (auto lin = dyn_cast<attn::LinearOp>(op)) {
    TensorValue x = in(0), w = in(1);
    f.vars = vars(x.rank());
    H::RDom m(0, w.shape[0], "m");
    std::vector<H::Expr> xa = exprs(f.vars);
    xa[0] = m;
    f.inner = H::Func("linear_acc");
    f.innerDomain = m;
    f.inner(f.vars) =
        lin.getBias() ? H::cast<float>(in(2).func(f.vars[0])) : H::Expr(0.0f);
    f.inner(f.vars) +=
        H::cast<float>(x.func(xa)) * H::cast<float>(w.func(f.vars[0], m));
    f.out(f.vars) = H::cast(type, f.inner(f.vars));
    shape = x.shape;
    shape.back() = w.shape[1];
    return f;
  }
  if (auto ln = dyn_cast<attn::LayerNormOp>(op)) {
    TensorValue x = in(0);
    f.vars = vars(x.rank());
    std::vector<H::Var> rows(f.vars.begin() + 1, f.vars.end());
    H::Expr n = x.shape.back();
    H::RDom r(0, n, "r");
    std::vector<H::Expr> xa = exprs(f.vars);
    xa[0] = r;
    H::Func mean("ln_mean"), var("ln_var");
    mean(rows) = 0.0f;
    mean(rows) += H::cast<float>(x.func(xa)) / H::cast<float>(n);
    std::vector<H::Expr> ra(rows.begin(), rows.end());
    H::Expr dev = H::cast<float>(x.func(xa)) - mean(ra);
    var(rows) = 0.0f;
    var(rows) += dev * dev / H::cast<float>(n);
    H::Expr e = (H::cast<float>(x.func(exprs(f.vars))) - mean(ra)) /
                H::sqrt(var(ra) + float(ln.getEps().convertToDouble()));
    if (ln.getAffine().size() == 2)
      e = e * H::cast<float>(in(1).func(f.vars[0])) +
          H::cast<float>(in(2).func(f.vars[0]));
    f.out(f.vars) = H::cast(type, e);
    f.rowReductions = {mean, var};
    shape = x.shape;
    return f;
  }
  if (auto sh = dyn_cast<attn::SplitHeadsOp>(op)) {
    // [B, L, H·D] -> [B, H, L, D]: out(d, l, h, b) = x(h·D + d, l, b).
    TensorValue x = in(0);
    H::Expr heads = values.scalars.lookup(sh.getHeads());
    H::Expr dh = x.shape[2] / heads;
    H::Var d("d"), l("l"), h("h"), b("b");
    f.vars = {d, l, h, b};
    f.out(d, l, h, b) = x.func(h * dh + d, l, b);
    shape = {x.shape[0], heads, x.shape[1], dh};
    return f;
  }
  if (isa<attn::MergeHeadsOp>(op)) {
    // [B, H, L, D] -> [B, L, H·D]: out(e, l, b) = x(e % D, l, e / D, b).
    TensorValue x = in(0);
    H::Expr dh = x.shape[3];
    H::Var e("e"), l("l"), b("b");
    f.vars = {e, l, b};
    f.out(e, l, b) = x.func(e % dh, l, e / dh, b);
    shape = {x.shape[0], x.shape[2], x.shape[1] * dh};
    return f;
  }
  return op->emitError() << "codegen does not support '" << op->getName()
                         << "' yet";
}
