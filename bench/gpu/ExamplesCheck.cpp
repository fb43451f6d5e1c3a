//===- ExamplesCheck.cpp - the example programs' CUDA kernels, checked -----===//
//
//   attnc-cuda-examples [--seed S]
//   attnc-cuda-examples-f32 [--seed S]     (built with -DATTNC_EXAMPLES_F32)
//
// attnc-cuda-examples runs every kernel of every examples/cuda/*.attn program
// (bf16) and of bench/gpu/f16.attn (f16); attnc-cuda-examples-f32 runs every
// kernel of examples/{full,causal,longformer,bigbird,alibi,softcap}.attn
// (f32: TF32 tensor cores, whose kernels have a symbolic head width D and
// are compiled for D in {32, 64, 96, 128}). The two sets use the same kernel
// names, so they are two binaries. Each program is built with attnc
// --target=cuda:sm_80 into its own library; every kernel runs on device
// tensors of ragged shapes, B = 2, H = 3, L in {1, 77, 200, 1000} (no
// multiple of 64), and every output element is compared against a plain
// double-precision reference computed here from the same inputs:
//
//   full_attention        also L != S (77/200, 200/1); D = 64, E = 128
//                         (f32: (D, E) in (32, 32), (64, 64), (128, 128),
//                         (64, 128))
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
//   full_f16              f16 in and out; as full_attention, L != S too
//   causal_f16            f16; j <= i
//   window_f16            f16; window 100 taps left, 30 right, dilation 3
//                         (j - i in {-300, -297, ..., 90}), globals [5, 70]
//                         (those < L)
//
// D = 64 and E = D but where said; the f32 binary runs each kernel but
// full_attention for D in {32, 64, 128} (E = D), and has no f16 kernels.
//
// Inputs are seeded N(0, 1) samples rounded to the kernel's input type, bf16
// or f16 (nearest, ties to even), or taken as drawn (f32); the reference
// reads exactly those values, widened to double, and the output is widened
// from the kernel's result type. The output is poisoned with NaN before each
// call, so an element the kernel does not write fails. One line per (kernel,
// shape): name, shape, max |error| over all elements, PASS (max |error| <=
// 2e-2, f32: 5e-3, no NaN) or FAIL. Then the error paths: a host tensor
// (device ATTN_CPU) given to a CUDA kernel as input, as output and as a
// capture, and tensors of the wrong element type (bf16 given to an f16 or
// an f32 kernel), must be refused with a message (printed); in the f32
// binary also head width D = 80 (causal_attention; full_attention with
// E = 64) and value width E = 80 (full_attention, D = 64), for which no
// variant was compiled: status ATTN_ERR_SHAPE (4) and a message naming the
// width ("no CUDA kernel was compiled for head width 80", "... value width
// 80"). Then valid calls must still work.
//
// Exit status: 0 when everything passed; 1 when a check failed (or a runtime
// call did); 2 when attn_cuda_available() fails (no driver or no usable
// device; its message is printed); 64 on a bad command line. Self-contained
// like attnc-gpu-bench: no dependency but glibc and the NVIDIA driver.
//
// Built with -DATTNC_EXAMPLES_ON_CPU against CPU builds of the same programs
// (targets attnc-cuda-examples-on-cpu and attnc-cuda-examples-f32-on-cpu,
// not built by default), the same checks run on host tensors without a GPU:
// a way to check this program and its reference on a machine that has none
// (the error paths then give CUDA tensors to the CPU kernels, and the width
// checks expect success: a CPU kernel takes any width).
//
//===----------------------------------------------------------------------===//
#include "alibi.h"
#include "bigbird.h"
#include "causal.h"
#ifndef ATTNC_EXAMPLES_F32
#include "f16.h"
#endif
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

constexpr int64_t kB = 2, kH = 3;
constexpr int64_t kBlock = 64; // bigbird's block size (bigbird.attn)

