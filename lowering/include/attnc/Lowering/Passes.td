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

def AttnAnalyzeMasks : Pass<"attn-analyze-masks", "mlir::func::FuncOp"> {
  let summary = "record the structure of attn.attend masks as attributes";
  let description = [{
    Classifies each `attn.attend` mask (with `causal`) as `none`, `band`
    (j − i within [attn.band_lo, attn.band_hi]: causal, sliding windows),
    `block` (reads i and j only as i / S, j / S: block-sparse layouts) or
    `elementwise`, and records it in `attn.mask_kind` and its parameters.
    The mask region is kept; codegen may skip keys the attributes exclude.
  }];
  let dependentDialects = ["attnc::attn::AttnDialect"];
}

def AttnChooseSchedule : Pass<"attn-choose-schedule", "mlir::func::FuncOp"> {
  let summary = "pick tile sizes and vector widths for the CPU target";
  let description = [{
    Attaches the schedule codegen follows to every attention op, so that it
    can be inspected and tested: `attn.vector_width` (f32 lanes: 16 with
    AVX-512, 8 with AVX2), `attn.tile_queries` (queries per parallel tile)
    and `attn.register_rows` (queries per register tile).
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"0",
           "f32 lanes; 0 picks them from this CPU">
  ];
  let dependentDialects = ["attnc::attn::AttnDialect"];
}

#endif // ATTNC_LOWERING_PASSES_TD
