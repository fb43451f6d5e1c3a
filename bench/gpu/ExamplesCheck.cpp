//===- ExamplesCheck.cpp - every examples/cuda kernel, checked on the GPU -===//
//
//   attnc-cuda-examples [--seed S]
//
// Runs every kernel of every examples/cuda/*.attn program (each built with
// attnc --target=cuda:sm_80 into its own library) once on device tensors of
// ragged shapes, B = 2, H = 3, L in {1, 77, 200, 1000} (no multiple of 64),
// and compares every output element against a plain double-precision
// reference computed here from the same bf16 inputs:
//
//   full_attention        also L != S (77/200, 200/1); D = 64, E = 128
//   causal_attention      j <= i
//   longformer_attention  window 128 + 128 taps, dilation 2, globals
//                         [0, 1, 4095] (those < L); also L = 4100, where
//                         4095 is a global
//   longformer_masked     |i - j| <= 256, i - j even, or i == 0 or j == 0
//   bigbird_attention     layout i32[H, NB, NB], NB = ceil(L/64): seeded,
//                         about 30% ones plus the diagonal, and one block row
//                         of head 1 all zeros (its query rows see no key:
//                         their output must be zeros)
//   alibi_attention       causal, s - slopes[h]·(i - j), slopes f32[H] =
//                         2^(-8(h+1)/H)
//   softcap_attention     causal, scale 0.125, 30·tanh(s/30)
//
// Inputs are seeded N(0, 1) samples rounded to bf16 (nearest, ties to even);
// the reference reads exactly those values, widened to double. The output is
// poisoned with NaN before each call, so an element the kernel does not
// write fails. One line per (kernel, shape): name, shape, max |error| over
// all elements, PASS (max |error| <= 2e-2, no NaN) or FAIL. Then the error
// paths: a host tensor (device ATTN_CPU) given to a CUDA kernel as input,
// as output and as a capture must be refused with a message (printed), and
// a valid call must still work afterwards.
//
// Exit status: 0 when everything passed; 1 when a check failed (or a runtime
// call did); 2 when attn_cuda_available() fails (no driver or no usable
// device; its message is printed); 64 on a bad command line. Self-contained
// like attnc-gpu-bench: no dependency but glibc and the NVIDIA driver.
//
// Built with -DATTNC_EXAMPLES_ON_CPU against CPU builds of the same programs
// (target attnc-cuda-examples-on-cpu, not built by default), the same checks
// run on host tensors without a GPU: a way to check this program and its
// reference on a machine that has none (the error paths then give CUDA
// tensors to the CPU kernels).
//
//===----------------------------------------------------------------------===//
#include "alibi.h"
#include "bigbird.h"
#include "causal.h"
#include "full.h"
#include "longformer.h"
#include "softcap.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int64_t kB = 2, kH = 3, kD = 64;
constexpr int64_t kBlock = 64; // bigbird's block size (bigbird.attn)
constexpr double kTolerance = 2e-2;
const char *const kProgram = "attnc-cuda-examples";

//===-- Where the tensors live ----------------------------------------------===//

#ifdef ATTNC_EXAMPLES_ON_CPU
constexpr attn_device kDevice = ATTN_CPU;
constexpr attn_device kWrongDevice = ATTN_CUDA;
const char *const kWrongDeviceName = "marked ATTN_CUDA";
int devAvailable() { return 0; }
int devMalloc(void **p, size_t bytes) {
  *p = std::malloc(bytes ? bytes : 1);
  return *p ? 0 : ATTN_ERR_NULL;
}
int devFree(void *p) {
  std::free(p);
  return 0;
}
int toDevice(void *dst, const void *src, size_t bytes) {
  if (bytes)
    std::memcpy(dst, src, bytes);
  return 0;
}
int toHost(void *dst, const void *src, size_t bytes) {
  if (bytes)
    std::memcpy(dst, src, bytes);
  return 0;
}
int devSync() { return 0; }
#else
constexpr attn_device kDevice = ATTN_CUDA;
constexpr attn_device kWrongDevice = ATTN_CPU;
const char *const kWrongDeviceName = "on the host (ATTN_CPU)";
int devAvailable() { return attn_cuda_available(); }
int devMalloc(void **p, size_t bytes) { return attn_cuda_malloc(p, bytes); }
int devFree(void *p) { return attn_cuda_free(p); }
int toDevice(void *dst, const void *src, size_t bytes) {
  return attn_cuda_memcpy_to_device(dst, src, bytes);
}
int toHost(void *dst, const void *src, size_t bytes) {
  return attn_cuda_memcpy_to_host(dst, src, bytes);
}
int devSync() { return attn_cuda_synchronize(); }
#endif

