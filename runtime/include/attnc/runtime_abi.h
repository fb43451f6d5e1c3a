/*===- attnc/runtime_abi.h - what attnc-generated code calls -------------===*
 *
 * Each generated kernel function is a few instructions of glue (emitted by
 * attnc as LLVM IR, codegen/lib/Glue.cpp): it passes a constant
 * attn_kernel_spec — arguments, symbolic dimensions, compiled variants —
 * and its tensors to attn_invoke(). The structs' layout is the contract
 * between the two. Not part of the user-facing API.
 *
 *===----------------------------------------------------------------------===*/
#ifndef ATTNC_RUNTIME_ABI_H
#define ATTNC_RUNTIME_ABI_H

#include "attnc/runtime.h"

#include <HalideRuntime.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { ATTN_MAX_ARGS = 64, ATTN_MAX_SYMBOLS = 64 };

/* One dimension as declared: symbol number `sym` (>= 0), a literal `value`
 * (sym = ATTN_DIM_LITERAL) or a derived size such as E/8 or H*D
 * (sym = ATTN_DIM_DERIVED, `value` its index in attn_kernel_spec.derived, or
 * -1 when attnc could not read it: then only the kernel's own bounds checks
 * cover it). */
enum { ATTN_DIM_LITERAL = -1, ATTN_DIM_DERIVED = -2 };
typedef struct attn_dim_spec {
  int32_t sym;
  int64_t value;
} attn_dim_spec;

/* What the values of an i32 input must be, checked before the kernel runs
 * (attn_arg_spec.values): anything, a permutation of 0 … n−1 along the
 * innermost dimension (an LSH `order`), or, for a positive value v, every
 * element in [0, v) (sort_chunk's buckets). */
enum { ATTN_VALUES_ANY = 0, ATTN_VALUES_PERMUTATION = -1 };
/* The largest bucket value sort_chunk's counting sort accepts. */
enum { ATTN_MAX_BUCKET_VALUE = 65535 };

/* A derived dimension as a postfix program over the symbols: push symbol
 * `value`, push literal `value`, multiply, divide (exactly: a remainder is
 * an error, as is a zero divisor). */
enum { ATTN_DERIVED_SYMBOL = 0, ATTN_DERIVED_LITERAL = 1, ATTN_DERIVED_MUL = 2,
       ATTN_DERIVED_DIV = 3 };
enum { ATTN_MAX_DERIVED_OPS = 32 };
typedef struct attn_derived_op {
  int32_t op;
  int64_t value;
} attn_derived_op;

typedef struct attn_derived_dim {
  const char *text; /* as declared, e.g. "E/H" */
  int32_t num_ops;
  const attn_derived_op *ops;
} attn_derived_dim;

typedef struct attn_arg_spec {
  const char *name;
  attn_dtype dtype;
  int32_t rank;
  int32_t is_output;
  int32_t values; /* ATTN_VALUES_* or a bound */
  attn_dim_spec dims[ATTN_MAX_RANK];
} attn_arg_spec;

/* CPU features a variant needs; the same bits as attnc::CpuFeature
 * (dialect/include/attnc/Target/TargetInfo.h). */
enum {
  ATTN_CPU_SSE41 = 1 << 0,
  ATTN_CPU_AVX = 1 << 1,
  ATTN_CPU_F16C = 1 << 2,
  ATTN_CPU_FMA = 1 << 3,
  ATTN_CPU_AVX2 = 1 << 4,
  ATTN_CPU_AVX512 = 1 << 5,         /* F + CD */
  ATTN_CPU_AVX512_SKYLAKE = 1 << 6, /* + BW, DQ, VL */
  ATTN_CPU_AVX512_BF16 = 1 << 7     /* + BF16 */
};

/* Halide's argv entry point: args[i] is the halide_buffer_t * of argument i. */
typedef int (*attn_entry_fn)(void **args);

/* A CUDA kernel built by attnc --target=cuda: its PTX and launch shape.
 * Kernel parameters, in order: for each argument of the spec its device
 * pointer (u64); then for each argument its shape (rank int64) followed by
 * its strides in elements (rank int64). */
