//===- MemoryBench.cpp - peak resident memory of one call -----------------===//
//
//   attnc-bench-memory L            bench_window once at [1, 8, L, 64]
//   attnc-bench-memory lsh L [R]    bench_lsh_r<R> (R = 1, 4 or 8, default 4)
//                                   once at [1, 4, L, 64] (the issue shape)
//
// Prints the tensors' size, the resident set after they were allocated and
// touched, the peak resident set, and the difference: what the call itself
// added beyond its inputs and outputs. One call per process: the peak is a
// high-water mark (VmHWM).
//
//===----------------------------------------------------------------------===//
#include "ResidentMemory.h"
#include "kernels.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using attnc::bench::statusMiB;

namespace {

int report(const std::string &what, size_t tensorFloats, double before) {
  double peak = statusMiB("VmHWM");
  std::printf("%s: tensors %.1f MiB, RSS with tensors %.1f MiB, peak RSS "
              "%.1f MiB, beyond inputs and outputs %.1f MiB\n",
              what.c_str(), 4.0 * double(tensorFloats) / (1 << 20), before,
              peak, peak - before);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  bool lsh = argc > 1 && std::string(argv[1]) == "lsh";
  int at = lsh ? 2 : 1;
  long long L = argc > at ? std::atoll(argv[at]) : 4096;
  const long long D = 64;
  if (lsh) {
    long long R = argc > at + 1 ? std::atoll(argv[at + 1]) : 4, H = 4;
    auto fn = R == 1 ? bench_lsh_r1 : R == 4 ? bench_lsh_r4 : R == 8 ? bench_lsh_r8 : nullptr;
    if (!fn) {
      std::fprintf(stderr, "attnc-bench-memory: R must be 1, 4 or 8\n");
      return 2;
    }
    std::vector<float> qk(size_t(H * L * D), 0.5f), v = qk, out = qk;
    for (size_t x = 0; x < qk.size(); ++x) // distinct rows: real buckets
      qk[x] = float((x * 2654435761u) % 1000) / 500.0f - 1.0f;
    int64_t shape[] = {1, H, L, D};
    attn_tensor tq = attn_make_tensor(qk.data(), ATTN_F32, 4, shape);
    attn_tensor tv = attn_make_tensor(v.data(), ATTN_F32, 4, shape);
    attn_tensor to = attn_make_tensor(out.data(), ATTN_F32, 4, shape);
    double before = statusMiB("VmRSS");
    if (fn(&tq, &tv, &to) != 0) {
      std::fprintf(stderr, "bench_lsh_r%lld: %s\n", R, attn_last_error());
      return 1;
    }
    return report("lsh R=" + std::to_string(R) + " L=" + std::to_string(L),
                  3 * qk.size(), before);
  }
  const long long BH = 8;
  std::vector<float> q(size_t(BH * L * D), 0.5f), k = q, v = q, out = q;
  int64_t shape[] = {1, BH, L, D};
  attn_tensor tq = attn_make_tensor(q.data(), ATTN_F32, 4, shape);
  attn_tensor tk = attn_make_tensor(k.data(), ATTN_F32, 4, shape);
  attn_tensor tv = attn_make_tensor(v.data(), ATTN_F32, 4, shape);
  attn_tensor to = attn_make_tensor(out.data(), ATTN_F32, 4, shape);
  double before = statusMiB("VmRSS");
  if (bench_window(&tq, &tk, &tv, &to) != 0) {
    std::fprintf(stderr, "bench_window: %s\n", attn_last_error());
    return 1;
  }
  return report("window L=" + std::to_string(L), 4 * q.size(), before);
}