/// Reports a failed runtime call; returns false then.
bool ok(int status, const char *what) {
  if (status == 0)
    return true;
  std::fflush(stdout);
  std::fprintf(stderr, "%s: %s failed with status %d: %s\n", kProgram, what,
               status, attn_last_error());
  return false;
}

/// Device memory holding a copy of host bytes; freed with the object.
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() {
    if (ptr_)
      ok(devFree(ptr_), "freeing device memory");
  }
  bool upload(const void *src, size_t bytes, const char *what) {
    if (!ptr_ && !ok(devMalloc(&ptr_, bytes), what))
      return false;
    return ok(toDevice(ptr_, src, bytes), what);
  }
  void *get() const { return ptr_; }

private:
  void *ptr_ = nullptr;
};

//===-- bf16 ----------------------------------------------------------------===//

/// float -> bf16, rounding to nearest, ties to even; NaN stays a (quiet) NaN.
uint16_t toBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

/// bf16 -> float (exact).
float fromBf16(uint16_t h) {
  uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

constexpr uint16_t kBf16NaN = 0xffffu;

//===-- Seeded numbers ------------------------------------------------------===//

uint64_t mix64(uint64_t x) { // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// n bf16 N(0, 1) samples: Box-Muller on uniforms hashed from (seed, stream,
/// pair index).
std::vector<uint16_t> normalBf16(size_t n, uint64_t seed, uint64_t stream) {
  std::vector<uint16_t> out(n);
  const uint64_t key = mix64(seed ^ mix64(stream + 0x1234567ull));
  const double twoPi = 6.283185307179586476925286766559;
  for (size_t p = 0; 2 * p < n; ++p) {
    uint64_t a = mix64(key + 2 * uint64_t(p)), b = mix64(key + 2 * uint64_t(p) + 1);
    double u1 = (double(a >> 11) + 0.5) * 0x1.0p-53; // (0, 1)
    double u2 = double(b >> 11) * 0x1.0p-53;         // [0, 1)
    double r = std::sqrt(-2.0 * std::log(u1));
    out[2 * p] = toBf16(float(r * std::cos(twoPi * u2)));
    if (2 * p + 1 < n)
      out[2 * p + 1] = toBf16(float(r * std::sin(twoPi * u2)));
  }
  return out;
}

//===-- The reference: plain double-precision attention ---------------------===//

using Allowed = std::function<bool(int64_t b, int64_t h, int64_t i, int64_t j)>;
using Score =
    std::function<double(double s, int64_t b, int64_t h, int64_t i, int64_t j)>;

/// What a kernel computes: out_i = softmax_j(score(scale · q_i·k_j)) · v
/// over the keys j with allowed(b, h, i, j) (all when null); zeros for a row
/// with no allowed key.
struct Semantics {
  double scale = 1.0 / std::sqrt(double(kD));
  Allowed allowed;
  Score score;
};

/// One problem's inputs: q [B, H, L, D], k [B, H, S, D], v [B, H, S, E],
/// bf16, dense.
struct Problem {
  int64_t L, S, E;
  std::vector<uint16_t> q, k, v;
};

/// The reference output [B, H, L, E] in double; rows spread over threads.
std::vector<double> reference(const Problem &p, const Semantics &sem) {
  const int64_t L = p.L, S = p.S, D = kD, E = p.E;
  std::vector<double> qd(p.q.size()), kd(p.k.size()), vd(p.v.size());
  for (size_t e = 0; e < qd.size(); ++e)
    qd[e] = fromBf16(p.q[e]);
  for (size_t e = 0; e < kd.size(); ++e)
    kd[e] = fromBf16(p.k[e]);
  for (size_t e = 0; e < vd.size(); ++e)
    vd[e] = fromBf16(p.v[e]);

  std::vector<double> out(size_t(kB * kH * L * E), 0.0);
  const int64_t rows = kB * kH * L;
  auto work = [&](int64_t from, int64_t to) {
    std::vector<double> s(static_cast<size_t>(S));
    std::vector<int64_t> keys;
    keys.reserve(size_t(S));
    for (int64_t r = from; r < to; ++r) {
      const int64_t bh = r / L, i = r % L, b = bh / kH, h = bh % kH;
      const double *qi = qd.data() + r * D;
      const double *kb = kd.data() + bh * S * D;
      const double *vb = vd.data() + bh * S * E;
      keys.clear();
      double m = -INFINITY;
      for (int64_t j = 0; j < S; ++j) {
        if (sem.allowed && !sem.allowed(b, h, i, j))
          continue;
        double dot = 0;
        for (int64_t d = 0; d < D; ++d)
          dot += qi[d] * kb[j * D + d];
        double sj = dot * sem.scale;
        if (sem.score)
          sj = sem.score(sj, b, h, i, j);
        s[size_t(j)] = sj;
        keys.push_back(j);
        m = std::max(m, sj);
      }
      double *o = out.data() + r * E;
      if (keys.empty())
        continue; // no key: zeros
      double sum = 0;
      for (int64_t j : keys) {
        double w = std::exp(s[size_t(j)] - m);
        sum += w;
        for (int64_t e = 0; e < E; ++e)
          o[e] += w * vb[j * E + e];
      }
      for (int64_t e = 0; e < E; ++e)
        o[e] /= sum;
    }
  };
  unsigned threads = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
  const int64_t chunk = (rows + threads - 1) / threads;
  std::vector<std::thread> pool;
  for (int64_t from = 0; from < rows; from += chunk)
    pool.emplace_back(work, from, std::min(rows, from + chunk));
  for (std::thread &t : pool)
    t.join();
  return out;
}

//===-- Cases ---------------------------------------------------------------===//

/// A capture (slopes, layout): host bytes, uploaded with q, k and v.
struct Capture {
  attn_dtype dtype;
  std::vector<int64_t> shape;
  std::vector<unsigned char> bytes;
};

/// Calls the kernel: in = q, k, v, then the captures.
using Call = std::function<int(const std::vector<const attn_tensor *> &in,
                               attn_tensor *out)>;

struct Case {
  std::string kernel;
  int64_t L, S, E;
  Semantics sem;
  std::vector<Capture> captures;
  Call call;
  std::string note; // printed after the shape
};

attn_tensor tensorOn(void *data, attn_dtype dtype, const std::vector<int64_t> &shape,
                     attn_device device) {
  attn_tensor t = attn_make_tensor(data, dtype, int32_t(shape.size()), shape.data());
  t.device = device;
  return t;
}

std::string shapeText(const Case &c) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "B=%lld H=%lld L=%lld S=%lld D=%lld E=%lld",
                (long long)kB, (long long)kH, (long long)c.L, (long long)c.S,
                (long long)kD, (long long)c.E);
  return buf;
}

