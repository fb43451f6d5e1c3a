//===- AttnDialect.td - the attn dialect -------------------*- tablegen -*-===//
//
// The `attn` dialect: attention variants as ops on ranked tensors with value
// semantics. Layout is [B, H, L, D] with D innermost throughout.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_TD
#define ATTN_DIALECT_TD

include "mlir/IR/OpBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::attnc::attn";
  let summary = "Structured attention: LSH, windows, masks, reversible blocks";
  let description = [{
    The `attn` dialect describes attention variants structurally, so that
    lowering passes can see the structure (bands, causal masks, block
    layouts, hash buckets) and generate fused kernels that never build an
    L x L score matrix. Tensors are ranked; a `?` dimension is bound when the
    generated kernel is called.

    Regions of `attn.attend` and `attn.reversible_block` are isolated from
    above: every tensor a region reads is passed as a `captures` operand and
    appears as a trailing block argument.
  }];
  // #attn.target, #attn.mask and #attn.schedule (AttnAttrs.td); the
  // discardable attributes attn.target/attn.mask/attn.schedule are checked
  // by verifyOperationAttribute.
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::func::FuncDialect"
  ];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

// Element types the language admits. f32 is what the kernels compute in.
def Attn_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
def Attn_IntTensor : RankedTensorOf<[I32]>;
def Attn_AnyTensor : RankedTensorOf<[F32, F16, BF16, I32]>;

#endif // ATTN_DIALECT_TD
