//===- GpuBench.cpp - attnc's CUDA kernels: checked, then timed -----------===//
//
//   attnc-gpu-bench [--lengths 4096,16384] [--dims 64,128]
//                   [--kinds full,causal,window] [--iters N] [--check-only]
//                   [--seed S]
//
// For B = 4, H = 16 and every (L, D, kind) asked for, runs the bf16 kernel of
// bench/gpu/kernels.attn (built with attnc --target=cuda:sm_80) once on
// device tensors, compares a sample of its output rows against a plain
// double-precision reference computed here from the same bf16 inputs, then
// times it. One table row per configuration:
//
//   kind, L, D, ms per call, TFLOP/s, max |error| over the sampled rows, PASS/FAIL
//
// FLOPs per call (two matmuls, 2 FLOPs per multiply-add, softmax not counted):
//   full    4·B·H·L·L·D
//   causal  2·B·H·L·L·D            (the nominal half)
//   window  4·B·H·D·P              P = number of (query, key) pairs in the
//                                  window i-128 <= j <= i+127 clipped to
//                                  [0, L), i.e. L·256 less the edges
//
// Exit status: 0 when every check passed; 1 when a check failed or an attnc
// call returned an error (its attn_last_error() is printed); 2 when
// attn_cuda_available() fails (no driver or no usable device); 64 on a bad
// command line. Self-contained on purpose: no dependency but glibc and the
// NVIDIA driver, which the runtime loads with dlopen.
//
//===----------------------------------------------------------------------===//
#include "kernels.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int64_t kB = 4, kH = 16;
constexpr int64_t kWindowLeft = 128, kWindowRight = 127; // kernels.attn
constexpr double kTolerance = 2e-2;
constexpr double kTargetSeconds = 0.5; // timed part of one configuration
constexpr int kWarmups = 2;
constexpr int kMinIters = 3;
constexpr int kSampleRows = 32; // query rows checked per (b, h) pair
constexpr int kCheckedHeads = 3; // (b, h) pairs checked
static_assert(kB >= 3 && kH >= 3, "the checked (b, h) pairs must differ");

using Clock = std::chrono::steady_clock;

//===-- bf16 ----------------------------------------------------------------===//

/// float -> bf16, rounding to nearest, ties to even; NaN stays a (quiet) NaN.
uint16_t toBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x0040u);
  uint32_t lsb = (u >> 16) & 1u;
  u += 0x7fffu + lsb;
  return uint16_t(u >> 16);
}

