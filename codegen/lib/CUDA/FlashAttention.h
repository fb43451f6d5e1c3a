//===- FlashAttention.h - internal: attend as a tensor-core CUDA kernel ---===//
//
// The CUDA backend's one algorithm: a FlashAttention-2 forward pass written
// as MLIR gpu/nvgpu IR (nvgpu.ldmatrix + nvgpu.mma.sync m16n8k16, f16/bf16
// in, f32 accumulation; online softmax in registers). Both attn.attend
// (mask and score regions inlined per score element, band masks bounding
// the key-tile loop, block masks skipping dead tiles) and
// attn.windowed_attend (a band plus dilation and global tokens) are this
// kernel with a different key-tile range and element predicate.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_CUDA_FLASHATTENTION_H
#define ATTNC_CODEGEN_LIB_CUDA_FLASHATTENTION_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>

namespace attnc {
namespace codegen {

/// How the runtime launches one generated kernel (runtime_abi.h's
/// attn_cuda_kernel, less the PTX).
struct CudaLaunch {
  std::string function; // the gpu.func's name
  int32_t threads = 0;
  int32_t sharedBytes = 0; // dynamic shared memory (0: all static)
  int32_t tileRows = 0;    // query rows per thread block
  int32_t gridArg = 0;     // the output argument
  uint64_t denseArgs = 0;  // arguments read or written with vector accesses
  int32_t qArg = 0, vArg = 0;         // whose innermost extents are ...
  int32_t headDim = 0, valueDim = 0;  // ... the widths compiled for
};

/// Head and value widths for a kernel declared with symbolic ones (0: the
/// declared static width).
struct Widths {
  int64_t head = 0, value = 0;
};

/// Builds `fn`'s kernel (its body: one attn.attend or attn.windowed_attend
/// on its parameters, returned) for `widths` as a gpu.func in a new
/// gpu.module appended to `container`. Errors are emitted on the op or the
/// function.
mlir::FailureOr<CudaLaunch> buildFlashKernel(mlir::func::FuncOp fn,
                                             mlir::ModuleOp container,
                                             Widths widths = {});

/// The widths to compile `fn` for: its declared ones, or for each symbolic
/// one the common head widths (a width shared by q and v once).
mlir::FailureOr<std::vector<Widths>> widthsToCompile(mlir::func::FuncOp fn);

} // namespace codegen
} // namespace attnc

#endif
