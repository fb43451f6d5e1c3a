//===- CudaRuntimeTest.cpp - the runtime's CUDA side on hand-built specs --===//
//
// A CUDA kernel spec written by hand (as attnc's glue would emit it) with a
// tiny PTX kernel: every error path must give its code and a message,
// whether or not the machine has a GPU; where a driver and a device are
// present the kernel also runs.
//
// The runtime opens the CUDA driver once per process, so every scenario
// that may reach the driver runs in a forked child with its own
// ATTN_CUDA_DRIVER, reporting (code, message) pairs back through a pipe:
// the tests hold however the binary is run (by ctest one test at a time,
// or all in one process).
//
//===----------------------------------------------------------------------===//
#include "attnc/runtime_abi.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

// The runtime calls these Halide runtime functions around CPU kernels; a
// generated library defines them. This test links none, so they do nothing.
extern "C" {
halide_error_handler_t halide_set_error_handler(halide_error_handler_t h) {
  return h;
}
int halide_set_num_threads(int n) { return n; }
void halide_shutdown_thread_pool() {}
}

namespace {

//===----------------------------------------------------------------------===//
// The kernel: f32 x[H, L, D] -> f32 y[H, L, D], y = 2x + 1; one block per
// (row, head), its threads striding over the row. Parameters as the ABI
// orders them: x, y, then x's shape and strides, then y's.
//===----------------------------------------------------------------------===//

const char *const kAffinePtx = R"(
.version 7.0
.target sm_80
.address_size 64

.visible .entry attn_test_affine(
  .param .u64 x, .param .u64 y,
  .param .u64 x_h, .param .u64 x_l, .param .u64 x_d,
  .param .u64 x_sh, .param .u64 x_sl, .param .u64 x_sd,
  .param .u64 y_h, .param .u64 y_l, .param .u64 y_d,
  .param .u64 y_sh, .param .u64 y_sl, .param .u64 y_sd)
{
  .reg .pred %p;
  .reg .b32 %r<5>;
  .reg .b64 %rd<20>;
  .reg .f32 %f<3>;
  ld.param.u64 %rd1, [x];
  ld.param.u64 %rd2, [y];
  ld.param.u64 %rd3, [x_d];
  ld.param.u64 %rd4, [x_sh];
  ld.param.u64 %rd5, [x_sl];
  ld.param.u64 %rd6, [x_sd];
  ld.param.u64 %rd7, [y_sh];
  ld.param.u64 %rd8, [y_sl];
  ld.param.u64 %rd9, [y_sd];
  cvta.to.global.u64 %rd1, %rd1;
  cvta.to.global.u64 %rd2, %rd2;
  mov.u32 %r1, %ctaid.y;
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %tid.x;
  mov.u32 %r4, %ntid.x;
  cvt.u64.u32 %rd10, %r1;
  cvt.u64.u32 %rd11, %r2;
  cvt.u64.u32 %rd12, %r3;
  cvt.u64.u32 %rd17, %r4;
  mul.lo.s64 %rd13, %rd10, %rd4;
  mad.lo.s64 %rd13, %rd11, %rd5, %rd13;
  mul.lo.s64 %rd14, %rd10, %rd7;
  mad.lo.s64 %rd14, %rd11, %rd8, %rd14;
$Lloop:
  setp.ge.s64 %p, %rd12, %rd3;
  @%p bra $Ldone;
  mad.lo.s64 %rd15, %rd12, %rd6, %rd13;
  shl.b64 %rd15, %rd15, 2;
  add.s64 %rd15, %rd1, %rd15;
  ld.global.f32 %f1, [%rd15];
  fma.rn.f32 %f2, %f1, 0f40000000, 0f3F800000;
  mad.lo.s64 %rd16, %rd12, %rd9, %rd14;
  shl.b64 %rd16, %rd16, 2;
  add.s64 %rd16, %rd2, %rd16;
  st.global.f32 [%rd16], %f2;
  add.s64 %rd12, %rd12, %rd17;
  bra $Lloop;
$Ldone:
  ret;
}
)";

attn_arg_spec arg(const char *name, bool output) {
  attn_arg_spec a;
  std::memset(&a, 0, sizeof a);
  a.name = name;
  a.dtype = ATTN_F32;
  a.rank = 3;
  a.is_output = output ? 1 : 0;
  a.values = ATTN_VALUES_ANY;
  for (int d = 0; d < 3; ++d)
    a.dims[d] = attn_dim_spec{d, 0}; // H, L, D
  return a;
}

