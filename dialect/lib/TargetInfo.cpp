//===- TargetInfo.cpp - parsing and naming targets ------------------------===//
#include "attnc/Target/TargetInfo.h"

#include <algorithm>
#include <sstream>

using namespace attnc;

namespace {

struct FeatureName {
  CpuFeature feature;
  const char *name;   // as written in --target and printed
  const char *halide; // Halide 14's feature name; none: codegen decides
};

// In implication order: each one's requirements come before it.
const FeatureName kFeatures[] = {
    {CpuFeature::SSE41, "sse41", "sse41"},
    {CpuFeature::AVX, "avx", "avx"},
    {CpuFeature::F16C, "f16c", "f16c"},
    {CpuFeature::FMA, "fma", "fma"},
    {CpuFeature::AVX2, "avx2", "avx2"},
    {CpuFeature::AVX512, "avx512", "avx512"},
    {CpuFeature::AVX512Skylake, "avx512_skylake", "avx512_skylake"},
    // Halide 14 knows AVX512-BF16 only as part of avx512_sapphirerapids,
    // which also implies AVX512-FP16 and AMX (absent on AMD): codegen adds
    // it for the kernels that use bf16 dot products and compiles those
    // itself for exactly these features (codegen/lib/CPU/X86Object.h).
    {CpuFeature::AVX512BF16, "avx512_bf16", nullptr},
};

constexpr uint32_t bit(CpuFeature f) { return uint32_t(f); }

constexpr uint32_t kV2 = bit(CpuFeature::SSE41);
constexpr uint32_t kV3 = kV2 | bit(CpuFeature::AVX) | bit(CpuFeature::F16C) |
                         bit(CpuFeature::FMA) | bit(CpuFeature::AVX2);
constexpr uint32_t kV4 =
    kV3 | bit(CpuFeature::AVX512) | bit(CpuFeature::AVX512Skylake);

struct Level {
  const char *name;
  uint32_t features;
};
// Highest first: name() picks the first level contained in a feature set.
const Level kLevels[] = {{"x86-64-v4", kV4},
                         {"x86-64-v3", kV3},
                         {"x86-64-v2", kV2},
                         {"x86-64", 0}};

/// A feature implies the ones it is built on (AVX-512 code uses AVX2 and
/// FMA instructions too), so every feature set is closed upwards.
uint32_t closure(uint32_t f) {
  if (f & bit(CpuFeature::AVX512BF16))
    f |= bit(CpuFeature::AVX512Skylake);
  if (f & bit(CpuFeature::AVX512Skylake))
    f |= bit(CpuFeature::AVX512);
  if (f & bit(CpuFeature::AVX512))
    f |= bit(CpuFeature::AVX2) | bit(CpuFeature::FMA) | bit(CpuFeature::F16C);
  if (f & (bit(CpuFeature::AVX2) | bit(CpuFeature::FMA) |
           bit(CpuFeature::F16C)))
    f |= bit(CpuFeature::AVX);
  if (f & bit(CpuFeature::AVX))
    f |= bit(CpuFeature::SSE41);
  return f;
}

std::string trim(const std::string &s) {
  size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

} // namespace

std::optional<TargetInfo> TargetInfo::parse(const std::string &spec,
                                            std::string &error) {
  TargetInfo t;
  std::string s = trim(spec);
  if (s == "host") {
    error = "target 'host' must be resolved to this CPU's features by the "
            "driver; name a level such as x86-64-v3";
    return std::nullopt;
  }
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    t.arch_ = Arch::CUDA;
    t.sm_ = 80;
    if (s.size() > 5) {
      std::string sm = s.substr(5);
      if (sm != "sm_80" && sm != "sm_90") {
        error = "unknown CUDA architecture '" + sm + "' in target '" + s +
                "'; expected sm_80 or sm_90";
        return std::nullopt;
      }
      t.sm_ = sm == "sm_80" ? 80 : 90;
    }
    return t;
  }
  // LEVEL[+feature...]
  std::vector<std::string> parts;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, '+');)
    parts.push_back(trim(part));
  if (parts.empty() || parts[0].empty()) {
    error = "empty target";
    return std::nullopt;
  }
  const Level *level = nullptr;
  for (const Level &l : kLevels)
    if (parts[0] == l.name)
      level = &l;
  if (!level) {
    error = "unknown target '" + parts[0] +
            "'; expected host, x86-64, x86-64-v2, x86-64-v3, x86-64-v4 or "
            "cuda[:sm_80|sm_90], optionally followed by +feature";
    return std::nullopt;
  }
  uint32_t features = level->features;
  for (size_t k = 1; k < parts.size(); ++k) {
    auto it = std::find_if(std::begin(kFeatures), std::end(kFeatures),
                           [&](const FeatureName &f) { return parts[k] == f.name; });
    if (it == std::end(kFeatures)) {
      std::string known;
      for (const FeatureName &f : kFeatures)
        known += std::string(known.empty() ? "" : ", ") + f.name;
      error = "unknown feature '" + parts[k] + "' in target '" + s +
              "'; known features: " + known;
      return std::nullopt;
    }
    features |= bit(it->feature);
  }
  t.features_ = closure(features);
  return t;
}

