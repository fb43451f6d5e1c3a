/*===- cuda.c - CUDA kernels through the driver API, loaded at run time ---===*
 *
 * attnc's CUDA kernels are PTX text that the driver JIT-compiles for the GPU
 * at hand. The runtime talks to the driver API only, found with dlopen when
 * a CUDA kernel or function is first used: no CUDA toolkit at build time,
 * no link against libcuda, so the same library runs CPU kernels on
 * machines without NVIDIA's driver. The few driver types and entry points
 * used are declared here (their ABI has been stable since CUDA 6).
 *
 *===----------------------------------------------------------------------===*/
#include "cuda.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr; /* 64-bit: the _v2 API */
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;

enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_INVALID_VALUE = 1,
  CUDA_ERROR_INVALID_IMAGE = 200,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
  CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
  CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
  CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2,
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6
};

/* Beyond this much dynamic shared memory a kernel must opt in
 * (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES). */
enum { DEFAULT_SHARED_BYTES = 48 * 1024 };
/* CUDA's limits on a grid's y and z extents (x allows 2^31 - 1). */
enum { MAX_GRID_YZ = 65535 };

/* Field, exported symbol (the one cuda.h's macros pick: the _v2 memory
 * functions take 64-bit sizes), parameters. */
#define DRIVER_FUNCTIONS(X)                                                    \
  X(cuInit, "cuInit", (unsigned flags))                                        \
  X(cuDeviceGet, "cuDeviceGet", (CUdevice * device, int ordinal))              \
  X(cuDeviceGetCount, "cuDeviceGetCount", (int *count))                        \
  X(cuDeviceGetAttribute, "cuDeviceGetAttribute",                              \
    (int *value, int attribute, CUdevice device))                              \
  X(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain",                      \
    (CUcontext * context, CUdevice device))                                    \
  X(cuCtxGetCurrent, "cuCtxGetCurrent", (CUcontext * context))                 \
  X(cuCtxSetCurrent, "cuCtxSetCurrent", (CUcontext context))                   \
  X(cuCtxGetDevice, "cuCtxGetDevice", (CUdevice * device))                     \
  X(cuModuleLoadDataEx, "cuModuleLoadDataEx",                                  \
    (CUmodule * module, const void *image, unsigned num_options,              \
     int *options, void **values))                                             \
  X(cuModuleUnload, "cuModuleUnload", (CUmodule module))                       \
  X(cuModuleGetFunction, "cuModuleGetFunction",                                \
    (CUfunction * function, CUmodule module, const char *name))                \
  X(cuFuncSetAttribute, "cuFuncSetAttribute",                                  \
    (CUfunction function, int attribute, int value))                           \
  X(cuLaunchKernel, "cuLaunchKernel",                                          \
    (CUfunction function, unsigned grid_x, unsigned grid_y, unsigned grid_z,  \
     unsigned block_x, unsigned block_y, unsigned block_z,                     \
     unsigned shared_bytes, CUstream stream, void **params, void **extra))     \
  X(cuStreamSynchronize, "cuStreamSynchronize", (CUstream stream))             \
  X(cuMemAlloc, "cuMemAlloc_v2", (CUdeviceptr * ptr, size_t bytes))            \
  X(cuMemFree, "cuMemFree_v2", (CUdeviceptr ptr))                              \
  X(cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2",                                 \
    (CUdeviceptr dst, const void *src, size_t bytes, CUstream stream))         \
  X(cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2",                                 \
    (void *dst, CUdeviceptr src, size_t bytes, CUstream stream))               \
  X(cuPointerGetAttribute, "cuPointerGetAttribute",                            \
    (void *value, int attribute, CUdeviceptr ptr))                             \
  X(cuGetErrorName, "cuGetErrorName", (CUresult result, const char **name))    \
  X(cuGetErrorString, "cuGetErrorString", (CUresult result, const char **text))

static struct {
#define DRIVER_FIELD(field, symbol, params) CUresult(*field) params;
  DRIVER_FUNCTIONS(DRIVER_FIELD)
#undef DRIVER_FIELD
} cu; /* written once, in load_driver */

/*---------------------------------------------------------------------------
 * Messages
 *-------------------------------------------------------------------------*/

/* Names the driver may be unable to give (a stub library answers every
 * call, cuGetErrorName included, with CUDA_ERROR_STUB_LIBRARY). */
static const char *known_result(CUresult r) {
  switch (r) {
  case 1: return "CUDA_ERROR_INVALID_VALUE";
  case 2: return "CUDA_ERROR_OUT_OF_MEMORY";
  case 3: return "CUDA_ERROR_NOT_INITIALIZED";
  case 34: return "CUDA_ERROR_STUB_LIBRARY (the CUDA driver is a stub "
                  "library, not a real driver)";
  case 35: return "CUDA_ERROR_INSUFFICIENT_DRIVER";
  case 100: return "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)";
  }
  return NULL;
}

/* "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)". */
static void describe(CUresult r, char *out, size_t size) {
  const char *name = NULL, *text = NULL;
  if (cu.cuGetErrorName && cu.cuGetErrorName(r, &name) != CUDA_SUCCESS)
    name = NULL;
  if (name && cu.cuGetErrorString && cu.cuGetErrorString(r, &text) != CUDA_SUCCESS)
    text = NULL;
  if (name && text)
    snprintf(out, size, "%s (%s)", name, text);
  else if (name)
    snprintf(out, size, "%s", name);
  else if (known_result(r))
    snprintf(out, size, "%s", known_result(r));
  else
    snprintf(out, size, "CUDA error %d", (int)r);
}

static int call_failed(const char *who, const char *call, CUresult r) {
  char what[320];
  describe(r, what, sizeof what);
  return attn_fail(ATTN_ERR_CUDA, "%s: %s failed: %s", who, call, what);
}

/*---------------------------------------------------------------------------
 * The driver, loaded once per process
 *-------------------------------------------------------------------------*/

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[1024]; /* why the driver is unusable; "" once loaded */

/* Fills `cu` from the library; 0, or 1 with load_error set. */
static int resolve_symbols(void *lib, const char *what) {
  void *sym;
#define DRIVER_RESOLVE(field, symbol, params)                                  \
  if (!(sym = dlsym(lib, symbol))) {                                           \
    snprintf(load_error, sizeof load_error, "the CUDA driver (%s) lacks %s: "  \
             "it is older than CUDA 6 or not a CUDA driver", what, symbol);    \
    return 1;                                                                  \
  }                                                                            \
  memcpy(&cu.field, &sym, sizeof sym);
  DRIVER_FUNCTIONS(DRIVER_RESOLVE)
#undef DRIVER_RESOLVE
  return 0;
}

static void load_driver(void) {
  const char *env = getenv("ATTN_CUDA_DRIVER");
  const char *path = env && env[0] ? env : "libcuda.so.1";
  char what[512];
  snprintf(what, sizeof what, "%s%s", path,
           env && env[0] ? ", from ATTN_CUDA_DRIVER" : "");
  /* RTLD_LOCAL: the driver's symbols stay out of the program's namespace. */
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char *why = dlerror();
    snprintf(load_error, sizeof load_error, "the CUDA driver (%s) could not "
             "be loaded: %s; CUDA kernels need an NVIDIA driver (the CPU "
             "kernels still run)", what, why ? why : "unknown error");
    return;
  }
  if (resolve_symbols(lib, what)) {
    memset(&cu, 0, sizeof cu);
    return;
  }
  CUresult r = cu.cuInit(0);
  if (r != CUDA_SUCCESS) {
    char why[320];
    describe(r, why, sizeof why);
    snprintf(load_error, sizeof load_error, "the CUDA driver (%s) loaded but "
             "cuInit failed: %s; CUDA kernels need an NVIDIA driver and GPU "
             "(the CPU kernels still run)", what, why);
  }
}