/// Runs one case on the device and compares every output element. Prints
/// its line; returns whether it passed.
bool runCase(const Case &c, uint64_t seed, uint64_t caseIndex) {
  Problem p{c.L, c.S, c.E, {}, {}, {}};
  p.q = normalBf16(size_t(kB * kH * c.L * kD), seed, 3 * caseIndex);
  p.k = normalBf16(size_t(kB * kH * c.S * kD), seed, 3 * caseIndex + 1);
  p.v = normalBf16(size_t(kB * kH * c.S * c.E), seed, 3 * caseIndex + 2);
  const size_t outElems = size_t(kB * kH * c.L * c.E);

  auto line = [&](double maxErr, bool pass, const char *extra) {
    std::string notes = c.note;
    if (*extra)
      notes += (notes.empty() ? "" : "; ") + std::string(extra);
    std::printf("%-21s %-38s max_err %10.3e  %s%s%s\n", c.kernel.c_str(),
                shapeText(c).c_str(), maxErr, pass ? "PASS" : "FAIL",
                notes.empty() ? "" : "  ", notes.c_str());
    return pass;
  };

  DeviceBuffer dq, dk, dv, dout;
  std::vector<DeviceBuffer> dcap(c.captures.size());
  std::vector<uint16_t> poison(outElems, kBf16NaN);
  bool uploaded = dq.upload(p.q.data(), p.q.size() * 2, "uploading q") &&
                  dk.upload(p.k.data(), p.k.size() * 2, "uploading k") &&
                  dv.upload(p.v.data(), p.v.size() * 2, "uploading v") &&
                  dout.upload(poison.data(), outElems * 2, "poisoning out");
  for (size_t a = 0; uploaded && a < c.captures.size(); ++a)
    uploaded = dcap[a].upload(c.captures[a].bytes.data(), c.captures[a].bytes.size(),
                              "uploading a capture");
  if (!uploaded)
    return line(INFINITY, false, "runtime call failed");

  attn_tensor q = tensorOn(dq.get(), ATTN_BF16, {kB, kH, c.L, kD}, kDevice);
  attn_tensor k = tensorOn(dk.get(), ATTN_BF16, {kB, kH, c.S, kD}, kDevice);
  attn_tensor v = tensorOn(dv.get(), ATTN_BF16, {kB, kH, c.S, c.E}, kDevice);
  attn_tensor out = tensorOn(dout.get(), ATTN_BF16, {kB, kH, c.L, c.E}, kDevice);
  std::vector<attn_tensor> caps;
  for (size_t a = 0; a < c.captures.size(); ++a)
    caps.push_back(tensorOn(dcap[a].get(), c.captures[a].dtype, c.captures[a].shape,
                            kDevice));
  std::vector<const attn_tensor *> in{&q, &k, &v};
  for (const attn_tensor &t : caps)
    in.push_back(&t);

  if (!ok(c.call(in, &out), c.kernel.c_str()) ||
      !ok(devSync(), "synchronizing after the kernel"))
    return line(INFINITY, false, "kernel call failed");
  std::vector<uint16_t> got(outElems);
  if (!ok(toHost(got.data(), dout.get(), outElems * 2), "downloading out"))
    return line(INFINITY, false, "runtime call failed");

  const std::vector<double> want = reference(p, c.sem);
  double maxErr = 0;
  bool pass = true;
  for (size_t e = 0; e < outElems; ++e) {
    double g = fromBf16(got[e]);
    double err = std::fabs(g - want[e]);
    if (!(err <= kTolerance) && pass) { // NaN fails too
      pass = false;
      const int64_t E = c.E, L = c.L;
      const int64_t idx = int64_t(e);
      std::fflush(stdout);
      std::fprintf(stderr,
                   "%s: %s %s: first mismatch at [b=%lld, h=%lld, i=%lld, "
                   "e=%lld]: got %.6g, want %.6g\n",
                   kProgram, c.kernel.c_str(), shapeText(c).c_str(),
                   (long long)(idx / (E * L * kH)), (long long)(idx / (E * L) % kH),
                   (long long)(idx / E % L), (long long)(idx % E), g, want[e]);
    }
    if (std::isnan(err))
      err = INFINITY;
    maxErr = std::max(maxErr, err);
  }
  return line(maxErr, pass, "");
}