/// The spec attnc's glue would emit for `affine` with one CUDA variant
/// (cuda:sm_80); members may be changed before use.
struct AffineSpec {
  attn_arg_spec args[2] = {arg("x", false), arg("y", true)};
  const char *symbols[3] = {"H", "L", "D"};
  attn_cuda_kernel cuda{kAffinePtx, "attn_test_affine", 80, 32, 0, 1, 0, 0,
                        {0, 0},     {0, 0},             nullptr, 0};
  attn_variant variant{"cuda:sm_80", 0, nullptr, &cuda};
  attn_kernel_spec spec{"cuda_affine", 2, args, 3, symbols, 1, &variant, 0,
                        nullptr};

  AffineSpec() = default;
  AffineSpec(const AffineSpec &) = delete; // spec points into itself
};

int cpuEntryCalls = 0;
int cpuEntry(void **) {
  ++cpuEntryCalls;
  return 0;
}

/// The same kernel built for the CPU (its entry only counts calls).
struct CpuSpec {
  attn_arg_spec args[2] = {arg("x", false), arg("y", true)};
  const char *symbols[3] = {"H", "L", "D"};
  attn_variant variant{"x86-64", 0, cpuEntry, nullptr};
  attn_kernel_spec spec{"cpu_affine", 2, args, 3, symbols, 1, &variant, 0,
                        nullptr};

  CpuSpec() = default;
  CpuSpec(const CpuSpec &) = delete;
};

/// A dense [H, L, D] descriptor on `device`; the data is never touched
/// unless a kernel runs.
attn_tensor tensor(void *data, int64_t h, int64_t l, int64_t d,
                   attn_device device = ATTN_CUDA) {
  int64_t shape[3] = {h, l, d};
  attn_tensor t = attn_make_tensor(data, ATTN_F32, 3, shape);
  t.device = device;
  return t;
}

// Addresses that stand for device memory where no kernel runs: 16-byte
// aligned, far enough apart not to overlap.
void *fakeDevice(uintptr_t n) {
  return reinterpret_cast<void *>(uintptr_t{0x7f0000000000} + (n << 24));
}

int invoke(const attn_kernel_spec &spec, const attn_tensor &x,
           const attn_tensor &y) {
  const attn_tensor *tensors[2] = {&x, &y};
  return attn_invoke(&spec, tensors);
}

//===----------------------------------------------------------------------===//
// Scenarios in child processes
//===----------------------------------------------------------------------===//

/// A call's code and message, or (code kSkip) why a scenario cannot run.
struct Outcome {
  int rc;
  std::string message;
};
using Outcomes = std::vector<Outcome>;
constexpr int kSkip = -1000;

Outcome outcome(int rc) { return {rc, attn_last_error()}; }

void writeAll(int fd, const void *data, size_t n) {
  const char *p = static_cast<const char *>(data);
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0)
      _exit(3);
    p += w;
    n -= size_t(w);
  }
}

