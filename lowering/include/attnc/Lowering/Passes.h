//===- Passes.h - attn lowering passes ------------------------------------===//
#ifndef ATTNC_LOWERING_PASSES_H
#define ATTNC_LOWERING_PASSES_H

#include "attnc/Dialect/Attn/AttnOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

namespace attnc {
#define GEN_PASS_DECL
#include "attnc/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

#endif
