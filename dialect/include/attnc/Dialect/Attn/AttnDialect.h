//===- AttnDialect.h - the attn dialect -----------------------------------===//
#ifndef ATTNC_DIALECT_ATTN_ATTNDIALECT_H
#define ATTNC_DIALECT_ATTN_ATTNDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dialect.h"

#include "attnc/Dialect/Attn/AttnDialect.h.inc"

namespace attnc {
/// Registers every dialect an attn program uses (attn, func, arith, math,
/// tensor) so that tools and the frontend agree on one set.
void registerAllAttnDialects(mlir::DialectRegistry &registry);

namespace attn {
/// The dimension symbol (MLIRGen's attn.dims) that kernel `fn` declared for
/// dimension `dim` of `v`; null when `v` is not one of `fn`'s parameters
/// or that dimension has no symbol.
mlir::StringAttr dimensionSymbol(mlir::func::FuncOp fn, mlir::Value v,
                                 unsigned dim);
} // namespace attn
} // namespace attnc

#endif
