//===- Passes.td - attn lowering passes --------------------*- tablegen -*-===//
//
// One pass per file: the flag, the file and the lit test share one word
// (attn-expand-lsh -> ExpandLsh.cpp -> test/Lowering/expand-lsh.mlir).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_LOWERING_PASSES_TD
#define ATTNC_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnExpandLsh : Pass<"attn-expand-lsh", "mlir::func::FuncOp"> {
  let summary = "expand attn.lsh_attend into its four primitives";
  let description = [{
    Rewrites every `attn.lsh_attend` into `attn.hash_bucket`,
    `attn.sort_chunk`, `attn.chunked_attend` (shared QK: the same value is
    the query and the key, keys normalised) and `attn.combine_rounds`, so
    that later passes and codegen only see the primitives.
  }];
  let dependentDialects = ["attnc::attn::AttnDialect"];
}

#endif // ATTNC_LOWERING_PASSES_TD
