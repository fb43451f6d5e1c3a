/*===- runtime.c - the thin attnc runtime ---------------------------------===*
 *
 * Checks caller tensors before any kernel touches memory and converts them
 * to Halide buffers (Halide numbers dimensions innermost first, attn_tensor
 * outermost first). Depends on nothing but libc and Halide's runtime header;
 * the Halide runtime itself lives in each generated library.
 *
 *===----------------------------------------------------------------------===*/
#include "attnc/runtime_abi.h"

#include "cuda.h"
#include "scratch.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Weak: the Halide runtime comes in each CPU kernel library, whose kernels
 * pull it in at link time. A program whose kernels are all CUDA links none
 * (nothing in a CUDA library refers to it) and never takes the CPU path
 * that calls these. */
#pragma weak halide_set_error_handler
#pragma weak halide_set_num_threads
#pragma weak halide_shutdown_thread_pool

static _Thread_local char last_error[1024];
static int requested_threads; /* atomic */

const char *attn_last_error(void) { return last_error; }

void attn_set_num_threads(int n) {
  __atomic_store_n(&requested_threads, n > 0 ? n : 0, __ATOMIC_RELAXED);
}

int attn_fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return code;
}

attn_tensor attn_make_tensor(void *data, attn_dtype dtype, int32_t rank,
                             const int64_t *shape) {
  attn_tensor t;
  memset(&t, 0, sizeof t);
  t.data = data;
  t.dtype = dtype;
  t.device = ATTN_CPU;
  /* No shape for a non-empty rank, or a rank out of range: a descriptor
   * every kernel refuses (rank -1), never a read through NULL. */
  if (rank < 0 || rank > ATTN_MAX_RANK || (rank > 0 && !shape)) {
    t.rank = -1;
    return t;
  }
  t.rank = rank;
  int64_t stride = 1;
  for (int i = t.rank - 1; i >= 0; --i) {
    t.shape[i] = shape[i];
    t.strides[i] = stride;
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
  t.device = ATTN_CPU;
  return t;
}

static const char *dtype_name(attn_dtype t) {
  switch (t) {
  case ATTN_F32: return "f32";
  case ATTN_F16: return "f16";
  case ATTN_BF16: return "bf16";
  case ATTN_I32: return "i32";
  }
  return "unknown";
}

static const char *device_name(attn_device d) {
  switch (d) {
  case ATTN_CPU: return "CPU";
  case ATTN_CUDA: return "CUDA";
  case ATTN_OPENCL: return "OpenCL";
  }
  return "unknown";
}

/* The device a kernel was built for: attnc never mixes CPU and CUDA
 * variants in one kernel, so the first one says. */
static attn_device kernel_device(const attn_kernel_spec *spec) {
  return spec->num_variants > 0 && spec->variants[0].cuda ? ATTN_CUDA : ATTN_CPU;
}

/* A tensor on another device than the kernel's: name both, and the copy
 * that fixes it where there is one. */
static int wrong_device(const attn_kernel_spec *spec, const attn_arg_spec *arg,
                        const attn_tensor *t, attn_device want) {
  const char *hint = "";
  if (want == ATTN_CUDA && t->device == ATTN_CPU)
    hint = "; copy it with attn_cuda_memcpy_to_device";
  else if (want == ATTN_CPU && t->device == ATTN_CUDA)
    hint = "; copy it with attn_cuda_memcpy_to_host";
  return attn_fail(ATTN_ERR_DEVICE, "%s: argument '%s' is on device %d (%s) "
                   "but this kernel was built for %s%s", spec->name, arg->name,
                   (int)t->device, device_name(t->device),
                   want == ATTN_CUDA ? "CUDA" : "the CPU", hint);
}

static struct halide_type_t halide_type(attn_dtype t) {
  struct halide_type_t h;
  h.lanes = 1;
  switch (t) {
  case ATTN_F32: h.code = halide_type_float; h.bits = 32; break;
  case ATTN_F16: h.code = halide_type_float; h.bits = 16; break;
  case ATTN_BF16: h.code = halide_type_bfloat; h.bits = 16; break;
  default: h.code = halide_type_int; h.bits = 32; break;
  }
  return h;
}

/* An output must not have two elements at one address, or the kernel would
 * race with itself: with strides sorted, each must exceed the span of the
 * dimensions inside it. */
static int output_overlaps(const attn_tensor *t) {
  int order[ATTN_MAX_RANK], n = 0;
  for (int i = 0; i < t->rank; ++i)
    if (t->shape[i] > 1)
      order[n++] = i;
  for (int a = 1; a < n; ++a)
    for (int b = a; b > 0 && t->strides[order[b]] < t->strides[order[b - 1]]; --b) {
      int tmp = order[b];
      order[b] = order[b - 1];
      order[b - 1] = tmp;
    }
  int64_t span = 1;
  for (int k = 0; k < n; ++k) {
    int64_t s = t->strides[order[k]];
    if (s < span)
      return 1;
    span = s * t->shape[order[k]];
  }
  return 0;
}

/* The symbols bound so far: value, argument and dimension that bound each. */
typedef struct attn_bindings {
  int64_t value[ATTN_MAX_SYMBOLS];
  int by[ATTN_MAX_SYMBOLS]; /* argument, -1 while unbound */
  int axis[ATTN_MAX_SYMBOLS];
} attn_bindings;

enum { DERIVED_OK = 0, DERIVED_INEXACT, DERIVED_ZERO, DERIVED_OVERFLOW,
       DERIVED_UNREADABLE };

/* Runs a derived dimension's postfix program over the bound symbols. */
static int eval_derived(const attn_kernel_spec *spec, const attn_derived_dim *dd,
                        const attn_bindings *b, int64_t *out) {
  int64_t stack[ATTN_MAX_DERIVED_OPS];
  int n = 0;
  for (int k = 0; k < dd->num_ops; ++k) {
    const attn_derived_op *op = &dd->ops[k];
    if (op->op == ATTN_DERIVED_SYMBOL || op->op == ATTN_DERIVED_LITERAL) {
      if (n == ATTN_MAX_DERIVED_OPS)
        return DERIVED_UNREADABLE;
      if (op->op == ATTN_DERIVED_LITERAL) {
        stack[n++] = op->value;
        continue;
      }
      if (op->value < 0 || op->value >= spec->num_symbols ||
          op->value >= ATTN_MAX_SYMBOLS || b->by[op->value] < 0)
        return DERIVED_UNREADABLE;
      stack[n++] = b->value[op->value];
      continue;
    }
    if (n < 2)
      return DERIVED_UNREADABLE;
    int64_t x = stack[n - 2], y = stack[n - 1];
    --n;
    if (op->op == ATTN_DERIVED_MUL) {
      if (__builtin_mul_overflow(x, y, &stack[n - 1]))
        return DERIVED_OVERFLOW;
    } else if (op->op == ATTN_DERIVED_DIV) {
      if (y == 0)
        return DERIVED_ZERO;
      if (x % y != 0)
        return DERIVED_INEXACT;
      stack[n - 1] = x / y;
    } else {
      return DERIVED_UNREADABLE;
    }
  }
  if (n != 1)
    return DERIVED_UNREADABLE;
  *out = stack[0];
  return DERIVED_OK;
}

/* "E = 10 from 'x' dimension 2, H = 4 from 'heads' dimension 0": the
 * symbols a derived dimension reads, for messages. */
static void describe_derived(const attn_kernel_spec *spec,
                             const attn_derived_dim *dd, const attn_bindings *b,
                             char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (int k = 0; k < dd->num_ops; ++k) {
    const attn_derived_op *op = &dd->ops[k];
    if (op->op != ATTN_DERIVED_SYMBOL || op->value < 0 ||
        op->value >= spec->num_symbols || op->value >= ATTN_MAX_SYMBOLS ||
        b->by[op->value] < 0)
      continue;
    int seen = 0;
    for (int e = 0; e < k; ++e)
      seen |= dd->ops[e].op == ATTN_DERIVED_SYMBOL && dd->ops[e].value == op->value;
    if (seen || used >= size)
      continue;
    int s = (int)op->value;
    int w = snprintf(out + used, size - used, "%s%s = %lld from '%s' dimension %d",
                     used ? ", " : "", spec->symbols[s], (long long)b->value[s],
                     spec->args[b->by[s]].name, b->axis[s]);
    if (w > 0)
      used += (size_t)w;
  }
}

/* Every derived dimension once the symbols are bound: each division exact
 * (split_heads' heads divide the width), each argument's derived extent
 * what the symbols give. */
static int check_derived(const attn_kernel_spec *spec,
                         const attn_tensor *const *tensors,
                         const attn_bindings *b) {
  char who[512];
  int64_t v;
  for (int x = 0; x < spec->num_derived; ++x) {
    const attn_derived_dim *dd = &spec->derived[x];
    int rc = eval_derived(spec, dd, b, &v);
    if (rc == DERIVED_OK || rc == DERIVED_UNREADABLE)
      continue;
    describe_derived(spec, dd, b, who, sizeof who);
    return attn_fail(ATTN_ERR_SHAPE, "%s: dimension %s %s (%s)", spec->name,
                     dd->text,
                     rc == DERIVED_INEXACT ? "is not a whole number"
                     : rc == DERIVED_ZERO  ? "divides by zero"
                                           : "overflows 64 bits",
                     who);
  }
  for (int a = 0; a < spec->num_args; ++a) {
    const attn_arg_spec *arg = &spec->args[a];
    for (int d = 0; d < arg->rank; ++d) {
      const attn_dim_spec *ds = &arg->dims[d];
      if (ds->sym != ATTN_DIM_DERIVED || ds->value < 0 ||
          ds->value >= spec->num_derived)
        continue;
      const attn_derived_dim *dd = &spec->derived[ds->value];
      if (eval_derived(spec, dd, b, &v) != DERIVED_OK || tensors[a]->shape[d] == v)
        continue;
      describe_derived(spec, dd, b, who, sizeof who);
      return attn_fail(ATTN_ERR_SHAPE, "%s: argument '%s' dimension %d (%s) is "
                       "%lld but %s = %lld (%s)", spec->name, arg->name, d,
                       dd->text, (long long)tensors[a]->shape[d], dd->text,
                       (long long)v, who);
    }
  }
  return ATTN_OK;
}

int attn_prepare(const attn_kernel_spec *spec, const attn_tensor *const *tensors,
                 halide_buffer_t *buffers, halide_dimension_t *dims) {
  attn_bindings binding;
  int64_t *bound = binding.value;
  int *bound_by = binding.by;
  for (int s = 0; s < spec->num_symbols && s < ATTN_MAX_SYMBOLS; ++s)
    bound_by[s] = -1;
  last_error[0] = '\0';
  attn_device device = kernel_device(spec);

  for (int a = 0; a < spec->num_args; ++a) {
    const attn_arg_spec *arg = &spec->args[a];
    const attn_tensor *t = tensors[a];
    if (!t)
      return attn_fail(ATTN_ERR_NULL, "%s: argument '%s' is a null tensor",
                       spec->name, arg->name);
    if (!t->data)
      return attn_fail(ATTN_ERR_NULL, "%s: argument '%s' has a null data pointer",
                       spec->name, arg->name);
    if (t->device != device)
      return wrong_device(spec, arg, t, device);
    if (t->rank < 0 || t->rank > ATTN_MAX_RANK)
      return attn_fail(ATTN_ERR_RANK, "%s: argument '%s' is not a valid tensor "
                       "descriptor (rank %d; attn_make_tensor was given no "
                       "shape or a rank outside [0, %d])", spec->name,
                       arg->name, (int)t->rank, (int)ATTN_MAX_RANK);
    if (t->rank != arg->rank)
      return attn_fail(ATTN_ERR_RANK, "%s: argument '%s' has rank %d, expected %d",
                       spec->name, arg->name, (int)t->rank, (int)arg->rank);
    if (t->dtype != arg->dtype)
      return attn_fail(ATTN_ERR_DTYPE, "%s: argument '%s' has dtype %s, expected %s",
                       spec->name, arg->name, dtype_name(t->dtype),
                       dtype_name(arg->dtype));
    for (int d = 0; d < arg->rank; ++d) {
      int64_t extent = t->shape[d];
      const attn_dim_spec *ds = &arg->dims[d];
      /* Positions must fit 32-bit index arithmetic with room for offsets
       * (masks, windows): codegen relies on this bound. */
      if (extent < 0 || extent >= ((int64_t)1 << 30))
        return attn_fail(ATTN_ERR_SHAPE, "%s: argument '%s' dimension %d has "
                         "size %lld, outside [0, 2^30)", spec->name, arg->name,
                         d, (long long)extent);
      if (ds->sym == ATTN_DIM_DERIVED) {
        /* E/8 and the like: checked once every symbol is bound. */
      } else if (ds->sym == ATTN_DIM_LITERAL) {
        if (extent != ds->value)
          return attn_fail(ATTN_ERR_SHAPE, "%s: argument '%s' dimension %d is "
                           "%lld, declared %lld", spec->name, arg->name, d,
                           (long long)extent, (long long)ds->value);
      } else if (bound_by[ds->sym] < 0) {
        bound[ds->sym] = extent;
        bound_by[ds->sym] = a;
        binding.axis[ds->sym] = d;
      } else if (bound[ds->sym] != extent) {
        return attn_fail(ATTN_ERR_SHAPE, "%s: argument '%s' dimension %d (%s) "
                         "is %lld but '%s' binds %s = %lld", spec->name,
                         arg->name, d, spec->symbols[ds->sym], (long long)extent,
                         spec->args[bound_by[ds->sym]].name,
                         spec->symbols[ds->sym], (long long)bound[ds->sym]);
      }
      if (t->strides[d] < 0 || (t->strides[d] == 0 && extent > 1 && arg->is_output))
        return attn_fail(ATTN_ERR_STRIDES, "%s: argument '%s' dimension %d has "
                         "stride %lld", spec->name, arg->name, d,
                         (long long)t->strides[d]);
      if (t->strides[d] > ((int64_t)1 << 31) - 1)
        return attn_fail(ATTN_ERR_STRIDES, "%s: argument '%s' dimension %d has "
                         "stride %lld, beyond 2^31", spec->name, arg->name, d,
                         (long long)t->strides[d]);
    }
    if (arg->is_output && output_overlaps(t))
      return attn_fail(ATTN_ERR_STRIDES, "%s: output '%s' has overlapping "
                       "strides", spec->name, arg->name);

    halide_buffer_t *b = &buffers[a];
    halide_dimension_t *hd = &dims[a * ATTN_MAX_RANK];
    memset(b, 0, sizeof *b);
    for (int d = 0; d < arg->rank; ++d) {
      int src = arg->rank - 1 - d; /* Halide: innermost first */
      hd[d].min = 0;
      hd[d].extent = (int32_t)t->shape[src];
      hd[d].stride = (int32_t)t->strides[src];
      hd[d].flags = 0;
    }
    b->host = (uint8_t *)t->data;
    b->type = halide_type(arg->dtype);
    b->dimensions = arg->rank;
    b->dim = hd;
  }
  return check_derived(spec, tensors, &binding);
}

/* 1 when every output has no element: the call has nothing to compute
 * (Halide would still insist that empty inputs cover the regions it reads). */
static int outputs_empty(const attn_kernel_spec *spec,
                         const attn_tensor *const *tensors) {
  for (int a = 0; a < spec->num_args; ++a) {
    if (!spec->args[a].is_output)
      continue;
    int64_t n = 1;
    for (int d = 0; d < tensors[a]->rank; ++d)
      n *= tensors[a]->shape[d];
    if (n != 0)
      return 0;
  }
  return 1;
}

/*---------------------------------------------------------------------------
 * Variants: the best one this CPU runs, or the forced one
 *-------------------------------------------------------------------------*/

uint64_t attn_cpu_features(void) {
  static uint64_t features;
  static int known;
  if (__atomic_load_n(&known, __ATOMIC_ACQUIRE))
    return __atomic_load_n(&features, __ATOMIC_RELAXED);
  uint64_t f = 0;
  __builtin_cpu_init();
  /* libgcc/compiler-rt report AVX and AVX-512 only when the OS saves their
   * registers (XGETBV), so a feature here is one a kernel may use. */
  if (__builtin_cpu_supports("sse4.1")) f |= ATTN_CPU_SSE41;
  if (__builtin_cpu_supports("avx")) f |= ATTN_CPU_AVX;
  if (__builtin_cpu_supports("f16c")) f |= ATTN_CPU_F16C;
  if (__builtin_cpu_supports("fma")) f |= ATTN_CPU_FMA;
  if (__builtin_cpu_supports("avx2")) f |= ATTN_CPU_AVX2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd"))
    f |= ATTN_CPU_AVX512;
  if ((f & ATTN_CPU_AVX512) && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    f |= ATTN_CPU_AVX512_SKYLAKE;
  if ((f & ATTN_CPU_AVX512_SKYLAKE) && __builtin_cpu_supports("avx512bf16"))
    f |= ATTN_CPU_AVX512_BF16;
  /* First calls may race here; each writes the same value, atomically. */
  __atomic_store_n(&features, f, __ATOMIC_RELAXED);
  __atomic_store_n(&known, 1, __ATOMIC_RELEASE);
  return f;
}

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
enum { MAX_REGISTERED = 4096 };
static const attn_kernel_spec *registry[MAX_REGISTERED];
static int registered;
static char forced_target[64]; /* "" = automatic; guarded by registry_lock */
static int forced_from_env;

void attn_register_kernel(const attn_kernel_spec *spec) {
  pthread_mutex_lock(&registry_lock);
  if (registered < MAX_REGISTERED)
    registry[registered++] = spec;
  pthread_mutex_unlock(&registry_lock);
}

/* The forced target, read from ATTN_TARGET once unless set by a call. */
static void forced(char *out, size_t size) {
  pthread_mutex_lock(&registry_lock);
  if (!forced_from_env) {
    const char *env = getenv("ATTN_TARGET");
    if (env && strlen(env) < sizeof forced_target)
      strcpy(forced_target, env);
    forced_from_env = 1;
  }
  snprintf(out, size, "%s", forced_target);
  pthread_mutex_unlock(&registry_lock);
}

static const attn_variant *select_variant(const attn_kernel_spec *spec,
                                          int report) {
  char want[64];
  forced(want, sizeof want);
  uint64_t cpu = attn_cpu_features();
  for (int k = 0; k < spec->num_variants; ++k) {
    const attn_variant *v = &spec->variants[k];
    if (want[0] && strcmp(v->target, want) != 0)
      continue;
    if ((v->cpu_features & cpu) == v->cpu_features)
      return v;
    if (report)
      attn_fail(ATTN_ERR_DEVICE, "%s: variant %s needs CPU features this "
                "CPU lacks", spec->name, v->target);
    return NULL;
  }
  if (report) {
    if (want[0])
      attn_fail(ATTN_ERR_DEVICE, "%s: no variant for the forced target '%s'",
                spec->name, want);
    else
      attn_fail(ATTN_ERR_DEVICE, "%s: none of its %d variant(s) (best: %s) "
                "runs on this CPU", spec->name, (int)spec->num_variants,
                spec->num_variants ? spec->variants[0].target : "none");
  }
  return NULL;
}

const char *attn_selected_target(const char *kernel) {
  const attn_kernel_spec *spec = NULL;
  pthread_mutex_lock(&registry_lock);
  for (int k = 0; kernel && k < registered && !spec; ++k)
    if (strcmp(registry[k]->name, kernel) == 0)
      spec = registry[k];
  pthread_mutex_unlock(&registry_lock);
  if (!spec)
    return NULL;
  const attn_variant *v = select_variant(spec, 0);
  return v ? v->target : NULL;
}

int attn_force_target(const char *target) {
  if (target && strlen(target) >= sizeof forced_target)
    return attn_fail(ATTN_ERR_DEVICE, "target name '%.32s...' is too long",
                     target);
  pthread_mutex_lock(&registry_lock);
  snprintf(forced_target, sizeof forced_target, "%s", target ? target : "");
  forced_from_env = 1;
  pthread_mutex_unlock(&registry_lock);
  return ATTN_OK;
}

/*---------------------------------------------------------------------------
 * Calls
 *-------------------------------------------------------------------------*/

static void route_halide_error(void *user_context, const char *msg) {
  (void)user_context;
  attn_fail(ATTN_ERR_KERNEL, "%s", msg);
}

/* Kernels run under the read side; changing the thread count takes the
 * write side, so Halide's pool is never restarted under a running kernel.
 * (Halide's pool keeps the workers it has spawned: lowering the count of a
 * running pool does not stop them — measured: "1 thread" ran on 2 cores —
 * so a changed count restarts the pool.) */
static pthread_rwlock_t pool_lock = PTHREAD_RWLOCK_INITIALIZER;
static int applied_threads = -1; /* guarded by pool_lock */

static void enter_call(void) {
  int want = __atomic_load_n(&requested_threads, __ATOMIC_RELAXED);
  pthread_rwlock_rdlock(&pool_lock);
  if (applied_threads == want)
    return;
  pthread_rwlock_unlock(&pool_lock);
  pthread_rwlock_wrlock(&pool_lock);
  if (applied_threads != want) {
    halide_set_error_handler(route_halide_error);
    attn_install_scratch();
    if (applied_threads >= 0)
      halide_shutdown_thread_pool();
    halide_set_num_threads(want);
    applied_threads = want;
  }
  pthread_rwlock_unlock(&pool_lock);
  pthread_rwlock_rdlock(&pool_lock);
}

/*---------------------------------------------------------------------------
 * Staging: the kernels read and write dense rows; any other layout goes
 * through a dense copy
 *-------------------------------------------------------------------------*/

static size_t dtype_size(attn_dtype t) {
  return t == ATTN_F16 || t == ATTN_BF16 ? 2 : 4;
}

/* The bytes [lo, hi) a tensor's elements occupy (strides are >= 0 here). */
static void byte_span(const attn_tensor *t, uintptr_t *lo, uintptr_t *hi) {
  uint64_t last = 0;
  for (int d = 0; d < t->rank; ++d) {
    if (t->shape[d] == 0) {
      *lo = *hi = (uintptr_t)t->data;
      return;
    }
    last += (uint64_t)(t->shape[d] - 1) * (uint64_t)t->strides[d];
  }
  *lo = (uintptr_t)t->data;
  *hi = *lo + (uintptr_t)((last + 1) * dtype_size(t->dtype));
}

static int spans_overlap(const attn_tensor *a, const attn_tensor *b) {
  uintptr_t alo, ahi, blo, bhi;
  byte_span(a, &alo, &ahi);
  byte_span(b, &blo, &bhi);
  return alo < bhi && blo < ahi;
}

/* Copies every element between two layouts of the same shape. */
static void copy_elements(char *dst, const int64_t *dst_strides,
                          const char *src, const int64_t *src_strides,
                          const int64_t *shape, int rank, size_t esize) {
  int64_t idx[ATTN_MAX_RANK] = {0};
  int64_t total = 1;
  for (int d = 0; d < rank; ++d)
    total *= shape[d];
  for (int64_t n = 0; n < total; ++n) {
    int64_t so = 0, doff = 0;
    for (int d = 0; d < rank; ++d) {
      so += idx[d] * src_strides[d];
      doff += idx[d] * dst_strides[d];
    }
    memcpy(dst + doff * (int64_t)esize, src + so * (int64_t)esize, esize);
    for (int d = rank - 1; d >= 0; --d) { /* odometer, innermost fastest */
      if (++idx[d] < shape[d])
        break;
      idx[d] = 0;
    }
  }
}

static void dense_strides(const attn_tensor *t, int64_t *strides) {
  int64_t s = 1;
  for (int d = t->rank - 1; d >= 0; --d) {
    strides[d] = s;
    s *= t->shape[d];
  }
}

/* A dense copy of argument `a` when the kernel cannot use it in place: an
 * input or output whose innermost stride is not 1 (Halide's vector loads
 * need unit stride), or an output that shares memory with an input (the
 * kernel would read what it already wrote) — outputs are then copied back
 * after the call. Returns 0, or an error code. */
static int stage(const attn_kernel_spec *spec, const attn_tensor *const *tensors,
                 int a, halide_buffer_t *buffer, halide_dimension_t *dims,
                 void **staged) {
  const attn_tensor *t = tensors[a];
  const attn_arg_spec *arg = &spec->args[a];
  *staged = NULL;
  /* One element per row: its stride is never used, and Halide insists on 1. */
  if (t->rank > 0 && t->shape[t->rank - 1] <= 1)
    dims[0].stride = 1;
  int need = t->rank > 0 && t->shape[t->rank - 1] > 1 &&
             t->strides[t->rank - 1] != 1;
  for (int b = 0; arg->is_output && !need && b < spec->num_args; ++b)
    need = !spec->args[b].is_output && spans_overlap(t, tensors[b]);
  if (!need)
    return ATTN_OK;
  int64_t count = 1, strides[ATTN_MAX_RANK];
  for (int d = 0; d < t->rank; ++d)
    count *= t->shape[d];
  size_t esize = dtype_size(t->dtype);
  void *copy = malloc((size_t)(count > 0 ? count : 1) * esize);
  if (!copy)
    return attn_fail(ATTN_ERR_KERNEL, "%s: out of memory for a dense copy of "
                     "argument '%s' (%lld elements)", spec->name, arg->name,
                     (long long)count);
  dense_strides(t, strides);
  if (!arg->is_output)
    copy_elements(copy, strides, t->data, t->strides, t->shape, t->rank, esize);
  buffer->host = copy;
  for (int d = 0; d < t->rank; ++d)
    dims[d].stride = (int32_t)strides[t->rank - 1 - d];
  *staged = copy;
  return ATTN_OK;
}

/* Two outputs sharing memory would race: refuse. */
static int outputs_overlap(const attn_kernel_spec *spec,
                           const attn_tensor *const *tensors) {
  for (int a = 0; a < spec->num_args; ++a)
    for (int b = a + 1; b < spec->num_args; ++b)
      if (spec->args[a].is_output && spec->args[b].is_output &&
          spans_overlap(tensors[a], tensors[b]))
        return attn_fail(ATTN_ERR_STRIDES, "%s: outputs '%s' and '%s' share "
                         "memory", spec->name, spec->args[a].name,
                         spec->args[b].name);
  return ATTN_OK;
}

/*---------------------------------------------------------------------------
 * CUDA kernels: no staging (device memory cannot be copied here), so
 * layouts a kernel cannot use in place are refused instead
 *-------------------------------------------------------------------------*/

/* A dense_args argument: the kernel loads 16-byte vectors along its rows, so
 * rows are contiguous, start 16-byte aligned and are whole vectors apart.
 * A dimension of extent 1 is only indexed at 0: its stride never matters
 * (PyTorch gives such dimensions arbitrary strides). */
static int check_dense(const attn_kernel_spec *spec,
                       const attn_tensor *const *tensors, int a) {
  const attn_tensor *t = tensors[a];
  const char *name = spec->args[a].name;
  int64_t vector = 16 / (int64_t)dtype_size(t->dtype);
  if ((uintptr_t)t->data % 16 != 0)
    return attn_fail(ATTN_ERR_STRIDES, "%s: argument '%s' has data pointer %p, "
                     "not 16-byte aligned as this CUDA kernel needs (it loads "
                     "16-byte vectors)", spec->name, name, t->data);
  for (int d = 0; d < t->rank; ++d) {
    if (t->shape[d] <= 1)
      continue;
    if (d == t->rank - 1 && t->strides[d] != 1)
      return attn_fail(ATTN_ERR_STRIDES, "%s: argument '%s' dimension %d has "
                       "stride %lld; this CUDA kernel needs its innermost "
                       "dimension dense (stride 1)", spec->name, name, d,
                       (long long)t->strides[d]);
    if (d < t->rank - 1 && t->strides[d] % vector != 0)
      return attn_fail(ATTN_ERR_STRIDES, "%s: argument '%s' dimension %d has "
                       "stride %lld, not a multiple of %lld elements (16 bytes) "
                       "as this CUDA kernel needs", spec->name, name, d,
                       (long long)t->strides[d], (long long)vector);
  }
  return ATTN_OK;
}

/* dense_args, and no output sharing memory with an input: the kernel
 * writes outputs in place while other blocks may still read the input. */
static int check_cuda_layouts(const attn_kernel_spec *spec,
                              const attn_cuda_kernel *k,
                              const attn_tensor *const *tensors) {
  for (int a = 0; k && a < spec->num_args && a < 64; ++a)
    if ((k->dense_args >> a) & 1) {
      int rc = check_dense(spec, tensors, a);
      if (rc != ATTN_OK)
        return rc;
    }
  for (int a = 0; a < spec->num_args; ++a)
    for (int b = 0; spec->args[a].is_output && b < spec->num_args; ++b)
      if (!spec->args[b].is_output && spans_overlap(tensors[a], tensors[b]))
        return attn_fail(ATTN_ERR_STRIDES, "%s: output '%s' shares memory "
                         "with input '%s'; CUDA kernels write their outputs in "
                         "place, so pass a separate buffer", spec->name,
                         spec->args[a].name, spec->args[b].name);
  return ATTN_OK;
}

/* Whether CUDA variant v was specialised for the call's head and value
 * widths (innermost extents of its width_args). */
static int widths_match(const attn_kernel_spec *spec, const attn_variant *v,
                        const attn_tensor *const *tensors) {
  for (int w = 0; w < 2; ++w) {
    int a = v->cuda->width_args[w];
    if (v->cuda->widths[w] == 0 || a < 0 || a >= spec->num_args)
      continue;
    const attn_tensor *t = tensors[a];
    if (t->rank < 1 || t->shape[t->rank - 1] != v->cuda->widths[w])
      return 0;
  }
  return 1;
}

/* Among the CUDA variants from `first` on with its target, the one
 * compiled for the call's widths; ATTN_ERR_SHAPE naming them otherwise. */
static const attn_variant *cuda_variant_for(const attn_kernel_spec *spec,
                                            const attn_variant *first,
                                            const attn_tensor *const *tensors) {
  const attn_variant *end = spec->variants + spec->num_variants;
  char widths[256] = "";
  size_t used = 0;
  for (const attn_variant *v = first; v < end; ++v) {
    if (!v->cuda || strcmp(v->target, first->target) != 0)
      continue;
    if (widths_match(spec, v, tensors))
      return v;
    if (used < sizeof widths)
      used += (size_t)snprintf(widths + used, sizeof widths - used, "%s%d/%d",
                               used ? ", " : "", (int)v->cuda->widths[0],
                               (int)v->cuda->widths[1]);
  }
  const attn_cuda_kernel *k = first->cuda;
  const attn_tensor *q = tensors[k->width_args[0]], *v = tensors[k->width_args[1]];
  attn_fail(ATTN_ERR_SHAPE, "%s: no CUDA kernel was compiled for head width "
            "%lld and value width %lld (compiled: %s); declare the widths "
            "in the program to get exactly those", spec->name,
            (long long)q->shape[q->rank - 1], (long long)v->shape[v->rank - 1],
            widths);
  return NULL;
}

static int invoke_cuda(const attn_kernel_spec *spec, const attn_variant *v,
                       const attn_tensor *const *tensors) {
  v = cuda_variant_for(spec, v, tensors);
  if (!v)
    return ATTN_ERR_SHAPE;
  int rc = check_cuda_layouts(spec, v->cuda, tensors);
  return rc != ATTN_OK ? rc : attn_cuda_launch(spec, v, tensors);
}

int attn_invoke(const attn_kernel_spec *spec, const attn_tensor *const *tensors) {
  halide_buffer_t buffers[ATTN_MAX_ARGS];
  halide_dimension_t dims[ATTN_MAX_ARGS * ATTN_MAX_RANK];
  void *argv[ATTN_MAX_ARGS], *staged[ATTN_MAX_ARGS] = {0};
  if (spec->num_args > ATTN_MAX_ARGS)
    return attn_fail(ATTN_ERR_KERNEL, "%s: more than %d arguments", spec->name,
                     (int)ATTN_MAX_ARGS);
  int rc = attn_prepare(spec, tensors, buffers, dims);
  if (rc == ATTN_OK)
    rc = outputs_overlap(spec, tensors);
  /* Device memory is not readable here: a CUDA kernel's index values go
   * unchecked. */
  int cuda = kernel_device(spec) == ATTN_CUDA;
  if (rc == ATTN_OK && !cuda)
    rc = attn_check_values(spec, tensors);
  if (rc != ATTN_OK)
    return rc;
  if (outputs_empty(spec, tensors))
    return ATTN_OK;
  const attn_variant *v = select_variant(spec, 1);
  if (!v)
    return ATTN_ERR_DEVICE;
  if (cuda)
    return invoke_cuda(spec, v, tensors);
  if (!v->entry || !halide_set_num_threads)
    return attn_fail(ATTN_ERR_DEVICE, "%s: variant %s has no CPU entry point "
                     "or no Halide runtime is linked", spec->name, v->target);
  for (int a = 0; a < spec->num_args && rc == ATTN_OK; ++a)
    rc = stage(spec, tensors, a, &buffers[a], &dims[a * ATTN_MAX_RANK],
               &staged[a]);
  if (rc == ATTN_OK) {
    for (int a = 0; a < spec->num_args; ++a)
      argv[a] = &buffers[a];
    enter_call();
    int status = v->entry(argv);
    pthread_rwlock_unlock(&pool_lock);
    if (status != 0) {
      if (last_error[0] == '\0')
        attn_fail(ATTN_ERR_KERNEL, "%s: kernel failed with Halide error %d",
                  spec->name, status);
      rc = ATTN_ERR_KERNEL;
    }
  }
  for (int a = 0; a < spec->num_args; ++a) {
    if (!staged[a])
      continue;
    const attn_tensor *t = tensors[a];
    if (rc == ATTN_OK && spec->args[a].is_output) {
      int64_t strides[ATTN_MAX_RANK];
      dense_strides(t, strides);
      copy_elements(t->data, t->strides, staged[a], strides, t->shape, t->rank,
                    dtype_size(t->dtype));
    }
    free(staged[a]);
  }
  return rc;
}
