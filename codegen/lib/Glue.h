//===- Glue.h - internal: the C entry points, emitted as an object --------===//
//
// Each kernel's C function (`int NAME(const attn_tensor *, ...)`) is a few
// instructions: it hands a constant attn_kernel_spec and its tensors to the
// runtime's attn_invoke(), which checks them and picks a variant. attnc
// emits these as LLVM IR compiled in-process (no C compiler, no include
// paths), for the baseline x86-64 so they run on every CPU. A constructor
// registers each spec for attn_selected_target().
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_GLUE_H
#define ATTNC_CODEGEN_LIB_GLUE_H

#include <cstdint>
#include <string>
#include <vector>

namespace attnc {
namespace codegen {

/// Mirrors runtime_abi.h's attn_arg_spec / attn_variant / attn_kernel_spec.
struct GlueArg {
  std::string name;
  int32_t dtype = 0; // attn_dtype
  bool isOutput = false;
  int32_t values = 0; // ATTN_VALUES_* or a bound (runtime_abi.h)
  /// Per dimension: symbol number (>= 0), ATTN_DIM_LITERAL (-1) with its
  /// value, or ATTN_DIM_DERIVED (-2) with its index in GlueKernel::derived
  /// (-1: not checked).
  std::vector<std::pair<int32_t, int64_t>> dims;
};

struct GlueVariant {
  std::string target;   // canonical name
  uint64_t cpuFeatures; // ATTN_CPU_* bits
  std::string entry;    // Halide's argv entry point
};

/// Mirrors attn_derived_dim: E/H as the postfix program E H /, each op an
/// ATTN_DERIVED_* code and its operand.
struct GlueDerived {
  std::string text;
  std::vector<std::pair<int32_t, int64_t>> ops;
};

struct GlueKernel {
  std::string name;
  std::vector<GlueArg> args;
  std::vector<std::string> symbols;
  std::vector<GlueDerived> derived;
  std::vector<GlueVariant> variants; // best first
};

/// Writes an x86-64 ELF object with every kernel's entry point; returns an
/// error message, empty on success.
std::string emitGlueObject(const std::vector<GlueKernel> &kernels,
                           const std::string &moduleName,
                           const std::string &path);

} // namespace codegen
} // namespace attnc

#endif
