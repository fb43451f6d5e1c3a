//===- MLIRGen.h - the only bridge from the .attn AST to MLIR -------------===//
#ifndef ATTNC_FRONTEND_MLIRGEN_H
#define ATTNC_FRONTEND_MLIRGEN_H

#include "attnc/Frontend/AST.h"

namespace mlir {
class MLIRContext;
class ModuleOp;
template <typename OpTy> class OwningOpRef;
} // namespace mlir

namespace attnc {

/// Emits a checked module as attn ops inside one func.func per kernel, with a
/// FileLineColLoc on every op. Parameters carry `attn.name` and `attn.dims`
/// (the symbolic shape as written) so the manifest and run-time checks can
/// be derived from the IR alone.
/// Dimension reads inside lambdas come resolved on the AST by the checker.
mlir::OwningOpRef<mlir::ModuleOp> mlirGen(mlir::MLIRContext &context,
                                          const Module &module);

} // namespace attnc

#endif