static int driver(const char *who) {
  pthread_once(&load_once, load_driver);
  if (load_error[0])
    return attn_fail(ATTN_ERR_CUDA, "%s: %s", who, load_error);
  return ATTN_OK;
}

/*---------------------------------------------------------------------------
 * Contexts and streams
 *-------------------------------------------------------------------------*/

/* Device 0's primary context: the one cudart would use, so memory from
 * cudaMalloc in a program that never made a context current still works. */
static pthread_once_t primary_once = PTHREAD_ONCE_INIT;
static CUcontext primary;
static char primary_error[512];

static void retain_primary(void) {
  char why[320];
  int count = 0;
  CUdevice device;
  const char *call = "cuDeviceGetCount";
  CUresult r = cu.cuDeviceGetCount(&count);
  if (r == CUDA_SUCCESS && count < 1) {
    snprintf(primary_error, sizeof primary_error, "the CUDA driver sees no GPU");
    return;
  }
  if (r == CUDA_SUCCESS) {
    call = "cuDeviceGet";
    r = cu.cuDeviceGet(&device, 0);
  }
  if (r == CUDA_SUCCESS) {
    call = "cuDevicePrimaryCtxRetain";
    r = cu.cuDevicePrimaryCtxRetain(&primary, device);
  }
  if (r != CUDA_SUCCESS) {
    describe(r, why, sizeof why);
    snprintf(primary_error, sizeof primary_error, "%s failed: %s", call, why);
  }
}

