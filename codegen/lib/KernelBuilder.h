//===- KernelBuilder.h - internal: one func.func as one Halide pipeline ---===//
#ifndef ATTNC_CODEGEN_LIB_KERNELBUILDER_H
#define ATTNC_CODEGEN_LIB_KERNELBUILDER_H

#include "Glue.h"
#include "HalideKernel.h"
#include "attnc/Target/TargetInfo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <optional>

namespace attnc {
namespace codegen {

/// One argument of the generated C function, as declared in the source.
struct ArgInfo {
  std::string name;
  std::string dtype; // f32, f16, bf16, i32
  std::vector<std::string> dims; // outermost first, as written
  bool isOutput = false;
  /// What the values of an i32 input must be, checked by the runtime
  /// before the call: ATTN_VALUES_ANY (0), ATTN_VALUES_PERMUTATION (-1) or a
  /// positive bound (runtime_abi.h).
  int32_t values = 0;
};

struct BuiltKernel {
  std::string name;
  mlir::Location loc; // the kernel's definition, for errors
  std::vector<ArgInfo> args; // inputs in order, then outputs
  /// Derived dimensions that must divide exactly (the func's attn.exact:
  /// split_heads widths, E/H), checked by the runtime before each call.
  std::vector<std::string> exact;
  Halide::Pipeline pipeline; // CPU targets
  std::vector<Halide::Argument> inputs;
  /// An op's schedule takes bf16 dot products (AVX512-BF16): Halide needs
  /// its avx512_sapphirerapids to emit them, and the object is compiled by
  /// LLVM 19 for exactly the variant's features (CPU/X86Object.h).
  bool bf16Dot = false;
  /// CUDA targets, instead of the pipeline: one kernel (its PTX and launch
  /// shape, as the entry point carries it) per head/value width compiled
  /// for (one when the program declares them).
  std::vector<GlueCuda> cuda;
};

/// Builds the Halide pipeline of one kernel for `target`: each op's
/// algorithm (Algorithms.h), scheduled by the target's backend from the
/// op's #attn.schedule. Emits an error on the first op codegen does not
/// support.
/// The symbol of Halide's entry point for `kernel`'s variant number
/// `variant` (its argv form adds `_argv`).
std::string halideEntry(const std::string &kernel, size_t variant);

/// The kernel's name and arguments as the runtime checks them (no
/// pipeline): what every backend's entry point needs.
mlir::FailureOr<BuiltKernel> describeKernel(mlir::func::FuncOp fn);

mlir::FailureOr<BuiltKernel> buildKernel(mlir::func::FuncOp fn,
                                         const TargetInfo &target);

} // namespace codegen
} // namespace attnc

#endif
