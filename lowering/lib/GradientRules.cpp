//===- GradientRules.cpp - one gradient rule per attn op ------------------===//
//
// Reverse mode at the level of attn ops: a rule writes, at the builder's
// insertion point, the gradients of an op's operands from the gradient of
// its result, reading the recomputed forward values through `primal`.
// attn-generate-backward chains them over a kernel, attn-expand-reversible
// over a reversible block's F and G.
//
//===----------------------------------------------------------------------===//
#include "GradientRules.h"
#include "DifferentiateScore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {

/// attn.attend: one attend_grad with the same regions, and the score's
/// derivative in s.
LogicalResult attendRule(OpBuilder &b, AttendOp op, IRMapping &primal,
                         Adjoints &adj) {
  Value dout = adj.of(op.getResult());
  SmallVector<Value> captures, f32Captures;
  SmallVector<Type> types = {op.getQ().getType(), op.getK().getType(),
                             op.getV().getType()};
  for (Value c : op.getCaptures()) {
    captures.push_back(primal.lookup(c));
    if (isF32Capture(c)) {
      f32Captures.push_back(c);
      types.push_back(c.getType());
    }
  }
  auto grad = b.create<AttendGradOp>(
      op.getLoc(), types, primal.lookup(op.getQ()), primal.lookup(op.getK()),
      primal.lookup(op.getV()), dout, captures, op.getScaleAttr(),
      op.getCausalAttr());
  // Regions are isolated from above: fresh mappings (primal already maps
  // their values to the recomputed forward attend's).
  IRMapping maskMap, scoreMap;
  op.getMask().cloneInto(&grad.getMask(), maskMap);
  if (!op.getScore().empty()) {
    op.getScore().cloneInto(&grad.getScore(), scoreMap);
    if (failed(differentiateScore(op.getScore(), grad.getScoreGrad())))
      return failure();
  }
  adj.accumulate(op.getQ(), grad.getDq(), op.getLoc());
  adj.accumulate(op.getK(), grad.getDk(), op.getLoc());
  adj.accumulate(op.getV(), grad.getDv(), op.getLoc());
  for (auto [capture, g] : llvm::zip(f32Captures, grad.getCaptureGrads()))
    adj.accumulate(capture, g, op.getLoc());
  return success();
}

/// Whether `v`, an index in a score region, is computed from b and h
/// (block arguments 1 and 2) and constants alone: then the gradient of the
/// capture it indexes is a sum per (b, h), which attend_grad computes.
bool dependsOnHeadOnly(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return arg.getArgNumber() == 1 || arg.getArgNumber() == 2;
  Operation *def = v.getDefiningOp();
  if (!def || !isa<arith::ArithDialect>(def->getDialect()))
    return false; // a value read from a tensor: data-dependent
  return llvm::all_of(def->getOperands(), dependsOnHeadOnly);
}

