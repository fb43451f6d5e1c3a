//===- MaskAnalysis.cpp - bands and blocks in attend masks ---------------===//
#include "MaskAnalysis.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

#include <cstdlib>

using namespace mlir;
using namespace attnc;

std::optional<Affine> MaskAnalysis::affine(Value v) {
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

std::optional<Band> MaskAnalysis::band(Value v) {
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

std::optional<Band> MaskAnalysis::boundingBand(Value v) {
  if (auto andOp = v.getDefiningOp<arith::AndIOp>()) {
    auto a = boundingBand(andOp.getLhs()), b = boundingBand(andOp.getRhs());
    if (a && b)
      return a->intersect(*b);
    return a ? a : b; // the other conjunct only removes pairs
  }
  return band(v);
}

std::optional<int64_t> MaskAnalysis::blockSize() {
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