/* The context current on this thread, else device 0's primary one made
 * current (contexts are per thread: each new thread needs this again). */
static int current_context(const char *who, CUcontext *context) {
  CUresult r = cu.cuCtxGetCurrent(context);
  if (r != CUDA_SUCCESS)
    return call_failed(who, "cuCtxGetCurrent", r);
  if (*context)
    return ATTN_OK;
  pthread_once(&primary_once, retain_primary);
  if (primary_error[0])
    return attn_fail(ATTN_ERR_CUDA, "%s: %s", who, primary_error);
  r = cu.cuCtxSetCurrent(primary);
  if (r != CUDA_SUCCESS)
    return call_failed(who, "cuCtxSetCurrent", r);
  *context = primary;
  return ATTN_OK;
}

/* The driver loaded and a context current: what every CUDA call needs. */
static int ready(const char *who, CUcontext *context) {
  int rc = driver(who);
  return rc != ATTN_OK ? rc : current_context(who, context);
}

/* Per thread, like the current context and PyTorch's current stream. */
static _Thread_local CUstream stream;

int attn_cuda_set_stream(void *s) {
  stream = (CUstream)s;
  return ATTN_OK;
}

/*---------------------------------------------------------------------------
 * Memory
 *-------------------------------------------------------------------------*/

int attn_cuda_available(void) {
  CUcontext context;
  return ready("attn_cuda_available", &context);
}

int attn_cuda_malloc(void **ptr, size_t bytes) {
  static const char who[] = "attn_cuda_malloc";
  CUcontext context;
  if (!ptr)
    return attn_fail(ATTN_ERR_NULL, "%s: null result pointer", who);
  *ptr = NULL;
  int rc = ready(who, &context);
  if (rc != ATTN_OK)
    return rc;
  CUdeviceptr p;
  CUresult r = cu.cuMemAlloc(&p, bytes ? bytes : 1);
  if (r != CUDA_SUCCESS) {
    char call[64];
    snprintf(call, sizeof call, "cuMemAlloc_v2 of %zu bytes", bytes);
    return call_failed(who, call, r);
  }
  *ptr = (void *)(uintptr_t)p;
  return ATTN_OK;
}

int attn_cuda_free(void *ptr) {
  static const char who[] = "attn_cuda_free";
  CUcontext context;
  if (!ptr)
    return ATTN_OK;
  int rc = ready(who, &context);
  if (rc != ATTN_OK)
    return rc;
  CUresult r = cu.cuMemFree((CUdeviceptr)(uintptr_t)ptr);
  return r == CUDA_SUCCESS ? ATTN_OK : call_failed(who, "cuMemFree_v2", r);
}

/* Copies run on the thread's stream, then wait for it: after the kernels
 * launched there (the stream may be one that does not synchronize with the
 * default stream, as PyTorch's are), and complete when the call returns. */
static int finish_copy(const char *who, const char *call, CUresult r) {
  if (r != CUDA_SUCCESS)
    return call_failed(who, call, r);
  r = cu.cuStreamSynchronize(stream);
  return r == CUDA_SUCCESS ? ATTN_OK : call_failed(who, "cuStreamSynchronize", r);
}

/* What both copies check first: ATTN_OK to go on (`*done` unset), or the
 * call's result (an empty copy succeeds without the driver). */
static int start_copy(const char *who, const void *dst, const void *src,
                      size_t bytes, int *done) {
  CUcontext context;
  *done = 1;
  if (bytes == 0)
    return ATTN_OK;
  if (!dst || !src)
    return attn_fail(ATTN_ERR_NULL, "%s: null %s pointer", who,
                     dst ? "source" : "destination");
  int rc = ready(who, &context);
  *done = rc != ATTN_OK;
  return rc;
}

