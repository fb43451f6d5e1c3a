//===- AttnOps.td - attn dialect operations ----------------*- tablegen -*-===//

#ifndef ATTN_OPS_TD
#define ATTN_OPS_TD

include "attnc/Dialect/Attn/AttnDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

//===----------------------------------------------------------------------===//
// Reformer LSH primitives
//===----------------------------------------------------------------------===//

def Attn_HashBucketOp : Attn_Op<"hash_bucket", [Pure]> {
  let summary = "angular locality-sensitive hashing of vectors into buckets";
  let description = [{
    For every round r, projects each vector x[b, h, l, :] with the rotation
    matrix rot[h, :, r, :] (shape [D, N/2]) and takes
    `argmax([x·rot, −x·rot])` (the first index wins ties). The result is
    i32[B, H, R, L] with values in [0, N). Rotations come either from the
    `rotations` operand (f32[H, D, R, N/2]) or from the counter-based
    generator seeded by `seed`; exactly one of the two is given.

    Example:

    ```mlir
    %b = attn.hash_bucket %qk {buckets = 8 : i64, rounds = 2 : i64, seed = 42 : i64}
        : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x,
                       Optional<Attn_FloatTensor>:$rotations,
                       I64Attr:$buckets,
                       I64Attr:$rounds,
                       OptionalAttr<I64Attr>:$seed);
  let results = (outs Attn_IntTensor:$result);
  let assemblyFormat = [{
    $x (`rotations` `(` $rotations^ `:` type($rotations) `)`)? attr-dict
    `:` type($x) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_SortChunkOp : Attn_Op<"sort_chunk", [Pure]> {
  let summary = "stable sort of positions by bucket, with its inverse";
  let description = [{
    Within each (b, h), sorts the R·L flattened (round, position) entries
    stably by (bucket + r·N, flat index). `order` holds, for every sorted
    slot, the original position; `undo` is the inverse permutation. Both are
    i32[B, H, R, L]. `chunk` is the chunk length the consumer attends in; a
    trailing partial chunk is allowed.

    Example:

    ```mlir
    %order, %undo = attn.sort_chunk %b {chunk = 64 : i64}
        : tensor<?x?x2x?xi32> -> tensor<?x?x2x?xi32>, tensor<?x?x2x?xi32>
    ```
  }];
  let arguments = (ins Attn_IntTensor:$buckets, I64Attr:$chunk);
  let results = (outs Attn_IntTensor:$order, Attn_IntTensor:$undo);
  let assemblyFormat = [{
    $buckets attr-dict `:` type($buckets) `->` type($order) `,` type($undo)
  }];
  let hasVerifier = 1;
}

def Attn_ChunkedAttendOp : Attn_Op<"chunked_attend", [Pure]> {
  let summary = "attention inside chunks of a sorted order (Reformer)";
  let description = [{
    Gathers q, k, v in `order` (entry t of round r is position
    order[b, h, r, t]), lays the rounds end to end (R·L entries), splits
    that sequence into chunks of `chunk` (the last one short when `chunk`
    does not divide R·L) and lets each chunk attend to itself plus `before`
    chunks before and `after` chunks after, wrapping around over all R·L
    entries (a chunk met twice counts twice). Keys are normalised
    (x·rsqrt(mean(x²) + 1e−6)/sqrt(D)) when `normalize_keys`; queries stay
    raw. Masks replace scores by position: `causal` gives −1e9 to a key
    after the query, then `self_mask` gives −1e5 to a key at the query's
    own position. Yields `out` f32[B, H, R, L, Dv] and the log-sum-exp
    `lse` f32[B, H, R, L], both in original positions.

    With `full_if_short` (set by `attn-expand-lsh`), a sequence with
    L ≤ chunk is attended whole by every round instead (no chunks, no
    neighbours), so that `attn.lsh_attend`'s one-full-pass rule for short
    sequences survives its expansion: the rounds then agree and
    combine_rounds returns their common value.

    Example:

    ```mlir
    %o, %lse = attn.chunked_attend %qk, %qk, %v, %order {chunk = 64 : i64, causal = true}
        : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x2x?xi32>
        -> tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$q, Attn_FloatTensor:$k,
                       Attn_FloatTensor:$v, Attn_IntTensor:$order,
                       I64Attr:$chunk,
                       DefaultValuedAttr<I64Attr, "1">:$before,
                       DefaultValuedAttr<I64Attr, "0">:$after,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       DefaultValuedAttr<BoolAttr, "true">:$self_mask,
                       DefaultValuedAttr<BoolAttr, "true">:$normalize_keys,
                       DefaultValuedAttr<BoolAttr, "false">:$full_if_short);
  let results = (outs Attn_FloatTensor:$out, Attn_FloatTensor:$lse);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $order attr-dict `:` type($q) `,` type($k) `,`
    type($v) `,` type($order) `->` type($out) `,` type($lse)
  }];
  let hasVerifier = 1;
}