/// windowed_attend as the attend it is: the same keys as a mask region
/// (j − i in [−left·d, right·d] and a multiple of d, or i or j global) and
/// the default scale 1/sqrt(D). Its backward is attend_grad's: linear in L
/// without global tokens (attn-analyze-masks bounds the window, dilated or
/// not, by its band); with global tokens every key is visited.
LogicalResult windowedRule(OpBuilder &b, WindowedAttendOp op, IRMapping &primal,
                           Adjoints &adj) {
  Location loc = op.getLoc();
  auto grad = b.create<AttendGradOp>(
      loc,
      TypeRange{op.getQ().getType(), op.getK().getType(), op.getV().getType()},
      primal.lookup(op.getQ()), primal.lookup(op.getK()),
      primal.lookup(op.getV()), adj.of(op.getResult()), ValueRange{},
      FloatAttr(), UnitAttr());
  Block *mask = new Block();
  grad.getMask().push_back(mask);
  Type index = b.getIndexType();
  SmallVector<Value> pos;
  for (int k = 0; k < 4; ++k)
    pos.push_back(mask->addArgument(index, loc));
  OpBuilder m = OpBuilder::atBlockEnd(mask);
  Value i = pos[2], j = pos[3];
  auto constant = [&](int64_t c) {
    return m.create<arith::ConstantIndexOp>(loc, c).getResult();
  };
  int64_t d = op.getDilation();
  Value offset = m.create<arith::SubIOp>(loc, j, i);
  Value allowed = m.create<arith::AndIOp>(
      loc,
      m.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, offset,
                              constant(-op.getLeft() * d)),
      m.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, offset,
                              constant(op.getRight() * d)));
  if (d > 1)
    allowed = m.create<arith::AndIOp>(
        loc, allowed,
        m.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                m.create<arith::RemSIOp>(loc, offset, constant(d)),
                                constant(0)));
  for (int64_t g : op.getGlobal())
    for (Value p : {i, j})
      allowed = m.create<arith::OrIOp>(
          loc, allowed,
          m.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, p, constant(g)));
  m.create<YieldOp>(loc, allowed);
  adj.accumulate(op.getQ(), grad.getDq(), loc);
  adj.accumulate(op.getK(), grad.getDk(), loc);
  adj.accumulate(op.getV(), grad.getDv(), loc);
  return success();
}

/// The LSH chain: combine_rounds_grad gives the gradients of the rounds'
/// outputs and lse; chunked_attend_grad (recomputing its chunks) those of
/// q, k and v. hash_bucket and sort_chunk are piecewise constant: their
/// integer results never carry a gradient.
LogicalResult lshRule(OpBuilder &b, Operation &op, IRMapping &primal,
                      Adjoints &adj) {
  Location loc = op.getLoc();
  auto p = [&](Value v) { return primal.lookup(v); };
  if (auto combine = dyn_cast<CombineRoundsOp>(op)) {
    auto grad = b.create<CombineRoundsGradOp>(
        loc, combine.getOut().getType(), combine.getLse().getType(),
        p(combine.getOut()), p(combine.getLse()), adj.of(combine.getResult()));
    adj.accumulate(combine.getOut(), grad.getDout(), loc);
    adj.accumulate(combine.getLse(), grad.getDlse(), loc);
    return success();
  }
  auto chunked = cast<ChunkedAttendOp>(op);
  // A result nothing differentiable read has gradient zero.
  auto gradOf = [&](Value result) -> Value {
    if (Value g = adj.of(result))
      return g;
    return b.create<ZerosLikeOp>(loc, p(result));
  };
  auto grad = b.create<ChunkedAttendGradOp>(
      loc,
      TypeRange{chunked.getQ().getType(), chunked.getK().getType(),
                chunked.getV().getType()},
      p(chunked.getQ()), p(chunked.getK()), p(chunked.getV()),
      p(chunked.getOrder()), gradOf(chunked.getOut()),
      gradOf(chunked.getLse()), chunked.getChunkAttr(),
      chunked.getBeforeAttr(), chunked.getAfterAttr(),
      chunked.getCausalAttr(), chunked.getSelfMaskAttr(),
      chunked.getNormalizeKeysAttr(), chunked.getFullIfShortAttr());
  adj.accumulate(chunked.getQ(), grad.getDq(), loc);
  adj.accumulate(chunked.getK(), grad.getDk(), loc);
  adj.accumulate(chunked.getV(), grad.getDv(), loc);
  return success();
}

/// The gradient of an operand of type `type` from `grad` of the (broadcast)
/// result: summed over the dimensions the operand was broadcast along.
Value unbroadcast(OpBuilder &b, Location loc, Value grad, Type type) {
  if (cast<RankedTensorType>(grad.getType()).getRank() ==
      cast<RankedTensorType>(type).getRank())
    return grad;
  return b.create<SumToOp>(loc, type, grad);
}