int attn_cuda_memcpy_to_device(void *dst, const void *src, size_t bytes) {
  static const char who[] = "attn_cuda_memcpy_to_device";
  int done, rc = start_copy(who, dst, src, bytes, &done);
  if (done)
    return rc;
  return finish_copy(who, "cuMemcpyHtoDAsync_v2",
                     cu.cuMemcpyHtoDAsync((CUdeviceptr)(uintptr_t)dst, src,
                                          bytes, stream));
}

int attn_cuda_memcpy_to_host(void *dst, const void *src, size_t bytes) {
  static const char who[] = "attn_cuda_memcpy_to_host";
  int done, rc = start_copy(who, dst, src, bytes, &done);
  if (done)
    return rc;
  return finish_copy(who, "cuMemcpyDtoHAsync_v2",
                     cu.cuMemcpyDtoHAsync(dst, (CUdeviceptr)(uintptr_t)src,
                                          bytes, stream));
}

int attn_cuda_synchronize(void) {
  static const char who[] = "attn_cuda_synchronize";
  CUcontext context;
  int rc = ready(who, &context);
  if (rc != ATTN_OK)
    return rc;
  CUresult r = cu.cuStreamSynchronize(stream);
  return r == CUDA_SUCCESS ? ATTN_OK : call_failed(who, "cuStreamSynchronize", r);
}

/*---------------------------------------------------------------------------
 * Modules: each kernel's PTX JIT-compiled once per context
 *-------------------------------------------------------------------------*/

typedef struct loaded_kernel {
  const attn_cuda_kernel *kernel;
  CUcontext context;
  CUmodule module;
  CUfunction function;
  struct loaded_kernel *next;
} loaded_kernel;

/* Never freed: modules live as long as the process (or their context). */
static pthread_mutex_t modules_lock = PTHREAD_MUTEX_INITIALIZER;
static loaded_kernel *modules;

/* The context's GPU must be at least the kernel's sm (its PTX targets that
 * architecture; the JIT would refuse an older GPU less clearly). */
static int check_capability(const char *who, const attn_cuda_kernel *k,
                            CUdevice *device, int *major_out) {
  int major = 0, minor = 0;
  CUresult r = cu.cuCtxGetDevice(device);
  if (r != CUDA_SUCCESS)
    return call_failed(who, "cuCtxGetDevice", r);
  r = cu.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                              *device);
  if (r == CUDA_SUCCESS)
    r = cu.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                                *device);
  if (r != CUDA_SUCCESS)
    return call_failed(who, "cuDeviceGetAttribute (compute capability)", r);
  if (major * 10 + minor < k->sm)
    return attn_fail(ATTN_ERR_CUDA, "%s: this GPU is sm_%d%d, this kernel "
                     "needs sm_%d or newer", who, major, minor, (int)k->sm);
  *major_out = major;
  return ATTN_OK;
}

/* More than 48 KiB of dynamic shared memory: the function must opt in, up
 * to what the GPU offers. */
static int allow_shared(const char *who, const attn_cuda_kernel *k,
                        CUdevice device, CUfunction f) {
  if (k->shared_bytes <= DEFAULT_SHARED_BYTES)
    return ATTN_OK;
  int most = 0;
  CUresult r = cu.cuDeviceGetAttribute(
      &most, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, device);
  if (r != CUDA_SUCCESS)
    return call_failed(who, "cuDeviceGetAttribute (shared memory per block)", r);
  if (k->shared_bytes > most)
    return attn_fail(ATTN_ERR_CUDA, "%s: this kernel needs %d bytes of shared "
                     "memory per block, this GPU offers %d", who,
                     (int)k->shared_bytes, most);
  r = cu.cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                            k->shared_bytes);
  return r == CUDA_SUCCESS
             ? ATTN_OK
             : call_failed(who, "cuFuncSetAttribute (dynamic shared memory)", r);
}

