//===- X86Object.h - internal: Halide bitcode to an x86 object by LLVM 19 -===//
//
// Halide 14 reaches AVX512-BF16 (vdpbf16ps, vcvtneps2bf16) only through its
// feature avx512_sapphirerapids, which also makes LLVM 14 compile for the
// CPU "sapphirerapids": its AVX512-FP16 instructions (vmovw for a 16-bit
// scalar load, seen in a bf16 gather) are illegal on AMD Zen 4 and Zen 5,
// which have AVX512-BF16 but no FP16. Such kernels are emitted as LLVM
// bitcode instead and compiled here by LLVM 19's x86 backend for the CPU
// x86-64-v4 plus exactly the features the variant names, with the
// floating-point options Halide gives its own target machine.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_CPU_X86OBJECT_H
#define ATTNC_CODEGEN_LIB_CPU_X86OBJECT_H

#include <string>

namespace attnc {
namespace codegen {

/// LLVM's feature string for an AVX-512 variant that also has AVX512-BF16
/// (the CPU x86-64-v4 brings F, CD, BW, DQ and VL).
constexpr const char *kX86Bf16Features = "+avx512bf16";

/// Registers LLVM 19's x86 backend (once per process): for these objects
/// and for the entry points (Glue.cpp).
void initializeX86Backend();

/// Compiles the bitcode file `bitcode` to the ELF object `object` for the
/// CPU x86-64-v4 with `features`. Returns an empty string, or what failed.
std::string compileX86Bitcode(const std::string &bitcode,
                              const std::string &object,
                              const std::string &features);

} // namespace codegen
} // namespace attnc

#endif
