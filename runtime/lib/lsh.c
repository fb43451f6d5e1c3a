/*===- lsh.c - the Reformer LSH helpers generated kernels call -----------===*
 *
 * Two pieces of LSH attention are not data-parallel arithmetic and live
 * here, in plain C, rather than in the Halide pipelines:
 *  - the rotation generator (Philox-4x32-10 + Box–Muller in double), so that
 *    `hash_bucket(seed = S)` draws bit-identical rotations on every target
 *    variant and every run, whatever the vector ISA;
 *  - the stable counting sort of sort_chunk: a scatter through a moving
 *    cursor per bucket, serial per (b, h, round) and linear in L, which a
 *    Halide update definition cannot express without an O(L·N) table.
 *
 *===----------------------------------------------------------------------===*/
#include "attnc/runtime_abi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*---------------------------------------------------------------------------
 * Philox-4x32-10 (Salmon, Moraes, Dror, Shaw, SC'11)
 *-------------------------------------------------------------------------*/

static void philox4x32_10(uint32_t ctr[4], uint32_t k0, uint32_t k1) {
  const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += W0;
      k1 += W1;
    }
    uint64_t p0 = (uint64_t)M0 * ctr[0], p1 = (uint64_t)M1 * ctr[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t next[4] = {hi1 ^ ctr[1] ^ k0, lo1, hi0 ^ ctr[3] ^ k1, lo0};
    memcpy(ctr, next, sizeof next);
  }
}

float attn_lsh_rotation(uint64_t seed, uint32_t h, uint32_t d, uint32_t r,
                        uint32_t n) {
  uint32_t x[4] = {n, r, d, h};
  philox4x32_10(x, (uint32_t)seed, (uint32_t)(seed >> 32));
  const double two32 = 4294967296.0;
  double u1 = ((double)x[0] + 0.5) / two32; /* (0, 1): log is finite */
  double u2 = (double)x[1] / two32;         /* [0, 1) */
  const double two_pi = 6.283185307179586476925286766559;
  return (float)(sqrt(-2.0 * log(u1)) * cos(two_pi * u2));
}

/*---------------------------------------------------------------------------
 * sort_chunk as a Halide extern stage
 *-------------------------------------------------------------------------*/

enum { kMaxBucketValue = ATTN_MAX_BUCKET_VALUE };

static int is_bounds_query(const halide_buffer_t *b) {
  return b->host == NULL && b->device == 0;
}

/* Element (t, r, h, b) of a 4-D i32 buffer, Halide order (t innermost). */
static int32_t *at4(const halide_buffer_t *buf, int32_t t, int32_t r,
                    int32_t h, int32_t b) {
  const halide_dimension_t *d = buf->dim;
  int64_t off = (int64_t)(t - d[0].min) * d[0].stride +
                (int64_t)(r - d[1].min) * d[1].stride +
                (int64_t)(h - d[2].min) * d[2].stride +
                (int64_t)(b - d[3].min) * d[3].stride;
  return (int32_t *)buf->host + off;
}

/* Sorts one round's row stably by (bucket, position): a counting sort over
 * the bucket values. `count` has kMaxBucketValue + 2 entries. */
static void sort_row(const halide_buffer_t *buckets, int32_t length, int32_t r,
                     int32_t h, int32_t b, int32_t *order, int32_t *undo,
                     int32_t *count) {
  int32_t top = 0;
  for (int32_t t = 0; t < length; ++t) {
    int32_t v = *at4(buckets, t, r, h, b);
    /* In range by construction from hash_bucket, and checked by attn_invoke
     * when buckets come from the caller; clamped so nothing runs off. */
    v = v < 0 ? 0 : v > kMaxBucketValue ? kMaxBucketValue : v;
    order[t] = v; /* the bucket, for now */
    if (v > top)
      top = v;
  }
  memset(count, 0, (size_t)(top + 2) * sizeof *count);
  for (int32_t t = 0; t < length; ++t)
    ++count[order[t] + 1];
  for (int32_t v = 0; v <= top; ++v)
    count[v + 1] += count[v]; /* count[v]: first slot of bucket v */
  for (int32_t t = 0; t < length; ++t)
    undo[t] = count[order[t]]++;
  for (int32_t t = 0; t < length; ++t)
    order[undo[t]] = t;
}

int attn_rt_sort_chunk(halide_buffer_t *buckets, int32_t length,
                       halide_buffer_t *order, halide_buffer_t *undo) {
  if (is_bounds_query(buckets)) {
    /* Every position of each (round, head, batch) the outputs cover. */
    buckets->dim[0].min = 0;
    buckets->dim[0].extent = length;
    for (int d = 1; d < 4; ++d)
      buckets->dim[d] = order->dim[d];
    return 0;
  }
  if (is_bounds_query(order))
    return 0;
  int32_t *scratch =
      (int32_t *)malloc(((size_t)2 * length + kMaxBucketValue + 2) *
                        sizeof(int32_t));
  if (!scratch)
    return -1;
  int32_t *rowOrder = scratch, *rowUndo = scratch + length,
          *count = scratch + 2 * (size_t)length;
  const halide_dimension_t *od = order->dim;
  int32_t lo = od[0].min, hi = od[0].min + od[0].extent;
  for (int32_t b = od[3].min; b < od[3].min + od[3].extent; ++b)
    for (int32_t h = od[2].min; h < od[2].min + od[2].extent; ++h)
      for (int32_t r = od[1].min; r < od[1].min + od[1].extent; ++r) {
        sort_row(buckets, length, r, h, b, rowOrder, rowUndo, count);
        for (int32_t t = lo; t < hi; ++t) {
          int32_t src = t < 0 ? 0 : t >= length ? length - 1 : t;
          *at4(order, t, r, h, b) = rowOrder[src];
          *at4(undo, t, r, h, b) = rowUndo[src];
        }
      }
  free(scratch);
  return 0;
}