/// bigbird's layout i32[H, NB, NB]: seeded ~30% ones, the diagonal, and
/// block row NB/2 of head 1 all zeros.
Capture bigbirdLayout(int64_t L, uint64_t seed, std::vector<int32_t> &layout,
                      int64_t &NB, int64_t &emptyRow) {
  NB = (L + kBlock - 1) / kBlock;
  emptyRow = NB / 2;
  layout.assign(size_t(kH * NB * NB), 0);
  uint64_t state = mix64(seed ^ 0xb16b1dull ^ uint64_t(L));
  for (int64_t h = 0; h < kH; ++h)
    for (int64_t r = 0; r < NB; ++r)
      for (int64_t c = 0; c < NB; ++c) {
        state = mix64(state);
        bool one = r == c || (state >> 11) * 0x1.0p-53 < 0.3;
        if (h == 1 && r == emptyRow)
          one = false;
        layout[size_t((h * NB + r) * NB + c)] = one ? 1 : 0;
      }
  Capture cap{ATTN_I32, {kH, NB, NB}, {}};
  cap.bytes.resize(layout.size() * sizeof(int32_t));
  std::memcpy(cap.bytes.data(), layout.data(), cap.bytes.size());
  return cap;
}

/// Every case, in the order printed. Captured host data (layouts, slopes)
/// lives in `keep` for the reference's mask and score functions.
struct Keep {
  std::vector<std::vector<int32_t>> layouts;
  std::vector<float> slopes;
};

