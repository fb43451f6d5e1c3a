//===- AttnOps.h - attn dialect operations --------------------------------===//
#ifndef ATTNC_DIALECT_ATTN_ATTNOPS_H
#define ATTNC_DIALECT_ATTN_ATTNOPS_H

#include "attnc/Dialect/Attn/AttnAttrs.h"
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "attnc/Dialect/Attn/AttnOps.h.inc"

namespace attnc::attn {

/// The reads (tensor.extract) of f32 captures in an attend's `score`
/// region, in order: the values attend_grad's `score_grad` differentiates
/// by after s.
llvm::SmallVector<mlir::Operation *> f32CaptureReads(mlir::Region &score);

/// Whether capture `capture` is an f32 tensor (it then has a gradient).
bool isF32Capture(mlir::Value capture);

} // namespace attnc::attn

#endif
