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
  std::string outDir;  // DIR of DIR/<stem>.a, .h, .json
  std::string stem;    // file stem of the input
  std::string target;  // Halide target; empty = this CPU, from CPUID
  bool verbose = true; // progress and timing per kernel on stderr
};

/// Compiles every func.func of a lowered module to one Halide pipeline and
/// writes DIR/<stem>.a (kernels, Halide runtime, C wrappers),
/// DIR/<stem>.h and DIR/<stem>.json. Errors are emitted on the ops.
mlir::LogicalResult emitLibrary(mlir::ModuleOp module,
                                const CodegenOptions &options);

/// Prints Halide's lowered statement of every kernel.
mlir::LogicalResult emitHalideStmt(mlir::ModuleOp module,
                                   const CodegenOptions &options,
                                   llvm::raw_ostream &os);

/// The Halide target for this CPU, feature by feature from CPUID (never
/// Halide's `host`, which adds AVX-512 features AMD Zen 4 lacks).
std::string hostTarget();

} // namespace attnc

#endif