/// Runs `body` in a forked child whose ATTN_CUDA_DRIVER is `driver` (unset
/// for nullptr: the system's libcuda.so.1); returns what it recorded.
Outcomes isolated(const char *driver,
                  const std::function<void(Outcomes &)> &body) {
  int fds[2];
  if (pipe(fds) != 0)
    return {{kSkip, "pipe failed"}};
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    if (driver)
      setenv("ATTN_CUDA_DRIVER", driver, 1);
    else
      unsetenv("ATTN_CUDA_DRIVER");
    Outcomes out;
    body(out);
    for (const Outcome &o : out) {
      uint32_t len = uint32_t(o.message.size());
      writeAll(fds[1], &o.rc, sizeof o.rc);
      writeAll(fds[1], &len, sizeof len);
      writeAll(fds[1], o.message.data(), len);
    }
    _exit(0); // no atexit handlers: they belong to the parent's GoogleTest
  }
  close(fds[1]);
  std::string bytes;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;)
    bytes.append(buf, size_t(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "scenario process ended with status " << status;
  Outcomes out;
  for (size_t at = 0; at + 8 <= bytes.size();) {
    Outcome o;
    uint32_t len;
    std::memcpy(&o.rc, bytes.data() + at, 4);
    std::memcpy(&len, bytes.data() + at + 4, 4);
    o.message = bytes.substr(at + 8, len);
    at += 8 + len;
    out.push_back(o);
  }
  return out;
}

const char *const kMissing = "/nonexistent/attnc-test/libcuda.so.1";

void expectError(const Outcome &o, int code, const std::string &fragment) {
  EXPECT_EQ(o.rc, code) << o.message;
  EXPECT_NE(o.message.find(fragment), std::string::npos) << o.message;
}

//===----------------------------------------------------------------------===//
// No driver: every CUDA function fails with ATTN_ERR_CUDA and says why
//===----------------------------------------------------------------------===//

TEST(CudaNoDriver, EveryFunctionNamesTheMissingDriver) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    void *p = fakeDevice(1);
    float host[4] = {};
    o.push_back(outcome(attn_cuda_available()));
    o.push_back(outcome(attn_cuda_malloc(&p, 64)));
    o.push_back(outcome(p == nullptr ? ATTN_OK : -1)); // cleared on failure
    o.push_back(outcome(attn_cuda_free(fakeDevice(1))));
    o.push_back(outcome(attn_cuda_memcpy_to_device(fakeDevice(1), host, 16)));
    o.push_back(outcome(attn_cuda_memcpy_to_host(host, fakeDevice(1), 16)));
    o.push_back(outcome(attn_cuda_synchronize()));
  });
  ASSERT_EQ(r.size(), 7u);
  expectError(r[0], ATTN_ERR_CUDA,
              "attn_cuda_available: the CUDA driver (" + std::string(kMissing) +
                  ", from ATTN_CUDA_DRIVER) could not be loaded: ");
  for (size_t k : {0, 1, 3, 4, 5, 6}) {
    expectError(r[k], ATTN_ERR_CUDA, "libcuda.so.1");
    expectError(r[k], ATTN_ERR_CUDA, "CUDA kernels need an NVIDIA driver "
                                     "(the CPU kernels still run)");
  }
  expectError(r[1], ATTN_ERR_CUDA, "attn_cuda_malloc: ");
  EXPECT_EQ(r[2].rc, ATTN_OK) << "attn_cuda_malloc left *ptr set";
  expectError(r[3], ATTN_ERR_CUDA, "attn_cuda_free: ");
  expectError(r[4], ATTN_ERR_CUDA, "attn_cuda_memcpy_to_device: ");
  expectError(r[5], ATTN_ERR_CUDA, "attn_cuda_memcpy_to_host: ");
  expectError(r[6], ATTN_ERR_CUDA, "attn_cuda_synchronize: ");
}

TEST(CudaNoDriver, KernelCallNamesKernelAndDriver) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    attn_tensor x = tensor(fakeDevice(1), 2, 3, 8);
    attn_tensor y = tensor(fakeDevice(2), 2, 3, 8);
    o.push_back(outcome(invoke(s.spec, x, y)));
    o.push_back(outcome(invoke(s.spec, x, y))); // the failure is remembered
  });
  ASSERT_EQ(r.size(), 2u);
  for (const Outcome &o : r)
    expectError(o, ATTN_ERR_CUDA,
                "cuda_affine: the CUDA driver (" + std::string(kMissing) +
                    ", from ATTN_CUDA_DRIVER) could not be loaded");
}

TEST(CudaNoDriver, DefaultDriverNameIsLibcudaSo1) {
  // Without ATTN_CUDA_DRIVER the runtime opens libcuda.so.1; where that
  // loads (a machine with NVIDIA's driver) this case has nothing to show.
  Outcomes r = isolated(nullptr, [](Outcomes &o) {
    void *p = nullptr;
    o.push_back(outcome(attn_cuda_malloc(&p, 64)));
    if (o.back().message.find("could not be loaded") == std::string::npos)
      o = {{kSkip, "libcuda.so.1 loads here: " + o.back().message}};
    if (p)
      attn_cuda_free(p);
  });
  ASSERT_EQ(r.size(), 1u);
  if (r[0].rc == kSkip)
    GTEST_SKIP() << r[0].message;
  expectError(r[0], ATTN_ERR_CUDA, "attn_cuda_malloc: the CUDA driver "
                                   "(libcuda.so.1) could not be loaded: ");
}