def Attn_CombineRoundsOp : Attn_Op<"combine_rounds", [Pure]> {
  let summary = "merges hash rounds weighted by softmax over their lse";
  let description = [{
    result[b, h, l, :] = Σ_r w_r · out[b, h, r, l, :] with
    w_r = e_r / Σ_r e_r, e_r = exp(lse_r − max_r lse_r) (the same as
    exp(lse_r − logsumexp_r lse_r), without losing float32 digits when
    every lse is near −1e5).

    Example:

    ```mlir
    %y = attn.combine_rounds %o, %lse
        : tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32> -> tensor<?x?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$out, Attn_FloatTensor:$lse);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $out `,` $lse attr-dict `:` type($out) `,` type($lse) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_ChunkedAttendGradOp : Attn_Op<"chunked_attend_grad", [Pure]> {
  let summary = "gradients of attn.chunked_attend with respect to q, k and v";
  let description = [{
    Given the inputs and attributes of an `attn.chunked_attend` and the
    gradients `dout` f32[B, H, R, L, Dv] and `dlse` f32[B, H, R, L] of its
    two results, yields dq, dk and dv (summed over rounds and over every
    neighbouring chunk a key is met in). `attn-generate-backward` writes
    it. Nothing forward is stored: per chunk the scores and probabilities
    are recomputed, and with p = softmax, dP = dout·vᵀ and
    δ = Σ_j p·dP, a pair's score gradient is p·(dP − δ + dlse) (zero where
    a mask replaced the score). The key normalisation is differentiated by
    the chain rule; `order` is piecewise constant and gets no gradient.

    Example:

    ```mlir
    %dq, %dk, %dv = attn.chunked_attend_grad %qk, %qk, %v, %order, %do, %dl
        {chunk = 64 : i64, causal = true}
        : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>,
          tensor<?x?x2x?xi32>, tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32>
        -> tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$q, Attn_FloatTensor:$k,
                       Attn_FloatTensor:$v, Attn_IntTensor:$order,
                       Attn_FloatTensor:$dout, Attn_FloatTensor:$dlse,
                       I64Attr:$chunk,
                       DefaultValuedAttr<I64Attr, "1">:$before,
                       DefaultValuedAttr<I64Attr, "0">:$after,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       DefaultValuedAttr<BoolAttr, "true">:$self_mask,
                       DefaultValuedAttr<BoolAttr, "true">:$normalize_keys,
                       DefaultValuedAttr<BoolAttr, "false">:$full_if_short);
  let results = (outs Attn_FloatTensor:$dq, Attn_FloatTensor:$dk,
                      Attn_FloatTensor:$dv);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $order `,` $dout `,` $dlse attr-dict `:` type($q)
    `,` type($k) `,` type($v) `,` type($order) `,` type($dout) `,`
    type($dlse) `->` type($dq) `,` type($dk) `,` type($dv)
  }];
  let hasVerifier = 1;
}

