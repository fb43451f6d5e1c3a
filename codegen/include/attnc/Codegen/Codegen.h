//===- Codegen.h - attn IR to Halide pipelines and a static library -------===//
//
// The interface the tools see. Halide.h stays inside codegen/lib.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_CODEGEN_H
#define ATTNC_CODEGEN_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace attnc {

struct CodegenOptions {
  std::string outDir;         // DIR of DIR/<stem>.a, .h, .json
  std::string stem;           // file stem of the input
  std::string halideFeatures; // extra Halide features, '-'-separated
  bool verbose = true;        // progress and timing per kernel on stderr
};

/// Compiles every func.func of the lowered modules — one per target
/// variant, each carrying its #attn.target, best variant first — to Halide
/// pipelines and writes DIR/<stem>.a (every variant, one Halide runtime,
/// entry points that dispatch at run time), DIR/<stem>.h and
/// DIR/<stem>.json. Errors are emitted on the ops; nothing is left behind
/// on failure.
mlir::LogicalResult emitLibrary(llvm::ArrayRef<mlir::ModuleOp> variants,
                                const CodegenOptions &options);

/// Prints Halide's lowered statement of every kernel of every variant.
mlir::LogicalResult emitHalideStmt(llvm::ArrayRef<mlir::ModuleOp> variants,
                                   const CodegenOptions &options,
                                   llvm::raw_ostream &os);

/// What --emit=gpu and --emit=ptx print for a CUDA target: every
/// kernel's gpu/nvgpu IR before lowering, or its PTX.
enum class CudaStage { Gpu, Ptx };
mlir::LogicalResult emitCudaStage(llvm::ArrayRef<mlir::ModuleOp> variants,
                                  CudaStage stage, llvm::raw_ostream &os);

} // namespace attnc

#endif
