//===- PtxCompiler.h - internal: gpu.module to PTX, in-process ------------===//
//
// gpu/nvgpu/vector/arith → NVVM and LLVM dialects (MLIR's conversions),
// → LLVM IR → LLVM 19's NVPTX backend at -O3. No ptxas and no CUDA
// toolkit at compile time: the driver JIT-compiles the PTX at first use.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_CUDA_PTXCOMPILER_H
#define ATTNC_CODEGEN_LIB_CUDA_PTXCOMPILER_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <string>

namespace attnc {
namespace codegen {

/// The PTX of `module` (whose kernels carry gpu.kernel) for compute
/// capability `sm` (80, 90). Errors are emitted on the module.
mlir::FailureOr<std::string> compileToPtx(mlir::gpu::GPUModuleOp module,
                                          int sm);

/// The dialects the CUDA backend builds with and lowers through, and
/// their translations to LLVM IR; call before building a gpu.module.
void loadCudaDialects(mlir::MLIRContext *ctx);

} // namespace codegen
} // namespace attnc

#endif
