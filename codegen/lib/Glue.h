//===- Glue.h - internal: the C entry points, emitted as an object --------===//
//
// Each kernel's C function (`int NAME(const attn_tensor *, ...)`) is a few
// instructions: it hands a constant attn_kernel_spec and its tensors to the
// runtime's attn_invoke(), which checks them and picks a variant. attnc
// emits these as LLVM IR compiled in-process (no C compiler, no include
// paths), for the baseline x86-64 so they run on every CPU. A constructor
// registers each spec for attn_selected_target(). A CUDA variant carries
// its PTX and launch shape (attn_cuda_kernel) for the runtime to launch.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_GLUE_H
#define ATTNC_CODEGEN_LIB_GLUE_H

#include <cstdint>
#include <optional>
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

/// Mirrors attn_cuda_kernel: a CUDA kernel's PTX and launch shape
/// (runtime_abi.h says what each field means to the runtime).
struct GlueCuda {
  std::string ptx;      // PTX text, emitted NUL-terminated
  std::string function; // entry name in the PTX
  int32_t sm = 0;       // lowest compute capability, e.g. 80
  int32_t threads = 0;  // threads per block
  int32_t sharedBytes = 0;
  int32_t tileRows = 0;
  int32_t gridArg = 0;
  uint64_t denseArgs = 0; // bit a: argument a must be dense and aligned
  int32_t widthArgs[2] = {0, 0}; // q and v: whose innermost extents ...
  int32_t widths[2] = {0, 0};    // ... must be these (0: any)
  std::string cubin;             // the PTX assembled for sm; empty: none
};

struct GlueVariant {
  std::string target;   // canonical name
  uint64_t cpuFeatures; // ATTN_CPU_* bits
  std::string entry;    // Halide's argv entry point; empty (null) for CUDA
  std::optional<GlueCuda> cuda = std::nullopt; // set for CUDA variants
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