/// A head width D and value width E.
struct Widths {
  int64_t D, E;
};

#ifdef ATTNC_EXAMPLES_F32
const char *const kProgram = "attnc-cuda-examples-f32";
const char *const kWhat = "examples/*.attn (f32, TF32 tensor cores)";
constexpr attn_dtype kFloat = ATTN_F32; // the programs' input and result type
constexpr double kTolerance = 5e-3;     // TF32 keeps 10 mantissa bits
/// The head widths every kernel but full_attention runs with (E = D), and
/// full_attention's (D, E).
constexpr int64_t kHeadWidths[] = {32, 64, 128};
constexpr Widths kFullWidths[] = {{32, 32}, {64, 64}, {128, 128}, {64, 128}};
#else
const char *const kProgram = "attnc-cuda-examples";
const char *const kWhat = "examples/cuda (bf16) and bench/gpu/f16.attn (f16)";
constexpr attn_dtype kFloat = ATTN_BF16;
constexpr double kTolerance = 2e-2;
constexpr int64_t kHeadWidths[] = {64};
constexpr Widths kFullWidths[] = {{64, 128}};
#endif

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

//===-- f16 -----------------------------------------------------------------===//

/// float -> f16 (IEEE binary16), rounding to nearest, ties to even, with
/// subnormals; too large gives inf, NaN stays a (quiet) NaN. (Checked against
/// the compiler's _Float16 conversion on all 2^32 floats.)
uint16_t toF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) // NaN: quiet, keeping the payload's top bits
    return uint16_t(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) // >= 65520, halfway past 65504 (a tie, to even): inf
    return uint16_t(sign | 0x7c00u);
  if (a >= 0x38800000u) { // >= 2^-14: a normal f16; rebias 127 -> 15
    const uint32_t r = a + 0xfffu + ((a >> 13) & 1u) - 0x38000000u;
    return uint16_t(sign | (r >> 13));
  }
  // A subnormal f16 or zero: whole units of 2^-24.
  const uint32_t e = a >> 23;
  if (e < 102) // below 2^-25: rounds to zero
    return sign;
  const uint32_t m = (a & 0x7fffffu) | 0x800000u; // a = m * 2^(e - 150)
  const uint32_t shift = 126 - e;                 // 14 .. 24
  uint32_t units = m >> shift;
  const uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rem > half || (rem == half && (units & 1u)))
    ++units; // may carry into the smallest normal, 0x0400: still right
  return uint16_t(sign | units);
}

/// f16 -> float (exact).
float fromF16(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) { // zero or subnormal: m * 2^-24
    const float f = std::ldexp(float(m), -24);
    return sign ? -f : f;
  }
  const uint32_t u =
      sign | (e == 31 ? 0x7f800000u | (m << 13) : ((e + 112) << 23) | (m << 13));
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

//===-- Element types ---------------------------------------------------------===//

/// Bytes per element of the float types a kernel reads or writes.
size_t elemBytes(attn_dtype t) { return t == ATTN_F32 ? 4 : 2; }

const char *dtypeName(attn_dtype t) {
  return t == ATTN_F32 ? "f32" : t == ATTN_F16 ? "f16" : t == ATTN_BF16 ? "bf16" : "?";
}

/// A 16-bit input element (bf16 or f16) -> double.
double widen16(uint16_t x, attn_dtype t) {
  return t == ATTN_F16 ? double(fromF16(x)) : double(fromBf16(x));
}

/// Element e of an output buffer of type t -> double.
double widenAt(const std::vector<unsigned char> &buf, size_t e, attn_dtype t) {
  if (t == ATTN_F32) {
    float f;
    std::memcpy(&f, buf.data() + 4 * e, 4);
    return f;
  }
  uint16_t x;
  std::memcpy(&x, buf.data() + 2 * e, 2);
  return widen16(x, t);
}

//===-- Seeded numbers ------------------------------------------------------===//