def Attn_CombineRoundsGradOp : Attn_Op<"combine_rounds_grad", [Pure]> {
  let summary = "gradients of attn.combine_rounds with respect to out and lse";
  let description = [{
    With w_r the round weights of `attn.combine_rounds` and y = Σ_r w_r·out_r
    its result, given dy: dout_r = w_r·dy and
    dlse_r = w_r·(dy·out_r − dy·y) (the softmax's Jacobian over rounds).

    Example:

    ```mlir
    %do, %dl = attn.combine_rounds_grad %o, %lse, %dy
        : tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32>, tensor<?x?x?x64xf32>
        -> tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$out, Attn_FloatTensor:$lse,
                       Attn_FloatTensor:$dy);
  let results = (outs Attn_FloatTensor:$dout, Attn_FloatTensor:$dlse);
  let assemblyFormat = [{
    $out `,` $lse `,` $dy attr-dict `:` type($out) `,` type($lse) `,`
    type($dy) `->` type($dout) `,` type($dlse)
  }];
  let hasVerifier = 1;
}

def Attn_LshAttendOp : Attn_Op<"lsh_attend", [Pure]> {
  let summary = "shared-QK Reformer attention (composite)";
  let description = [{
    hash_bucket + sort_chunk + chunked_attend + combine_rounds on a shared
    query/key tensor. `attn-expand-lsh` rewrites it into those four ops.
    Exactly one of `seed` and the `rotations` operand is given.

    Example:

    ```mlir
    %y = attn.lsh_attend %qk, %v {buckets = 8 : i64, rounds = 2 : i64, chunk = 64 : i64, seed = 1 : i64}
        : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$qk, Attn_FloatTensor:$v,
                       Optional<Attn_FloatTensor>:$rotations,
                       I64Attr:$buckets, I64Attr:$rounds, I64Attr:$chunk,
                       DefaultValuedAttr<I64Attr, "1">:$before,
                       DefaultValuedAttr<I64Attr, "0">:$after,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       OptionalAttr<I64Attr>:$seed);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $qk `,` $v (`rotations` `(` $rotations^ `:` type($rotations) `)`)?
    attr-dict `:` type($qk) `,` type($v) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Dense-family attention
//===----------------------------------------------------------------------===//

def Attn_WindowedAttendOp : Attn_Op<"windowed_attend", [Pure]> {
  let summary = "sliding-window attention with dilation and global tokens";
  let description = [{
    Query i attends to keys i − left·dilation … i + right·dilation in steps
    of `dilation` (causal is `right = 0`). Positions listed in `global` see
    every key and are seen by every query (Longformer); positions ≥ L are
    ignored. Scale is 1/sqrt(D).

    Example:

    ```mlir
    %y = attn.windowed_attend %q, %k, %v {left = 128 : i64, right = 128 : i64,
                                          global = array<i64: 0>}
        : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
        -> tensor<?x?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$q, Attn_FloatTensor:$k,
                       Attn_FloatTensor:$v,
                       I64Attr:$left, I64Attr:$right,
                       DefaultValuedAttr<I64Attr, "1">:$dilation,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$global);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $q `,` $k `,` $v attr-dict `:` type($q) `,` type($k) `,` type($v)
    `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_AttendOp : Attn_Op<"attend", [IsolatedFromAbove,
    RecursiveMemoryEffects]> {
  let summary = "generic attention with mask and score functions";
  let description = [{
    softmax over j of score(scale · q_i · k_j) where mask, times v. The
    `mask` region receives (b, h, i, j) as `index` values and yields an
    `i1`; the `score` region receives the scaled score `s : f32` then
    (b, h, i, j) and yields an `f32`. Both receive every `captures` operand
    as trailing block arguments (regions are isolated from above). `causal`
    is shorthand for a mask `j <= i`; without `scale`, 1/sqrt(D) is used.
    A row with no allowed key yields zeros.

    Example (a BigBird-style block layout and soft-capping):

    ```mlir
    %y = attn.attend %q, %k, %v captures(%layout : tensor<?x?x?xi32>)
        : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
        -> tensor<?x?x?x64xf32>
      mask {
      ^bb0(%b: index, %h: index, %i: index, %j: index, %l: tensor<?x?x?xi32>):
        %c64 = arith.constant 64 : index
        %ib = arith.divsi %i, %c64 : index
        %jb = arith.divsi %j, %c64 : index
        %x = tensor.extract %l[%h, %ib, %jb] : tensor<?x?x?xi32>
        %zero = arith.constant 0 : i32
        %m = arith.cmpi ne, %x, %zero : i32
        attn.yield %m : i1
      }
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$q, Attn_FloatTensor:$k,
                       Attn_FloatTensor:$v,
                       Variadic<Attn_AnyTensor>:$captures,
                       OptionalAttr<F32Attr>:$scale,
                       UnitAttr:$causal);
  let results = (outs Attn_FloatTensor:$result);
  let regions = (region MaxSizedRegion<1>:$mask, MaxSizedRegion<1>:$score);
  let assemblyFormat = [{
    $q `,` $k `,` $v (`captures` `(` $captures^ `:` type($captures) `)`)?
    attr-dict `:` type($q) `,` type($k) `,` type($v) `->` type($result)
    (`mask` $mask^)? (`score` $score^)?
  }];
  let hasRegionVerifier = 1;
}

def Attn_AttendGradOp : Attn_Op<"attend_grad", [IsolatedFromAbove,
    RecursiveMemoryEffects]> {
  let summary = "gradients of attn.attend with respect to q, k and v";
  let description = [{
    Given the inputs of an `attn.attend` (the same `mask`, `score`,
    `captures`, `scale` and `causal`) and the gradient `dout` of its result,
    yields dq, dk and dv. `attn-generate-backward` writes it; nothing
    forward is stored: the row log-sum-exp and the probabilities are
    recomputed per tile of queries. With a `score` region the `score_grad`
    region gives d score / d s at the same arguments, then d score / d x for
    every read x of an f32 capture in `score` (tensor.extract, in order; the
    pass derives them symbolically from `score`); without a score it must be
    absent. `capture_grads` has one gradient per f32 capture, summed over
    every scored pair that read it (zero for a capture only the mask reads:
    masks are piecewise constant); the indices of those reads may depend on
    b and h only (per-head parameters such as ALiBi slopes).

    Example:

    ```mlir
    %dq, %dk, %dv = attn.attend_grad %q, %k, %v, %dy {causal}
        : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>,
          tensor<?x?x?x64xf32>
        -> tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$q, Attn_FloatTensor:$k,
                       Attn_FloatTensor:$v, Attn_FloatTensor:$dout,
                       Variadic<Attn_AnyTensor>:$captures,
                       OptionalAttr<F32Attr>:$scale,
                       UnitAttr:$causal);
  let results = (outs Attn_FloatTensor:$dq, Attn_FloatTensor:$dk,
                      Attn_FloatTensor:$dv,
                      Variadic<Attn_FloatTensor>:$capture_grads);
  let regions = (region MaxSizedRegion<1>:$mask, MaxSizedRegion<1>:$score,
                        MaxSizedRegion<1>:$score_grad);
  let assemblyFormat = [{
    $q `,` $k `,` $v `,` $dout (`captures` `(` $captures^ `:` type($captures) `)`)?
    attr-dict `:` type($q) `,` type($k) `,` type($v) `,` type($dout)
    `->` type($dq) `,` type($dk) `,` type($dv) (`,` type($capture_grads)^)?
    (`mask` $mask^)? (`score` $score^)? (`score_grad` $score_grad^)?
  }];
  let hasRegionVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reversible residual block
//===----------------------------------------------------------------------===//

def Attn_ReversibleBlockOp : Attn_Op<"reversible_block", [IsolatedFromAbove,
    RecursiveMemoryEffects]> {
  let summary = "reversible residual block y1 = x1 + F(x2), y2 = x2 + G(y1)";
  let description = [{
    A RevNet/Reformer block: the inputs can be recomputed from the outputs
    (x2 = y2 − G(y1), x1 = y1 − F(x2)), so activations need not be stored
    for the backward pass. `f` maps a value of x2's type to x1's type and
    `g` maps y1's type to x2's type; both receive every `captures` operand
    (weights) as trailing block arguments.

    Example:

    ```mlir
    %y1, %y2 = attn.reversible_block %x1, %x2 captures(%w : tensor<64x64xf32>)
        : tensor<?x?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>, tensor<?x?x64xf32>
      f {
      ^bb0(%x: tensor<?x?x64xf32>, %wf: tensor<64x64xf32>):
        %r = attn.linear %x, %wf : tensor<?x?x64xf32>, tensor<64x64xf32> -> tensor<?x?x64xf32>
        attn.yield %r : tensor<?x?x64xf32>
      } g {
      ^bb0(%x: tensor<?x?x64xf32>, %wg: tensor<64x64xf32>):
        %r = attn.gelu %x : tensor<?x?x64xf32>
        attn.yield %r : tensor<?x?x64xf32>
      }
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x1, Attn_FloatTensor:$x2,
                       Variadic<Attn_AnyTensor>:$captures);
  let results = (outs Attn_FloatTensor:$y1, Attn_FloatTensor:$y2);
  let regions = (region SizedRegion<1>:$f, SizedRegion<1>:$g);
  let assemblyFormat = [{
    $x1 `,` $x2 (`captures` `(` $captures^ `:` type($captures) `)`)?
    attr-dict `:` type($x1) `,` type($x2) `->` type($y1) `,` type($y2)
    `f` $f `g` $g
  }];
  let hasRegionVerifier = 1;
}

def Attn_YieldOp : Attn_Op<"yield", [Pure, Terminator, ReturnLike,
    ParentOneOf<["AttendOp", "AttendGradOp", "ReversibleBlockOp"]>]> {
  let summary = "yields the value of an attend or reversible_block region";
  let description = [{
    Terminates a `mask`, `score`, `score_grad`, `f` or `g` region with the single value
    it computes.

    Example:

    ```mlir
    attn.yield %m : i1
    ```
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

//===----------------------------------------------------------------------===//
// Dense helpers: what a real layer needs around attention
//===----------------------------------------------------------------------===//

def Attn_LinearOp : Attn_Op<"linear", [Pure]> {
  let summary = "x[..., M] · w[M, N] (+ bias[N])";
  let description = [{
    Example:

    ```mlir
    %y = attn.linear %x, %w, %b : tensor<?x?x512xf32>, tensor<512x256xf32>, tensor<256xf32>
        -> tensor<?x?x256xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x, Attn_FloatTensor:$w,
                       Optional<Attn_FloatTensor>:$bias);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` $w (`,` $bias^)? attr-dict `:` type($x) `,` type($w)
    (`,` type($bias)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_LayerNormOp : Attn_Op<"layer_norm", [Pure]> {
  let summary = "layer normalisation over the last dimension";
  let description = [{
    (x − mean) / sqrt(var + eps), then · gamma + beta when both are given
    (each of shape [N] for x[..., N]).

    Example:

    ```mlir
    %y = attn.layer_norm %x, %g, %b {eps = 1.0e-05 : f32}
        : tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x, Variadic<Attn_FloatTensor>:$affine,
                       DefaultValuedAttr<F32Attr, "1.0e-5f">:$eps);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $x (`,` $affine^)? attr-dict `:` type($x) (`,` type($affine)^)?
    `->` type($result)
  }];
  let hasVerifier = 1;
}

class Attn_UnaryOp<string mnemonic, string what>
    : Attn_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = what;
  let description = "Elementwise. Example: `%y = attn." # mnemonic #
                    " %x : tensor<?x?x64xf32>`";
  let arguments = (ins Attn_FloatTensor:$x);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x)";
}

def Attn_GeluOp : Attn_UnaryOp<"gelu", "GELU, tanh approximation">;
def Attn_ReluOp : Attn_UnaryOp<"relu", "max(x, 0)">;

class Attn_BinaryOp<string mnemonic, string what>
    : Attn_Op<mnemonic, [Pure]> {
  let summary = what;
  let description = [{
    Elementwise with trailing-dimension broadcasting: the shorter operand's
    dimensions must match the longer one's trailing dimensions.

    Example: `%z = attn.}] # mnemonic # [{ %x, %y : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>`
  }];
  let arguments = (ins Attn_FloatTensor:$lhs, Attn_FloatTensor:$rhs);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::mlir::LogicalResult $cppClass::verify() {
      return verifyBroadcast(*this, getLhs(), getRhs(), getResult());
    }
  }];
}

def Attn_AddOp : Attn_BinaryOp<"add", "elementwise sum with broadcasting">;
def Attn_SubOp : Attn_BinaryOp<"sub", "elementwise difference with broadcasting">;
def Attn_MulOp : Attn_BinaryOp<"mul", "elementwise product with broadcasting">;

//===----------------------------------------------------------------------===//
// Gradients of the dense helpers (written by attn-generate-backward)
//===----------------------------------------------------------------------===//

def Attn_NegOp : Attn_UnaryOp<"neg", "−x (the gradient of a subtrahend)">;
def Attn_ZerosLikeOp : Attn_UnaryOp<"zeros_like",
    "zeros of x's type (the gradient of an input used only piecewise-constantly, such as LSH rotations)">;

class Attn_ActivationGradOp<string mnemonic, string what>
    : Attn_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = what;
  let description = "Elementwise dy · f'(x). Example: `%dx = attn." #
                    mnemonic # " %x, %dy : tensor<?x?x64xf32>`";
  let arguments = (ins Attn_FloatTensor:$x, Attn_FloatTensor:$dy);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = "$x `,` $dy attr-dict `:` type($x)";
}

def Attn_GeluGradOp : Attn_ActivationGradOp<"gelu_grad",
    "gradient of gelu (tanh approximation) at x, times dy">;
def Attn_ReluGradOp : Attn_ActivationGradOp<"relu_grad",
    "dy where x > 0, else 0">;

def Attn_SumToOp : Attn_Op<"sum_to", [Pure]> {
  let summary = "sums the leading dimensions away: the gradient of a broadcast";
  let description = [{
    The result's dimensions are x's trailing ones; every leading dimension
    of x is summed over. It undoes the trailing-dimension broadcasting of
    `attn.add`, `attn.sub` and `attn.mul` (and gives bias gradients).

    Example:

    ```mlir
    %db = attn.sum_to %dy : tensor<?x?x256xf32> -> tensor<256xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_LinearInputGradOp : Attn_Op<"linear_input_grad", [Pure]> {
  let summary = "dy[..., N] · wᵀ (w[M, N]): the gradient of linear's input";
  let description = [{
    Example:

    ```mlir
    %dx = attn.linear_input_grad %dy, %w : tensor<?x?x256xf32>, tensor<512x256xf32>
        -> tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$dy, Attn_FloatTensor:$w);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $dy `,` $w attr-dict `:` type($dy) `,` type($w) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_LinearWeightGradOp : Attn_Op<"linear_weight_grad", [Pure]> {
  let summary = "Σ over rows of xᵀ · dy: the gradient of linear's weight";
  let description = [{
    x[..., M] and dy[..., N] with the same leading dimensions; the result
    is [M, N].

    Example:

    ```mlir
    %dw = attn.linear_weight_grad %x, %dy : tensor<?x?x512xf32>, tensor<?x?x256xf32>
        -> tensor<512x256xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x, Attn_FloatTensor:$dy);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` $dy attr-dict `:` type($x) `,` type($dy) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_LayerNormGradOp : Attn_Op<"layer_norm_grad", [Pure]> {
  let summary = "the gradient of layer_norm's input";
  let description = [{
    With x̂ = (x − mean)/σ, σ = sqrt(var + eps) over the last dimension and
    g = dy · gamma (or dy without gamma):
    dx = (g − mean(g) − x̂ · mean(g · x̂)) / σ.

    Example:

    ```mlir
    %dx = attn.layer_norm_grad %x, %dy, %g {eps = 1.0e-05 : f32}
        : tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x, Attn_FloatTensor:$dy,
                       Optional<Attn_FloatTensor>:$gamma,
                       DefaultValuedAttr<F32Attr, "1.0e-5f">:$eps);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = [{
    $x `,` $dy (`,` $gamma^)? attr-dict `:` type($x) `,` type($dy)
    (`,` type($gamma)^)? `->` type($result)
  }];
  let hasVerifier = 1;
}

def Attn_SplitHeadsOp : Attn_Op<"split_heads", [Pure]> {
  let summary = "[B, L, H·D] -> [B, H, L, D]";
  let description = [{
    `heads` is an `index` value: a constant, or a dimension read from a
    kernel parameter at run time.

    Example:

    ```mlir
    %c8 = arith.constant 8 : index
    %y = attn.split_heads %x, %c8 : tensor<?x?x512xf32> -> tensor<?x8x?x64xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x, Index:$heads);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = "$x `,` $heads attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
}

def Attn_MergeHeadsOp : Attn_Op<"merge_heads", [Pure]> {
  let summary = "[B, H, L, D] -> [B, L, H·D]";
  let description = [{
    Example:

    ```mlir
    %y = attn.merge_heads %x : tensor<?x8x?x64xf32> -> tensor<?x?x512xf32>
    ```
  }];
  let arguments = (ins Attn_FloatTensor:$x);
  let results = (outs Attn_FloatTensor:$result);
  let assemblyFormat = "$x attr-dict `:` type($x) `->` type($result)";
  let hasVerifier = 1;
}

#endif // ATTN_OPS_TD