TEST(CudaNoDriver, NotACudaDriver) {
  Outcomes r = isolated("libm.so.6", [](Outcomes &o) {
    o.push_back(outcome(attn_cuda_available()));
  });
  ASSERT_EQ(r.size(), 1u);
  expectError(r[0], ATTN_ERR_CUDA, "the CUDA driver (libm.so.6, from "
                                   "ATTN_CUDA_DRIVER) lacks cuInit");
}

TEST(CudaNoDriver, StubDriverFailsCuInit) {
  std::string stub = "/usr/local/cuda/lib64/stubs/libcuda.so";
  if (const char *home = std::getenv("CUDA_HOME"))
    if (access((std::string(home) + "/lib64/stubs/libcuda.so").c_str(), R_OK) == 0)
      stub = std::string(home) + "/lib64/stubs/libcuda.so";
  if (access(stub.c_str(), R_OK) != 0)
    GTEST_SKIP() << "no CUDA stub driver at " << stub;
  Outcomes r = isolated(stub.c_str(), [](Outcomes &o) {
    AffineSpec s;
    attn_tensor x = tensor(fakeDevice(1), 2, 3, 8);
    attn_tensor y = tensor(fakeDevice(2), 2, 3, 8);
    void *p = nullptr;
    o.push_back(outcome(attn_cuda_available()));
    o.push_back(outcome(invoke(s.spec, x, y)));
    o.push_back(outcome(attn_cuda_malloc(&p, 64)));
  });
  ASSERT_EQ(r.size(), 3u);
  for (const Outcome &o : r) {
    expectError(o, ATTN_ERR_CUDA, "stubs/libcuda.so, from ATTN_CUDA_DRIVER) "
                                  "loaded but cuInit failed: ");
    expectError(o, ATTN_ERR_CUDA, "CUDA_ERROR_STUB_LIBRARY");
  }
  expectError(r[1], ATTN_ERR_CUDA, "cuda_affine: ");
}

TEST(CudaNoDriver, NullArgumentsAndEmptyCopiesNeedNoDriver) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    float host[4] = {};
    o.push_back(outcome(attn_cuda_malloc(nullptr, 64)));
    o.push_back(outcome(attn_cuda_memcpy_to_device(nullptr, host, 16)));
    o.push_back(outcome(attn_cuda_memcpy_to_host(host, nullptr, 16)));
    o.push_back(outcome(attn_cuda_memcpy_to_device(fakeDevice(1), host, 0)));
    o.push_back(outcome(attn_cuda_free(nullptr)));
    o.push_back(outcome(attn_cuda_set_stream(fakeDevice(3))));
    o.push_back(outcome(attn_cuda_set_stream(nullptr)));
  });
  ASSERT_EQ(r.size(), 7u);
  expectError(r[0], ATTN_ERR_NULL, "attn_cuda_malloc: null result pointer");
  expectError(r[1], ATTN_ERR_NULL,
              "attn_cuda_memcpy_to_device: null destination pointer");
  expectError(r[2], ATTN_ERR_NULL, "attn_cuda_memcpy_to_host: null source pointer");
  for (size_t k = 3; k < r.size(); ++k)
    EXPECT_EQ(r[k].rc, ATTN_OK) << k << ": " << r[k].message;
}

TEST(CudaNoDriver, CpuKernelsStillRun) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    CpuSpec s;
    std::vector<float> xs(2 * 3 * 8), ys(xs.size());
    o.push_back(outcome(attn_cuda_available()));
    cpuEntryCalls = 0;
    o.push_back(outcome(invoke(s.spec, tensor(xs.data(), 2, 3, 8, ATTN_CPU),
                               tensor(ys.data(), 2, 3, 8, ATTN_CPU))));
    o.push_back({cpuEntryCalls == 1 ? ATTN_OK : -1, "CPU entry calls"});
  });
  ASSERT_EQ(r.size(), 3u);
  expectError(r[0], ATTN_ERR_CUDA, "could not be loaded");
  EXPECT_EQ(r[1].rc, ATTN_OK) << r[1].message;
  EXPECT_EQ(r[1].message, "");
  EXPECT_EQ(r[2].rc, ATTN_OK) << "the CPU variant did not run once";
}

//===----------------------------------------------------------------------===//
// Checks before the driver: with none loadable, these give their own code
//===----------------------------------------------------------------------===//

