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
#include "backward.h"
#include "kernels.h"
// The example programs (examples/*.attn), built for this CPU.
#include "alibi.h"
#include "bigbird.h"
#include "causal.h"
#include "full.h"
#include "longformer.h"
#include "softcap.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <cmath>
#include <functional>
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
// attnc/full and attnc/causal per call, "kind/L/threads": the backward rows'
// denominator.
std::map<std::string, double> forwardSeconds;

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
  explicit Inputs(int64_t L, int64_t heads = kBH) {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> u(-1, 1);
    size_t n = size_t(heads * L * kD);
    for (auto *t : {&q, &k, &v}) {
      t->resize(n);
      for (float &x : *t)
        x = u(rng);
    }
    out.assign(n, 0.0f);
  }
};

attn_tensor tensor(std::vector<float> &data, int64_t L, int64_t heads = kBH) {
  int64_t shape[] = {1, heads, L, kD};
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

/// One forward call of `kind` on [1, heads, L, 64]; its seconds per call.
double timeForward(benchmark::State &state, Kind kind, int64_t heads) {
  int64_t L = state.range(0);
  int threads = int(state.range(1));
  Inputs in(L, heads);
  attn_tensor q = tensor(in.q, L, heads), k = tensor(in.k, L, heads),
              v = tensor(in.v, L, heads), o = tensor(in.out, L, heads);
  attn_set_num_threads(threads);
  auto fn = kind == Kind::Full ? bench_full
            : kind == Kind::Causal ? bench_causal : bench_window;
  int rc = 0;
  double t = timeLoop(state, flops(kind, L) * double(heads) / kBH, threads,
                      [&] { rc |= fn(&q, &k, &v, &o); });
  if (rc != 0)
    state.SkipWithError(attn_last_error());
  return t;
}

// B·H = 1: the query tiles of one head are all the parallelism there is.
void BM_OneHead(benchmark::State &state, Kind kind) {
  timeForward(state, kind, 1);
}

void BM_Attnc(benchmark::State &state, Kind kind) {
  int64_t L = state.range(0);
  int threads = int(state.range(1));
  double t = timeForward(state, kind, kBH);
  forwardSeconds[std::string(name(kind)) + "/" + std::to_string(L) + "/" +
                 std::to_string(threads)] = t;
  for (const char *base : {"naive", "unfused"}) {
    auto it = baselineSeconds.find(std::string(base) + "/" + name(kind) + "/" +
                                   std::to_string(L));
    if (it != baselineSeconds.end())
      state.counters[std::string("x_") + base] = it->second / t;
  }
}

// bf16 q, k, v and output (bench_*_bf16): GFLOP/s as the f32 rows, and
// x_f32, the f32 kernel's time at the same kind, L and threads (measured
// earlier in this run) over this one's — issue 12 asks for >= 1.5 where
// the CPU has AVX512-BF16.
void BM_Bf16(benchmark::State &state, Kind kind) {
  int64_t L = state.range(0);
  int threads = int(state.range(1));
  Inputs in(L);
  auto toBf16 = [](const std::vector<float> &x) { // round to nearest even
    std::vector<uint16_t> bits(x.size());
    for (size_t n = 0; n < x.size(); ++n) {
      uint32_t u;
      std::memcpy(&u, &x[n], 4);
      bits[n] = uint16_t((u + 0x7fff + ((u >> 16) & 1)) >> 16);
    }
    return bits;
  };
  std::vector<uint16_t> qb = toBf16(in.q), kb = toBf16(in.k), vb = toBf16(in.v),
                        ob(in.out.size());
  int64_t shape[] = {1, kBH, L, kD};
  auto view = [&](std::vector<uint16_t> &d) {
    return attn_make_tensor(d.data(), ATTN_BF16, 4, shape);
  };
  attn_tensor q = view(qb), k = view(kb), v = view(vb), o = view(ob);
  attn_set_num_threads(threads);
  auto fn = kind == Kind::Full ? bench_full_bf16 : bench_causal_bf16;
  int rc = 0;
  double t = timeLoop(state, flops(kind, L), threads,
                      [&] { rc |= fn(&q, &k, &v, &o); });
  if (rc != 0)
    state.SkipWithError(attn_last_error());
  state.SetLabel(attn_selected_target(kind == Kind::Full ? "bench_full_bf16"
                                                         : "bench_causal_bf16"));
  auto it = forwardSeconds.find(std::string(name(kind)) + "/" +
                                std::to_string(L) + "/" +
                                std::to_string(threads));
  if (it != forwardSeconds.end())
    state.counters["x_f32"] = it->second / t;
}

// Backward of full and causal attention (bench/backward.attn, attnc
// --grad): dq, dk, dv from q, k, v and dout, nothing stored by the forward.
// GFLOP/s counts the backward's own arithmetic, five D-long dot products
// per allowed pair (2.5x the forward's); x_forward is its time over the
// forward kernel's at the same L and threads, measured earlier in this run.
void BM_Backward(benchmark::State &state, Kind kind) {
  int64_t L = state.range(0);
  int threads = int(state.range(1));
  Inputs in(L), grads(L);
  std::vector<float> dout = in.q;
  attn_tensor q = tensor(in.q, L), k = tensor(in.k, L), v = tensor(in.v, L),
              d = tensor(dout, L), dq = tensor(grads.q, L),
              dk = tensor(grads.k, L), dv = tensor(grads.v, L);
  attn_set_num_threads(threads);
  auto fn = kind == Kind::Full ? train_full_backward : train_causal_backward;
  int rc = 0;
  double t = timeLoop(state, 2.5 * flops(kind, L), threads,
                      [&] { rc |= fn(&q, &k, &v, &d, &dq, &dk, &dv); });
  if (rc != 0)
    state.SkipWithError(attn_last_error());
  auto it = forwardSeconds.find(std::string(name(kind)) + "/" +
                                std::to_string(L) + "/" +
                                std::to_string(threads));
  if (it != forwardSeconds.end())
    state.counters["x_forward"] = t / it->second;
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

// The example programs' kernels on [1, 8, L, 64]: GFLOP/s on useful work
// (4·D FLOPs per (query, key) pair the kernel's mask allows, counted here
// by evaluating the mask) and x_full: that rate over full_attention's at
// the same L and threads, measured in this run (issue 12 asks for ≥ 0.8).
using Allowed = std::function<bool(int64_t h, int64_t i, int64_t j)>;
struct Example {
  const char *name;
  Allowed allowed; // nullptr: every pair
};

constexpr int64_t kBlock = 64; // bigbird.attn's block size

/// BigBird's layout i32[H, NB, NB]: the diagonal, the first block row and
/// column (global blocks) and about a fifth of the rest, seeded.
std::vector<int32_t> bigbirdLayout(int64_t L) {
  int64_t nb = (L + kBlock - 1) / kBlock;
  std::vector<int32_t> layout(size_t(kBH * nb * nb));
  std::mt19937 rng(5);
  for (int64_t h = 0; h < kBH; ++h)
    for (int64_t r = 0; r < nb; ++r)
      for (int64_t c = 0; c < nb; ++c)
        layout[size_t((h * nb + r) * nb + c)] =
            r == c || r == 0 || c == 0 || rng() % 5 == 0;
  return layout;
}

const std::vector<Example> &examples() {
  static const std::vector<Example> all = {
      {"full_attention", nullptr},
      {"causal_attention", [](int64_t, int64_t i, int64_t j) { return j <= i; }},
      {"alibi_attention", [](int64_t, int64_t i, int64_t j) { return j <= i; }},
      {"softcap_attention", [](int64_t, int64_t i, int64_t j) { return j <= i; }},
      {"longformer_attention",
       [](int64_t, int64_t i, int64_t j) {
         int64_t d = j - i;
         return (d >= -256 && d <= 256 && d % 2 == 0) || i == 0 || i == 1 ||
                i == 4095 || j == 0 || j == 1 || j == 4095;
       }},
      {"longformer_masked",
       [](int64_t, int64_t i, int64_t j) {
         int64_t d = i - j;
         return (d >= -256 && d <= 256 && d % 2 == 0) || i == 0 || j == 0;
       }},
      {"bigbird_attention", nullptr}, // counted from the layout
  };
  return all;
}

std::map<std::string, double> fullRate; // "L/threads" -> full's GFLOP/s

void BM_Example(benchmark::State &state, size_t which) {
  const Example &ex = examples()[which];
  int64_t L = state.range(0);
  int threads = int(state.range(1));
  Inputs in(L);
  attn_tensor q = tensor(in.q, L), k = tensor(in.k, L), v = tensor(in.v, L);
  attn_tensor o = tensor(in.out, L);
  std::vector<int32_t> layout = bigbirdLayout(L);
  int64_t nb = (L + kBlock - 1) / kBlock;
  int64_t layoutShape[] = {kBH, nb, nb};
  attn_tensor tl = attn_make_tensor(layout.data(), ATTN_I32, 3, layoutShape);
  std::vector<float> slopes(kBH);
  for (int64_t h = 0; h < kBH; ++h)
    slopes[size_t(h)] = std::exp2f(-8.0f * float(h + 1) / float(kBH));
  int64_t slopesShape[] = {kBH};
  attn_tensor ts = attn_make_tensor(slopes.data(), ATTN_F32, 1, slopesShape);

  Allowed allowed = ex.allowed;
  if (std::string(ex.name) == "bigbird_attention")
    allowed = [&](int64_t h, int64_t i, int64_t j) {
      return layout[size_t((h * nb + i / kBlock) * nb + j / kBlock)] != 0;
    };
  double pairs = 0;
  for (int64_t h = 0; h < kBH; ++h)
    for (int64_t i = 0; i < L; ++i)
      for (int64_t j = 0; j < L && allowed; ++j)
        pairs += allowed(h, i, j);
  if (!allowed)
    pairs = double(kBH) * double(L) * double(L);

  std::function<int()> call;
  std::string n = ex.name;
  if (n == "full_attention") call = [&] { return full_attention(&q, &k, &v, &o); };
  if (n == "causal_attention") call = [&] { return causal_attention(&q, &k, &v, &o); };
  if (n == "alibi_attention") call = [&] { return alibi_attention(&q, &k, &v, &ts, &o); };
  if (n == "softcap_attention") call = [&] { return softcap_attention(&q, &k, &v, &o); };
  if (n == "longformer_attention") call = [&] { return longformer_attention(&q, &k, &v, &o); };
  if (n == "longformer_masked") call = [&] { return longformer_masked(&q, &k, &v, &o); };
  if (n == "bigbird_attention") call = [&] { return bigbird_attention(&q, &k, &v, &tl, &o); };

  attn_set_num_threads(threads);
  int rc = 0;
  double t = timeLoop(state, 4.0 * kD * pairs, threads, [&] { rc |= call(); });
  if (rc != 0)
    state.SkipWithError(attn_last_error());
  double rate = 4.0 * kD * pairs / t / 1e9;
  std::string key = std::to_string(L) + "/" + std::to_string(threads);
  if (which == 0)
    fullRate[key] = rate;
  else if (fullRate.count(key))
    state.counters["x_full"] = rate / fullRate[key];
  state.counters["useful_pairs_%"] =
      100.0 * pairs / (double(kBH) * double(L) * double(L));
}

/// `prefix` + kind, at each length and 1 and 2 threads.
void registerTimed(const std::string &prefix,
                   void (*fn)(benchmark::State &, Kind), Kind kind,
                   const std::vector<int64_t> &lengths) {
  for (int64_t L : lengths)
    for (int threads : {1, 2})
      benchmark::RegisterBenchmark((prefix + name(kind)).c_str(), fn, kind)
          ->Args({L, threads})->ArgNames({"L", "threads"})
          ->MinTime(0.3)->UseManualTime()->Unit(benchmark::kMillisecond);
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
    registerTimed("attnc/", BM_Attnc, kind,
                  kind == Kind::Window ? kWindowLengths : kLengths);
  }
  for (Kind kind : {Kind::Full, Kind::Causal})
    registerTimed("attnc/one_head/", BM_OneHead, kind, {2048, 4096});
  for (Kind kind : {Kind::Full, Kind::Causal})
    registerTimed("attnc/bf16/", BM_Bf16, kind, {1024, 2048, 4096});
  for (Kind kind : {Kind::Full, Kind::Causal})
    registerTimed("attnc/backward/", BM_Backward, kind, {1024, 2048, 4096});
  // Examples: full_attention first at each (L, threads), the others
  // relative to it.
  for (int64_t L : {2048, 4096})
    for (int threads : {1, 2})
      for (size_t e = 0; e < examples().size(); ++e)
        benchmark::RegisterBenchmark(
            (std::string("attnc/example/") + examples()[e].name).c_str(),
            BM_Example, e)
            ->Args({L, threads})->ArgNames({"L", "threads"})
            ->MinTime(0.3)->UseManualTime()->Unit(benchmark::kMillisecond);
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
