/*===- values.c - checks on the values of index inputs -------------------===*
 *
 * Some i32 inputs carry indices the kernel follows (an LSH `order` passed
 * from outside, buckets handed to sort_chunk). The kernels clamp every
 * index they read, so a bad value cannot crash them, but it would give a
 * silently wrong answer: these inputs are checked before the call, and the
 * message names the argument and the row.
 *
 *===----------------------------------------------------------------------===*/
#include "attnc/runtime_abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "[0, 1, 2]" for the outer indices of row `row` of `t`. */
static void row_name(const attn_tensor *t, int64_t row, char *out, size_t size) {
  int64_t idx[ATTN_MAX_RANK];
  for (int d = t->rank - 2; d >= 0; --d) {
    idx[d] = t->shape[d] ? row % t->shape[d] : 0;
    row = t->shape[d] ? row / t->shape[d] : 0;
  }
  size_t n = (size_t)snprintf(out, size, "[");
  for (int d = 0; d + 1 < t->rank && n < size; ++d)
    n += (size_t)snprintf(out + n, size - n, d ? ", %lld" : "%lld",
                          (long long)idx[d]);
  if (n < size)
    snprintf(out + n, size - n, ", :]");
}

static const int32_t *row_start(const attn_tensor *t, int64_t row) {
  int64_t off = 0;
  for (int d = t->rank - 2; d >= 0; --d) {
    off += (row % t->shape[d]) * t->strides[d];
    row /= t->shape[d];
  }
  return (const int32_t *)t->data + off;
}

static int check_arg(const attn_kernel_spec *spec, const attn_arg_spec *arg,
                     const attn_tensor *t) {
  if (t->rank < 1)
    return ATTN_OK;
  int64_t n = t->shape[t->rank - 1], rows = 1;
  for (int d = 0; d + 1 < t->rank; ++d)
    rows *= t->shape[d];
  if (n == 0 || rows == 0)
    return ATTN_OK;
  int permutation = arg->values == ATTN_VALUES_PERMUTATION;
  int64_t bound = permutation ? n : arg->values;
  unsigned char *seen = permutation ? (unsigned char *)malloc((size_t)n) : NULL;
  if (permutation && !seen)
    return attn_fail(ATTN_ERR_VALUES, "%s: out of memory checking '%s'",
                     spec->name, arg->name);
  int64_t stride = t->strides[t->rank - 1];
  int rc = ATTN_OK;
  char where[128];
  for (int64_t row = 0; row < rows && rc == ATTN_OK; ++row) {
    const int32_t *p = row_start(t, row);
    if (seen)
      memset(seen, 0, (size_t)n);
    for (int64_t x = 0; x < n; ++x) {
      int32_t v = p[x * stride];
      if (v < 0 || v >= bound) {
        row_name(t, row, where, sizeof where);
        rc = attn_fail(ATTN_ERR_VALUES, "%s: argument '%s' holds %d at %s "
                       "element %lld; its values must lie in [0, %lld)%s",
                       spec->name, arg->name, (int)v, where, (long long)x,
                       (long long)bound,
                       permutation ? " (a permutation of the positions)" : "");
        break;
      }
      if (seen && seen[v]++) {
        row_name(t, row, where, sizeof where);
        rc = attn_fail(ATTN_ERR_VALUES, "%s: argument '%s' is not a "
                       "permutation: row %s holds %d twice", spec->name,
                       arg->name, where, (int)v);
        break;
      }
    }
  }
  free(seen);
  return rc;
}

int attn_check_values(const attn_kernel_spec *spec,
                      const attn_tensor *const *tensors) {
  for (int a = 0; a < spec->num_args; ++a) {
    const attn_arg_spec *arg = &spec->args[a];
    if (arg->is_output || arg->values == ATTN_VALUES_ANY ||
        arg->dtype != ATTN_I32)
      continue;
    int rc = check_arg(spec, arg, tensors[a]);
    if (rc != ATTN_OK)
      return rc;
  }
  return ATTN_OK;
}