uint64_t mix64(uint64_t x) { // splitmix64's finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// n N(0, 1) samples of type dtype, as its bytes: rounded to bf16 or f16
/// (nearest, ties to even), or f32 as drawn. Box-Muller on uniforms hashed
/// from (seed, stream, pair index).
std::vector<unsigned char> normalInput(size_t n, uint64_t seed, uint64_t stream,
                                       attn_dtype dtype) {
  std::vector<unsigned char> out(n * elemBytes(dtype));
  auto put = [&](size_t e, float f) {
    if (dtype == ATTN_F32) {
      std::memcpy(out.data() + 4 * e, &f, 4);
      return;
    }
    const uint16_t x = dtype == ATTN_F16 ? toF16(f) : toBf16(f);
    std::memcpy(out.data() + 2 * e, &x, 2);
  };
  const uint64_t key = mix64(seed ^ mix64(stream + 0x1234567ull));
  const double twoPi = 6.283185307179586476925286766559;
  for (size_t p = 0; 2 * p < n; ++p) {
    uint64_t a = mix64(key + 2 * uint64_t(p)), b = mix64(key + 2 * uint64_t(p) + 1);
    double u1 = (double(a >> 11) + 0.5) * 0x1.0p-53; // (0, 1)
    double u2 = double(b >> 11) * 0x1.0p-53;         // [0, 1)
    double r = std::sqrt(-2.0 * std::log(u1));
    put(2 * p, float(r * std::cos(twoPi * u2)));
    if (2 * p + 1 < n)
      put(2 * p + 1, float(r * std::sin(twoPi * u2)));
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
  double scale = 0; // 0: 1/sqrt(D)
  Allowed allowed;
  Score score;
};

/// One problem's inputs: q [B, H, L, D], k [B, H, S, D], v [B, H, S, E],
/// dense, their elements of type dtype (bf16, f16 or f32) as bytes.
struct Problem {
  int64_t L, S, D, E;
  attn_dtype dtype;
  std::vector<unsigned char> q, k, v;
};

/// The reference output [B, H, L, E] in double; rows spread over threads.
std::vector<double> reference(const Problem &p, const Semantics &sem) {
  const int64_t L = p.L, S = p.S, D = p.D, E = p.E;
  const size_t w = elemBytes(p.dtype);
  std::vector<double> qd(p.q.size() / w), kd(p.k.size() / w), vd(p.v.size() / w);
  for (size_t e = 0; e < qd.size(); ++e)
    qd[e] = widenAt(p.q, e, p.dtype);
  for (size_t e = 0; e < kd.size(); ++e)
    kd[e] = widenAt(p.k, e, p.dtype);
  for (size_t e = 0; e < vd.size(); ++e)
    vd[e] = widenAt(p.v, e, p.dtype);
  const double scale = sem.scale != 0 ? sem.scale : 1.0 / std::sqrt(double(D));

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
        double sj = dot * scale;
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
  int64_t L, S, D, E;
  Semantics sem;
  std::vector<Capture> captures;
  Call call;
  std::string note;            // printed after the shape
  attn_dtype in = kFloat;      // q, k and v
  attn_dtype out = kFloat;     // the result
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
                (long long)c.D, (long long)c.E);
  return buf;
}

/// Runs one case on the device and compares every output element. Prints
/// its line; returns whether it passed.
bool runCase(const Case &c, uint64_t seed, uint64_t caseIndex) {
  Problem p{c.L, c.S, c.D, c.E, c.in, {}, {}, {}};
  p.q = normalInput(size_t(kB * kH * c.L * c.D), seed, 3 * caseIndex, c.in);
  p.k = normalInput(size_t(kB * kH * c.S * c.D), seed, 3 * caseIndex + 1, c.in);
  p.v = normalInput(size_t(kB * kH * c.S * c.E), seed, 3 * caseIndex + 2, c.in);
  const size_t outElems = size_t(kB * kH * c.L * c.E);
  const size_t outBytes = outElems * elemBytes(c.out);

  auto line = [&](double maxErr, bool pass, const char *extra) {
    std::string notes = c.note;
    if (c.in != kFloat || c.out != c.in) { // the programs' type: no note
      std::string types = dtypeName(c.in);
      if (c.out != c.in)
        types += std::string(" in, ") + dtypeName(c.out) + " out";
      notes = types + (notes.empty() ? "" : "; ") + notes;
    }
    if (*extra)
      notes += (notes.empty() ? "" : "; ") + std::string(extra);
    std::printf("%-21s %-38s max_err %10.3e  %s%s%s\n", c.kernel.c_str(),
                shapeText(c).c_str(), maxErr, pass ? "PASS" : "FAIL",
                notes.empty() ? "" : "  ", notes.c_str());
    return pass;
  };

  DeviceBuffer dq, dk, dv, dout;
  std::vector<DeviceBuffer> dcap(c.captures.size());
  // All-ones bytes: a NaN in bf16, f16 and f32 alike.
  std::vector<unsigned char> poison(outBytes, 0xff);
  bool uploaded = dq.upload(p.q.data(), p.q.size(), "uploading q") &&
                  dk.upload(p.k.data(), p.k.size(), "uploading k") &&
                  dv.upload(p.v.data(), p.v.size(), "uploading v") &&
                  dout.upload(poison.data(), outBytes, "poisoning out");
  for (size_t a = 0; uploaded && a < c.captures.size(); ++a)
    uploaded = dcap[a].upload(c.captures[a].bytes.data(), c.captures[a].bytes.size(),
                              "uploading a capture");
  if (!uploaded)
    return line(INFINITY, false, "runtime call failed");

  attn_tensor q = tensorOn(dq.get(), c.in, {kB, kH, c.L, c.D}, kDevice);
  attn_tensor k = tensorOn(dk.get(), c.in, {kB, kH, c.S, c.D}, kDevice);
  attn_tensor v = tensorOn(dv.get(), c.in, {kB, kH, c.S, c.E}, kDevice);
  attn_tensor out = tensorOn(dout.get(), c.out, {kB, kH, c.L, c.E}, kDevice);
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
  std::vector<unsigned char> got(outBytes);
  if (!ok(toHost(got.data(), dout.get(), outBytes), "downloading out"))
    return line(INFINITY, false, "runtime call failed");

  const std::vector<double> want = reference(p, c.sem);
  double maxErr = 0;
  bool pass = true;
  for (size_t e = 0; e < outElems; ++e) {
    double g = widenAt(got, e, c.out);
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

  // full_attention: q [B,H,L,D], k [B,H,S,D], v [B,H,S,E].
  Call full = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return full_attention(in[0], in[1], in[2], out);
  };
  std::vector<std::pair<int64_t, int64_t>> fullShapes;
  for (int64_t L : lengths)
    fullShapes.push_back({L, L});
  fullShapes.push_back({77, 200});
  fullShapes.push_back({200, 1});
  for (Widths w : kFullWidths)
    for (auto [L, S] : fullShapes)
      cases.push_back({"full_attention", L, S, w.D, w.E, Semantics{}, {}, full, ""});

  Call causalCall = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return causal_attention(in[0], in[1], in[2], out);
  };
  for (int64_t D : kHeadWidths)
    for (int64_t L : lengths) {
      Semantics sem;
      sem.allowed = causal;
      cases.push_back({"causal_attention", L, L, D, D, sem, {}, causalCall, ""});
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
  for (int64_t D : kHeadWidths)
    for (int64_t L : longformerLengths) {
      Semantics sem;
      sem.allowed = longformerAllowed;
      const char *globals =
          L > 4095 ? "globals 0, 1, 4095" : L > 1 ? "globals 0, 1" : "global 0";
      cases.push_back({"longformer_attention", L, L, D, D, sem, {}, longformer, globals});
    }
  Call longformerMasked = [](const std::vector<const attn_tensor *> &in,
                             attn_tensor *out) {
    return longformer_masked(in[0], in[1], in[2], out);
  };
  for (int64_t D : kHeadWidths)
    for (int64_t L : lengths) {
      Semantics sem;
      sem.allowed = [](int64_t, int64_t, int64_t i, int64_t j) {
        int64_t off = i - j;
        return (std::abs(off) <= 256 && off % 2 == 0) || i == 0 || j == 0;
      };
      cases.push_back({"longformer_masked", L, L, D, D, sem, {}, longformerMasked, ""});
    }

  // bigbird_attention: layout[h, i/64, j/64] != 0. One layout per length,
  // shared by the head widths.
  Call bigbird = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return bigbird_attention(in[0], in[1], in[2], in[3], out);
  };
  struct BigbirdInput {
    Capture cap;
    Semantics sem;
    std::string note;
  };
  std::vector<BigbirdInput> bigbirdInputs;
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
    bigbirdInputs.push_back({cap, sem, note});
  }
  for (int64_t D : kHeadWidths)
    for (size_t n = 0; n < std::size(lengths); ++n) {
      const int64_t L = lengths[n];
      const BigbirdInput &b = bigbirdInputs[n];
      cases.push_back({"bigbird_attention", L, L, D, D, b.sem, {b.cap}, bigbird, b.note});
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
  for (int64_t D : kHeadWidths)
    for (int64_t L : lengths) {
      Semantics sem;
      sem.allowed = causal;
      sem.score = [sl](double s, int64_t, int64_t h, int64_t i, int64_t j) {
        return s - double(sl[h]) * double(i - j);
      };
      cases.push_back({"alibi_attention", L, L, D, D, sem, {slopes}, alibi, ""});
    }

  // softcap_attention: causal, scale 0.125, 30·tanh(s/30).
  Call softcap = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return softcap_attention(in[0], in[1], in[2], out);
  };
  for (int64_t D : kHeadWidths)
    for (int64_t L : lengths) {
      Semantics sem;
      sem.scale = 0.125;
      sem.allowed = causal;
      sem.score = [](double s, int64_t, int64_t, int64_t, int64_t) {
        return 30.0 * std::tanh(s / 30.0);
      };
      cases.push_back({"softcap_attention", L, L, D, D, sem, {}, softcap, ""});
    }