/// The dense helpers: each rule writes its operands' gradients from the
/// result's `dy` and the recomputed forward values.
LogicalResult denseRule(OpBuilder &b, Operation &op, IRMapping &primal,
                        Adjoints &adj) {
  Location loc = op.getLoc();
  Value dy = adj.of(op.getResult(0));
  auto p = [&](Value v) { return primal.lookup(v); };
  auto give = [&](Value operand, Value grad) {
    adj.accumulate(operand, grad, loc);
  };
  if (auto add = dyn_cast<AddOp>(op)) {
    give(add.getLhs(), unbroadcast(b, loc, dy, add.getLhs().getType()));
    give(add.getRhs(), unbroadcast(b, loc, dy, add.getRhs().getType()));
    return success();
  }
  if (auto sub = dyn_cast<SubOp>(op)) {
    give(sub.getLhs(), unbroadcast(b, loc, dy, sub.getLhs().getType()));
    Value neg = b.create<NegOp>(loc, dy);
    give(sub.getRhs(), unbroadcast(b, loc, neg, sub.getRhs().getType()));
    return success();
  }
  if (auto mul = dyn_cast<MulOp>(op)) {
    Type t = mul.getResult().getType();
    Value l = mul.getLhs(), r = mul.getRhs();
    give(l, unbroadcast(b, loc, b.create<MulOp>(loc, t, dy, p(r)), l.getType()));
    give(r, unbroadcast(b, loc, b.create<MulOp>(loc, t, dy, p(l)), r.getType()));
    return success();
  }
  if (auto gelu = dyn_cast<GeluOp>(op)) {
    give(gelu.getX(), b.create<GeluGradOp>(loc, p(gelu.getX()), dy));
    return success();
  }
  if (auto relu = dyn_cast<ReluOp>(op)) {
    give(relu.getX(), b.create<ReluGradOp>(loc, p(relu.getX()), dy));
    return success();
  }
  if (auto lin = dyn_cast<LinearOp>(op)) {
    Value x = lin.getX(), w = lin.getW();
    give(x, b.create<LinearInputGradOp>(loc, x.getType(), dy, p(w)));
    give(w, b.create<LinearWeightGradOp>(loc, w.getType(), p(x), dy));
    if (Value bias = lin.getBias())
      give(bias, b.create<SumToOp>(loc, bias.getType(), dy));
    return success();
  }
  if (auto ln = dyn_cast<LayerNormOp>(op)) {
    Value x = ln.getX();
    Value gamma = ln.getAffine().empty() ? Value() : p(ln.getAffine()[0]);
    give(x, b.create<LayerNormGradOp>(loc, x.getType(), p(x), dy, gamma,
                                      ln.getEpsAttr()));
    if (!ln.getAffine().empty()) {
      // dγ = Σ_rows dy · x̂, dβ = Σ_rows dy, with x̂ the unscaled norm.
      Value xhat = b.create<LayerNormOp>(loc, x.getType(), p(x), ValueRange{},
                                         ln.getEpsAttr());
      Value prod = b.create<MulOp>(loc, x.getType(), dy, xhat);
      give(ln.getAffine()[0],
           b.create<SumToOp>(loc, ln.getAffine()[0].getType(), prod));
      give(ln.getAffine()[1],
           b.create<SumToOp>(loc, ln.getAffine()[1].getType(), dy));
    }
    return success();
  }
  if (auto split = dyn_cast<SplitHeadsOp>(op)) {
    give(split.getX(),
         b.create<MergeHeadsOp>(loc, split.getX().getType(), dy));
    return success();
  }
  if (auto merge = dyn_cast<MergeHeadsOp>(op)) {
    // The head count is the forward input's dimension 1.
    Value heads = b.create<tensor::DimOp>(loc, p(merge.getX()), 1);
    give(merge.getX(),
         b.create<SplitHeadsOp>(loc, merge.getX().getType(), dy, heads));
    return success();
  }
  return failure();
}

} // namespace

void Adjoints::accumulate(Value v, Value grad, Location loc) {
  Value &slot = grads[v];
  slot = slot ? b.create<AddOp>(loc, v.getType(), slot, grad).getResult()
              : grad;
}

