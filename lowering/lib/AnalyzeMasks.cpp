//===- AnalyzeMasks.cpp - recognise structure in attn.attend masks --------===//
//
// Codegen can skip work only when it knows which keys a query can see. This
// pass reads each attn.attend's mask (and `causal`) and records what it is:
//
//   #attn.mask<none>                    every key is allowed
//   #attn.mask<band, lo = A, hi = B>    j − i ∈ [A, B] (an absent bound is
//                                       unbounded): causal, sliding windows,
//                                       their intersections
//   #attn.mask<block, size = S>         the mask reads i and j only as i / S
//                                       and j / S: block-sparse layouts,
//                                       where dead blocks can be skipped
//   #attn.mask<elementwise>             anything else, evaluated per element
//
// The attribute is recomputed from the region on every run and replaces
// whatever was there: a stale bound would make codegen skip live keys.
// The mask itself is kept: the attributes only license skipping keys that
// the mask would reject anyway.
//
//===----------------------------------------------------------------------===//
#include "attnc/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

#include <limits>
#include <optional>

namespace attnc {
#define GEN_PASS_DEF_ATTNANALYZEMASKS
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc::attn;

namespace {

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

/// c_i·i + c_j·j + c, or nothing when not affine in (i, j).
struct Affine {
  int64_t ci = 0, cj = 0, c = 0;
};

/// Offsets j − i allowed: [lo, hi], kUnbounded meaning no bound.
struct Band {
  int64_t lo = -kUnbounded, hi = kUnbounded;
  Band intersect(Band o) const {
    return {std::max(lo, o.lo), std::min(hi, o.hi)};
  }
};

class MaskAnalysis {
public:
  MaskAnalysis(Value i, Value j) : i(i), j(j) {}

  std::optional<Affine> affine(Value v) {
    if (v == i)
      return Affine{1, 0, 0};
    if (v == j)
      return Affine{0, 1, 0};
    APInt cst;
    if (matchPattern(v, m_ConstantInt(&cst)))
      return Affine{0, 0, cst.getSExtValue()};
    Operation *op = v.getDefiningOp();
    if (!op || op->getNumOperands() != 2)
      return std::nullopt;
    auto a = affine(op->getOperand(0)), b = affine(op->getOperand(1));
    if (!a || !b)
      return std::nullopt;
    if (isa<arith::AddIOp>(op))
      return Affine{a->ci + b->ci, a->cj + b->cj, a->c + b->c};
    if (isa<arith::SubIOp>(op))
      return Affine{a->ci - b->ci, a->cj - b->cj, a->c - b->c};
    return std::nullopt;
  }