#ifndef ATTNC_EXAMPLES_F32
  // bench/gpu/f16.attn: f16 in, f16 out (the f16 tensor-core path). After
  // the bf16 cases, so that theirs keep their seeded inputs.
  Call fullF16 = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return full_f16(in[0], in[1], in[2], out);
  };
  for (auto [L, S] : fullShapes)
    cases.push_back({"full_f16", L, S, 64, 128, Semantics{}, {}, fullF16, "", ATTN_F16,
                     ATTN_F16});
  Call causalF16 = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return causal_f16(in[0], in[1], in[2], out);
  };
  for (int64_t L : lengths) {
    Semantics sem;
    sem.allowed = causal;
    cases.push_back({"causal_f16", L, L, 64, 64, sem, {}, causalF16, "", ATTN_F16,
                     ATTN_F16});
  }
  // window_f16: 100 taps left, 30 right, dilation 3, globals [5, 70].
  Call windowF16 = [](const std::vector<const attn_tensor *> &in, attn_tensor *out) {
    return window_f16(in[0], in[1], in[2], out);
  };
  for (int64_t L : lengths) {
    Semantics sem;
    sem.allowed = [](int64_t, int64_t, int64_t i, int64_t j) {
      auto global = [](int64_t x) { return x == 5 || x == 70; };
      int64_t off = j - i;
      return global(i) || global(j) || (off % 3 == 0 && off >= -100 * 3 && off <= 30 * 3);
    };
    const char *globals = L > 70 ? "globals 5, 70" : L > 5 ? "global 5" : "no global";
    cases.push_back({"window_f16", L, L, 64, 64, sem, {}, windowF16, globals, ATTN_F16,
                     ATTN_F16});
  }