TEST(CudaChecks, HostTensorsToCudaKernel) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    std::vector<float> host(2 * 3 * 8);
    o.push_back(outcome(invoke(s.spec, tensor(host.data(), 2, 3, 8, ATTN_CPU),
                               tensor(fakeDevice(2), 2, 3, 8))));
    o.push_back(outcome(invoke(s.spec, tensor(fakeDevice(1), 2, 3, 8),
                               tensor(fakeDevice(2), 2, 3, 8, ATTN_OPENCL))));
  });
  ASSERT_EQ(r.size(), 2u);
  expectError(r[0], ATTN_ERR_DEVICE,
              "cuda_affine: argument 'x' is on device 0 (CPU) but this kernel "
              "was built for CUDA; copy it with attn_cuda_memcpy_to_device");
  expectError(r[1], ATTN_ERR_DEVICE,
              "cuda_affine: argument 'y' is on device 2 (OpenCL) but this "
              "kernel was built for CUDA");
}

TEST(CudaChecks, CudaTensorsToCpuKernel) {
  CpuSpec s;
  std::vector<float> xs(2 * 3 * 8);
  cpuEntryCalls = 0;
  Outcome o = outcome(invoke(s.spec, tensor(xs.data(), 2, 3, 8, ATTN_CPU),
                             tensor(fakeDevice(2), 2, 3, 8, ATTN_CUDA)));
  expectError(o, ATTN_ERR_DEVICE,
              "cpu_affine: argument 'y' is on device 1 (CUDA) but this kernel "
              "was built for the CPU; copy it with attn_cuda_memcpy_to_host");
  EXPECT_EQ(cpuEntryCalls, 0);
}

TEST(CudaChecks, SpecChecksStillApply) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    attn_tensor x = tensor(fakeDevice(1), 2, 3, 8);
    o.push_back(outcome(invoke(s.spec, x, tensor(fakeDevice(2), 2, 4, 8))));
    attn_tensor nul = tensor(nullptr, 2, 3, 8);
    o.push_back(outcome(invoke(s.spec, x, nul)));
  });
  ASSERT_EQ(r.size(), 2u);
  expectError(r[0], ATTN_ERR_SHAPE, "argument 'y' dimension 1 (L) is 4 but "
                                    "'x' binds L = 3");
  expectError(r[1], ATTN_ERR_NULL, "argument 'y' has a null data pointer");
}

/// Runs the kernel with dense_args = `dense` on x (modified by `edit`) and a
/// dense y, with no driver: a layout the kernel refuses gives
/// ATTN_ERR_STRIDES, one it accepts reaches the (missing) driver.
Outcome withLayout(uint64_t dense, const std::function<void(attn_tensor &)> &edit) {
  Outcomes r = isolated(kMissing, [&](Outcomes &o) {
    AffineSpec s;
    s.cuda.dense_args = dense;
    attn_tensor x = tensor(fakeDevice(1), 2, 3, 8);
    edit(x);
    o.push_back(outcome(invoke(s.spec, x, tensor(fakeDevice(2), 2, 3, 8))));
  });
  return r.size() == 1 ? r[0] : Outcome{kSkip, "no outcome"};
}

/// Two CUDA variants specialised for innermost widths 8 and 16 of x (and
/// y): the call's width picks one, another width is refused before the
/// driver is touched.
TEST(CudaChecks, WidthVariantsPickTheMatchingKernel) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    attn_cuda_kernel wide = s.cuda;
    s.cuda.width_args[0] = 0, s.cuda.width_args[1] = 1;
    s.cuda.widths[0] = 8, s.cuda.widths[1] = 8;
    wide.width_args[0] = 0, wide.width_args[1] = 1;
    wide.widths[0] = 16, wide.widths[1] = 16;
    attn_variant variants[2] = {s.variant, {"cuda:sm_80", 0, nullptr, &wide}};
    s.spec.num_variants = 2;
    s.spec.variants = variants;
    for (int64_t width : {8, 16, 12}) {
      attn_tensor x = tensor(fakeDevice(1), 2, 3, width);
      attn_tensor y = tensor(fakeDevice(2), 2, 3, width);
      o.push_back(outcome(invoke(s.spec, x, y)));
    }
  });
  ASSERT_EQ(r.size(), 3u);
  // Widths 8 and 16 reach the (missing) driver: a variant was chosen.
  expectError(r[0], ATTN_ERR_CUDA, "could not be loaded");
  expectError(r[1], ATTN_ERR_CUDA, "could not be loaded");
  expectError(r[2], ATTN_ERR_SHAPE,
              "cuda_affine: no CUDA kernel was compiled for head width 12 and "
              "value width 12 (compiled: 8/8, 16/16)");
}

