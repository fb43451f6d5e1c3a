//===- GenerateBackward.cpp - NAME_backward for every kernel --------------===//
//
// Reverse-mode differentiation at the level of attn ops: each op has one
// gradient rule that writes, in the attn dialect, the gradients of its
// inputs from the gradients of its results, and the rules are chained from
// the kernel's outputs back to its parameters. The result is an ordinary
// kernel, NAME_backward (LANGUAGE.md: the forward's inputs, then one
// gradient per output; it returns the gradient of every f32 input in
// declaration order), which the rest of the pipeline lowers and compiles
// like any other.
//
// Nothing is stored between the forward and the backward: the backward
// recomputes what its rules need (attn.attend_grad recomputes the
// probabilities per tile of queries, never an L×L buffer).
//
//===----------------------------------------------------------------------===//
#include "attnc/Lowering/Passes.h"
#include "DifferentiateScore.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNGENERATEBACKWARD
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {

bool isF32Tensor(Type t) {
  auto r = dyn_cast<RankedTensorType>(t);
  return r && r.getElementType().isF32();
}

/// The C name of output `r` of `n` (KernelBuilder's "out", "out0", ...).
std::string outputName(unsigned r, unsigned n) {
  return n == 1 ? "out" : "out" + std::to_string(r);
}

/// Gradients flowing backwards through one function being built.
class Adjoints {
public:
  explicit Adjoints(OpBuilder &b) : b(b) {}

  /// Adds `grad` to the gradient of `v` (a value used twice gets the sum).
  void accumulate(Value v, Value grad, Location loc) {
    Value &slot = grads[v];
    slot = slot ? b.create<AddOp>(loc, v.getType(), slot, grad).getResult()
                : grad;
  }
  Value of(Value v) const { return grads.lookup(v); }

private:
  OpBuilder &b;
  llvm::DenseMap<Value, Value> grads; // forward value -> its gradient
};

/// attn.attend: one attend_grad with the same regions, and the score's
/// derivative in s.
LogicalResult attendRule(OpBuilder &b, AttendOp op, IRMapping &primal,
                         Adjoints &adj) {
  Value dout = adj.of(op.getResult());
  for (auto [i, c] : llvm::enumerate(op.getCaptures()))
    if (isF32Tensor(c.getType()) && !op.getScore().empty())
      return op.emitError()
             << "the backward of a score function that reads an f32 "
                "capture (capture " << i
             << ") is not generated yet: its gradient would be a sum over "
                "every scored pair";
  for (Value x : {op.getQ(), op.getK(), op.getV()})
    if (!isF32Tensor(x.getType()))
      return op.emitError("backward kernels need f32 q, k and v");
  SmallVector<Value> captures;
  for (Value c : op.getCaptures())
    captures.push_back(primal.lookup(c));
  auto grad = b.create<AttendGradOp>(
      op.getLoc(),
      TypeRange{op.getQ().getType(), op.getK().getType(), op.getV().getType()},
      primal.lookup(op.getQ()), primal.lookup(op.getK()),
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
  return success();
}

/// One op's gradient rule; an op none of whose results has a gradient
/// contributes nothing.
LogicalResult applyRule(OpBuilder &b, Operation &op, IRMapping &primal,
                        Adjoints &adj) {
  if (llvm::none_of(op.getResults(), [&](Value r) { return adj.of(r); }))
    return success();
  if (auto a = dyn_cast<AttendOp>(op))
    return attendRule(b, a, primal, adj);
  return op.emitError() << "no gradient rule for '" << op.getName()
                        << "' yet: --grad differentiates attn.attend";
}

/// Erases the forward ops the gradient rules did not read.
void eraseDeadForward(Block &entry) {
  SmallVector<Operation *> ops;
  for (Operation &op : entry.without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops)) // users before what they read
    if (isOpTriviallyDead(op))
      op->erase();
}

FailureOr<func::FuncOp> buildBackward(func::FuncOp fn) {
  MLIRContext *ctx = fn.getContext();
  OpBuilder b(fn);
  b.setInsertionPointAfter(fn);
  FunctionType type = fn.getFunctionType();
  SmallVector<Type> args(type.getInputs()), results;
  llvm::append_range(args, type.getResults());
  SmallVector<unsigned> differentiated; // f32 parameters, in order
  for (auto [i, t] : llvm::enumerate(type.getInputs()))
    if (isF32Tensor(t)) {
      differentiated.push_back(unsigned(i));
      results.push_back(t);
    }
  auto backward = b.create<func::FuncOp>(
      fn.getLoc(), (fn.getName() + "_backward").str(),
      b.getFunctionType(args, results));
  SmallVector<DictionaryAttr> argAttrs;
  fn.getAllArgAttrs(argAttrs);
  unsigned nIn = type.getNumInputs(), nOut = type.getNumResults();
  for (auto [i, attrs] : llvm::enumerate(argAttrs))
    backward.setArgAttrs(unsigned(i), attrs);
  for (unsigned r = 0; r < nOut; ++r) {
    backward.setArgAttr(nIn + r, "attn.name",
                        StringAttr::get(ctx, "d_" + outputName(r, nOut)));
    if (auto dims = fn.getResultAttr(r, "attn.dims"))
      backward.setArgAttr(nIn + r, "attn.dims", dims);
  }
  for (auto [r, i] : llvm::enumerate(differentiated)) {
    auto name = fn.getArgAttrOfType<StringAttr>(i, "attn.name");
    backward.setResultAttr(
        unsigned(r), "attn.name",
        StringAttr::get(ctx, "d_" + (name ? name.str() : "arg" + std::to_string(i))));
    if (auto dims = fn.getArgAttr(i, "attn.dims"))
      backward.setResultAttr(unsigned(r), "attn.dims", dims);
  }
  for (NamedAttribute a : fn->getDiscardableAttrs())
    backward->setAttr(a.getName(), a.getValue());

  // The forward, recomputed: rules may read any forward value.
  Block &forward = fn.getBody().front();
  Block *entry = backward.addEntryBlock();
  b.setInsertionPointToStart(entry);
  IRMapping primal;
  for (unsigned i = 0; i < nIn; ++i)
    primal.map(forward.getArgument(i), entry->getArgument(i));
  for (Operation &op : forward.without_terminator())
    b.clone(op, primal);

  Adjoints adj(b);
  auto ret = cast<func::ReturnOp>(forward.getTerminator());
  for (auto [r, v] : llvm::enumerate(ret.getOperands()))
    adj.accumulate(v, entry->getArgument(nIn + unsigned(r)), fn.getLoc());
  for (Operation &op : llvm::reverse(forward.without_terminator()))
    if (failed(applyRule(b, op, primal, adj))) {
      backward.erase();
      return failure();
    }

  SmallVector<Value> grads;
  for (unsigned i : differentiated) {
    Value g = adj.of(forward.getArgument(i));
    if (!g) {
      auto name = fn.getArgAttrOfType<StringAttr>(i, "attn.name");
      fn.emitError() << "parameter '" << (name ? name.str() : "")
                     << "' does not reach an output: --grad does not "
                        "generate its gradient (zero) yet";
      backward.erase();
      return failure();
    }
    grads.push_back(g);
  }
  b.create<func::ReturnOp>(fn.getLoc(), grads);
  eraseDeadForward(*entry);
  return backward;
}

struct GenerateBackwardPass
    : attnc::impl::AttnGenerateBackwardBase<GenerateBackwardPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> kernels(module.getOps<func::FuncOp>());
    for (func::FuncOp fn : kernels) {
      std::string name = (fn.getName() + "_backward").str();
      if (symbols.lookup(name)) {
        fn.emitError() << "cannot generate '" << name
                       << "': the program already defines a kernel of that "
                          "name";
        return signalPassFailure();
      }
      FailureOr<func::FuncOp> backward = buildBackward(fn);
      if (failed(backward))
        return signalPassFailure();
      symbols.insert(*backward);
    }
  }
};

} // namespace