/* Compiles the PTX, finds its function and prepares it. */
static int load_module(const char *who, const attn_cuda_kernel *k,
                       loaded_kernel *out) {
  CUdevice device;
  int major = 0;
  int rc = check_capability(who, k, &device, &major);
  if (rc != ATTN_OK)
    return rc;
  char log[2048] = "";
  int options[2] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[2] = {log, (void *)(uintptr_t)sizeof log};
  /* The cubin where it runs (same major architecture); the PTX otherwise,
   * or when the driver refuses the cubin. */
  CUresult r = CUDA_ERROR_INVALID_IMAGE;
  int from_cubin = 0;
  if (k->cubin && k->cubin_size && major == k->sm / 10)
    from_cubin = (r = cu.cuModuleLoadDataEx(&out->module, k->cubin, 0, NULL,
                                            NULL)) == CUDA_SUCCESS;
  if (r != CUDA_SUCCESS)
    r = cu.cuModuleLoadDataEx(&out->module, k->ptx, 2, options, values);
  /* ATTN_CUDA_LOG: one line per loaded kernel, saying which image. */
  const char *verbose = getenv("ATTN_CUDA_LOG");
  if (r == CUDA_SUCCESS && verbose && verbose[0] && strcmp(verbose, "0") != 0)
    fprintf(stderr, "attnc runtime: %s: loaded %s (%s)\n", who, k->function,
            from_cubin ? "its cubin" : "its PTX, JIT-compiled by the driver");
  if (r != CUDA_SUCCESS) {
    char what[320];
    describe(r, what, sizeof what);
    log[sizeof log - 1] = '\0';
    return attn_fail(ATTN_ERR_CUDA, "%s: cuModuleLoadDataEx (JIT-compiling "
                     "its PTX) failed: %s%s%s", who, what,
                     log[0] ? "; JIT log: " : "", log);
  }
  r = cu.cuModuleGetFunction(&out->function, out->module, k->function);
  if (r != CUDA_SUCCESS) {
    char call[160];
    snprintf(call, sizeof call, "cuModuleGetFunction ('%.100s')", k->function);
    rc = call_failed(who, call, r);
  } else {
    rc = allow_shared(who, k, device, out->function);
  }
  if (rc != ATTN_OK)
    cu.cuModuleUnload(out->module);
  return rc;
}

/* The kernel's function in `context`, loading it on first use. Loading
 * under the lock: two threads' first calls compile the PTX once. */
static int kernel_function(const char *who, const attn_cuda_kernel *k,
                           CUcontext context, CUfunction *f) {
  int rc = ATTN_OK;
  pthread_mutex_lock(&modules_lock);
  loaded_kernel *l = modules;
  while (l && (l->kernel != k || l->context != context))
    l = l->next;
  if (!l) {
    loaded_kernel fresh = {k, context, NULL, NULL, modules};
    rc = load_module(who, k, &fresh);
    if (rc == ATTN_OK && !(l = malloc(sizeof *l)))
      rc = attn_fail(ATTN_ERR_CUDA, "%s: out of memory", who);
    if (rc == ATTN_OK) {
      *l = fresh;
      modules = l;
    }
  }
  if (l)
    *f = l->function;
  pthread_mutex_unlock(&modules_lock);
  return rc;
}

/*---------------------------------------------------------------------------
 * Launches
 *-------------------------------------------------------------------------*/

/* A descriptor attnc would not write: refuse it before any driver call. */
static int check_descriptor(const attn_kernel_spec *spec,
                            const attn_cuda_kernel *k) {
  const char *why = !k                                    ? "no CUDA kernel"
                    : !k->ptx || !k->function              ? "no PTX or function name"
                    : k->threads < 1 || k->threads > 1024  ? "threads outside [1, 1024]"
                    : k->tile_rows < 1                     ? "tile_rows below 1"
                    : k->shared_bytes < 0                  ? "negative shared_bytes"
                    : k->grid_arg < 0 || k->grid_arg >= spec->num_args
                        ? "grid_arg is not an argument"
                        : NULL;
  if (why)
    return attn_fail(ATTN_ERR_CUDA, "%s: malformed CUDA kernel descriptor (%s)",
                     spec->name, why);
  return ATTN_OK;
}

/* grid.x: tiles of rows of grid_arg's second-innermost dimension; y: its
 * third-innermost (heads); z: every dimension outside (batch). */
static int grid_of(const attn_kernel_spec *spec, const attn_cuda_kernel *k,
                   const attn_tensor *const *tensors, unsigned grid[3]) {
  const attn_tensor *t = tensors[k->grid_arg];
  int64_t x = 1, y = 1, z = 1;
  if (t->rank >= 2)
    x = (t->shape[t->rank - 2] + k->tile_rows - 1) / k->tile_rows;
  if (t->rank >= 3)
    y = t->shape[t->rank - 3];
  /* Each extent is below 2^30 (attn_prepare); stop multiplying past the
   * limit so the product cannot overflow. */
  for (int d = 0; d + 3 < t->rank && z <= MAX_GRID_YZ; ++d)
    z *= t->shape[d];
  if (y > MAX_GRID_YZ || z > MAX_GRID_YZ)
    return attn_fail(ATTN_ERR_SHAPE, "%s: argument '%s' needs a CUDA grid of "
                     "%lld x %lld x %s%lld blocks; CUDA allows at most %d in y "
                     "and z", spec->name, spec->args[k->grid_arg].name,
                     (long long)x, (long long)y, z > MAX_GRID_YZ ? "over " : "",
                     (long long)(z > MAX_GRID_YZ ? MAX_GRID_YZ : z),
                     (int)MAX_GRID_YZ);
  grid[0] = (unsigned)x;
  grid[1] = (unsigned)y;
  grid[2] = (unsigned)z;
  return ATTN_OK;
}