#endif
  return cases;
}

//===-- Error paths -----------------------------------------------------------===//

/// Prints one error-path line per check and remembers whether all passed.
class ErrorChecks {
public:
  /// A call that must fail with a message.
  void refused(const std::string &what, int status) {
    const char *msg = attn_last_error();
    report(what, status, status != 0 && msg && *msg, true);
  }
  /// A call that must fail with status `want` and a message containing
  /// `needle`.
  void refused(const std::string &what, int status, int want, const char *needle) {
    const char *msg = attn_last_error();
    report(what, status, status == want && msg && std::strstr(msg, needle), true);
  }
  /// A call that must work (then the device is synchronized).
  void works(const std::string &what, int status) {
    if (status == 0)
      status = devSync();
    report(what, status, status == 0, status != 0);
  }
  bool allPassed() const { return allPass_; }

private:
  void report(const std::string &what, int status, bool pass, bool showMessage) {
    allPass_ = allPass_ && pass;
    const char *msg = attn_last_error();
    std::printf("error path: %-44s status %d%s%s  %s\n", what.c_str(), status,
                showMessage ? ": " : "",
                showMessage ? (msg && *msg ? msg : "(no message)") : "",
                pass ? "PASS" : "FAIL");
  }
  bool allPass_ = true;
};

