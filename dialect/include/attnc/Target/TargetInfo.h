//===- TargetInfo.h - what the code is compiled for, as data --------------===//
//
// One TargetInfo per variant, built once by the driver from `--target` and
// carried in the IR as `#attn.target<"...">`; passes and codegen read it and
// never the compiling machine's CPUID (tests pin their target and pass on
// every host). A comma-separated list is several variants of one library,
// best first after sorting, chosen at run time by the runtime.
//
//   x86-64                  SSE2 only (Halide's baseline)
//   x86-64-v2               + SSE4.1 (the x86-64 psABI level)
//   x86-64-v3               + AVX, F16C, FMA, AVX2
//   x86-64-v4               + AVX-512 F/CD/BW/DQ/VL
//   LEVEL+feat+feat         a level plus single features, e.g.
//                           x86-64-v2+avx+avx2+fma+f16c
//   cuda, cuda:sm_80, cuda:sm_90   (slot for the CUDA backend)
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TARGET_TARGETINFO_H
#define ATTNC_TARGET_TARGETINFO_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace attnc {

/// x86 features codegen can use; the bit order is also the runtime ABI's
/// (runtime_abi.h ATTN_CPU_*), which tests check against the host's CPUID.
enum class CpuFeature : uint32_t {
  SSE41 = 1u << 0,
  AVX = 1u << 1,
  F16C = 1u << 2,
  FMA = 1u << 3,
  AVX2 = 1u << 4,
  AVX512 = 1u << 5,        // F + CD
  AVX512Skylake = 1u << 6, // + BW, DQ, VL
  AVX512BF16 = 1u << 7,    // vdpbf16ps, vcvtneps2bf16 (Zen 4, Zen 5, SPR)
};

class TargetInfo {
public:
  enum class Arch { X86_64, CUDA };

  /// Parses one variant; on failure returns nothing and sets `error` to a
  /// sentence saying what is wrong ("unknown feature 'avx3' in ...").
  static std::optional<TargetInfo> parse(const std::string &spec,
                                         std::string &error);
  /// Parses a comma-separated list, drops duplicates and orders it best
  /// first (the order the runtime tries them in).
  static std::optional<std::vector<TargetInfo>>
  parseList(const std::string &specs, std::string &error);
  /// The CPU features as a target (never `host`: that is resolved first).
  static TargetInfo fromCpuFeatures(uint32_t features);

  Arch arch() const { return arch_; }
  bool isCpu() const { return arch_ == Arch::X86_64; }
  uint32_t features() const { return features_; }
  bool has(CpuFeature f) const { return features_ & uint32_t(f); }
  int cudaSm() const { return sm_; }

  /// Canonical spelling: the highest level contained, then `+feature`s.
  std::string name() const;
  /// f32 lanes of the widest vector register.
  int f32Lanes() const;
  /// Architectural vector registers (16, or 32 with AVX-512).
  int vectorRegisters() const;
  /// Halide's target string, features spelled out one by one (Halide 14's
  /// `host` adds avx512_sapphirerapids on Zen 4, which lacks some of it).
  std::string halideTarget() const;
  /// The Halide runtime shared by several variants runs on all of them:
  /// build it for the features they have in common.
  static TargetInfo common(const std::vector<TargetInfo> &variants);

  bool operator==(const TargetInfo &o) const {
    return arch_ == o.arch_ && features_ == o.features_ && sm_ == o.sm_;
  }

private:
  Arch arch_ = Arch::X86_64;
  uint32_t features_ = 0;
  int sm_ = 0;
};

} // namespace attnc

#endif