/* A pointer the driver does not know (CUDA_ERROR_INVALID_VALUE) is host
 * memory, or garbage: the kernel would fault on it, asynchronously, and
 * poison the context. Pinned or managed host memory is known and passes. */
static int check_pointers(const attn_kernel_spec *spec,
                          const attn_tensor *const *tensors) {
  for (int a = 0; a < spec->num_args; ++a) {
    unsigned type = 0;
    CUresult r = cu.cuPointerGetAttribute(
        &type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
        (CUdeviceptr)(uintptr_t)tensors[a]->data);
    if (r == CUDA_ERROR_INVALID_VALUE)
      return attn_fail(ATTN_ERR_DEVICE, "%s: argument '%s' is marked "
                       "ATTN_CUDA but the CUDA driver does not know its data "
                       "pointer %p (host memory?); copy it with "
                       "attn_cuda_memcpy_to_device", spec->name,
                       spec->args[a].name, tensors[a]->data);
  }
  return ATTN_OK;
}

/* The kernel's parameters, in attn_cuda_kernel's order: each argument's
 * device pointer, then each argument's shape and strides. */
typedef struct launch_params {
  CUdeviceptr pointers[ATTN_MAX_ARGS];
  int64_t layout[ATTN_MAX_ARGS * 2 * ATTN_MAX_RANK];
  void *params[ATTN_MAX_ARGS * (1 + 2 * ATTN_MAX_RANK)];
} launch_params;

static void build_params(const attn_kernel_spec *spec,
                         const attn_tensor *const *tensors, launch_params *p) {
  int n = 0, m = 0;
  for (int a = 0; a < spec->num_args; ++a) {
    p->pointers[a] = (CUdeviceptr)(uintptr_t)tensors[a]->data;
    p->params[n++] = &p->pointers[a];
  }
  for (int a = 0; a < spec->num_args; ++a) {
    const attn_tensor *t = tensors[a];
    for (int d = 0; d < t->rank; ++d) {
      p->layout[m] = t->shape[d];
      p->params[n++] = &p->layout[m++];
    }
    for (int d = 0; d < t->rank; ++d) {
      p->layout[m] = t->strides[d];
      p->params[n++] = &p->layout[m++];
    }
  }
}

int attn_cuda_launch(const attn_kernel_spec *spec, const attn_variant *variant,
                     const attn_tensor *const *tensors) {
  const attn_cuda_kernel *k = variant->cuda;
  unsigned grid[3];
  CUcontext context;
  CUfunction f;
  int rc = check_descriptor(spec, k);
  if (rc == ATTN_OK)
    rc = grid_of(spec, k, tensors, grid);
  if (rc != ATTN_OK)
    return rc;
  /* No block to run (rows of an empty grid_arg): nothing to compute. */
  if (grid[0] == 0 || grid[1] == 0 || grid[2] == 0)
    return ATTN_OK;
  rc = ready(spec->name, &context);
  if (rc == ATTN_OK)
    rc = check_pointers(spec, tensors);
  if (rc == ATTN_OK)
    rc = kernel_function(spec->name, k, context, &f);
  if (rc != ATTN_OK)
    return rc;
  launch_params p;
  build_params(spec, tensors, &p);
  CUresult r = cu.cuLaunchKernel(f, grid[0], grid[1], grid[2],
                                 (unsigned)k->threads, 1, 1,
                                 (unsigned)k->shared_bytes, stream, p.params,
                                 NULL);
  if (r != CUDA_SUCCESS) {
    char call[256];
    snprintf(call, sizeof call, "cuLaunchKernel (%.100s, grid %ux%ux%u, %d "
             "threads, %d bytes shared)", k->function, grid[0], grid[1],
             grid[2], (int)k->threads, (int)k->shared_bytes);
    return call_failed(spec->name, call, r);
  }
  return ATTN_OK;
}
