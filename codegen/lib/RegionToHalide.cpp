//===- RegionToHalide.cpp - mask/score regions as Halide expressions ------===//
//
// Integers (index, i32, i64) are Int(32) in Halide: every position and size
// fits. Division and remainder keep the language's C semantics (truncation
// toward zero); Halide's own `/` would floor.
//
//===----------------------------------------------------------------------===//
#include "HalideKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <optional>

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

namespace {

enum class Relation { Eq, Ne, Lt, Le, Gt, Ge };

std::optional<Relation> relationOf(arith::CmpIPredicate p) {
  using P = arith::CmpIPredicate;
  switch (p) {
  case P::eq: return Relation::Eq;
  case P::ne: return Relation::Ne;
  case P::slt: return Relation::Lt;
  case P::sle: return Relation::Le;
  case P::sgt: return Relation::Gt;
  case P::sge: return Relation::Ge;
  default: return std::nullopt;
  }
}

std::optional<Relation> relationOf(arith::CmpFPredicate p) {
  using P = arith::CmpFPredicate;
  switch (p) {
  case P::OEQ: return Relation::Eq;
  case P::UNE: return Relation::Ne;
  case P::OLT: return Relation::Lt;
  case P::OLE: return Relation::Le;
  case P::OGT: return Relation::Gt;
  case P::OGE: return Relation::Ge;
  default: return std::nullopt;
  }
}

H::Expr compare(Relation rel, H::Expr a, H::Expr b) {
  switch (rel) {
  case Relation::Eq: return a == b;
  case Relation::Ne: return a != b;
  case Relation::Lt: return a < b;
  case Relation::Le: return a <= b;
  case Relation::Gt: return a > b;
  case Relation::Ge: return a >= b;
  }
  return a == b;
}

class RegionTranslator {
public:
  RegionTranslator(ArrayRef<TensorValue> captures) : captures(captures) {}

  FailureOr<H::Expr> run(Region &region, ArrayRef<H::Expr> leading) {
    Block &block = region.front();
    for (auto [i, e] : llvm::enumerate(leading))
      exprs[block.getArgument(i)] = e;
    for (auto [i, cap] : llvm::enumerate(captures))
      tensorArgs[block.getArgument(leading.size() + i)] = &cap;
    for (Operation &op : block) {
      if (auto yield = dyn_cast<attn::YieldOp>(op))
        return exprs.lookup(yield.getValues().front());
      if (failed(translate(op)))
        return failure();
    }
    return region.getParentOp()->emitError("region has no attn.yield");
  }

private:
  H::Expr get(Value v) { return exprs.lookup(v); }

