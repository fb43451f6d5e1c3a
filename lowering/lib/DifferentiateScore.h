//===- DifferentiateScore.h - d score / d s of a score region -------------===//
#ifndef ATTNC_LOWERING_LIB_DIFFERENTIATESCORE_H
#define ATTNC_LOWERING_LIB_DIFFERENTIATESCORE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Region.h"

namespace attnc {

/// Fills the empty region `out` with the derivatives of the score region
/// `score` ((s, b, h, i, j, captures...) -> f32) with respect to s and then
/// to each read of an f32 capture (attn::f32CaptureReads), by forward-mode
/// differentiation of its arith and math ops: the same block arguments, the
/// score's ops cloned, then each seed's tangents; it yields them in that
/// order. Fails with an error at the op that has no derivative rule.
mlir::LogicalResult differentiateScore(mlir::Region &score, mlir::Region &out);

} // namespace attnc

#endif