TEST(CudaChecks, DenseArgsInnermostStride) {
  expectError(withLayout(1, [](attn_tensor &x) {
                x.strides[2] = 2;
                x.strides[1] = 16;
                x.strides[0] = 48;
              }),
              ATTN_ERR_STRIDES,
              "cuda_affine: argument 'x' dimension 2 has stride 2; this CUDA "
              "kernel needs its innermost dimension dense (stride 1)");
}

TEST(CudaChecks, DenseArgsRowStride) {
  expectError(withLayout(1, [](attn_tensor &x) { x.strides[1] = 10; }),
              ATTN_ERR_STRIDES,
              "argument 'x' dimension 1 has stride 10, not a multiple of 4 "
              "elements (16 bytes)");
  expectError(withLayout(1, [](attn_tensor &x) { x.strides[0] = 26; }),
              ATTN_ERR_STRIDES, "argument 'x' dimension 0 has stride 26");
}

TEST(CudaChecks, DenseArgsAlignment) {
  expectError(withLayout(1,
                         [](attn_tensor &x) {
                           x.data = static_cast<char *>(x.data) + 4;
                         }),
              ATTN_ERR_STRIDES, "not 16-byte aligned as this CUDA kernel needs");
}

TEST(CudaChecks, DenseArgsAcceptedLayouts) {
  // Padded rows (whole vectors apart), and dimensions of extent 1 whose
  // strides are never used: accepted, so the call reaches the driver.
  expectError(withLayout(1, [](attn_tensor &x) {
                x.strides[1] = 12;
                x.strides[0] = 40;
              }),
              ATTN_ERR_CUDA, "could not be loaded");
  // Not a dense argument: any stride goes to the kernel as it is.
  expectError(withLayout(0, [](attn_tensor &x) {
                x.strides[2] = 3;
                x.strides[1] = 24;
                x.strides[0] = 72;
                x.data = static_cast<char *>(x.data) + 4;
              }),
              ATTN_ERR_CUDA, "could not be loaded");
}

TEST(CudaChecks, DenseArgsExtentOneStrides) {
  // A dimension of extent 1 is only indexed at 0: its stride, whatever it
  // is (PyTorch leaves any there), passes, so the call reaches the driver.
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    s.cuda.dense_args = 3;
    attn_tensor x = tensor(fakeDevice(1), 1, 3, 8);
    x.strides[0] = 7;
    o.push_back(outcome(invoke(s.spec, x, tensor(fakeDevice(2), 1, 3, 8))));
    s.cuda.dense_args = 1;
    x = tensor(fakeDevice(1), 2, 3, 1);
    x.strides[2] = 5;
    x.strides[1] = 4;
    x.strides[0] = 12;
    o.push_back(outcome(invoke(s.spec, x, tensor(fakeDevice(2), 2, 3, 1))));
  });
  ASSERT_EQ(r.size(), 2u);
  for (const Outcome &o : r)
    expectError(o, ATTN_ERR_CUDA, "could not be loaded");
}

TEST(CudaChecks, OutputSharingAnInputIsRefused) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    attn_tensor x = tensor(fakeDevice(1), 2, 3, 8);
    o.push_back(outcome(invoke(s.spec, x, x)));
  });
  ASSERT_EQ(r.size(), 1u);
  expectError(r[0], ATTN_ERR_STRIDES,
              "cuda_affine: output 'y' shares memory with input 'x'");
}

TEST(CudaChecks, EmptyOutputsNeedNoDriver) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    o.push_back(outcome(invoke(s.spec, tensor(fakeDevice(1), 2, 0, 8),
                               tensor(fakeDevice(2), 2, 0, 8))));
  });
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].rc, ATTN_OK) << r[0].message;
}

TEST(CudaChecks, GridBeyondCudaLimits) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    o.push_back(outcome(invoke(s.spec, tensor(fakeDevice(1), 70000, 3, 8),
                               tensor(fakeDevice(2), 70000, 3, 8))));
  });
  ASSERT_EQ(r.size(), 1u);
  expectError(r[0], ATTN_ERR_SHAPE,
              "cuda_affine: argument 'x' needs a CUDA grid of 3 x 70000 x 1 "
              "blocks; CUDA allows at most 65535 in y and z");
}

