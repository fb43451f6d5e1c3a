//===- RegionToHalide.cpp - mask/score regions as Halide expressions ------===//
//
// Integers keep the language's 64-bit semantics without paying for 64-bit
// vectors where they are not needed: every integer value gets a range
// (positions and sizes are in [0, 2^30), the runtime's limit; literals are
// exact; + − × min max abs / % propagate intervals) and is computed in
// Int(32) when its range and its operands' fit, else in Int(64). So
// `j <= i + 3` stays 32-bit, while `i < 2147483648` or `i * j` widen.
// Division and remainder keep C's truncation toward zero (Halide's own `/`
// floors) and give 0 for a zero divisor, as the language reference says.
//
//===----------------------------------------------------------------------===//
#include "HalideKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <algorithm>
#include <functional>
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

constexpr size_t kMaxRegionOps = 2048;

/// C's division: toward zero, and 0 for a zero divisor (the language's
/// rule). Written with magnitudes because Halide 14's div_round_to_zero
/// gives wrong vector results for constant divisors such as 3 (measured:
/// `j / 3 == 1` selected the wrong keys).
H::Expr truncatingDiv(H::Expr p, H::Expr q) {
  H::Type t = p.type();
  H::Expr magnitude = H::cast(t, H::abs(p)) / H::cast(t, H::abs(q));
  H::Expr quotient = H::select((p < 0) != (q < 0), -magnitude, magnitude);
  return H::select(q == 0, H::cast(t, 0), quotient);
}

class RegionTranslator {
public:
  RegionTranslator(ArrayRef<TensorValue> captures) : captures(captures) {}

