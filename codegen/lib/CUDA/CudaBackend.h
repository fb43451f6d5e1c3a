//===- CudaBackend.h - internal: one func.func as one CUDA kernel ---------===//
#ifndef ATTNC_CODEGEN_LIB_CUDA_CUDABACKEND_H
#define ATTNC_CODEGEN_LIB_CUDA_CUDABACKEND_H

#include "../KernelBuilder.h"

#include "llvm/Support/raw_ostream.h"

namespace attnc {
namespace codegen {

/// `fn` as a CUDA kernel for `target` (cuda:sm_XX): its arguments as the
/// runtime checks them, its launch shape, its PTX and (with `cubin`, when
/// ptxas is found) the PTX assembled.
mlir::FailureOr<BuiltKernel> buildCudaKernel(mlir::func::FuncOp fn,
                                             const TargetInfo &target,
                                             bool cubin = true);

/// The gpu/nvgpu IR of `fn`'s kernel before it is lowered (--emit=gpu).
mlir::LogicalResult printGpuModule(mlir::func::FuncOp fn, llvm::raw_ostream &os);

} // namespace codegen
} // namespace attnc

#endif
