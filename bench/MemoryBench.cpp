//===- MemoryBench.cpp - peak resident memory of one windowed call --------===//
//
//   attnc-bench-memory L     runs bench_window once at [1, 8, L, 64] and
//                            prints the peak RSS next to the input size.
//
// One call per process: ru_maxrss is a high-water mark.
//
//===----------------------------------------------------------------------===//
#include "kernels.h"

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char **argv) {
  long long L = argc > 1 ? std::atoll(argv[1]) : 4096;
  const long long BH = 8, D = 64;
  std::vector<float> q(size_t(BH * L * D), 0.5f), k = q, v = q, out = q;
  int64_t shape[] = {1, BH, L, D};
  attn_tensor tq = attn_make_tensor(q.data(), ATTN_F32, 4, shape);
  attn_tensor tk = attn_make_tensor(k.data(), ATTN_F32, 4, shape);
  attn_tensor tv = attn_make_tensor(v.data(), ATTN_F32, 4, shape);
  attn_tensor to = attn_make_tensor(out.data(), ATTN_F32, 4, shape);
  if (bench_window(&tq, &tk, &tv, &to) != 0) {
    std::fprintf(stderr, "bench_window: %s\n", attn_last_error());
    return 1;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double tensorsMiB = 4.0 * double(BH * L * D) * 4.0 / (1 << 20);
  double rssMiB = double(ru.ru_maxrss) / 1024.0;
  std::printf("window L=%lld: q,k,v,out %.1f MiB, peak RSS %.1f MiB, "
              "beyond the tensors %.1f MiB\n",
              L, tensorsMiB, rssMiB, rssMiB - tensorsMiB);
  return 0;
}
