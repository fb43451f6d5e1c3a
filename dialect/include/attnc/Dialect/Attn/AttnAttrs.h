//===- AttnAttrs.h - typed attributes of the attn dialect -----------------===//
#ifndef ATTNC_DIALECT_ATTN_ATTNATTRS_H
#define ATTNC_DIALECT_ATTN_ATTNATTRS_H

#include "attnc/Target/TargetInfo.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectImplementation.h"

#include <optional>

#include "attnc/Dialect/Attn/AttnEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "attnc/Dialect/Attn/AttnAttrs.h.inc"

namespace attnc::attn {
/// Names of the discardable attributes the passes set.
inline constexpr const char *kTargetAttrName = "attn.target";
inline constexpr const char *kMaskAttrName = "attn.mask";
inline constexpr const char *kScheduleAttrName = "attn.schedule";
/// On a kernel's func.func: derived dimensions ("E/H") whose divisions must
/// be exact at run time (split_heads), set by MLIRGen.
inline constexpr const char *kExactAttrName = "attn.exact";
/// On a CUDA kernel's gpu.func: its launch shape as the runtime gets it
/// (query rows per thread block; the argument whose rows make the grid),
/// for readers of --emit=gpu and the host emulator.
inline constexpr const char *kTileRowsAttrName = "attn.tile_rows";
inline constexpr const char *kGridArgAttrName = "attn.grid_arg";
} // namespace attnc::attn

#endif