typedef struct attn_cuda_kernel {
  const char *ptx;        /* NUL-terminated PTX text (JIT-compiled by the driver) */
  const char *function;   /* entry name in the PTX */
  int32_t sm;             /* lowest compute capability it runs on, e.g. 80 */
  int32_t threads;        /* threads per block (blockDim.x; y = z = 1) */
  int32_t shared_bytes;   /* dynamic shared memory per block (0 if none) */
  int32_t tile_rows;      /* grid.x = ceil(shape[rank-2] / tile_rows) of argument grid_arg */
  int32_t grid_arg;       /* grid.y = shape[rank-3], grid.z = product of shape[0 .. rank-4] */
  uint64_t dense_args;    /* bit a set: argument a must have unit innermost stride, its other
                             strides multiples of (16 bytes / element size) and a 16-byte aligned
                             data pointer (vector loads); ATTN_ERR_STRIDES otherwise */
  /* The head and value widths this kernel was specialised for: the
   * innermost extent of arguments width_args[0] (q) and width_args[1] (v)
   * must equal widths[0] and widths[1] (0: any). A kernel declared with a
   * symbolic width has one CUDA variant per width; the first that matches
   * the call runs. */
  int32_t width_args[2];
  int32_t widths[2];
  /* The PTX assembled by ptxas for sm (when attnc found ptxas), or NULL:
   * loaded instead of JIT-compiling the PTX on GPUs of the same major
   * architecture (a cubin for sm_80 runs on sm_8x, not on sm_90). */
  const unsigned char *cubin;
  uint64_t cubin_size;
} attn_cuda_kernel;

/* One compiled variant of a kernel. A kernel's variants are either all CPU
 * (cuda NULL, entry set) or all CUDA (cuda set, entry NULL, cpu_features 0):
 * attnc refuses to mix them, and the runtime decides a kernel's device from
 * variants[0]. */
typedef struct attn_variant {
  const char *target;     /* canonical target name, e.g. "x86-64-v4", "cuda:sm_80" */
  uint64_t cpu_features;  /* ATTN_CPU_* bits it needs */
  attn_entry_fn entry;
  const attn_cuda_kernel *cuda; /* NULL for CPU variants */
} attn_variant;

typedef struct attn_kernel_spec {
  const char *name;
  int32_t num_args;
  const attn_arg_spec *args;
  int32_t num_symbols;
  const char *const *symbols; /* names, for messages */
  int32_t num_variants;
  const attn_variant *variants; /* best first */
  /* Derived dimensions: those of the arguments, then ones the kernel needs
   * to divide exactly (split_heads of a width into heads); every one is
   * evaluated once all symbols are bound. */
  int32_t num_derived;
  const attn_derived_dim *derived;
} attn_kernel_spec;

/* What every generated kernel function does: checks the tensors, picks the
 * best variant this CPU runs (or the forced one), runs it with the thread
 * count applied and Halide's errors routed to attn_last_error(). A CUDA
 * kernel is launched on the stream of attn_cuda_set_stream() and not waited
 * for; its i32 inputs' values are not checked (device memory is not
 * readable from here) and no strided tensor is staged through a dense copy
 * (dense_args are refused with ATTN_ERR_STRIDES instead). */
int attn_invoke(const attn_kernel_spec *spec, const attn_tensor *const *tensors);

/* Called by each generated library's constructor, so that
 * attn_selected_target() knows its kernels before their first call. */
void attn_register_kernel(const attn_kernel_spec *spec);

/* Checks every tensor against the spec (null pointers, rank, dtype, device,
 * literal, symbolic and derived dimensions, strides) and fills one halide_buffer_t
 * per argument (dims in `dims`, ATTN_MAX_RANK per argument). Returns 0 or an
 * attn_status with the message stored for attn_last_error(). Every tensor
 * must be on the kernel's device: CUDA when variants[0].cuda is set, else
 * the CPU. */
int attn_prepare(const attn_kernel_spec *spec, const attn_tensor *const *tensors,
                 halide_buffer_t *buffers, halide_dimension_t *dims);

/* The ATTN_CPU_* features of this CPU (CPUID, with OS support checked). */
uint64_t attn_cpu_features(void);

/* Checks the values of the i32 inputs whose spec asks for it
 * (ATTN_VALUES_*); 0 or ATTN_ERR_VALUES with the message stored. */
int attn_check_values(const attn_kernel_spec *spec,
                      const attn_tensor *const *tensors);

/* sort_chunk as a Halide extern stage: buckets i32[B, H, R, L] (Halide
 * order: position innermost) to order and undo of the same shape; `length`
 * is L. Linear in L per (b, h, round). */
int attn_rt_sort_chunk(halide_buffer_t *buckets, int32_t length,
                       halide_buffer_t *order, halide_buffer_t *undo);

/* Records a message for attn_last_error(); returns `code`. */
int attn_fail(int code, const char *fmt, ...);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_ABI_H */
