//===- HalideKernel.h - internal: attn values as Halide Funcs -------------===//
//
// A tensor value is a Func whose arguments run innermost first (Halide's
// order: [B, H, L, D] is f(d, l, h, b)) together with its shape, outermost
// first (the IR's order). Each op builder turns operand values into a result
// value and schedules the Funcs it creates.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_HALIDEKERNEL_H
#define ATTNC_CODEGEN_LIB_HALIDEKERNEL_H

#include "attnc/Dialect/Attn/AttnOps.h"

#include <Halide.h>

#include "llvm/ADT/DenseMap.h"

#include <functional>
#include <vector>

namespace attnc {
namespace codegen {

struct TensorValue {
  Halide::Func func;
  std::vector<Halide::Expr> shape; // outermost first
  Halide::Type type;
  int rank() const { return int(shape.size()); }
  /// Calls the Func with indices given outermost first.
  Halide::Expr at(const std::vector<Halide::Expr> &outermostFirst) const;
};

/// Values the builders of one kernel have produced so far.
struct ValueTable {
  llvm::DenseMap<mlir::Value, TensorValue> tensors;
  llvm::DenseMap<mlir::Value, Halide::Expr> scalars;
};

/// Translates the body of a mask or score region into one Halide Expr.
/// `leading` binds the leading block arguments (b, h, i, j or s, b, h, i, j);
/// captures bind to the tensors of the op's `captures` operands.
mlir::FailureOr<Halide::Expr>
regionToExpr(mlir::Region &region, llvm::ArrayRef<Halide::Expr> leading,
             llvm::ArrayRef<TensorValue> captures);

/// Per-op builders. Each returns the result value or emits an error.
mlir::FailureOr<TensorValue> buildAttend(attn::AttendOp op, ValueTable &values);
mlir::FailureOr<TensorValue> buildWindowed(attn::WindowedAttendOp op,
                                           ValueTable &values);
mlir::FailureOr<TensorValue> buildDense(mlir::Operation *op, ValueTable &values);

Halide::Type halideType(mlir::Type elementType);

} // namespace codegen
} // namespace attnc

#endif
