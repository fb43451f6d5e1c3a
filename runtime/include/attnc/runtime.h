/*===- attnc/runtime.h - what a program calling attnc kernels sees --------===*
 *
 * Tensors are described by attn_tensor (DLPack-like: data pointer, dtype,
 * rank, shape and strides outermost first, strides in elements). Every
 * generated kernel returns 0 on success; any other value is an error whose
 * message attn_last_error() returns (per thread).
 *
 *===----------------------------------------------------------------------===*/
#ifndef ATTNC_RUNTIME_H
#define ATTNC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { ATTN_MAX_RANK = 8 };

typedef enum { ATTN_F32 = 0, ATTN_F16 = 1, ATTN_BF16 = 2, ATTN_I32 = 3 } attn_dtype;
typedef enum { ATTN_CPU = 0, ATTN_CUDA = 1, ATTN_OPENCL = 2 } attn_device;

typedef struct attn_tensor {
  void *data;                     /* host or device pointer */
  attn_dtype dtype;
  int32_t rank;
  int64_t shape[ATTN_MAX_RANK];   /* outermost first: [B, H, L, D] */
  int64_t strides[ATTN_MAX_RANK]; /* in elements, outermost first */
  attn_device device;
} attn_tensor;

/* Error codes returned by generated kernels. */
typedef enum {
  ATTN_OK = 0,
  ATTN_ERR_NULL = 1,     /* a null tensor or data pointer */
  ATTN_ERR_RANK = 2,     /* wrong rank */
  ATTN_ERR_DTYPE = 3,    /* wrong element type */
  ATTN_ERR_SHAPE = 4,    /* a dimension disagrees with its declaration */
  ATTN_ERR_STRIDES = 5,  /* negative, zero or overlapping output strides */
  ATTN_ERR_DEVICE = 6,   /* tensor on a device this kernel was not built for */
  ATTN_ERR_KERNEL = 7,   /* the kernel itself failed (message from Halide) */
  ATTN_ERR_VALUES = 8,   /* an index input holds values it may not (an LSH
                            order that is not a permutation, a bucket out of
                            range) */
  ATTN_ERR_CUDA = 9      /* the CUDA driver is missing or a driver call
                            failed (the message names it) */
} attn_status;

/* The message of the last failed call on this thread ("" if none). */
const char *attn_last_error(void);

/* Threads used by CPU kernels; n <= 0 means one per core. */
void attn_set_num_threads(int n);

/* The target variant (e.g. "x86-64-v4") kernel `kernel` runs with on this
 * CPU: the best one it was compiled for that the CPU supports, unless
 * attn_force_target() or the environment variable ATTN_TARGET names
 * another. NULL when no linked library defines `kernel` or no variant runs
 * here. For a kernel built for CUDA, its variant's name (e.g. "cuda:sm_80")
 * without asking the driver: attn_cuda_available() says whether it can run. */
const char *attn_selected_target(const char *kernel);

/* Makes every kernel run its variant named `target` (NULL or "" restores
 * the automatic choice). A kernel without that variant, or whose variant
 * this CPU cannot run, then fails with ATTN_ERR_DEVICE at its call (the
 * name is not checked here). Returns 0, or ATTN_ERR_DEVICE for a name
 * longer than 63 characters. */
int attn_force_target(const char *target);

/* The LSH rotation rot[h, d, r, n] that `hash_bucket(..., seed = seed)` and
 * `lsh_attend(..., seed = seed)` use (rot is f32[H, D, rounds, buckets/2]):
 * Philox-4x32-10 with counter (n, r, d, h) and key (seed mod 2^32,
 * seed / 2^32) gives x0, x1; u1 = (x0 + 0.5)/2^32, u2 = x1/2^32; the value
 * is sqrt(−2 ln u1)·cos(2π u2) in double, rounded once to float. The same
 * on every target and every run (docs/language.md lists its first values). */
float attn_lsh_rotation(uint64_t seed, uint32_t h, uint32_t d, uint32_t r,
                        uint32_t n);

/* A dense, row-major (outermost-first) descriptor for `data`. */
attn_tensor attn_make_tensor(void *data, attn_dtype dtype, int32_t rank,
                             const int64_t *shape);

/*---------------------------------------------------------------------------
 * CUDA. Kernels built with attnc --target=cuda take tensors whose device is
 * ATTN_CUDA and whose data are device pointers (from attn_cuda_malloc,
 * cudaMalloc, PyTorch, ...); a tensor whose data the driver does not know
 * (host memory) is refused with ATTN_ERR_DEVICE. The runtime needs no CUDA
 * toolkit: it loads the driver (libcuda.so.1, or the file named by the
 * environment variable ATTN_CUDA_DRIVER) once, when a CUDA function or
 * kernel is first used, so CPU kernels still link and run on a machine
 * without one. Kernels and copies use the context current on the calling
 * thread (the one cudart or PyTorch made current), else device 0's primary
 * context, which is then made current. Each function returns 0, or
 * ATTN_ERR_CUDA with a message naming what is missing or which driver call
 * failed (ATTN_ERR_NULL for a null pointer argument). A kernel's first call
 * in a context loads its cubin where the GPU runs it, else its PTX (the
 * driver JIT-compiles it); ATTN_CUDA_LOG=1 prints which on stderr.
 *-------------------------------------------------------------------------*/

/* The CUstream (cudaStream_t) CUDA kernels and copies on the calling thread
 * use from now on; NULL: the default stream. Kernels are launched
 * asynchronously on it. Returns 0. */
int attn_cuda_set_stream(void *stream);

/* 0 when the driver loads, initializes and shows a device with a usable
 * context; else ATTN_ERR_CUDA with the reason. */
int attn_cuda_available(void);

/* Device memory: *ptr receives `bytes` of it (at least 1, so that empty
 * tensors still get a data pointer), 256-byte aligned. */
int attn_cuda_malloc(void **ptr, size_t bytes);
int attn_cuda_free(void *ptr); /* NULL: nothing to free */

/* Copies between host and device memory, ordered after the work on the
 * stream (attn_cuda_set_stream) and finished when they return. */
int attn_cuda_memcpy_to_device(void *dst, const void *src, size_t bytes);
int attn_cuda_memcpy_to_host(void *dst, const void *src, size_t bytes);

/* Waits for the stream; reports errors of the kernels it ran (an illegal
 * address, a launch failure) that their asynchronous calls could not. */
int attn_cuda_synchronize(void);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_H */
