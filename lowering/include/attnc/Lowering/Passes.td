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

def AttnGenerateBackward : Pass<"attn-generate-backward", "mlir::ModuleOp"> {
  let summary = "write NAME_backward for every kernel (attnc --grad)";
  let description = [{
    For every kernel NAME, adds NAME_backward: the kernel's parameters, then
    one gradient per output (named d_out, or d_out0, d_out1, ...), returning
    the gradient of every f32 parameter in declaration order (named d_ plus
    the parameter's name). The body recomputes the forward and chains one
    gradient rule per op from the outputs back to the parameters:
    `attn.attend` becomes `attn.attend_grad` (same mask and score, plus the
    score's derivatives in s and in its f32 capture reads, derived from its
    region); `combine_rounds` and `chunked_attend` become
    `combine_rounds_grad` and `chunked_attend_grad` (`lsh_attend` must be
    expanded first: attn-expand-lsh). A parameter no gradient reaches gets
    `attn.zeros_like`. An op without a rule is an error at its location.
  }];
  let dependentDialects = ["attnc::attn::AttnDialect",
                           "mlir::func::FuncDialect",
                           "mlir::arith::ArithDialect"];
}

def AttnExpandReversible : Pass<"attn-expand-reversible", "mlir::ModuleOp"> {
  let summary = "inline reversible blocks; generate NAME_inverse and NAME_backward";
  let description = [{
    Rewrites every `attn.reversible_block` into its `f` and `g` regions
    inlined with `attn.add` (y1 = x1 + F(x2), y2 = x2 + G(y1)). For a kernel
    that returns (y1, y2) of a block applied to its own parameters, first
    adds the kernel `NAME_inverse`: the same parameters with y1, y2 in x1's
    and x2's places (named y1, y2), returning x2 = y2 − G(y1), then
    x1 = y1 − F(x2); and `NAME_backward`: the same parameters, then d_y1,
    d_y2, returning the reconstructed x1, x2, then d_x1, d_x2 and the
    gradient of every other f32 parameter (G's and F's gradient rules after
    the inverse). Other uses of a block get a warning and no inverse; a block
    whose F or G has an op without a gradient rule gets a warning and no
    backward.
  }];
  let dependentDialects = ["attnc::attn::AttnDialect",
                           "mlir::func::FuncDialect"];
}

def AttnRecognizeWindows : Pass<"attn-recognize-windows", "mlir::func::FuncOp"> {
  let summary = "rewrite Longformer patterns written as attend masks into attn.windowed_attend";
  let description = [{
    An `attn.attend` whose mask is a band of j − i (optionally with
    `(j − i) % d == 0`) or'ed with `i == g` and `j == g` for a set of
    global positions g becomes `attn.windowed_attend(left, right, dilation =
    d, global = [g...])`, which allows the same keys and visits only them.
    Only without `causal`, a score function, a scale or captures, and when
    q and k have one length (the same static size or dimension symbol);
    every other attend is left as it is.
  }];
  let dependentDialects = ["attnc::attn::AttnDialect"];
}

def AttnAnalyzeMasks : Pass<"attn-analyze-masks", "mlir::func::FuncOp"> {
  let summary = "record the structure of attn.attend masks as #attn.mask";
  let description = [{
    Classifies each `attn.attend` mask (with `causal`) and sets `attn.mask`
    to `#attn.mask<none>`, `#attn.mask<band, lo = .., hi = ..>` (j − i
    within [lo, hi]: causal, sliding windows), `#attn.mask<block, size = S>`
    (reads i and j only as i / S, j / S: block-sparse layouts) or
    `#attn.mask<elementwise>`. The attribute is always recomputed from the
    region, never kept from an earlier run. The mask region is kept; codegen
    may skip keys the attribute excludes.
  }];
  let dependentDialects = ["attnc::attn::AttnDialect"];
}

def AttnChooseSchedule : Pass<"attn-choose-schedule", "mlir::ModuleOp"> {
  let summary = "pick tile sizes and vector widths per target";
  let description = [{
    Attaches `attn.schedule = #attn.schedule<...>` to every attention op,
    chosen for the module's target: the `target` option when given (it
    also sets the module's `attn.target`), else the module's `attn.target`
    attribute. The pass never reads the compiling machine's CPUID: `host`
    is resolved by the driver. A schedule already on an op (written by
    hand) is kept.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"\"",
           "target variant, e.g. x86-64-v3 or x86-64-v4; empty reads the "
           "module's attn.target">
  ];
  let dependentDialects = ["attnc::attn::AttnDialect"];
}

#endif // ATTNC_LOWERING_PASSES_TD