#ifndef ATTNC_EXAMPLES_F32
/// Calls that must be refused: a host tensor given to a kernel built for
/// the device, as an input, as the output and as a capture, and bf16
/// tensors given to an f16 kernel. Each must return nonzero with a message.
/// Then a valid call must still work.
bool checkErrorPaths(uint64_t seed) {
  const int64_t L = 77, D = 64;
  const size_t qkElems = size_t(kB * kH * L * D);
  const size_t vElems = size_t(kB * kH * L * 128);
  std::vector<unsigned char> hq = normalInput(qkElems, seed, 1000, ATTN_BF16),
                             hk = normalInput(qkElems, seed, 1001, ATTN_BF16),
                             hv = normalInput(vElems, seed, 1002, ATTN_BF16);
  std::vector<unsigned char> hout(vElems * 2, 0xff); // NaN
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
  const std::vector<int64_t> qkShape{kB, kH, L, D}, wideShape{kB, kH, L, 128},
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

  ErrorChecks checks;
  checks.refused(std::string("full_attention, q ") + kWrongDeviceName,
                 full_attention(&hostQ, &k, &v, &out));
  checks.refused(std::string("full_attention, out ") + kWrongDeviceName,
                 full_attention(&q, &k, &v, &hostOut));
  checks.refused(std::string("alibi_attention, slopes ") + kWrongDeviceName,
                 alibi_attention(&q, &k, &v64, &hostSlopes, &out64));
  // The right device, the wrong element type: bf16 tensors, f16 kernel.
  checks.refused("full_f16, q, k, v and out bf16", full_f16(&q, &k, &v, &out));

  // The refusals left the device usable: a valid call works.
  checks.works("full_attention, valid, afterwards", full_attention(&q, &k, &v, &out));
  return checks.allPassed();
}
#else
/// Calls that must be refused: a host tensor given to a kernel built for
/// the device, as an input, as the output and as a capture; bf16 tensors
/// given to an f32 kernel; and widths no variant was compiled for, head
/// width 80 (causal_attention, and full_attention with value width 64) and
/// value width 80 (full_attention, head width 64), which must fail with
/// ATTN_ERR_SHAPE and a message naming the width (on the CPU, where a
/// kernel takes any width, those calls must work). Then valid calls must
/// still work.
bool checkErrorPaths(uint64_t seed) {
  const int64_t L = 77, D = 64, W = 80; // W: no variant for it
  const size_t qkElems = size_t(kB * kH * L * D);
  const size_t vElems = size_t(kB * kH * L * 128);
  const size_t wElems = size_t(kB * kH * L * W);
  std::vector<unsigned char> hq = normalInput(qkElems, seed, 1000, ATTN_F32),
                             hk = normalInput(qkElems, seed, 1001, ATTN_F32),
                             hv = normalInput(vElems, seed, 1002, ATTN_F32),
                             hw = normalInput(wElems, seed, 1003, ATTN_F32);
  std::vector<unsigned char> hout(vElems * 4, 0xff); // NaN
  std::vector<float> hslopes(size_t(kH), 0.5f);
  DeviceBuffer dq, dk, dv, dout, dv64, dout64, dq80, dk80, dv80, dout80;
  if (!dq.upload(hq.data(), qkElems * 4, "uploading q") ||
      !dk.upload(hk.data(), qkElems * 4, "uploading k") ||
      !dv.upload(hv.data(), vElems * 4, "uploading v") ||
      !dout.upload(hout.data(), vElems * 4, "uploading out") ||
      !dv64.upload(hv.data(), qkElems * 4, "uploading v") ||
      !dout64.upload(hout.data(), qkElems * 4, "uploading out") ||
      !dq80.upload(hw.data(), wElems * 4, "uploading q") ||
      !dk80.upload(hw.data(), wElems * 4, "uploading k") ||
      !dv80.upload(hw.data(), wElems * 4, "uploading v") ||
      !dout80.upload(hout.data(), wElems * 4, "uploading out")) {
    std::printf("error paths: FAIL (runtime call failed)\n");
    return false;
  }
  const std::vector<int64_t> qkShape{kB, kH, L, D}, wideShape{kB, kH, L, 128},
      wShape{kB, kH, L, W}, slopeShape{kH};
  attn_tensor q = tensorOn(dq.get(), ATTN_F32, qkShape, kDevice),
              k = tensorOn(dk.get(), ATTN_F32, qkShape, kDevice),
              v = tensorOn(dv.get(), ATTN_F32, wideShape, kDevice),
              out = tensorOn(dout.get(), ATTN_F32, wideShape, kDevice),
              v64 = tensorOn(dv64.get(), ATTN_F32, qkShape, kDevice),
              out64 = tensorOn(dout64.get(), ATTN_F32, qkShape, kDevice),
              q80 = tensorOn(dq80.get(), ATTN_F32, wShape, kDevice),
              k80 = tensorOn(dk80.get(), ATTN_F32, wShape, kDevice),
              v80 = tensorOn(dv80.get(), ATTN_F32, wShape, kDevice),
              out80 = tensorOn(dout80.get(), ATTN_F32, wShape, kDevice);
  // The same shapes and dtypes, in host memory, on the wrong device.
  attn_tensor hostQ = tensorOn(hq.data(), ATTN_F32, qkShape, kWrongDevice),
              hostOut = tensorOn(hout.data(), ATTN_F32, wideShape, kWrongDevice),
              hostSlopes = tensorOn(hslopes.data(), ATTN_F32, slopeShape, kWrongDevice);
  // The right device and shapes, marked bf16 (the buffers are larger than
  // that needs; nothing is read from them).
  attn_tensor bq = tensorOn(dq.get(), ATTN_BF16, qkShape, kDevice),
              bk = tensorOn(dk.get(), ATTN_BF16, qkShape, kDevice),
              bv = tensorOn(dv.get(), ATTN_BF16, wideShape, kDevice),
              bout = tensorOn(dout.get(), ATTN_BF16, wideShape, kDevice);

  ErrorChecks checks;
  checks.refused(std::string("full_attention, q ") + kWrongDeviceName,
                 full_attention(&hostQ, &k, &v, &out));
  checks.refused(std::string("full_attention, out ") + kWrongDeviceName,
                 full_attention(&q, &k, &v, &hostOut));
  checks.refused(std::string("alibi_attention, slopes ") + kWrongDeviceName,
                 alibi_attention(&q, &k, &v64, &hostSlopes, &out64));
  // The right device, the wrong element type: bf16 tensors, f32 kernel.
  checks.refused("full_attention, q, k, v and out bf16",
                 full_attention(&bq, &bk, &bv, &bout));
  // Widths without a variant: refused on the GPU, fine on the CPU.
#ifdef ATTNC_EXAMPLES_ON_CPU
  checks.works("causal_attention D=80 (CPU: any width)",
               causal_attention(&q80, &k80, &v80, &out80));
  checks.works("full_attention D=80 E=64 (CPU: any width)",
               full_attention(&q80, &k80, &v64, &out64));
  checks.works("full_attention D=64 E=80 (CPU: any width)",
               full_attention(&q, &k, &v80, &out80));
#else
  checks.refused("causal_attention D=80 (no variant)",
                 causal_attention(&q80, &k80, &v80, &out80), ATTN_ERR_SHAPE,
                 "no CUDA kernel was compiled for head width 80");
  checks.refused("full_attention D=80 E=64 (no variant)",
                 full_attention(&q80, &k80, &v64, &out64), ATTN_ERR_SHAPE,
                 "no CUDA kernel was compiled for head width 80");
  checks.refused("full_attention D=64 E=80 (no variant)",
                 full_attention(&q, &k, &v80, &out80), ATTN_ERR_SHAPE,
                 "value width 80");
#endif

  // The refusals left the device usable: valid calls work.
  checks.works("causal_attention D=64, valid, afterwards",
               causal_attention(&q, &k, &v64, &out64));
  checks.works("full_attention D=64 E=128, valid, afterwards",
               full_attention(&q, &k, &v, &out));
  return checks.allPassed();
}
#endif