std::vector<Case> makeCases(uint64_t seed, Keep &keep) {
  const int64_t lengths[] = {1, 77, 200, 1000};
  std::vector<Case> cases;
  auto causal = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };

  // full_attention: q [B,H,L,64], k [B,H,S,64], v [B,H,S,128].
  Call full = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return full_attention(in[0], in[1], in[2], out);
  };
  std::vector<std::pair<int64_t, int64_t>> fullShapes;
  for (int64_t L : lengths)
    fullShapes.push_back({L, L});
  fullShapes.push_back({77, 200});
  fullShapes.push_back({200, 1});
  for (auto [L, S] : fullShapes)
    cases.push_back({"full_attention", L, S, 128, Semantics{}, {}, full, ""});

  Call causalCall = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return causal_attention(in[0], in[1], in[2], out);
  };
  for (int64_t L : lengths) {
    Semantics sem;
    sem.allowed = causal;
    cases.push_back({"causal_attention", L, L, kD, sem, {}, causalCall, ""});
  }

  // longformer_attention: window ±128 taps of dilation 2, globals [0, 1, 4095]
  // (positions >= L ignored; a global sees and is seen by all).
  Call longformer = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return longformer_attention(in[0], in[1], in[2], out);
  };
  auto longformerAllowed = [](int64_t, int64_t, int64_t i, int64_t j) {
    auto global = [](int64_t x) { return x == 0 || x == 1 || x == 4095; };
    int64_t off = j - i;
    return global(i) || global(j) ||
           (off % 2 == 0 && off >= -128 * 2 && off <= 128 * 2);
  };
  std::vector<int64_t> longformerLengths(std::begin(lengths), std::end(lengths));
  longformerLengths.push_back(4100); // global 4095 inside
  for (int64_t L : longformerLengths) {
    Semantics sem;
    sem.allowed = longformerAllowed;
    const char *globals =
        L > 4095 ? "globals 0, 1, 4095" : L > 1 ? "globals 0, 1" : "global 0";
    cases.push_back({"longformer_attention", L, L, kD, sem, {}, longformer, globals});
  }
  Call longformerMasked = [](const std::vector<const attn_tensor *> &in,
                             attn_tensor *out) {
    return longformer_masked(in[0], in[1], in[2], out);
  };
  for (int64_t L : lengths) {
    Semantics sem;
    sem.allowed = [](int64_t, int64_t, int64_t i, int64_t j) {
      int64_t off = i - j;
      return (std::abs(off) <= 256 && off % 2 == 0) || i == 0 || j == 0;
    };
    cases.push_back({"longformer_masked", L, L, kD, sem, {}, longformerMasked, ""});
  }

  // bigbird_attention: layout[h, i/64, j/64] != 0.
  Call bigbird = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return bigbird_attention(in[0], in[1], in[2], in[3], out);
  };
  keep.layouts.reserve(std::size(lengths)); // no reallocation: the masks point in
  for (int64_t L : lengths) {
    keep.layouts.emplace_back();
    std::vector<int32_t> &layout = keep.layouts.back();
    int64_t NB = 0, emptyRow = 0;
    Capture cap = bigbirdLayout(L, seed, layout, NB, emptyRow);
    int64_t ones = 0;
    for (int32_t x : layout)
      ones += x != 0;
    const int32_t *lay = layout.data();
    Semantics sem;
    sem.allowed = [lay, NB](int64_t, int64_t h, int64_t i, int64_t j) {
      return lay[size_t((h * NB + i / kBlock) * NB + j / kBlock)] != 0;
    };
    char note[96];
    std::snprintf(note, sizeof note, "NB=%lld, %lld/%lld blocks on, h=1 row %lld empty",
                  (long long)NB, (long long)ones, (long long)layout.size(),
                  (long long)emptyRow);
    cases.push_back({"bigbird_attention", L, L, kD, sem, {cap}, bigbird, note});
  }

  // alibi_attention: causal, s - slopes[h]·(i - j).
  Call alibi = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return alibi_attention(in[0], in[1], in[2], in[3], out);
  };
  keep.slopes.resize(size_t(kH));
  for (int64_t h = 0; h < kH; ++h)
    keep.slopes[size_t(h)] = float(std::exp2(-8.0 * double(h + 1) / double(kH)));
  Capture slopes{ATTN_F32, {kH}, {}};
  slopes.bytes.resize(size_t(kH) * sizeof(float));
  std::memcpy(slopes.bytes.data(), keep.slopes.data(), slopes.bytes.size());
  const float *sl = keep.slopes.data();
  for (int64_t L : lengths) {
    Semantics sem;
    sem.allowed = causal;
    sem.score = [sl](double s, int64_t, int64_t h, int64_t i, int64_t j) {
      return s - double(sl[h]) * double(i - j);
    };
    cases.push_back({"alibi_attention", L, L, kD, sem, {slopes}, alibi, ""});
  }

  // softcap_attention: causal, scale 0.125, 30·tanh(s/30).
  Call softcap = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return softcap_attention(in[0], in[1], in[2], out);
  };
  for (int64_t L : lengths) {
    Semantics sem;
    sem.scale = 0.125;
    sem.allowed = causal;
    sem.score = [](double s, int64_t, int64_t, int64_t, int64_t) {
      return 30.0 * std::tanh(s / 30.0);
    };
    cases.push_back({"softcap_attention", L, L, kD, sem, {}, softcap, ""});
  }
  return cases;
}