  /// The band a boolean value restricts j − i to, if it is a band.
  std::optional<Band> band(Value v) {
    APInt cst;
    if (matchPattern(v, m_ConstantInt(&cst)))
      return cst.isZero() ? std::nullopt : std::optional<Band>(Band{});
    Operation *op = v.getDefiningOp();
    if (auto andOp = dyn_cast_or_null<arith::AndIOp>(op)) {
      auto a = band(andOp.getLhs()), b = band(andOp.getRhs());
      if (a && b)
        return a->intersect(*b);
      return std::nullopt;
    }
    auto cmp = dyn_cast_or_null<arith::CmpIOp>(op);
    if (!cmp)
      return std::nullopt;
    // |j − i| <= c  (or |i − j|).
    if (auto abs = cmp.getLhs().getDefiningOp<math::AbsIOp>()) {
      auto d = affine(abs.getOperand());
      auto c = affine(cmp.getRhs());
      if (d && c && c->ci == 0 && c->cj == 0 && d->c == 0 &&
          std::abs(d->ci) == 1 && d->ci == -d->cj) {
        if (cmp.getPredicate() == arith::CmpIPredicate::sle)
          return Band{-c->c, c->c};
        if (cmp.getPredicate() == arith::CmpIPredicate::slt)
          return Band{-c->c + 1, c->c - 1};
      }
      return std::nullopt;
    }
    // lhs − rhs = s·(j − i) + c with s = ±1: a bound on j − i.
    auto l = affine(cmp.getLhs()), r = affine(cmp.getRhs());
    if (!l || !r)
      return std::nullopt;
    Affine d{l->ci - r->ci, l->cj - r->cj, l->c - r->c};
    if (std::abs(d.cj) != 1 || d.ci != -d.cj)
      return std::nullopt;
    int64_t s = d.cj, c = d.c; // lhs − rhs = s·x + c, x = j − i
    using P = arith::CmpIPredicate;
    P p = cmp.getPredicate();
    // Normalise to s·x + c (pred) 0, then to x against a constant.
    auto le = [&](int64_t bound) { return Band{-kUnbounded, bound}; };
    auto ge = [&](int64_t bound) { return Band{bound, kUnbounded}; };
    switch (p) {
    case P::sle: return s > 0 ? le(-c) : ge(c);
    case P::slt: return s > 0 ? le(-c - 1) : ge(c + 1);
    case P::sge: return s > 0 ? ge(-c) : le(c);
    case P::sgt: return s > 0 ? ge(-c + 1) : le(c - 1);
    case P::eq: return Band{s * -c, s * -c};
    default: return std::nullopt;
    }
  }

  /// S when every use of i and j is a division by the same constant S.
  std::optional<int64_t> blockSize() {
    std::optional<int64_t> size;
    for (Value x : {i, j}) {
      for (Operation *user : x.getUsers()) {
        APInt d;
        if (!isa<arith::DivSIOp, arith::DivUIOp, arith::FloorDivSIOp>(user) ||
            user->getOperand(0) != x ||
            !matchPattern(user->getOperand(1), m_ConstantInt(&d)) ||
            d.getSExtValue() < 1)
          return std::nullopt;
        if (size && *size != d.getSExtValue())
          return std::nullopt;
        size = d.getSExtValue();
      }
    }
    return size;
  }

private:
  Value i, j;
};

MaskAttr classify(AttendOp op) {
  MLIRContext *ctx = op.getContext();
  auto bandAttr = [&](Band band) {
    std::optional<int64_t> lo, hi;
    if (band.lo != -kUnbounded)
      lo = band.lo;
    if (band.hi != kUnbounded)
      hi = band.hi;
    // An unbounded "band" (e.g. `j - i <= 2^40`) allows every key.
    if (!lo && !hi)
      return MaskAttr::get(ctx, MaskKind::none, {}, {}, {});
    // An empty band (lo > hi) allows no key: evaluate it per element, which
    // yields the documented zero rows without special cases.
    if (lo && hi && *lo > *hi)
      return MaskAttr::get(ctx, MaskKind::elementwise, {}, {}, {});
    return MaskAttr::get(ctx, MaskKind::band, lo, hi, {});
  };
  Band causal = op.getCausal() ? Band{-kUnbounded, 0} : Band{};
  if (op.getMask().empty())
    return bandAttr(causal);
  Block &block = op.getMask().front();
  MaskAnalysis analysis(block.getArgument(2), block.getArgument(3));
  Value yielded = cast<YieldOp>(block.getTerminator()).getValues()[0];
  if (auto band = analysis.band(yielded))
    return bandAttr(band->intersect(causal));
  if (!op.getCausal())
    if (auto size = analysis.blockSize())
      return MaskAttr::get(ctx, MaskKind::block, {}, {}, *size);
  return MaskAttr::get(ctx, MaskKind::elementwise, {}, {}, {});
}

struct AnalyzeMasksPass : attnc::impl::AttnAnalyzeMasksBase<AnalyzeMasksPass> {
  void runOnOperation() override {
    getOperation().walk([](AttendOp op) {
      op->setAttr(kMaskAttrName, classify(op));
    });
  }
};

} // namespace
