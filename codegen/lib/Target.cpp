//===- Target.cpp - the Halide target of this CPU, from CPUID -------------===//
#include "attnc/Codegen/Codegen.h"

using namespace attnc;

std::string attnc::hostTarget() {
  std::string t = "x86-64-linux";
  __builtin_cpu_init();
  // Spelled out one by one: Halide 14's `host` adds avx512_sapphirerapids on
  // Zen 4, which lacks some of its instructions (DESIGN.md).
  if (__builtin_cpu_supports("sse4.1"))
    t += "-sse41";
  if (__builtin_cpu_supports("avx"))
    t += "-avx";
  if (__builtin_cpu_supports("f16c") || __builtin_cpu_supports("avx2"))
    t += "-f16c";
  if (__builtin_cpu_supports("fma"))
    t += "-fma";
  if (__builtin_cpu_supports("avx2"))
    t += "-avx2";
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd"))
    t += "-avx512";
  if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    t += "-avx512_skylake";
  return t;
}
