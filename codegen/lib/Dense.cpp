//===- Dense.cpp - the algorithms of the dense helpers --------------------===//
//
// linear, layer_norm, gelu, relu, add/sub/mul, split_heads, merge_heads and
// their gradients (neg, zeros_like, gelu_grad, relu_grad, sum_to, linear_input_grad,
// linear_weight_grad, layer_norm_grad): one output Func each, plus an inner
// reduction (linear's accumulator, a sum over rows) or row statistics.
// CPU/DenseSchedule.cpp schedules them.
//
//===----------------------------------------------------------------------===//
#include "Algorithms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include <functional>

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

/// layer_norm's row statistics of x (over its innermost dimension `vars[0]`):
/// mean and variance per row, and x̂ = (x − mean)/sqrt(var + eps) at `vars`.
struct RowStats {
  H::Func mean{"ln_mean"}, var{"ln_var"};
  H::Expr normalized, invStd;
};

RowStats rowStats(const TensorValue &x, const std::vector<H::Var> &vars,
                  float eps) {
  RowStats st;
  std::vector<H::Var> rows(vars.begin() + 1, vars.end());
  H::Expr n = x.shape.back();
  H::RDom r(0, n, "r");
  std::vector<H::Expr> xa = exprs(vars);
  xa[0] = r;
  std::vector<H::Expr> ra(rows.begin(), rows.end());
  st.mean(rows) = 0.0f;
  st.mean(rows) += H::cast<float>(x.func(xa)) / H::cast<float>(n);
  H::Expr dev = H::cast<float>(x.func(xa)) - st.mean(ra);
  st.var(rows) = 0.0f;
  st.var(rows) += dev * dev / H::cast<float>(n);
  st.invStd = 1.0f / H::sqrt(st.var(ra) + eps);
  st.normalized = (H::cast<float>(x.func(exprs(vars))) - st.mean(ra)) * st.invStd;
  return st;
}

/// d gelu / dx of the tanh approximation 0.5·x·(1 + tanh(c·(x + a·x³))).
H::Expr geluSlope(H::Expr x) {
  const float c = 0.7978845608f, a = 0.044715f;
  H::Expr t = H::tanh(c * (x + a * x * x * x));
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * c * (1.0f + 3.0f * a * x * x);
}