//===-- Error paths -----------------------------------------------------------===//

/// Calls that must be refused: a host tensor given to a kernel built for
/// the device, as an input, as the output and as a capture. Each must
/// return nonzero with a message. Then a valid call must still work.
bool checkErrorPaths(uint64_t seed) {
  const int64_t L = 77;
  const size_t qkElems = size_t(kB * kH * L * kD);
  const size_t vElems = size_t(kB * kH * L * 128);
  std::vector<uint16_t> hq = normalBf16(qkElems, seed, 1000),
                        hk = normalBf16(qkElems, seed, 1001),
                        hv = normalBf16(vElems, seed, 1002);
  std::vector<uint16_t> hout(vElems, kBf16NaN);
  std::vector<float> hslopes(size_t(kH), 0.5f);
  DeviceBuffer dq, dk, dv, dout, dv64, dout64;
  if (!dq.upload(hq.data(), qkElems * 2, "uploading q") ||
      !dk.upload(hk.data(), qkElems * 2, "uploading k") ||
      !dv.upload(hv.data(), vElems * 2, "uploading v") ||
      !dout.upload(hout.data(), vElems * 2, "uploading out") ||
      !dv64.upload(hv.data(), qkElems * 2, "uploading v") ||
      !dout64.upload(hout.data(), qkElems * 2, "uploading out")) {
    std::printf("error paths: FAIL (runtime call failed)\n");
    return false;
  }
  const std::vector<int64_t> qkShape{kB, kH, L, kD}, wideShape{kB, kH, L, 128},
      slopeShape{kH};
  attn_tensor q = tensorOn(dq.get(), ATTN_BF16, qkShape, kDevice),
              k = tensorOn(dk.get(), ATTN_BF16, qkShape, kDevice),
              v = tensorOn(dv.get(), ATTN_BF16, wideShape, kDevice),
              out = tensorOn(dout.get(), ATTN_BF16, wideShape, kDevice),
              v64 = tensorOn(dv64.get(), ATTN_BF16, qkShape, kDevice),
              out64 = tensorOn(dout64.get(), ATTN_BF16, qkShape, kDevice);
  // The same shapes and dtypes, in host memory, on the wrong device.
  attn_tensor hostQ = tensorOn(hq.data(), ATTN_BF16, qkShape, kWrongDevice),
              hostOut = tensorOn(hout.data(), ATTN_BF16, wideShape, kWrongDevice),
              hostSlopes = tensorOn(hslopes.data(), ATTN_F32, slopeShape, kWrongDevice);

  bool allPass = true;
  auto refused = [&](const char *what, int status) {
    const char *msg = attn_last_error();
    bool pass = status != 0 && msg && *msg;
    allPass = allPass && pass;
    std::printf("error path: %-44s status %d: %s  %s\n", what, status,
                msg && *msg ? msg : "(no message)", pass ? "PASS" : "FAIL");
  };
  std::string what = std::string("full_attention, q ") + kWrongDeviceName;
  refused(what.c_str(), full_attention(&hostQ, &k, &v, &out));
  what = std::string("full_attention, out ") + kWrongDeviceName;
  refused(what.c_str(), full_attention(&q, &k, &v, &hostOut));
  what = std::string("alibi_attention, slopes ") + kWrongDeviceName;
  refused(what.c_str(), alibi_attention(&q, &k, &v64, &hostSlopes, &out64));

  // The refusals left the device usable: a valid call works.
  int status = full_attention(&q, &k, &v, &out);
  if (status == 0)
    status = devSync();
  bool pass = status == 0;
  allPass = allPass && pass;
  std::printf("error path: %-44s status %d%s%s  %s\n",
              "full_attention, valid, afterwards", status, status ? ": " : "", status ? attn_last_error() : "",
              pass ? "PASS" : "FAIL");
  return allPass;
}

