//===- DifferentiateScore.cpp - d score / d s of a score region -----------===//
//
// A score function is a straight-line block of arith and math ops on the
// scaled score s (f32) and the indices. Its derivative in s — and in each
// value it reads from an f32 capture, for the capture's gradient — is
// written as ops too (forward mode: every value that depends on s gets a tangent), so
// that codegen translates it like any other region and the backward needs
// no symbolic algebra of its own. Values that do not depend on s (indices,
// captures, constants) have no tangent: their derivative is zero and no op
// is emitted for it.
//
//===----------------------------------------------------------------------===//
#include "DifferentiateScore.h"

#include "attnc/Dialect/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace {

class Tangents {
public:
  Tangents(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  /// d op / d s for one cloned op `op` (its operands already mapped), or
  /// failure for an op without a rule whose operands depend on s.
  LogicalResult rule(Operation &op, Operation &clone) {
    auto t = [&](unsigned i) { return tangent.lookup(op.getOperand(i)); };
    bool depends = llvm::any_of(op.getOperands(), [&](Value v) {
      return tangent.count(v) != 0;
    });
    if (!depends || op.getNumResults() != 1)
      return success(); // constant in s (indices, captures, literals)
    Value x = clone.getNumOperands() > 0 ? clone.getOperand(0) : Value();
    Value y = clone.getNumOperands() > 1 ? clone.getOperand(1) : Value();
    Value r = clone.getResult(0);
    Value d;
    if (isa<arith::AddFOp>(op))
      d = add(t(0), t(1));
    else if (isa<arith::SubFOp>(op))
      d = add(t(0), t(1) ? neg(t(1)) : Value());
    else if (isa<arith::NegFOp>(op))
      d = neg(t(0));
    else if (isa<arith::MulFOp>(op)) // x'y + xy'
      d = add(mul(t(0), y), mul(x, t(1)));
    else if (isa<arith::DivFOp>(op)) // x'/y − (x/y)·y'/y
      d = add(div(t(0), y), t(1) ? neg(div(mul(r, t(1)), y)) : Value());
    else if (isa<arith::RemFOp>(op) && !t(1)) // fmod(x, c)' = x' a.e.
      d = t(0);
    else if (isa<arith::ExtFOp>(op))
      d = t(0);
    else if (isa<math::ExpOp>(op))
      d = mul(r, t(0));
    else if (isa<math::LogOp>(op))
      d = div(t(0), x);
    else if (isa<math::SqrtOp>(op)) // x' / (2√x)
      d = div(t(0), mul(constant(2.0), r));
    else if (isa<math::TanhOp>(op)) // (1 − tanh²) x'
      d = mul(sub(constant(1.0), mul(r, r)), t(0));
    else if (isa<math::AbsFOp>(op)) // sign(x) x' (0 at x = 0: a subgradient)
      d = mul(sign(x), t(0));
    else if (isa<arith::MaximumFOp, arith::MinimumFOp>(op)) {
      // The derivative of the operand that is taken (x on ties).
      auto pred = isa<arith::MaximumFOp>(op) ? arith::CmpFPredicate::OGE
                                             : arith::CmpFPredicate::OLE;
      Value takeX = b.create<arith::CmpFOp>(loc, pred, x, y);
      d = b.create<arith::SelectOp>(loc, takeX, orZero(t(0)), orZero(t(1)));
    } else if (isa<arith::CmpFOp>(op)) {
      return success(); // a predicate: piecewise constant
    } else {
      return op.emitError() << "cannot differentiate '" << op.getName()
                            << "' in a score function: the backward "
                               "knows +, -, *, /, exp, log, sqrt, tanh, abs, "
                               "min and max of the score";
    }
    if (d)
      tangent[op.getResult(0)] = d;
    return success();
  }

  Value orZero(Value v) { return v ? v : constant(0.0); }
  Value constant(double c) {
    return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(float(c)));
  }

  llvm::DenseMap<Value, Value> tangent; // original value -> its tangent

private:
  // Null stands for a zero tangent, so that terms constant in s vanish.
  Value add(Value a, Value c) {
    if (!a || !c)
      return a ? a : c;
    return b.create<arith::AddFOp>(loc, a, c);
  }
  Value sub(Value a, Value c) { return b.create<arith::SubFOp>(loc, a, c); }
  Value mul(Value a, Value c) {
    if (!a || !c)
      return Value();
    return b.create<arith::MulFOp>(loc, a, c);
  }
  Value div(Value a, Value c) {
    if (!a)
      return Value();
    return b.create<arith::DivFOp>(loc, a, c);
  }
  Value neg(Value a) { return a ? b.create<arith::NegFOp>(loc, a) : Value(); }
  Value sign(Value x) {
    Value zero = constant(0.0);
    Value pos = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, zero);
    Value negative =
        b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, zero);
    Value s = b.create<arith::SelectOp>(loc, pos, constant(1.0), zero);
    return b.create<arith::SelectOp>(loc, negative, constant(-1.0), s);
  }

  OpBuilder &b;
  Location loc;
};

} // namespace

LogicalResult attnc::differentiateScore(Region &score, Region &out) {
  Block &body = score.front();
  Block *block = new Block();
  out.push_back(block);
  IRMapping map;
  for (BlockArgument arg : body.getArguments())
    map.map(arg, block->addArgument(arg.getType(), arg.getLoc()));
  OpBuilder b = OpBuilder::atBlockEnd(block);
  Location loc = score.getParentOp()->getLoc();
  SmallVector<std::pair<Operation *, Operation *>> cloned;
  for (Operation &op : body.without_terminator())
    cloned.push_back({&op, b.clone(op, map)});
  // One forward-mode sweep per seed: s, then each f32 capture read.
  SmallVector<Value> seeds = {body.getArgument(0)};
  for (Operation *read : attn::f32CaptureReads(score))
    seeds.push_back(read->getResult(0));
  Value yielded = cast<attn::YieldOp>(body.getTerminator()).getValues()[0];
  SmallVector<Value> derivatives;
  for (Value seed : seeds) {
    Tangents t(b, loc);
    t.tangent[seed] = t.constant(1.0);
    for (auto [op, clone] : cloned)
      if (failed(t.rule(*op, *clone)))
        return failure();
    derivatives.push_back(t.orZero(t.tangent.lookup(yielded)));
  }
  b.create<attn::YieldOp>(loc, derivatives);
  // The score itself is usually not needed, only the values its derivative
  // reads.
  SmallVector<Operation *> ops;
  for (Operation &op : block->without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops)) // users before what they read
    if (isOpTriviallyDead(op))
      op->erase();
  return success();
}
