//===- AttnAttrs.td - typed attributes passes hand to codegen --*- tablegen -*-===//
//
// What the lowering passes decide is recorded as typed, verified attributes
// (as IREE's lowering configs and Triton's encodings), never string keys:
//
//   #attn.target<"x86-64-v3">          on the module: what codegen targets
//   #attn.mask<band, lo = -3, hi = 0>  on attn.attend: its mask's structure
//   #attn.schedule<...>                on attention ops: tiles per target
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_ATTRS_TD
#define ATTN_ATTRS_TD

include "attnc/Dialect/Attn/AttnDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

class Attn_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Attn_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Attn_TargetAttr : Attn_Attr<"Target", "target"> {
  let summary = "the variant code is generated for (a TargetInfo)";
  let description = [{
    One code-generation variant, in the spelling of `attnc --target`
    (`x86-64-v2`, `x86-64-v3`, `x86-64-v4`, a level with `+feature`s, or
    `cuda:sm_80`), canonicalised. The driver resolves `host` to this CPU's
    features before any pass runs, so passes never read CPUID. Set on the
    module as `attn.target`; `attn-choose-schedule` reads it.

    Example:

    ```mlir
    module attributes {attn.target = #attn.target<"x86-64-v4">} { ... }
    ```
  }];
  let parameters = (ins StringRefParameter<"canonical target name">:$name);
  let assemblyFormat = "`<` $name `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The parsed target; the verifier guarantees it parses.
    ::attnc::TargetInfo getInfo() const;
    static TargetAttr get(::mlir::MLIRContext *context,
                          const ::attnc::TargetInfo &info);
  }];
}

def Attn_MaskKind : I32EnumAttr<"MaskKind", "structure of an attend mask", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"band", 1>,
    I32EnumAttrCase<"block", 2>,
    I32EnumAttrCase<"elementwise", 3>]> {
  let cppNamespace = "::attnc::attn";
  let genSpecializedAttr = 0;
}

def Attn_MaskAttr : Attn_Attr<"Mask", "mask"> {
  let summary = "the structure attn-analyze-masks found in an attend mask";
  let description = [{
    `none`: every key is allowed. `band`: j − i ∈ [lo, hi] (a missing bound
    is unbounded; at least one is present): causal, sliding windows and
    their intersections. `block`: the mask reads i and j only as i / size
    and j / size (block-sparse layouts). `elementwise`: anything else. The
    mask region is kept; the attribute only licenses codegen to skip keys
    the mask rejects anyway.

    Example:

    ```mlir
    attn.attend %q, %k, %v {causal, attn.mask = #attn.mask<band, hi = 0>} ...
    attn.attend %q, %k, %v, %layout mask {...} {attn.mask = #attn.mask<block, size = 64>} ...
    ```
  }];
  let parameters = (ins
      "::attnc::attn::MaskKind":$kind,
      OptionalParameter<"std::optional<int64_t>">:$lo,
      OptionalParameter<"std::optional<int64_t>">:$hi,
      OptionalParameter<"std::optional<int64_t>">:$size);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
}

def Attn_ScheduleAttr : Attn_Attr<"Schedule", "schedule"> {
  let summary = "tile sizes codegen follows for one attention op";
  let description = [{
    Chosen per target by `attn-choose-schedule` (or written by hand, which
    wins). `vector_width`: f32 lanes per vector (4 SSE, 8 AVX2, 16
    AVX-512). `tile_queries`: queries per parallel tile, whose scores stay
    in L2. A register tile is `key_tile` lanes (a multiple of the vector
    width: keys for Q·Kᵀ, values for P·V, queries for windowed scores) ×
    `register_rows` rows, accumulated in registers with the reduction loop
    outside it; key_tile / vector_width × register_rows accumulators must
    fit the 32 vector registers of the largest register file. P·V has its
    own register tile, `value_tile` values × `value_rows` queries (its
    reduction runs over keys, so the shape that suits it differs); it is
    read by attend, windowed_attend and chunked_attend, and set to the
    Q·Kᵀ tile for the ops without a P·V tile (same rules). `bf16_dot`
    (attend only, bf16 q and k, AVX-512 with AVX512-BF16): the matmuls
    multiply bf16 pairs into f32 accumulators (`vdpbf16ps`, twice the f32
    FMA's work per instruction): Q·Kᵀ on the inputs as they are, a dense
    or band P·V on probabilities rounded to bf16 (a block-sparse P·V stays
    f32). Omitted when false. `key_chunk` (attend without a band or block
    mask; 0, omitted: none): for key sequences longer than two chunks,
    the softmax runs over chunks of this many keys, merged by rescaling
    (FlashAttention's online softmax, once per chunk), so that a tile's
    scores and probabilities stay in L2; shorter sequences take the whole
    row at once (the kernel holds both forms and picks one per call).

    Example:

    ```mlir
    #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 16, value_tile = 16, value_rows = 6>
    #attn.schedule<vector_width = 16, tile_queries = 64, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, bf16_dot = true>
    #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 6, key_tile = 64, value_tile = 64, value_rows = 6, key_chunk = 1024>
    ```
  }];
  let parameters = (ins "int64_t":$vector_width, "int64_t":$tile_queries,
                        "int64_t":$register_rows, "int64_t":$key_tile,
                        "int64_t":$value_tile, "int64_t":$value_rows,
                        DefaultValuedParameter<"bool", "false">:$bf16_dot,
                        DefaultValuedParameter<"int64_t", "0">:$key_chunk);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def Attn_GpuScheduleAttr : Attn_Attr<"GpuSchedule", "gpu_schedule"> {
  let summary = "tile sizes the CUDA backend follows for one attention op";
  let description = [{
    Chosen by `attn-choose-schedule` for a `cuda` target (or written by
    hand, which wins). One thread block per tile of `tile_queries` queries,
    `warps` warps of 16 query rows each (the rows of an `mma.sync`
    m16n8k16 tile, so tile_queries = 16 · warps); keys are staged in shared
    memory `key_tile` at a time and scored with an online softmax.

    Example:

    ```mlir
    #attn.gpu_schedule<warps = 4, tile_queries = 64, key_tile = 64>
    ```
  }];
  let parameters = (ins "int64_t":$warps, "int64_t":$tile_queries,
                        "int64_t":$key_tile);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // ATTN_ATTRS_TD