TEST(CudaChecks, MalformedDescriptor) {
  Outcomes r = isolated(kMissing, [](Outcomes &o) {
    AffineSpec s;
    attn_tensor x = tensor(fakeDevice(1), 2, 3, 8);
    attn_tensor y = tensor(fakeDevice(2), 2, 3, 8);
    s.cuda.threads = 0;
    o.push_back(outcome(invoke(s.spec, x, y)));
    s.cuda.threads = 32;
    s.cuda.grid_arg = 2;
    o.push_back(outcome(invoke(s.spec, x, y)));
  });
  ASSERT_EQ(r.size(), 2u);
  expectError(r[0], ATTN_ERR_CUDA, "cuda_affine: malformed CUDA kernel "
                                   "descriptor (threads outside [1, 1024])");
  expectError(r[1], ATTN_ERR_CUDA, "(grid_arg is not an argument)");
}

TEST(CudaChecks, SelectedTargetIsTheCudaVariant) {
  static AffineSpec s; // registered for the process's lifetime
  attn_register_kernel(&s.spec);
  ASSERT_NE(attn_selected_target("cuda_affine"), nullptr);
  EXPECT_STREQ(attn_selected_target("cuda_affine"), "cuda:sm_80");
  EXPECT_EQ(s.variant.cpu_features, 0u);
}

TEST(CudaChecks, AbiLayout) {
  // Glue.cpp emits these structs as LLVM IR with x86-64's natural layout.
  EXPECT_EQ(offsetof(attn_cuda_kernel, sm), 16u);
  EXPECT_EQ(offsetof(attn_cuda_kernel, grid_arg), 32u);
  EXPECT_EQ(offsetof(attn_cuda_kernel, dense_args), 40u);
  EXPECT_EQ(offsetof(attn_cuda_kernel, width_args), 48u);
  EXPECT_EQ(offsetof(attn_cuda_kernel, widths), 56u);
  EXPECT_EQ(offsetof(attn_cuda_kernel, cubin), 64u);
  EXPECT_EQ(offsetof(attn_cuda_kernel, cubin_size), 72u);
  EXPECT_EQ(sizeof(attn_cuda_kernel), 80u);
  EXPECT_EQ(offsetof(attn_variant, cuda), 24u);
  EXPECT_EQ(sizeof(attn_variant), 32u);
}

//===----------------------------------------------------------------------===//
// With a driver and a GPU (skipped elsewhere)
//===----------------------------------------------------------------------===//

/// `body` in a child using the system's driver, or one kSkip outcome
/// saying why no driver or device is usable there.
Outcomes onGpu(const std::function<void(Outcomes &)> &body) {
  return isolated(nullptr, [&](Outcomes &o) {
    if (attn_cuda_available() != ATTN_OK)
      o.push_back({kSkip, attn_last_error()});
    else
      body(o);
  });
}

bool skipped(const Outcomes &r) { return r.size() == 1 && r[0].rc == kSkip; }

/// x (innermost stride 2: every other float of its buffer) and a dense y on
/// the device; runs the kernel `times` times and checks y = 2x + 1. Records
/// kAffineSteps + times outcomes.
constexpr size_t kAffineSteps = 9;
void runAffine(Outcomes &o, AffineSpec &s, int times) {
  const int64_t H = 3, L = 37, D = 44; // y dense: rows whole vectors apart
  std::vector<float> xs(H * L * D * 2), ys(H * L * D, -1.f);
  for (size_t i = 0; i < xs.size(); ++i)
    xs[i] = float(i % 97) * 0.25f - 3.f;
  void *dx = nullptr, *dy = nullptr;
  o.push_back(outcome(attn_cuda_malloc(&dx, xs.size() * 4)));
  o.push_back(outcome(attn_cuda_malloc(&dy, ys.size() * 4)));
  o.push_back(outcome(attn_cuda_memcpy_to_device(dx, xs.data(), xs.size() * 4)));
  o.push_back(outcome(attn_cuda_memcpy_to_device(dy, ys.data(), ys.size() * 4)));
  attn_tensor x = tensor(dx, H, L, D), y = tensor(dy, H, L, D);
  x.strides[2] = 2;
  x.strides[1] = 2 * D;
  x.strides[0] = 2 * D * L;
  for (int k = 0; k < times; ++k)
    o.push_back(outcome(invoke(s.spec, x, y)));
  o.push_back(outcome(attn_cuda_synchronize()));
  o.push_back(outcome(attn_cuda_memcpy_to_host(ys.data(), dy, ys.size() * 4)));
  int wrong = 0;
  std::string first;
  for (int64_t i = 0; i < H * L * D; ++i)
    if (ys[i] != 2.f * xs[2 * i] + 1.f && wrong++ == 0)
      first = "y[" + std::to_string(i) + "] = " + std::to_string(ys[i]) +
              ", expected " + std::to_string(2.f * xs[2 * i] + 1.f);
  o.push_back({wrong, std::to_string(wrong) + " wrong values; " + first});
  o.push_back(outcome(attn_cuda_free(dx)));
  o.push_back(outcome(attn_cuda_free(dy)));
}

