/*===- ScratchProbe.c - one kernel in a process that does nothing else ----===*
 *
 * attnc-scratch-probe full|causal L REPS: calls bench_full or bench_causal
 * on [1, 8, L, 64] REPS times, one thread, and prints the best time. A
 * program this small is where glibc handed the kernels' per-tile buffers
 * back to the kernel and faulted them in again; run it once as is and once
 * with ATTN_SCRATCH_CACHE=0 to compare (runtime/lib/scratch.c). attnc-bench
 * does not show it: its own earlier allocations leave glibc's thresholds
 * high enough.
 *
 *===----------------------------------------------------------------------===*/
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

int main(int argc, char **argv) {
  if (argc != 4 || (strcmp(argv[1], "full") && strcmp(argv[1], "causal"))) {
    fprintf(stderr, "usage: %s full|causal L REPS\n", argv[0]);
    return 2;
  }
  int64_t L = atoll(argv[2]);
  int reps = atoi(argv[3]);
  if (L < 1 || L > (1 << 20) || reps < 1) {
    fprintf(stderr, "L must be in [1, 2^20] and REPS positive\n");
    return 2;
  }
  int64_t shape[4] = {1, 8, L, 64};
  size_t n = (size_t)(8 * L * 64);
  float *t[4];
  for (int a = 0; a < 4; ++a) {
    t[a] = malloc(n * sizeof(float));
    if (!t[a]) {
      fprintf(stderr, "out of memory\n");
      return 1;
    }
    for (size_t e = 0; e < n; ++e)
      t[a][e] = (float)((e * 2654435761u + (size_t)a) % 2001) / 1000.0f - 1.0f;
  }
  attn_tensor q = attn_make_tensor(t[0], ATTN_F32, 4, shape),
              k = attn_make_tensor(t[1], ATTN_F32, 4, shape),
              v = attn_make_tensor(t[2], ATTN_F32, 4, shape),
              o = attn_make_tensor(t[3], ATTN_F32, 4, shape);
  attn_set_num_threads(1);
  int causal = strcmp(argv[1], "causal") == 0;
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    double t0 = now_ms();
    int rc = causal ? bench_causal(&q, &k, &v, &o) : bench_full(&q, &k, &v, &o);
    if (rc != 0) {
      fprintf(stderr, "%s\n", attn_last_error());
      return 1;
    }
    double ms = now_ms() - t0;
    if (ms < best)
      best = ms;
  }
  printf("%s L=%lld: best of %d %.2f ms (scratch cache %s)\n", argv[1],
         (long long)L, reps, best,
         getenv("ATTN_SCRATCH_CACHE") && !strcmp(getenv("ATTN_SCRATCH_CACHE"), "0")
             ? "off" : "on");
  for (int a = 0; a < 4; ++a)
    free(t[a]);
  return 0;
}