/// bf16 -> float (exact).
float fromBf16(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

constexpr uint16_t kBf16NaN = 0xffffu; // poison for the output before a check

//===-- Seeded normal numbers, counter-based (the same for any thread count) ===//

uint64_t mix64(uint64_t x) { // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// Fills `out` (n elements) with bf16 N(0, 1) samples: Box-Muller on two
/// uniforms hashed from (seed, stream, pair index).
void fillNormal(std::vector<uint16_t> &out, uint64_t seed, uint64_t stream) {
  const size_t n = out.size();
  const size_t pairs = (n + 1) / 2;
  const uint64_t key = mix64(seed ^ mix64(stream + 0x1234567ull));
  unsigned threads = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
  auto work = [&](size_t from, size_t to) {
    const double twoPi = 6.283185307179586476925286766559;
    for (size_t p = from; p < to; ++p) {
      uint64_t a = mix64(key + 2 * uint64_t(p)), b = mix64(key + 2 * uint64_t(p) + 1);
      double u1 = (double(a >> 11) + 0.5) * 0x1.0p-53; // (0, 1)
      double u2 = double(b >> 11) * 0x1.0p-53;         // [0, 1)
      double r = std::sqrt(-2.0 * std::log(u1));
      out[2 * p] = toBf16(float(r * std::cos(twoPi * u2)));
      if (2 * p + 1 < n)
        out[2 * p + 1] = toBf16(float(r * std::sin(twoPi * u2)));
    }
  };
  std::vector<std::thread> pool;
  size_t chunk = (pairs + threads - 1) / threads;
  for (unsigned t = 0; t < threads; ++t) {
    size_t from = std::min(pairs, size_t(t) * chunk), to = std::min(pairs, from + chunk);
    if (from < to)
      pool.emplace_back(work, from, to);
  }
  for (std::thread &t : pool)
    t.join();
}

//===-- Errors --------------------------------------------------------------===//

/// Any nonzero status from the runtime or a kernel ends the run.
void check(int status, const char *what) {
  if (status == 0)
    return;
  std::fflush(stdout);
  std::fprintf(stderr, "attnc-gpu-bench: %s failed with status %d: %s\n", what,
               status, attn_last_error());
  std::exit(1);
}

//===-- Configurations ------------------------------------------------------===//

enum class Kind { Full, Causal, Window };

const char *kindName(Kind k) {
  return k == Kind::Full ? "full" : k == Kind::Causal ? "causal" : "window";
}

using KernelFn = int (*)(const attn_tensor *, const attn_tensor *,
                         const attn_tensor *, attn_tensor *);

struct KernelEntry {
  Kind kind;
  int64_t d;
  const char *name;
  KernelFn fn;
};

const KernelEntry kKernels[] = {
    {Kind::Full, 64, "full_d64", full_d64},
    {Kind::Causal, 64, "causal_d64", causal_d64},
    {Kind::Window, 64, "window_d64", window_d64},
    {Kind::Full, 128, "full_d128", full_d128},
    {Kind::Causal, 128, "causal_d128", causal_d128},
    {Kind::Window, 128, "window_d128", window_d128},
};

const KernelEntry *findKernel(Kind kind, int64_t d) {
  for (const KernelEntry &e : kKernels)
    if (e.kind == kind && e.d == d)
      return &e;
  return nullptr;
}

/// Keys query i attends to: [lo, hi] (inclusive).
void keyRange(Kind kind, int64_t L, int64_t i, int64_t &lo, int64_t &hi) {
  switch (kind) {
  case Kind::Full:
    lo = 0, hi = L - 1;
    break;
  case Kind::Causal:
    lo = 0, hi = i;
    break;
  case Kind::Window:
    lo = std::max<int64_t>(0, i - kWindowLeft);
    hi = std::min<int64_t>(L - 1, i + kWindowRight);
    break;
  }
}

double flopsPerCall(Kind kind, int64_t L, int64_t D) {
  const double bhd = double(kB) * double(kH) * double(D);
  switch (kind) {
  case Kind::Full:
    return 4.0 * bhd * double(L) * double(L);
  case Kind::Causal:
    return 2.0 * bhd * double(L) * double(L);
  case Kind::Window: {
    double pairs = 0;
    for (int64_t i = 0; i < L; ++i) {
      int64_t lo, hi;
      keyRange(Kind::Window, L, i, lo, hi);
      pairs += double(hi - lo + 1);
    }
    return 4.0 * bhd * pairs;
  }
  }
  return 0;
}

//===-- The reference: plain double-precision attention on the CPU ----------===//

/// out[i, :] for query row i of head (b, h), from the bf16 inputs laid out
/// densely as [B, H, L, D]: scores s_j = (q_i · k_j) / sqrt(D) over the keys
/// the kind allows, softmax over them, weighted sum of the v_j.
void referenceRow(Kind kind, int64_t L, int64_t D, const double *q,
                  const double *k, const double *v, int64_t i,
                  std::vector<double> &out) {
  int64_t lo, hi;
  keyRange(kind, L, i, lo, hi);
  const double scale = 1.0 / std::sqrt(double(D));
  const double *qi = q + i * D;
  std::vector<double> s(size_t(hi - lo + 1));
  double m = -INFINITY;
  for (int64_t j = lo; j <= hi; ++j) {
    const double *kj = k + j * D;
    double dot = 0;
    for (int64_t d = 0; d < D; ++d)
      dot += qi[d] * kj[d];
    s[size_t(j - lo)] = dot * scale;
    m = std::max(m, s[size_t(j - lo)]);
  }
  out.assign(size_t(D), 0.0);
  double sum = 0;
  for (int64_t j = lo; j <= hi; ++j) {
    double p = std::exp(s[size_t(j - lo)] - m);
    sum += p;
    const double *vj = v + j * D;
    for (int64_t d = 0; d < D; ++d)
      out[size_t(d)] += p * vj[d];
  }
  for (double &o : out)
    o /= sum;
}

/// The query rows checked for length L: the first and last ones, the window's
/// edges, the middle, then seeded random rows up to kSampleRows (all rows if
/// L is smaller), ascending.
std::vector<int64_t> sampleRows(int64_t L, uint64_t seed) {
  std::vector<int64_t> rows;
  auto add = [&](int64_t i) {
    if (i >= 0 && i < L && std::find(rows.begin(), rows.end(), i) == rows.end())
      rows.push_back(i);
  };
  for (int64_t i : {int64_t(0), int64_t(1), int64_t(2), L - 1, L - 2, L / 2,
                    kWindowLeft - 1, kWindowLeft, kWindowLeft + kWindowRight,
                    L - kWindowRight - 1, L - kWindowRight - 2})
    add(i);
  uint64_t state = mix64(seed ^ 0xabcdefull ^ uint64_t(L));
  while (int64_t(rows.size()) < std::min<int64_t>(L, kSampleRows)) {
    state = mix64(state);
    add(int64_t(state % uint64_t(L)));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

//===-- Command line --------------------------------------------------------===//

struct Options {
  std::vector<int64_t> lengths{4096, 16384};
  std::vector<int64_t> dims{64, 128};
  std::vector<Kind> kinds{Kind::Full, Kind::Causal, Kind::Window};
  int iters = 0; // 0: chosen from a timed call
  bool checkOnly = false;
  uint64_t seed = 2024;
};

[[noreturn]] void usage(const char *error) {
  if (error)
    std::fprintf(stderr, "attnc-gpu-bench: %s\n", error);
  std::fprintf(
      error ? stderr : stdout,
      "usage: attnc-gpu-bench [--lengths L,...] [--dims 64,128]\n"
      "                       [--kinds full,causal,window] [--iters N]\n"
      "                       [--check-only] [--seed S]\n"
      "  B = %lld, H = %lld; defaults: --lengths 4096,16384 --dims 64,128\n"
      "  --kinds full,causal,window; --iters: chosen so that each\n"
      "  configuration is timed for about %.1f s (at least %d calls).\n"
      "Exit: 0 all checks passed, 1 a check or a call failed, 2 no usable\n"
      "CUDA driver or device, 64 bad command line.\n",
      (long long)kB, (long long)kH, kTargetSeconds, kMinIters);
  std::exit(error ? 64 : 0);
}

std::vector<std::string> splitList(const std::string &s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos
                                                                  : comma - start);
    if (part.empty())
      usage(("empty item in list '" + s + "'").c_str());
    parts.push_back(part);
    if (comma == std::string::npos)
      return parts;
    start = comma + 1;
  }
}

int64_t parsePositive(const std::string &s, const char *flag) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || v <= 0)
    usage((std::string(flag) + ": '" + s + "' is not a positive integer").c_str());
  return int64_t(v);
}

