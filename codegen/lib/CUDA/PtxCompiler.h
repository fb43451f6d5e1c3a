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

/// `ptx` assembled by ptxas for sm_`sm` when a ptxas is found (the
/// environment variable ATTNC_PTXAS names one, or `off`; else the CUDA
/// toolkit's in /usr/local/cuda/bin, else PATH's): empty when there is
/// none. A ptxas that fails (too old for the PTX ISA) leaves `warning`
/// set and the result empty: the driver then JIT-compiles the PTX.
std::string assembleCubin(const std::string &ptx, int sm, std::string &warning);

/// The dialects the CUDA backend builds with and lowers through, and
/// their translations to LLVM IR; call before building a gpu.module.
void loadCudaDialects(mlir::MLIRContext *ctx);

} // namespace codegen
} // namespace attnc

#endif
