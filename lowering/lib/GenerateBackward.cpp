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
#include "GradientRules.h"

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

/// The C name of output `r` of `n` (KernelBuilder's "out", "out0", ...).
std::string outputName(unsigned r, unsigned n) {
  return n == 1 ? "out" : "out" + std::to_string(r);
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
  std::set<std::string> taken;
  auto paramName = [&](unsigned i) { return parameterName(fn, i); };
  for (auto [i, attrs] : llvm::enumerate(argAttrs)) {
    backward.setArgAttrs(unsigned(i), attrs);
    taken.insert(paramName(unsigned(i)));
  }
  for (unsigned r = 0; r < nOut; ++r) {
    backward.setArgAttr(
        nIn + r, "attn.name",
        StringAttr::get(ctx, uniqueGradientName(taken, "d_" + outputName(r, nOut))));
    if (auto dims = fn.getResultAttr(r, "attn.dims"))
      backward.setArgAttr(nIn + r, "attn.dims", dims);
  }
  for (auto [r, i] : llvm::enumerate(differentiated)) {
    backward.setResultAttr(
        unsigned(r), "attn.name",
        StringAttr::get(ctx, uniqueGradientName(taken, "d_" + paramName(i))));
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
  if (failed(backpropagate(b, forward, primal, adj))) {
    backward.erase();
    return failure();
  }

  // A parameter no gradient reached (unused, or read only through
  // piecewise-constant ops such as LSH rotations) gets zeros: the backward
  // writes every f32 parameter's gradient (LANGUAGE.md).
  SmallVector<Value> grads;
  for (unsigned i : differentiated) {
    Value g = adj.of(forward.getArgument(i));
    if (!g)
      g = b.create<ZerosLikeOp>(fn.getLoc(), entry->getArgument(i));
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
      // A reversible kernel's NAME_backward reconstructs its inputs instead
      // (attn-expand-reversible writes it).
      if (!fn.getOps<ReversibleBlockOp>().empty())
        continue;
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
