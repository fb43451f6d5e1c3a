//===- KernelBuilder.h - internal: one func.func as one Halide pipeline ---===//
#ifndef ATTNC_CODEGEN_LIB_KERNELBUILDER_H
#define ATTNC_CODEGEN_LIB_KERNELBUILDER_H

#include "HalideKernel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace attnc {
namespace codegen {

/// One argument of the generated C function, as declared in the source.
struct ArgInfo {
  std::string name;
  std::string dtype; // f32, f16, bf16, i32
  std::vector<std::string> dims; // outermost first, as written
  bool isOutput = false;
};

struct BuiltKernel {
  std::string name;
  std::vector<ArgInfo> args; // inputs in order, then outputs
  Halide::Pipeline pipeline;
  std::vector<Halide::Argument> inputs;
};

/// Builds the Halide pipeline of one kernel; emits an error on the first op
/// codegen does not support.
mlir::FailureOr<BuiltKernel> buildKernel(mlir::func::FuncOp fn);

} // namespace codegen
} // namespace attnc

#endif
