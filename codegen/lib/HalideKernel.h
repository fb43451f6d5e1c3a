//===- HalideKernel.h - internal: attn values as Halide Funcs -------------===//
//
// A tensor value is a Func whose arguments run innermost first (Halide's
// order: [B, H, L, D] is f(d, l, h, b)) together with its shape, outermost
// first (the IR's order).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_HALIDEKERNEL_H
#define ATTNC_CODEGEN_LIB_HALIDEKERNEL_H

#include "attnc/Dialect/Attn/AttnOps.h"

#include <Halide.h>

#include "llvm/ADT/DenseMap.h"

#include <functional>
#include <optional>
#include <vector>

namespace attnc {
namespace codegen {

struct TensorValue {
  Halide::Func func;
  std::vector<Halide::Expr> shape; // outermost first
  Halide::Type type;
  /// The kernel argument this value is, if it is one (its rows can then be
  /// prefetched).
  std::optional<Halide::ImageParam> param;
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

/// Every value a region yields, and the indices (clamped into the tensor,
/// outermost first) at which each of its tensor.extract ops reads a capture.
struct RegionExprs {
  std::vector<Halide::Expr> yielded;
  llvm::DenseMap<mlir::Operation *, std::vector<Halide::Expr>> readIndices;
};
mlir::FailureOr<RegionExprs>
translateRegion(mlir::Region &region, llvm::ArrayRef<Halide::Expr> leading,
                llvm::ArrayRef<TensorValue> captures);

Halide::Type halideType(mlir::Type elementType);

/// The result element type of `op`'s result `index` as a Halide type.
Halide::Type resultType(mlir::Operation *op, unsigned index = 0);

} // namespace codegen
} // namespace attnc

#endif