//===-- Command line --------------------------------------------------------===//

[[noreturn]] void usage(const char *error) {
  if (error)
    std::fprintf(stderr, "%s: %s\n", kProgram, error);
  std::fprintf(error ? stderr : stdout,
               "usage: attnc-cuda-examples [--seed S]\n"
               "  Runs every kernel of examples/cuda/*.attn on the GPU (B = %lld,\n"
               "  H = %lld, L in {1, 77, 200, 1000} and more) and compares all\n"
               "  output elements with a double-precision reference (tolerance\n"
               "  %g), then checks that host tensors are refused.\n"
               "Exit: 0 all passed, 1 a check or a call failed, 2 no usable CUDA\n"
               "driver or device, 64 bad command line.\n",
               (long long)kB, (long long)kH, kTolerance);
  std::exit(error ? 64 : 0);
}

uint64_t parseSeed(int argc, char **argv) {
  uint64_t seed = 2024;
  for (int a = 1; a < argc; ++a) {
    std::string arg = argv[a], value;
    if (arg == "--help" || arg == "-h")
      usage(nullptr);
    if (arg.compare(0, 7, "--seed=") == 0) {
      value = arg.substr(7);
    } else if (arg == "--seed") {
      if (a + 1 >= argc)
        usage("--seed needs a value");
      value = argv[++a];
    } else {
      usage(("unknown argument '" + arg + "'").c_str());
    }
    char *end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || value[0] == '-' || *end != '\0' || errno != 0)
      usage(("--seed: '" + value + "' is not a non-negative integer").c_str());
    seed = uint64_t(v);
  }
  return seed;
}

} // namespace

int main(int argc, char **argv) {
  const uint64_t seed = parseSeed(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  if (devAvailable() != 0) {
    std::fprintf(stderr, "%s: CUDA is not usable here: %s\n", kProgram,
                 attn_last_error());
    return 2;
  }
#ifndef ATTNC_EXAMPLES_ON_CPU
  if (!ok(attn_cuda_set_stream(nullptr), "attn_cuda_set_stream"))
    return 1;
#endif

  const char *variant = attn_selected_target("full_attention");
  std::printf("%s: examples/cuda kernels, B = %lld, H = %lld, bf16, variant %s, "
              "seed %llu\n",
              kProgram, (long long)kB, (long long)kH, variant ? variant : "(none)",
              (unsigned long long)seed);
  std::printf("check: every output element against a double-precision reference "
              "from the same bf16 inputs; max |error| <= %g, no NaN\n\n",
              kTolerance);

  auto t0 = std::chrono::steady_clock::now();
  Keep keep;
  std::vector<Case> cases = makeCases(seed, keep);
  int failed = 0;
  for (size_t n = 0; n < cases.size(); ++n)
    failed += runCase(cases[n], seed, n) ? 0 : 1;
  std::printf("\n");
  bool errorsPass = checkErrorPaths(seed);
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\n%s: %d of %zu kernel checks failed, error paths %s (%.1f s)\n",
              failed || !errorsPass ? "SOME CHECKS FAILED" : "all checks passed",
              failed, cases.size(), errorsPass ? "passed" : "FAILED", secs);
  return failed || !errorsPass ? 1 : 0;
}