Options parseOptions(int argc, char **argv) {
  Options o;
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a], value;
    auto eq = arg.find('=');
    bool inlineValue = arg.compare(0, 2, "--") == 0 && eq != std::string::npos;
    if (inlineValue) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    auto next = [&]() -> std::string {
      if (inlineValue)
        return value;
      if (a + 1 >= argc)
        usage((arg + " needs a value").c_str());
      return argv[++a];
    };
    if (arg == "--help" || arg == "-h") {
      usage(nullptr);
    } else if (arg == "--lengths") {
      o.lengths.clear();
      for (const std::string &s : splitList(next()))
        o.lengths.push_back(parsePositive(s, "--lengths"));
    } else if (arg == "--dims") {
      o.dims.clear();
      for (const std::string &s : splitList(next())) {
        int64_t d = parsePositive(s, "--dims");
        if (d != 64 && d != 128)
          usage(("--dims: " + s + ": kernels.attn has D = 64 and 128 only").c_str());
        o.dims.push_back(d);
      }
    } else if (arg == "--kinds") {
      o.kinds.clear();
      for (const std::string &s : splitList(next())) {
        if (s == "full")
          o.kinds.push_back(Kind::Full);
        else if (s == "causal")
          o.kinds.push_back(Kind::Causal);
        else if (s == "window")
          o.kinds.push_back(Kind::Window);
        else
          usage(("--kinds: '" + s + "' is not full, causal or window").c_str());
      }
    } else if (arg == "--iters") {
      int64_t n = parsePositive(next(), "--iters");
      if (n > 1000000)
        usage("--iters: at most 1000000");
      o.iters = int(n);
    } else if (arg == "--seed") {
      o.seed = uint64_t(parsePositive(next(), "--seed"));
    } else if (arg == "--check-only" && !inlineValue) {
      o.checkOnly = true;
    } else {
      usage(("unknown argument '" + std::string(argv[a]) + "'").c_str());
    }
  }
  return o;
}

