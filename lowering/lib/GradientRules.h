//===- GradientRules.h - one gradient rule per attn op --------------------===//
#ifndef ATTNC_LOWERING_LIB_GRADIENTRULES_H
#define ATTNC_LOWERING_LIB_GRADIENTRULES_H

#include "attnc/Dialect/Attn/AttnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <set>
#include <string>

namespace attnc {

bool isF32Tensor(mlir::Type t);

/// Parameter `i`'s C name: its attn.name, else "arg<i>" (as codegen names
/// an unnamed argument).
std::string parameterName(mlir::func::FuncOp fn, unsigned i);

/// `wanted`, prefixed with "d_" until no name in `taken` has it (a gradient
/// named after a parameter called d_x must not clash with it); the result
/// is added to `taken`. C arguments of one kernel need distinct names.
std::string uniqueGradientName(std::set<std::string> &taken,
                               std::string wanted);

/// Gradients flowing backwards, keyed by the forward value they belong to.
class Adjoints {
public:
  explicit Adjoints(mlir::OpBuilder &b) : b(b) {}
  /// Adds `grad` to the gradient of `v` (a value used twice gets the sum).
  void accumulate(mlir::Value v, mlir::Value grad, mlir::Location loc);
  mlir::Value of(mlir::Value v) const { return grads.lookup(v); }

private:
  mlir::OpBuilder &b;
  llvm::DenseMap<mlir::Value, mlir::Value> grads;
};

/// Why `op` has no gradient rule, or "" when it has one (or needs none).
std::string whyNoGradient(mlir::Operation &op);

/// The rule of `op` (a no-op when no result of it has a gradient); an error
/// at the op when it has none. `primal` maps forward values to their
/// recomputed copies.
mlir::LogicalResult applyGradientRule(mlir::OpBuilder &b, mlir::Operation &op,
                                      mlir::IRMapping &primal, Adjoints &adj);

/// The rules of `ops`' operations, last to first.
mlir::LogicalResult backpropagate(mlir::OpBuilder &b, mlir::Block &ops,
                                  mlir::IRMapping &primal, Adjoints &adj);

} // namespace attnc

#endif