/// out(o, rows) = init(o) + Σ_k x(k, rows) · weight(o, k) over the
/// reduction `k` (extent, name): linear (weight w, init its bias) and
/// linear_input_grad (weight wᵀ, init 0), through the accumulator `accName`.
void rowTimesMatrix(DenseFuncs &f, const TensorValue &x, H::Expr extent,
                    const std::string &reductionName,
                    const std::function<H::Expr(H::Expr, H::Expr)> &weight,
                    const std::function<H::Expr(H::Expr)> &init,
                    const std::string &accName, H::Type type) {
  f.vars = vars(x.rank());
  H::RDom k(0, extent, reductionName);
  std::vector<H::Expr> xa = exprs(f.vars);
  xa[0] = k;
  f.inner = H::Func(accName);
  f.innerDomain = k;
  f.inner(f.vars) = init(f.vars[0]);
  f.inner(f.vars) += H::cast<float>(x.func(xa)) * weight(f.vars[0], k);
  f.out(f.vars) = H::cast(type, f.inner(f.vars));
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
    rowTimesMatrix(
        f, x, w.shape[0], "m",
        [&](H::Expr n, H::Expr m) { return H::cast<float>(w.func(n, m)); },
        [&](H::Expr n) {
          return lin.getBias() ? H::cast<float>(in(2).func(n)) : H::Expr(0.0f);
        },
        "linear_acc", type);
    shape = x.shape;
    shape.back() = w.shape[1];
    return f;
  }
  if (auto ln = dyn_cast<attn::LayerNormOp>(op)) {
    TensorValue x = in(0);
    f.vars = vars(x.rank());
    RowStats st = rowStats(x, f.vars, float(ln.getEps().convertToDouble()));
    H::Expr e = st.normalized;
    if (ln.getAffine().size() == 2)
      e = e * H::cast<float>(in(1).func(f.vars[0])) +
          H::cast<float>(in(2).func(f.vars[0]));
    f.out(f.vars) = H::cast(type, e);
    f.rowReductions = {st.mean, st.var};
    shape = x.shape;
    return f;
  }
  if (auto lg = dyn_cast<attn::LayerNormGradOp>(op)) {
    // dx = (g − mean(g) − x̂·mean(g·x̂)) / σ with g = dy·γ.
    TensorValue x = in(0), dy = in(1);
    f.vars = vars(x.rank());
    RowStats st = rowStats(x, f.vars, float(lg.getEps().convertToDouble()));
    std::vector<H::Var> rows(f.vars.begin() + 1, f.vars.end());
    std::vector<H::Expr> ra(rows.begin(), rows.end());
    H::Expr n = x.shape.back();
    auto g = [&](std::vector<H::Expr> at) {
      H::Expr e = H::cast<float>(dy.func(at));
      return lg.getGamma() ? e * H::cast<float>(in(2).func(at[0])) : e;
    };
    H::Func xhat("ln_xhat"), gMean("ln_g_mean"), gxMean("ln_gx_mean");
    xhat(f.vars) = st.normalized;
    H::RDom r(0, n, "r");
    std::vector<H::Expr> xa = exprs(f.vars);
    xa[0] = r;
    gMean(rows) = 0.0f;
    gMean(rows) += g(xa) / H::cast<float>(n);
    gxMean(rows) = 0.0f;
    gxMean(rows) += g(xa) * xhat(xa) / H::cast<float>(n);
    H::Expr e = (g(exprs(f.vars)) - gMean(ra) - xhat(f.vars) * gxMean(ra)) *
                st.invStd;
    f.out(f.vars) = H::cast(type, e);
    f.rowReductions = {st.mean, st.var, gMean, gxMean};
    shape = x.shape;
    return f;
  }
  if (isa<attn::NegOp, attn::ZerosLikeOp, attn::GeluGradOp,
          attn::ReluGradOp>(op)) {
    TensorValue x = in(0);
    f.vars = vars(x.rank());
    H::Expr e = H::cast<float>(x.func(exprs(f.vars)));
    if (isa<attn::NegOp>(op)) {
      e = -e;
    } else if (isa<attn::ZerosLikeOp>(op)) {
      e = 0.0f;
    } else {
      H::Expr dy = H::cast<float>(in(1).func(exprs(f.vars)));
      e = isa<attn::ReluGradOp>(op) ? H::select(e > 0.0f, dy, 0.0f)
                                    : dy * geluSlope(e);
    }
    f.out(f.vars) = H::cast(type, e);
    shape = x.shape;
    return f;
  }
  if (isa<attn::SumToOp, attn::LinearWeightGradOp>(op)) {
    // A reduction over x's leading dimensions: sum_to keeps x's trailing
    // ones; linear_weight_grad makes [M, N] from x[..., M] and dy[..., N].
    TensorValue x = in(0);
    bool weight = isa<attn::LinearWeightGradOp>(op);
    int kept = weight ? 1 : int(cast<RankedTensorType>(op->getResult(0).getType())
                                    .getRank());
    H::Region ranges;
    for (int k = kept; k < x.rank(); ++k) // innermost reduced dim first
      ranges.push_back(H::Range(0, x.shape[size_t(x.rank() - 1 - k)]));
    f.vars = vars(weight ? 2 : kept);
    std::vector<H::Expr> xa = exprs(f.vars);
    xa.resize(size_t(kept));
    H::Expr e = 0.0f;
    if (ranges.empty()) { // nothing to sum
      e = H::cast<float>(x.func(xa));
    } else {
      H::RDom r(ranges, "lead");
      for (int k = 0; k < r.dimensions(); ++k)
        xa.push_back(r[k]);
      H::Expr term = H::cast<float>(x.func(xa));
      if (weight) { // x(m, rows) · dy(n, rows)
        std::vector<H::Expr> da = xa;
        xa[0] = f.vars[1];
        da[0] = f.vars[0];
        term = H::cast<float>(x.func(xa)) * H::cast<float>(in(1).func(da));
      }
      f.inner = H::Func(weight ? "weight_grad_acc" : "sum_to_acc");
      if (weight)
        f.blockRows = 8;
      f.innerDomain = r;
      f.inner(f.vars) = 0.0f;
      f.inner(f.vars) += term;
      e = f.inner(f.vars);
    }
    f.out(f.vars) = H::cast(type, e);
    shape.clear();
    if (weight)
      shape = {x.shape.back(), in(1).shape.back()};
    else
      shape.assign(x.shape.end() - kept, x.shape.end());
    return f;
  }
  if (isa<attn::LinearInputGradOp>(op)) {
    // dx(m, rows) = Σ_n dy(n, rows) · w(n, m)   (w is [M, N]: w(n, m)).
    TensorValue dy = in(0), w = in(1);
    // wᵀ laid out once, so that the vectorised m reads consecutive floats.
    H::Func wT("w_transposed");
    H::Var wm("wm"), wn("wn");
    wT(wm, wn) = H::cast<float>(w.func(wn, wm));
    f.staged.push_back(wT);
    rowTimesMatrix(
        f, dy, w.shape[1], "n", [&](H::Expr m, H::Expr n) { return wT(m, n); },
        [](H::Expr) { return H::Expr(0.0f); }, "linear_input_grad_acc", type);
    shape = dy.shape;
    shape.back() = w.shape[0];
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