TEST(CudaGpu, TinyKernelRuns) {
  Outcomes r = onGpu([](Outcomes &o) {
    AffineSpec s;
    s.cuda.dense_args = 2; // y
    runAffine(o, s, 2);    // the second launch reuses the loaded module
  });
  if (skipped(r))
    GTEST_SKIP() << r[0].message;
  ASSERT_EQ(r.size(), kAffineSteps + 2);
  for (const Outcome &x : r)
    EXPECT_EQ(x.rc, ATTN_OK) << x.message;
}

TEST(CudaGpu, OptInSharedMemory) {
  Outcomes r = onGpu([](Outcomes &o) {
    AffineSpec s;
    s.cuda.shared_bytes = 64 * 1024; // beyond the default 48 KiB
    runAffine(o, s, 1);
  });
  if (skipped(r))
    GTEST_SKIP() << r[0].message;
  ASSERT_EQ(r.size(), kAffineSteps + 1);
  for (const Outcome &x : r)
    EXPECT_EQ(x.rc, ATTN_OK) << x.message;
}

TEST(CudaGpu, DriverErrorsAreNamed) {
  Outcomes r = onGpu([](Outcomes &o) {
    void *dx = nullptr, *dy = nullptr;
    attn_cuda_malloc(&dx, 4096);
    attn_cuda_malloc(&dy, 4096);
    attn_tensor x = tensor(dx, 2, 3, 8), y = tensor(dy, 2, 3, 8);
    {
      AffineSpec s;
      s.cuda.sm = 1000;
      o.push_back(outcome(invoke(s.spec, x, y)));
    }
    {
      AffineSpec s;
      s.cuda.ptx = "this is not PTX";
      o.push_back(outcome(invoke(s.spec, x, y)));
    }
    {
      AffineSpec s;
      s.cuda.function = "no_such_function";
      o.push_back(outcome(invoke(s.spec, x, y)));
    }
    {
      AffineSpec s;
      s.cuda.shared_bytes = 64 << 20;
      o.push_back(outcome(invoke(s.spec, x, y)));
    }
    {
      AffineSpec s;
      std::vector<float> host(2 * 3 * 8);
      attn_tensor h = tensor(host.data(), 2, 3, 8); // host memory marked CUDA
      o.push_back(outcome(invoke(s.spec, h, y)));
    }
    attn_cuda_free(dx);
    attn_cuda_free(dy);
    o.push_back(outcome(attn_cuda_malloc(&dx, size_t(1) << 62)));
  });
  if (skipped(r))
    GTEST_SKIP() << r[0].message;
  ASSERT_EQ(r.size(), 6u);
  expectError(r[0], ATTN_ERR_CUDA, "this kernel needs sm_1000 or newer");
  expectError(r[0], ATTN_ERR_CUDA, "cuda_affine: this GPU is sm_");
  expectError(r[1], ATTN_ERR_CUDA, "cuda_affine: cuModuleLoadDataEx (JIT-"
                                   "compiling its PTX) failed: CUDA_ERROR_");
  expectError(r[2], ATTN_ERR_CUDA,
              "cuModuleGetFunction ('no_such_function') failed: CUDA_ERROR_NOT_FOUND");
  expectError(r[3], ATTN_ERR_CUDA, "bytes of shared memory per block, this "
                                   "GPU offers");
  expectError(r[4], ATTN_ERR_DEVICE, "argument 'x' is marked ATTN_CUDA but the "
                                     "CUDA driver does not know its data pointer");
  expectError(r[5], ATTN_ERR_CUDA,
              "attn_cuda_malloc: cuMemAlloc_v2 of 4611686018427387904 bytes "
              "failed: CUDA_ERROR_");
}

} // namespace