//===-- The run ---------------------------------------------------------------===//

/// Device copies of q, k, v and the output, each large enough for the
/// largest configuration; a configuration uses the first B·H·L·D elements
/// of each as a dense [B, H, L, D] tensor (the host copies likewise).
struct Buffers {
  std::vector<uint16_t> q, k, v; // host bf16
  void *dq = nullptr, *dk = nullptr, *dv = nullptr, *dout = nullptr;
};

attn_tensor deviceTensor(void *data, int64_t L, int64_t D) {
  const int64_t shape[4] = {kB, kH, L, D};
  attn_tensor t = attn_make_tensor(data, ATTN_BF16, 4, shape);
  t.device = ATTN_CUDA;
  return t;
}

struct CheckResult {
  double maxErr = 0;
  bool pass = true;
};

/// Runs the kernel once on poisoned output and compares the sampled rows.
CheckResult checkConfig(const KernelEntry &ke, int64_t L, const Buffers &buf,
                        uint64_t seed) {
  const int64_t D = ke.d;
  const size_t slab = size_t(L) * size_t(D); // one (b, h): [L, D]
  // (0, 0), (B-1, H-1) and a seeded pair strictly in between.
  uint64_t r = mix64(seed ^ 0x5eedull ^ uint64_t(L * 1000 + D));
  const std::pair<int64_t, int64_t> heads[kCheckedHeads] = {
      {0, 0},
      {1 + int64_t(r % uint64_t(kB - 2)), 1 + int64_t((r >> 32) % uint64_t(kH - 2))},
      {kB - 1, kH - 1}};

  std::vector<uint16_t> poison(slab, kBf16NaN);
  for (auto [b, h] : heads)
    check(attn_cuda_memcpy_to_device(
              static_cast<char *>(buf.dout) + size_t(b * kH + h) * slab * 2,
              poison.data(), slab * 2),
          "attn_cuda_memcpy_to_device (output poison)");

  attn_tensor q = deviceTensor(buf.dq, L, D), k = deviceTensor(buf.dk, L, D),
              v = deviceTensor(buf.dv, L, D), out = deviceTensor(buf.dout, L, D);
  check(ke.fn(&q, &k, &v, &out), ke.name);
  check(attn_cuda_synchronize(), "attn_cuda_synchronize (after the checked call)");

  CheckResult result;
  const std::vector<int64_t> rows = sampleRows(L, seed);
  std::vector<uint16_t> got(slab);
  std::vector<double> qd(slab), kd(slab), vd(slab), ref;
  for (auto [b, h] : heads) {
    const size_t base = size_t(b * kH + h) * slab;
    check(attn_cuda_memcpy_to_host(got.data(),
                                   static_cast<const char *>(buf.dout) + base * 2,
                                   slab * 2),
          "attn_cuda_memcpy_to_host");
    for (size_t e = 0; e < slab; ++e) {
      qd[e] = fromBf16(buf.q[base + e]);
      kd[e] = fromBf16(buf.k[base + e]);
      vd[e] = fromBf16(buf.v[base + e]);
    }
    for (int64_t i : rows) {
      referenceRow(ke.kind, L, D, qd.data(), kd.data(), vd.data(), i, ref);
      for (int64_t d = 0; d < D; ++d) {
        double g = fromBf16(got[size_t(i * D + d)]);
        double err = std::fabs(g - ref[size_t(d)]);
        if (!(err <= kTolerance) && result.pass) { // NaN fails too
          result.pass = false;
          std::fprintf(stderr,
                       "attnc-gpu-bench: %s L=%lld: first mismatch at "
                       "[b=%lld, h=%lld, i=%lld, d=%lld]: got %.6g, want %.6g\n",
                       ke.name, (long long)L, (long long)b, (long long)h,
                       (long long)i, (long long)d, g, ref[size_t(d)]);
        }
        if (std::isnan(err))
          err = INFINITY;
        result.maxErr = std::max(result.maxErr, err);
      }
    }
  }
  return result;
}

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Seconds per call: kWarmups calls, one timed call to choose the count
/// (unless --iters), then that many back to back between two synchronizes.
double timeConfig(const KernelEntry &ke, int64_t L, const Buffers &buf,
                  int itersFlag, int &itersUsed) {
  attn_tensor q = deviceTensor(buf.dq, L, ke.d), k = deviceTensor(buf.dk, L, ke.d),
              v = deviceTensor(buf.dv, L, ke.d), out = deviceTensor(buf.dout, L, ke.d);
  for (int w = 0; w < kWarmups; ++w)
    check(ke.fn(&q, &k, &v, &out), ke.name);
  check(attn_cuda_synchronize(), "attn_cuda_synchronize (after the warm-ups)");

  int iters = itersFlag;
  if (iters == 0) {
    auto t0 = Clock::now();
    check(ke.fn(&q, &k, &v, &out), ke.name);
    check(attn_cuda_synchronize(), "attn_cuda_synchronize (after the probe)");
    double one = std::max(seconds(t0, Clock::now()), 1e-6);
    iters = int(std::min(100000.0, std::max(double(kMinIters),
                                            std::ceil(kTargetSeconds / one))));
  }
  auto t0 = Clock::now();
  for (int n = 0; n < iters; ++n)
    check(ke.fn(&q, &k, &v, &out), ke.name);
  check(attn_cuda_synchronize(), "attn_cuda_synchronize (after the timed calls)");
  double total = seconds(t0, Clock::now());
  itersUsed = iters;
  return total / iters;
}

} // namespace

