/*===- attnc/runtime_abi.h - used by attnc-generated wrappers only --------===*
 *
 * Each generated C function describes its arguments with attn_arg_spec and
 * lets attn_prepare() check them and convert them into Halide buffers. Not
 * part of the user-facing API.
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
 * (sym = ATTN_DIM_LITERAL) or a derived size such as E/8, which the kernel's
 * own bounds checks cover (sym = ATTN_DIM_DERIVED). */
enum { ATTN_DIM_LITERAL = -1, ATTN_DIM_DERIVED = -2 };
typedef struct attn_dim_spec {
  int32_t sym;
  int64_t value;
} attn_dim_spec;

typedef struct attn_arg_spec {
  const char *name;
  attn_dtype dtype;
  int32_t rank;
  int32_t is_output;
  attn_dim_spec dims[ATTN_MAX_RANK];
} attn_arg_spec;

typedef struct attn_kernel_spec {
  const char *name;
  int32_t num_args;
  const attn_arg_spec *args;
  int32_t num_symbols;
  const char *const *symbols; /* names, for messages */
} attn_kernel_spec;

/* Checks every tensor against the spec (null pointers, rank, dtype, device,
 * literal and symbolic dimensions, strides) and fills one halide_buffer_t
 * per argument (dims in `dims`, ATTN_MAX_RANK per argument). Returns 0 or an
 * attn_status with the message stored for attn_last_error(). */
int attn_prepare(const attn_kernel_spec *spec, const attn_tensor *const *tensors,
                 halide_buffer_t *buffers, halide_dimension_t *dims);

/* 1 when every output has no element: the call has nothing to compute
 * (Halide would still insist that empty inputs cover the regions it reads). */
int attn_outputs_empty(const attn_kernel_spec *spec,
                       const attn_tensor *const *tensors);

/* Call around the Halide entry point: applies the thread count and routes
 * Halide's error messages to attn_last_error(). */
void attn_begin_call(void);
int attn_end_call(const attn_kernel_spec *spec, int halide_status);

/* Set by attn_set_num_threads(); 0 = Halide's default. */
int attn_requested_threads(void);

/* Records a message for attn_last_error(); returns `code`. */
int attn_fail(int code, const char *fmt, ...);

#ifdef __cplusplus
}
#endif

#endif /* ATTNC_RUNTIME_ABI_H */