  FailureOr<RegionExprs> run(Region &region, ArrayRef<H::Expr> leading) {
    Block &block = region.front();
    // One region is one Halide expression, and Halide's compile time grows
    // quadratically with an expression's depth past a few thousand nodes
    // (measured: 2,560 chained terms 3.4 s, 5,120 terms 16 s). Below the
    // cap it is linear; beyond it, a clear error instead of minutes.
    size_t ops = block.getOperations().size();
    if (ops > kMaxRegionOps)
      return region.getParentOp()->emitError()
             << "this " << (region.getRegionNumber() == 0 ? "mask" : "score")
             << " function has " << ops << " operations; attnc compiles at "
             << "most " << kMaxRegionOps << " per function";
    for (auto [i, e] : llvm::enumerate(leading)) {
      Value arg = block.getArgument(i);
      if (isa<IndexType>(arg.getType()))
        setInt(arg, e, kPositions); // b, h, i, j
      else
        exprs[arg] = e;
    }
    for (auto [i, cap] : llvm::enumerate(captures))
      tensorArgs[block.getArgument(leading.size() + i)] = &cap;
    for (Operation &op : block) {
      if (auto yield = dyn_cast<attn::YieldOp>(op)) {
        RegionExprs result;
        for (Value v : yield.getValues())
          result.yielded.push_back(exprs.lookup(v));
        result.readIndices = std::move(readIndices);
        return result;
      }
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
        if (i.getType().isInteger(1)) {
          exprs[r] = H::cast<bool>(H::Expr(int(i.getValue().getZExtValue())));
          return success();
        }
        int64_t value = i.getValue().getSExtValue();
        setInt(r, H::Expr(value), {value, value});
        return success();
      }
      if (auto f = dyn_cast<FloatAttr>(a)) {
        exprs[r] = H::Expr(float(f.getValueAsDouble()));
        return success();
      }
    }
    if (isa<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::DivSIOp,
            arith::RemSIOp, arith::MinSIOp, arith::MaxSIOp>(op))
      return integerBinary(op);
    if (isa<arith::AddFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a + b; });
    if (isa<arith::SubFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a - b; });
    if (isa<arith::MulFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return a * b; });
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
    if (isa<arith::MinimumFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return H::min(a, b); });
    if (isa<arith::MaximumFOp>(op))
      return bin([](H::Expr a, H::Expr b) { return H::max(a, b); });
    if (isa<arith::IndexCastOp>(op)) { // i32 <-> index: the value is kept
      setInt(r, get(op.getOperand(0)), rangeOf(op.getOperand(0)));
      return success();
    }
    if (auto sel = dyn_cast<arith::SelectOp>(op); // written by the backward
        sel && isa<FloatType>(sel.getType())) {
      exprs[r] = H::select(get(sel.getCondition()), get(sel.getTrueValue()),
                           get(sel.getFalseValue()));
      return success();
    }
    if (isa<arith::SIToFPOp, arith::ExtFOp>(op))
      return un([](H::Expr a) { return H::cast<float>(a); });
    if (isa<math::AbsIOp>(op)) {
      Range a = rangeOf(op.getOperand(0));
      int64_t m = std::max(a.lo == INT64_MIN ? INT64_MAX : std::abs(a.lo),
                           std::abs(a.hi));
      Range res{a.lo >= 0 ? a.lo : a.hi <= 0 ? -a.hi : 0, m};
      H::Expr x = get(op.getOperand(0));
      setInt(r, H::cast(x.type(), H::abs(x)), res);
      return success();
    }
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
        // An odd rational function of x (degree 13 over degree 6), no
        // exponential: the coefficients of Eigen's float tanh, a fit on
        // |x| <= 7.9 (beyond, tanh rounds to ±1 in f32) good to a few ulp.
        // Through Halide's fast_exp (1 − 2/(e^{2x} + 1)), soft-capped
        // attention took 1 % longer (25.18 against 24.94 ms, L = 2048, Zen
        // 5); a reciprocal estimate and a Newton step instead of the
        // division, 3 % longer.
        H::Expr x = H::clamp(a, -7.90531110763549805f, 7.90531110763549805f);
        H::Expr x2 = x * x;
        H::Expr p = -2.76076847742355e-16f;
        for (float c : {2.00018790482477e-13f, -8.60467152213735e-11f,
                        5.12229709037114e-08f, 1.48572235717979e-05f,
                        6.37261928875436e-04f, 4.89352455891786e-03f})
          p = p * x2 + c;
        H::Expr q = 1.19825839466702e-06f;
        for (float c : {1.18534705686654e-04f, 2.26843463243900e-03f,
                        4.89352518554385e-03f})
          q = q * x2 + c;
        return x * p / q;
      });
    // Integer and float comparisons map to one relation each; the
    // predicates MLIRGen emits are the signed and ordered ones.
    std::optional<Relation> rel;
    if (auto c = dyn_cast<arith::CmpIOp>(op))
      rel = relationOf(c.getPredicate());
    else if (auto c = dyn_cast<arith::CmpFOp>(op))
      rel = relationOf(c.getPredicate());
    if (rel) {
      H::Expr a = get(op.getOperand(0)), b = get(op.getOperand(1));
      if (isa<arith::CmpIOp>(op)) { // in the wider of the two types
        H::Type t = wider(a.type(), b.type());
        a = H::cast(t, a);
        b = H::cast(t, b);
      }
      exprs[r] = compare(*rel, a, b);
      return success();
    }
    if (auto d = dyn_cast<tensor::DimOp>(op)) {
      const TensorValue *t = tensorArgs.lookup(d.getSource());
      auto idx = d.getConstantIndex();
      if (t && idx && *idx >= 0 && *idx < t->rank()) {
        setInt(r, t->shape[*idx], kPositions);
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
        for (auto [k, v] : llvm::enumerate(e.getIndices())) {
          H::Expr x = get(v);
          idx.push_back(H::cast<int32_t>(
              H::clamp(x, H::cast(x.type(), 0),
                       H::cast(x.type(), t->shape[k] - 1))));
        }
        H::Expr value = t->at(idx);
        readIndices[&op] = idx;
        if (value.type().is_int())
          setInt(r, value, {INT32_MIN, INT32_MAX});
        else
          exprs[r] = value;
        return success();
      }
    }
    return op.emitError() << "codegen cannot translate '"
                          << op.getName() << "' inside a mask or score region";
  }

  /// The values an integer can take; bounds saturate at ±2^62.
  struct Range {
    int64_t lo, hi;
  };
  static constexpr int64_t kHuge = int64_t(1) << 62;
  /// Positions and sizes: the runtime refuses extents of 2^30 and more.
  static constexpr Range kPositions{0, int64_t(1) << 30};

  static int64_t saturate(__int128 x) {
    return int64_t(std::clamp<__int128>(x, -kHuge, kHuge));
  }
  static bool fitsInt32(Range r) {
    return r.lo >= INT32_MIN && r.hi <= INT32_MAX;
  }
  static H::Type wider(H::Type a, H::Type b) {
    return a.bits() >= b.bits() ? a : b;
  }
  Range rangeOf(Value v) {
    auto it = ranges.find(v);
    return it == ranges.end() ? Range{-kHuge, kHuge} : it->second;
  }
  /// Records an integer value, narrowed to Int(32) when its range allows.
  void setInt(Value v, H::Expr e, Range r) {
    ranges[v] = r;
    exprs[v] = H::cast(fitsInt32(r) ? H::Int(32) : H::Int(64), e);
  }

  LogicalResult integerBinary(Operation &op) {
    Value x = op.getOperand(0), y = op.getOperand(1);
    Range a = rangeOf(x), b = rangeOf(y);
    H::Expr ea = get(x), eb = get(y);
    auto corners = [&](auto f) {
      __int128 c[] = {f(a.lo, b.lo), f(a.lo, b.hi), f(a.hi, b.lo),
                      f(a.hi, b.hi)};
      return Range{saturate(*std::min_element(c, c + 4)),
                   saturate(*std::max_element(c, c + 4))};
    };
    int64_t maxA = std::max(std::abs(a.lo), std::abs(a.hi));
    int64_t maxB = std::max(std::abs(b.lo), std::abs(b.hi));
    Range res;
    std::function<H::Expr(H::Expr, H::Expr)> f;
    if (isa<arith::AddIOp>(op)) {
      res = corners([](__int128 p, __int128 q) { return p + q; });
      f = [](H::Expr p, H::Expr q) { return p + q; };
    } else if (isa<arith::SubIOp>(op)) {
      res = corners([](__int128 p, __int128 q) { return p - q; });
      f = [](H::Expr p, H::Expr q) { return p - q; };
    } else if (isa<arith::MulIOp>(op)) {
      res = corners([](__int128 p, __int128 q) { return p * q; });
      f = [](H::Expr p, H::Expr q) { return p * q; };
    } else if (isa<arith::DivSIOp>(op)) {
      res = {-maxA, maxA};
      f = truncatingDiv;
    } else if (isa<arith::RemSIOp>(op)) {
      int64_t m = std::min(maxA, maxB > 0 ? maxB - 1 : 0);
      res = {-m, m};
      f = [](H::Expr p, H::Expr q) {
        return H::select(q == 0, H::cast(p.type(), 0),
                         p - truncatingDiv(p, q) * q);
      };
    } else if (isa<arith::MinSIOp>(op)) {
      res = {std::min(a.lo, b.lo), std::min(a.hi, b.hi)};
      f = [](H::Expr p, H::Expr q) { return H::min(p, q); };
    } else {
      res = {std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
      f = [](H::Expr p, H::Expr q) { return H::max(p, q); };
    }
    // Computed in a type that holds the operands and the result.
    H::Type t = wider(wider(ea.type(), eb.type()),
                      fitsInt32(res) ? H::Int(32) : H::Int(64));
    setInt(op.getResult(0), f(H::cast(t, ea), H::cast(t, eb)), res);
    return success();
  }

  ArrayRef<TensorValue> captures;
  llvm::DenseMap<Value, Range> ranges;
  llvm::DenseMap<Value, H::Expr> exprs;
  llvm::DenseMap<Value, const TensorValue *> tensorArgs;
  llvm::DenseMap<Operation *, std::vector<H::Expr>> readIndices;
};

} // namespace

H::Expr TensorValue::at(const std::vector<H::Expr> &outermostFirst) const {
  std::vector<H::Expr> args(outermostFirst.rbegin(), outermostFirst.rend());
  return func(args);
}

FailureOr<RegionExprs>
attnc::codegen::translateRegion(Region &region, ArrayRef<H::Expr> leading,
                                ArrayRef<TensorValue> captures) {
  return RegionTranslator(captures).run(region, leading);
}

FailureOr<H::Expr>
attnc::codegen::regionToExpr(Region &region, ArrayRef<H::Expr> leading,
                             ArrayRef<TensorValue> captures) {
  FailureOr<RegionExprs> r = translateRegion(region, leading, captures);
  if (failed(r))
    return failure();
  return r->yielded.front();
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
