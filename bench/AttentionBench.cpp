//===- AttentionBench.cpp - attnc kernels against peak and baselines ------===//
//
// Everything is measured in one run: the FMA peak of one core first (with
// the widest FMA the CPU has, AVX-512 or AVX2, named in the row's label),
// then the baselines, then attnc's kernels, whose rows report GFLOP/s, % of
// the measured peak (× threads) and speed-ups over the baselines at the
// same L.
//
//   build/bench/attnc-bench [--benchmark_filter=...]
//
//===----------------------------------------------------------------------===//
#include "Baselines.h"
#include "kernels.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

using namespace attnc::bench;

namespace {

constexpr int64_t kBH = 8, kD = 64, kWindow = 128;
const std::vector<int64_t> kLengths = {512, 1024, 2048, 4096, 8192, 16384};
// Windowed attention is O(L): it also runs where a dense kernel cannot.
const std::vector<int64_t> kWindowLengths = {512,  1024,  2048, 4096,
                                             8192, 16384, 32768, 65536};

double peakGflops = 0; // one core, widest FMA, measured by BM_FmaPeak
std::map<std::string, double> baselineSeconds;

enum class Kind { Full, Causal, Window };

const char *name(Kind k) {
  return k == Kind::Full ? "full" : k == Kind::Causal ? "causal" : "window";
}

double flops(Kind k, int64_t L) {
  double full = 4.0 * kBH * double(L) * double(L) * kD;
  if (k == Kind::Full)
    return full;
  if (k == Kind::Causal)
    return full / 2;
  return 4.0 * kBH * double(L) * double(2 * kWindow + 1) * kD;
}

struct Inputs {
  std::vector<float> q, k, v, out;
  explicit Inputs(int64_t L) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> u(-1, 1);
    size_t n = size_t(kBH * L * kD);
    for (auto *t : {&q, &k, &v}) {
      t->resize(n);
      for (float &x : *t)
        x = u(rng);
    }
    out.assign(n, 0.0f);
  }
};

attn_tensor tensor(std::vector<float> &data, int64_t L) {
  int64_t shape[] = {1, kBH, L, kD};
  return attn_make_tensor(data.data(), ATTN_F32, 4, shape);
}

/// Times `body` per iteration and attaches GFLOP/s and % of peak.
template <typename F>
double timeLoop(benchmark::State &state, double flop, int threads, F body) {
  double total = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    body();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             t0).count();
    state.SetIterationTime(s);
    total += s;
  }
  double perIter = total / double(state.iterations());
  double gflops = flop / perIter / 1e9;
  state.counters["GFLOP/s"] = gflops;
  if (peakGflops > 0)
    state.counters["%peak"] = 100.0 * gflops / (peakGflops * threads);
  return perIter;
}

/// The FP32 peak of one core with the widest FMA the CPU has (CPUID at run
/// time): labelled "avx512" or "avx2"; GFLOP/s is that ISA's peak and the
/// denominator of every %peak; where AVX-512 exists the AVX2 peak is also
/// reported as avx2_GFLOP/s.
void BM_FmaPeak(benchmark::State &state) {
  FmaPeak peak;
  for (auto _ : state) {
    peak = measureFmaPeak();
    state.SetIterationTime(1.0);
  }
  peakGflops = peak.gflops;
  state.SetLabel(peak.isa);
  state.counters["GFLOP/s"] = peak.gflops;
  if (peak.avx512Gflops > 0)
    state.counters["avx2_GFLOP/s"] = peak.avx2Gflops;
}

void BM_Naive(benchmark::State &state, Kind kind) {
  int64_t L = state.range(0);
  Inputs in(L);
  double t = timeLoop(state, flops(kind, L), 1, [&] {
    naiveAttention(in.q.data(), in.k.data(), in.v.data(), in.out.data(), kBH,
                   L, kD, kind == Kind::Causal,
                   kind == Kind::Window ? kWindow : -1);
  });
  baselineSeconds[std::string("naive/") + name(kind) + "/" + std::to_string(L)] = t;
}

void BM_Unfused(benchmark::State &state, Kind kind) {
  int64_t L = state.range(0);
  Inputs in(L);
  std::vector<float> scores(size_t(L * L));
  double t = timeLoop(state, flops(kind, L), 1, [&] {
    unfusedAttention(in.q.data(), in.k.data(), in.v.data(), in.out.data(),
                     scores.data(), kBH, L, kD, kind == Kind::Causal);
  });
  baselineSeconds[std::string("unfused/") + name(kind) + "/" + std::to_string(L)] = t;
}

