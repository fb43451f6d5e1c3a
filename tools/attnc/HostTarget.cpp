//===- HostTarget.cpp - this CPU as a target ------------------------------===//
#include "HostTarget.h"

#include <cstdlib>

using namespace attnc;

std::optional<TargetInfo> attnc::hostTarget(std::string &error) {
  if (const char *env = std::getenv("ATTNC_HOST_TARGET")) {
    auto t = TargetInfo::parse(env, error);
    if (!t)
      error = "ATTNC_HOST_TARGET: " + error;
    return t;
  }
  __builtin_cpu_init();
  uint32_t f = 0;
  // Spelled out one by one (Halide 14's `host` adds avx512_sapphirerapids
  // on Zen 4, which lacks some of it). The cpu model reports AVX and
  // AVX-512 only where the OS saves their registers.
  if (__builtin_cpu_supports("sse4.1"))
    f |= uint32_t(CpuFeature::SSE41);
  if (__builtin_cpu_supports("avx"))
    f |= uint32_t(CpuFeature::AVX);
  if (__builtin_cpu_supports("f16c"))
    f |= uint32_t(CpuFeature::F16C);
  if (__builtin_cpu_supports("fma"))
    f |= uint32_t(CpuFeature::FMA);
  if (__builtin_cpu_supports("avx2"))
    f |= uint32_t(CpuFeature::AVX2);
  bool avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd");
  if (avx512)
    f |= uint32_t(CpuFeature::AVX512);
  if (avx512 && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    f |= uint32_t(CpuFeature::AVX512Skylake);
  if ((f & uint32_t(CpuFeature::AVX512Skylake)) &&
      __builtin_cpu_supports("avx512bf16"))
    f |= uint32_t(CpuFeature::AVX512BF16);
  return TargetInfo::fromCpuFeatures(f);
}