std::optional<std::vector<TargetInfo>>
TargetInfo::parseList(const std::string &specs, std::string &error) {
  std::vector<TargetInfo> out;
  std::stringstream ss(specs);
  for (std::string one; std::getline(ss, one, ',');) {
    auto t = parse(one, error);
    if (!t)
      return std::nullopt;
    if (std::find(out.begin(), out.end(), *t) == out.end())
      out.push_back(*t);
  }
  if (out.empty()) {
    error = "empty target list";
    return std::nullopt;
  }
  bool cuda = std::any_of(out.begin(), out.end(),
                          [](const TargetInfo &t) { return !t.isCpu(); });
  if (cuda && out.size() > 1) {
    error = "a CUDA target cannot share a library with other variants";
    return std::nullopt;
  }
  // Best first: a superset of features sorts before its subsets; among
  // unrelated sets, more features first (ties keep the written order).
  std::stable_sort(out.begin(), out.end(),
                   [](const TargetInfo &a, const TargetInfo &b) {
                     return __builtin_popcount(a.features_) >
                            __builtin_popcount(b.features_);
                   });
  return out;
}

TargetInfo TargetInfo::fromCpuFeatures(uint32_t features) {
  TargetInfo t;
  t.features_ = closure(features);
  return t;
}

std::string TargetInfo::name() const {
  if (arch_ == Arch::CUDA)
    return "cuda:sm_" + std::to_string(sm_);
  for (const Level &l : kLevels) {
    if ((features_ & l.features) != l.features)
      continue;
    std::string n = l.name;
    for (const FeatureName &f : kFeatures)
      if ((features_ & bit(f.feature)) && !(l.features & bit(f.feature)))
        n += std::string("+") + f.name;
    return n;
  }
  return "x86-64";
}

int TargetInfo::f32Lanes() const {
  if (has(CpuFeature::AVX512))
    return 16;
  if (has(CpuFeature::AVX))
    return 8;
  return 4;
}

int TargetInfo::vectorRegisters() const {
  return has(CpuFeature::AVX512) ? 32 : 16;
}

std::string TargetInfo::halideTarget() const {
  std::string t = "x86-64-linux";
  for (const FeatureName &f : kFeatures)
    if (has(f.feature) && f.halide)
      t += std::string("-") + f.halide;
  return t;
}

TargetInfo TargetInfo::common(const std::vector<TargetInfo> &variants) {
  TargetInfo t;
  t.features_ = variants.empty() ? 0 : ~0u;
  for (const TargetInfo &v : variants)
    t.features_ &= v.features_;
  // Sets closed under implication stay closed when intersected.
  return t;
}