void BM_Attnc(benchmark::State &state, Kind kind) {
  int64_t L = state.range(0);
  int threads = int(state.range(1));
  Inputs in(L);
  attn_tensor q = tensor(in.q, L), k = tensor(in.k, L), v = tensor(in.v, L);
  attn_tensor o = tensor(in.out, L);
  attn_set_num_threads(threads);
  auto fn = kind == Kind::Full ? bench_full
            : kind == Kind::Causal ? bench_causal : bench_window;
  int rc = 0;
  double t = timeLoop(state, flops(kind, L), threads,
                      [&] { rc |= fn(&q, &k, &v, &o); });
  if (rc != 0)
    state.SkipWithError(attn_last_error());
  for (const char *base : {"naive", "unfused"}) {
    auto it = baselineSeconds.find(std::string(base) + "/" + name(kind) + "/" +
                                   std::to_string(L));
    if (it != baselineSeconds.end())
      state.counters[std::string("x_") + base] = it->second / t;
  }
}

// Reformer LSH (issue shapes): B = 1, H = 4, D = 64, chunks of 64 seeing
// themselves and one chunk before. Useful work: 4·D FLOPs per scored pair,
// R·L·C·(before + 1 + after) pairs per head (hashing and sorting are not
// counted).
constexpr int64_t kLshHeads = 4, kLshChunk = 64, kLshNeighbours = 2;

double lshFlops(int64_t rounds, int64_t L) {
  return 4.0 * kD * double(rounds) * double(L) * kLshChunk * kLshNeighbours *
         kLshHeads;
}

void BM_Lsh(benchmark::State &state) {
  int64_t rounds = state.range(0), L = state.range(1);
  int threads = int(state.range(2));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  size_t n = size_t(kLshHeads * L * kD);
  std::vector<float> qk(n), v(n), out(n);
  for (float &x : qk)
    x = u(rng);
  for (float &x : v)
    x = u(rng);
  int64_t shape[] = {1, kLshHeads, L, kD};
  attn_tensor tq = attn_make_tensor(qk.data(), ATTN_F32, 4, shape);
  attn_tensor tv = attn_make_tensor(v.data(), ATTN_F32, 4, shape);
  attn_tensor to = attn_make_tensor(out.data(), ATTN_F32, 4, shape);
  auto fn = rounds == 1 ? bench_lsh_r1 : rounds == 4 ? bench_lsh_r4 : bench_lsh_r8;
  attn_set_num_threads(threads);
  int rc = 0;
  timeLoop(state, lshFlops(rounds, L), threads,
           [&] { rc |= fn(&tq, &tv, &to); });
  if (rc != 0)
    state.SkipWithError(attn_last_error());
}

void registerAll() {
  benchmark::RegisterBenchmark("fma_peak/1core", BM_FmaPeak)
      ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
  for (Kind kind : {Kind::Full, Kind::Causal, Kind::Window}) {
    // Baselines at the lengths where they finish in seconds.
    for (int64_t L : kind == Kind::Window ? kWindowLengths : kLengths) {
      if (L <= (kind == Kind::Window ? 16384 : 2048))
        benchmark::RegisterBenchmark(
            (std::string("naive/") + name(kind)).c_str(), BM_Naive, kind)
            ->Arg(L)->Iterations(1)->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      if (kind != Kind::Window && L <= 2048)
        benchmark::RegisterBenchmark(
            (std::string("unfused/") + name(kind)).c_str(), BM_Unfused, kind)
            ->Arg(L)->Iterations(1)->UseManualTime()
            ->Unit(benchmark::kMillisecond);
    }
    for (int64_t L : kind == Kind::Window ? kWindowLengths : kLengths)
      for (int threads : {1, 2})
        benchmark::RegisterBenchmark(
            (std::string("attnc/") + name(kind)).c_str(), BM_Attnc, kind)
            ->Args({L, threads})->ArgNames({"L", "threads"})
            ->MinTime(0.3)->UseManualTime()->Unit(benchmark::kMillisecond);
  }
  // bench/hf_lsh.py --attnc-bench reads these rows (attnc/lsh/R:_/L:_).
  for (int64_t rounds : {1, 4, 8})
    for (int64_t L : {4096, 16384, 65536})
      for (int threads : {1, 2})
        benchmark::RegisterBenchmark("attnc/lsh", BM_Lsh)
            ->Args({rounds, L, threads})->ArgNames({"R", "L", "threads"})
            ->MinTime(0.3)->UseManualTime()->Unit(benchmark::kMillisecond);
}

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);
  registerAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