int main(int argc, char **argv) {
  Options opt = parseOptions(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  if (attn_cuda_available() != 0) {
    std::fprintf(stderr, "attnc-gpu-bench: CUDA is not usable here: %s\n",
                 attn_last_error());
    return 2;
  }
  check(attn_cuda_set_stream(nullptr), "attn_cuda_set_stream");

  int64_t maxL = *std::max_element(opt.lengths.begin(), opt.lengths.end());
  int64_t maxD = *std::max_element(opt.dims.begin(), opt.dims.end());
  const size_t elems = size_t(kB * kH) * size_t(maxL) * size_t(maxD);
  const size_t bytes = elems * sizeof(uint16_t);

  const char *variant = attn_selected_target(kKernels[0].name);
  std::printf("attnc-gpu-bench: B = %lld, H = %lld, bf16, variant %s, seed %llu\n",
              (long long)kB, (long long)kH, variant ? variant : "(none)",
              (unsigned long long)opt.seed);
  std::printf("inputs: seeded N(0, 1) rounded to bf16; %.1f MiB per tensor "
              "on the device\n", double(bytes) / (1 << 20));

  Buffers buf;
  auto g0 = Clock::now();
  buf.q.resize(elems);
  buf.k.resize(elems);
  buf.v.resize(elems);
  fillNormal(buf.q, opt.seed, 0);
  fillNormal(buf.k, opt.seed, 1);
  fillNormal(buf.v, opt.seed, 2);
  check(attn_cuda_malloc(&buf.dq, bytes), "attn_cuda_malloc (q)");
  check(attn_cuda_malloc(&buf.dk, bytes), "attn_cuda_malloc (k)");
  check(attn_cuda_malloc(&buf.dv, bytes), "attn_cuda_malloc (v)");
  check(attn_cuda_malloc(&buf.dout, bytes), "attn_cuda_malloc (out)");
  check(attn_cuda_memcpy_to_device(buf.dq, buf.q.data(), bytes), "attn_cuda_memcpy_to_device (q)");
  check(attn_cuda_memcpy_to_device(buf.dk, buf.k.data(), bytes), "attn_cuda_memcpy_to_device (k)");
  check(attn_cuda_memcpy_to_device(buf.dv, buf.v.data(), bytes), "attn_cuda_memcpy_to_device (v)");
  std::printf("setup (fill + upload): %.2f s\n", seconds(g0, Clock::now()));
  std::printf("check: %d query rows per (b, h) for %d (b, h) pairs against a "
              "double-precision CPU reference, max |error| <= %g\n",
              kSampleRows, kCheckedHeads, kTolerance);
  std::printf("FLOPs: full 4*B*H*L*L*D, causal 2*B*H*L*L*D (nominal half), "
              "window 4*B*H*D*(pairs with i-%lld <= j <= i+%lld inside [0, L))\n\n",
              (long long)kWindowLeft, (long long)kWindowRight);

  std::printf("%-7s %6s %4s %6s %10s %9s %10s  %s\n", "kind", "L", "D", "iters",
              "ms", "TFLOP/s", "max_err", "check");
  bool allPass = true;
  auto run0 = Clock::now();
  for (int64_t L : opt.lengths)
    for (int64_t D : opt.dims)
      for (Kind kind : opt.kinds) {
        const KernelEntry *ke = findKernel(kind, D);
        CheckResult cr = checkConfig(*ke, L, buf, opt.seed);
        allPass = allPass && cr.pass;
        if (opt.checkOnly) {
          std::printf("%-7s %6lld %4lld %6s %10s %9s %10.3e  %s\n",
                      kindName(kind), (long long)L, (long long)D, "-", "-", "-",
                      cr.maxErr, cr.pass ? "PASS" : "FAIL");
          continue;
        }
        int iters = 0;
        double sec = timeConfig(*ke, L, buf, opt.iters, iters);
        double tflops = flopsPerCall(kind, L, D) / sec / 1e12;
        std::printf("%-7s %6lld %4lld %6d %10.3f %9.1f %10.3e  %s\n",
                    kindName(kind), (long long)L, (long long)D, iters, sec * 1e3,
                    tflops, cr.maxErr, cr.pass ? "PASS" : "FAIL");
      }
  std::printf("\n%s (%.1f s)\n", allPass ? "all checks passed" : "SOME CHECKS FAILED",
              seconds(run0, Clock::now()));

  check(attn_cuda_free(buf.dq), "attn_cuda_free");
  check(attn_cuda_free(buf.dk), "attn_cuda_free");
  check(attn_cuda_free(buf.dv), "attn_cuda_free");
  check(attn_cuda_free(buf.dout), "attn_cuda_free");
  return allPass ? 0 : 1;
}
