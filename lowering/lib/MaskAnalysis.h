//===- MaskAnalysis.h - internal: bands and blocks in attend masks -------===//
//
// What attn-analyze-masks and attn-recognize-windows read from a mask
// region: affine forms in (i, j), the band j − i ∈ [lo, hi] a boolean
// restricts keys to, and a block size.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_LOWERING_LIB_MASKANALYSIS_H
#define ATTNC_LOWERING_LIB_MASKANALYSIS_H

#include "mlir/IR/Value.h"

#include <cstdint>
#include <limits>
#include <optional>

namespace attnc {

constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

/// c_i·i + c_j·j + c.
struct Affine {
  int64_t ci = 0, cj = 0, c = 0;
};

/// Offsets j − i allowed: [lo, hi], kUnbounded meaning no bound.
struct Band {
  int64_t lo = -kUnbounded, hi = kUnbounded;
  Band intersect(Band o) const {
    return {std::max(lo, o.lo), std::min(hi, o.hi)};
  }
};

/// Reads a mask region whose query and key positions are `i` and `j`.
class MaskAnalysis {
public:
  MaskAnalysis(mlir::Value i, mlir::Value j) : i(i), j(j) {}

  /// `v` as c_i·i + c_j·j + c, or nothing when it is not affine in (i, j).
  std::optional<Affine> affine(mlir::Value v);
  /// The band a boolean value restricts j − i to, if it is exactly a band.
  std::optional<Band> band(mlir::Value v);
  /// A band containing every pair the value allows: `band`, or for a
  /// conjunction the intersection of its conjuncts' bounding bands (a band
  /// ∧ (j − i) % d == 0 is bounded by the band). Not exact: only for
  /// skipping keys the mask, still evaluated, would reject.
  std::optional<Band> boundingBand(mlir::Value v);
  /// S when every use of i and j is a division by the same constant S.
  std::optional<int64_t> blockSize();

private:
  mlir::Value i, j;
};

} // namespace attnc

#endif