//===-- Command line --------------------------------------------------------===//

[[noreturn]] void usage(const char *error) {
#ifdef ATTNC_EXAMPLES_F32
  const char *const what =
      "  Runs every kernel of examples/*.attn (f32, TF32 tensor cores)\n"
      "  on the GPU (B = %lld, H = %lld, L in {1, 77, 200, 1000} and\n"
      "  more, head widths 32, 64 and 128) and compares all output\n"
      "  elements with a double-precision reference (tolerance %g),\n"
      "  then checks that host tensors, wrong dtypes and widths\n"
      "  without a compiled variant are refused.\n";
#else
  const char *const what =
      "  Runs every kernel of examples/cuda/*.attn (bf16) and\n"
      "  bench/gpu/f16.attn (f16) on the GPU (B = %lld, H = %lld,\n"
      "  L in {1, 77, 200, 1000} and more) and compares all output\n"
      "  elements with a double-precision reference (tolerance %g),\n"
      "  then checks that host tensors and wrong dtypes are refused.\n";
#endif
  if (error)
    std::fprintf(stderr, "%s: %s\n", kProgram, error);
  FILE *to = error ? stderr : stdout;
  std::fprintf(to, "usage: %s [--seed S]\n", kProgram);
  std::fprintf(to, what, (long long)kB, (long long)kH, kTolerance);
  std::fprintf(to, "Exit: 0 all passed, 1 a check or a call failed, 2 no usable CUDA\n"
                   "driver or device, 64 bad command line.\n");
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
  std::printf("%s: %s kernels, B = %lld, H = %lld, variant %s, seed %llu\n",
              kProgram, kWhat, (long long)kB, (long long)kH,
              variant ? variant : "(none)", (unsigned long long)seed);
  std::printf("check: every output element against a double-precision reference "
              "from the same %s inputs; max |error| <= %g, no NaN\n\n",
              kFloat == ATTN_F32 ? "f32" : "bf16 or f16", kTolerance);

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
