//===- AnalyzeMasks.cpp - recognise structure in attn.attend masks --------===//
//
// Codegen can skip work only when it knows which keys a query can see. This
// pass reads each attn.attend's mask (and `causal`) and records what it is:
//
//   #attn.mask<none>                    every key is allowed
//   #attn.mask<band, lo = A, hi = B>    every allowed pair has j − i in
//                                       [A, B] (an absent bound is
//                                       unbounded): causal, sliding windows,
//                                       their intersections, a band and any
//                                       further condition (dilated windows)
//   #attn.mask<block, size = S>         the mask reads i and j only as i / S
//                                       and j / S: block-sparse layouts,
//                                       where dead blocks can be skipped
//   #attn.mask<elementwise>             anything else, evaluated per element
//
// The attribute is recomputed from the region on every run and replaces
// whatever was there: a stale bound would make codegen skip live keys.
// The mask itself is kept: the attributes only license skipping keys that
// the mask would reject anyway.
//
//===----------------------------------------------------------------------===//
#include "attnc/Lowering/Passes.h"
#include "MaskAnalysis.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

#include <limits>
#include <optional>

namespace attnc {
#define GEN_PASS_DEF_ATTNANALYZEMASKS
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {

/// The mask structure of an attend (or of the attend an attend_grad
/// differentiates: its backward skips the same keys).
MaskAttr classify(MLIRContext *ctx, Region &mask, bool isCausal) {
  auto bandAttr = [&](Band band) {
    std::optional<int64_t> lo, hi;
    if (band.lo != -kUnbounded)
      lo = band.lo;
    if (band.hi != kUnbounded)
      hi = band.hi;
    // An unbounded "band" (e.g. `j - i <= 2^40`) allows every key.
    if (!lo && !hi)
      return MaskAttr::get(ctx, MaskKind::none, {}, {}, {});
    // An empty band (lo > hi) allows no key: evaluate it per element, which
    // yields the documented zero rows without special cases.
    if (lo && hi && *lo > *hi)
      return MaskAttr::get(ctx, MaskKind::elementwise, {}, {}, {});
    return MaskAttr::get(ctx, MaskKind::band, lo, hi, {});
  };
  Band causal = isCausal ? Band{-kUnbounded, 0} : Band{};
  if (mask.empty())
    return bandAttr(causal);
  Block &block = mask.front();
  MaskAnalysis analysis(block.getArgument(2), block.getArgument(3));
  Value yielded = cast<YieldOp>(block.getTerminator()).getValues()[0];
  // A bounding band is enough: codegen evaluates the mask inside it.
  if (auto band = analysis.boundingBand(yielded))
    return bandAttr(band->intersect(causal));
  if (!isCausal)
    if (auto size = analysis.blockSize())
      return MaskAttr::get(ctx, MaskKind::block, {}, {}, *size);
  return MaskAttr::get(ctx, MaskKind::elementwise, {}, {}, {});
}

struct AnalyzeMasksPass : attnc::impl::AttnAnalyzeMasksBase<AnalyzeMasksPass> {
  void runOnOperation() override {
    getOperation().walk([](Operation *op) {
      if (auto a = dyn_cast<AttendOp>(op))
        a->setAttr(kMaskAttrName,
                   classify(a.getContext(), a.getMask(), a.getCausal()));
      else if (auto g = dyn_cast<AttendGradOp>(op))
        g->setAttr(kMaskAttrName,
                   classify(g.getContext(), g.getMask(), g.getCausal()));
    });
  }
};

} // namespace
