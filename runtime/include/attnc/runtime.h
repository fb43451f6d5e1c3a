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
  ATTN_ERR_VALUES = 8    /* an index input holds values it may not (an LSH
                            order that is not a permutation, a bucket out of
                            range) */
} attn_status;

/* The message of the last failed call on this thread ("" if none). */
const char *attn_last_error(void);

/* Threads used by CPU kernels; n <= 0 means one per core. */
void attn_set_num_threads(int n);

/* The target variant (e.g. "x86-64-v4") kernel `kernel` runs with on this
 * CPU: the best one it was compiled for that the CPU supports, unless
 * attn_force_target() or the environment variable ATTN_TARGET names
 * another. NULL when no linked library defines `kernel` or no variant runs
 * here. */
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

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_H */