  LogicalResult translate(Operation &op) {
    Value r = op.getNumResults() == 1 ? op.getResult(0) : Value();
    auto bin = [&](auto fn) {
      exprs[r] = fn(get(op.getOperand(0)), get(op.getOperand(1)));
      return success();
    };
    auto un = [&](auto fn) {
      exprs[r] = fn(get(op.getOperand(0)));
      return success();
    };
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      Attribute a = c.getValue();
      if (auto i = dyn_cast<IntegerAttr>(a)) {
        if (i.getType().isInteger(1))
          exprs[r] = H::cast<bool>(H::Expr(int(i.getValue().getZExtValue())));
        else
          exprs[r] = H::Expr(int32_t(i.getValue().getSExtValue()));
        return success();
      }
      if (auto f = dyn_cast<FloatAttr>(a)) {
        exprs[r] = H::Expr(float(f.getValueAsDouble()));
        return success();
      }
    }
    if (isa<arith::AddIOp, arith::AddFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a + b; });
    if (isa<arith::SubIOp, arith::SubFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a - b; });
    if (isa<arith::MulIOp, arith::MulFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a * b; });
    if (isa<arith::DivSIOp>(op))
      return bin([](H::Expr a, H::Expr b) { return H::div_round_to_zero(a, b); });
    if (isa<arith::RemSIOp>(op))
      return bin([](H::Expr a, H::Expr b) { return H::mod_round_to_zero(a, b); });
    if (isa<arith::DivFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a / b; });
    if (isa<arith::RemFOp>(op)) // fmod: truncating, as in C
      return bin([](H::Expr a, H::Expr b) { return a - b * H::trunc(a / b); });
    if (isa<arith::NegFOp>(op))
      return un([](H::Expr a) { return -a; });
    if (isa<arith::AndIOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a && b; });
    if (isa<arith::OrIOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a || b; });
    if (isa<arith::XOrIOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a != b; });
    if (isa<arith::MinSIOp, arith::MinimumFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return H::min(a, b); });
    if (isa<arith::MaxSIOp, arith::MaximumFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return H::max(a, b); });
    if (isa<arith::IndexCastOp>(op))
      return un([](H::Expr a) { return H::cast<int32_t>(a); });
    if (isa<arith::SIToFPOp, arith::ExtFOp>(op))
      return un([](H::Expr a) { return H::cast<float>(a); });
    if (isa<math::AbsIOp>(op))
      return un([](H::Expr a) { return H::cast<int32_t>(H::abs(a)); });
    if (isa<math::AbsFOp>(op))
      return un([](H::Expr a) { return H::abs(a); });
    if (isa<math::ExpOp>(op))
      return un([](H::Expr a) { return H::exp(a); });
    if (isa<math::LogOp>(op))
      return un([](H::Expr a) { return H::log(a); });
    if (isa<math::SqrtOp>(op))
      return un([](H::Expr a) { return H::sqrt(a); });
    if (isa<math::TanhOp>(op)) // per score: keep it vectorisable
      return un([](H::Expr a) {
        // tanh(x) = 1 − 2/(e^{2x} + 1); |x| <= 9 keeps e^{2x} finite and
        // tanh(9) = 1 − 3e−8 is 1 in f32.
        H::Expr e = H::fast_exp(2.0f * H::clamp(a, -9.0f, 9.0f));
        return 1.0f - 2.0f / (e + 1.0f);
      });
    // Integer and float comparisons map to one relation each; the
    // predicates MLIRGen emits are the signed and ordered ones.
    std::optional<Relation> rel;
    if (auto c = dyn_cast<arith::CmpIOp>(op))
      rel = relationOf(c.getPredicate());
    else if (auto c = dyn_cast<arith::CmpFOp>(op))
      rel = relationOf(c.getPredicate());
    if (rel) {
      exprs[r] = compare(*rel, get(op.getOperand(0)), get(op.getOperand(1)));
      return success();
    }
    if (auto d = dyn_cast<tensor::DimOp>(op)) {
      const TensorValue *t = tensorArgs.lookup(d.getSource());
      auto idx = d.getConstantIndex();
      if (t && idx && *idx >= 0 && *idx < t->rank()) {
        exprs[r] = t->shape[*idx];
        return success();
      }
    }
    if (auto e = dyn_cast<tensor::ExtractOp>(op)) {
      const TensorValue *t = tensorArgs.lookup(e.getTensor());
      if (t) {
        // Reads are clamped into the tensor: an index computed from data
        // (a block layout) cannot be bounded at compile time, and an
        // out-of-range read must not touch memory outside the buffer.
        std::vector<H::Expr> idx;
        for (auto [k, v] : llvm::enumerate(e.getIndices()))
          idx.push_back(H::clamp(get(v), 0, t->shape[k] - 1));
        exprs[r] = t->at(idx);
        return success();
      }
    }
    return op.emitError() << "codegen cannot translate '"
                          << op.getName() << "' inside a mask or score region";
  }

  ArrayRef<TensorValue> captures;
  llvm::DenseMap<Value, H::Expr> exprs;
  llvm::DenseMap<Value, const TensorValue *> tensorArgs;
};

} // namespace

H::Expr TensorValue::at(const std::vector<H::Expr> &outermostFirst) const {
  std::vector<H::Expr> args(outermostFirst.rbegin(), outermostFirst.rend());
  return func(args);
}

FailureOr<H::Expr>
attnc::codegen::regionToExpr(Region &region, ArrayRef<H::Expr> leading,
                             ArrayRef<TensorValue> captures) {
  return RegionTranslator(captures).run(region, leading);
}

H::Type attnc::codegen::halideType(Type t) {
  if (t.isF16())
    return H::Float(16);
  if (t.isBF16())
    return H::BFloat(16);
  if (t.isInteger(32))
    return H::Int(32);
  return H::Float(32);
}