std::string attnc::parameterName(func::FuncOp fn, unsigned i) {
  auto name = fn.getArgAttrOfType<StringAttr>(i, "attn.name");
  return name ? name.str() : "arg" + std::to_string(i);
}

std::string attnc::uniqueGradientName(std::set<std::string> &taken,
                                      std::string wanted) {
  while (taken.count(wanted))
    wanted = "d_" + wanted;
  taken.insert(wanted);
  return wanted;
}

bool attnc::isF32Tensor(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.getElementType().isF32();
}

std::string attnc::whyNoGradient(Operation &op) {
  if (auto a = dyn_cast<AttendOp>(op)) {
    for (Operation *read : f32CaptureReads(a.getScore()))
      for (Value index : cast<tensor::ExtractOp>(read).getIndices())
        if (!dependsOnHeadOnly(index))
          return "the backward of a score function that reads an f32 capture "
                 "at an index computed from i, j, s or data is not generated "
                 "yet: attnc differentiates captures indexed by b and h "
                 "(per-head parameters such as ALiBi slopes)";
    for (Value x : {a.getQ(), a.getK(), a.getV()})
      if (!isF32Tensor(x.getType()))
        return "backward kernels need f32 q, k and v";
    return "";
  }
  if (auto w = dyn_cast<WindowedAttendOp>(op)) {
    for (Value x : {w.getQ(), w.getK(), w.getV()})
      if (!isF32Tensor(x.getType()))
        return "backward kernels need f32 q, k and v";
    return "";
  }
  if (auto c = dyn_cast<ChunkedAttendOp>(op)) {
    for (Value x : {c.getQ(), c.getK(), c.getV()})
      if (!isF32Tensor(x.getType()))
        return "backward kernels need f32 q, k and v";
    return "";
  }
  if (isa<LshAttendOp>(op))
    return "attn.lsh_attend is differentiated through its expansion: run "
           "attn-expand-lsh before attn-generate-backward";
  if (isa<AddOp, SubOp, MulOp, GeluOp, ReluOp, LinearOp, LayerNormOp,
          SplitHeadsOp, MergeHeadsOp, CombineRoundsOp>(op) ||
      isa<HashBucketOp, SortChunkOp>(op) || // piecewise constant
      op.getNumResults() == 0 || op.getDialect() != op.getContext()->getLoadedDialect<AttnDialect>())
    return ""; // the helpers; constants and dims carry no gradient
  return "no gradient rule for '" + op.getName().getStringRef().str() +
         "' yet: backward kernels differentiate attn.attend, "
         "attn.windowed_attend, the LSH chain and the dense helpers";
}

/// One op's gradient rule; an op none of whose results has a gradient
/// contributes nothing.
LogicalResult attnc::applyGradientRule(OpBuilder &b, Operation &op,
                                       IRMapping &primal, Adjoints &adj) {
  if (llvm::none_of(op.getResults(), [&](Value r) { return adj.of(r); }))
    return success();
  if (std::string why = whyNoGradient(op); !why.empty())
    return op.emitError() << why;
  if (auto a = dyn_cast<AttendOp>(op))
    return attendRule(b, a, primal, adj);
  if (auto w = dyn_cast<WindowedAttendOp>(op))
    return windowedRule(b, w, primal, adj);
  if (isa<ChunkedAttendOp, CombineRoundsOp>(op))
    return lshRule(b, op, primal, adj);
  if (failed(denseRule(b, op, primal, adj)))
    return op.emitError() << "no gradient rule for '" << op.getName() << "'";
  return success();
}

LogicalResult attnc::backpropagate(OpBuilder &b, Block &ops, IRMapping &primal,
                                  Adjoints &adj) {
  for (Operation &op : llvm::reverse(ops.without_terminator()))
    if (failed(applyGradientRule(b, op, primal, adj)))
      return failure();
  return success();
}
