//===- ThreadsTest.cpp - concurrent calls, thread counts, forced targets --===//
//
// Several threads call generated kernels at once on their own buffers while
// other threads change the thread count (attn_set_num_threads, which
// restarts Halide's pool under the runtime's rwlock), force targets
// (attn_force_target) and ask which variant runs (attn_selected_target).
// Every result must be bit-for-bit the one computed beforehand on one thread
// with the same variant: Halide's CPU schedules split work between threads
// but never a reduction, so the thread count cannot change a bit. Failing
// calls must leave their message on their own thread only.
//
// The point of the test is ThreadSanitizer (scripts/sanitize.sh builds with
// -DATTNC_SANITIZE=thread): the runtime and this file are instrumented, the
// generated kernels and the Halide runtime inside them are not. In the
// normal build it is a fast functional check (a few seconds).
//
//===----------------------------------------------------------------------===//
#include "threads_multi.h"
#include "threads_v3.h"

#include "attnc/runtime_abi.h" // attn_cpu_features, to race its first use

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kWorkers = 4;         // threads calling kernels
constexpr int kRepetitions = 100;   // rounds of concurrent calls
constexpr int kCallsPerWorker = 4;  // kernel calls per worker per round
constexpr int kFreshProcesses = 20; // rounds of FirstCallsAreConcurrent
constexpr int kThreadCounts[] = {1, 2, 3, 0, 4, 1, 0, 2, 8};
// Between two changes of the thread count or the forced target: a kernel
// call takes tens of microseconds, so most calls still see a change, and the
// changing threads leave the 2-core CI machine to the workers.
constexpr std::chrono::microseconds kPause(20);
constexpr const char *kV2 = "x86-64-v2";
constexpr const char *kV3 = "x86-64-v3";

enum Kernel { Causal, Window, Alibi, kNumKernels };
const char *const kNames[kNumKernels] = {"th_causal", "th_window", "th_alibi"};

/// One kernel's inputs; each worker has its own copy.
struct Problem {
  int64_t B = 1, H = 3, L = 0, D = 16;
  std::vector<float> q, k, v, slopes;
  size_t size() const { return size_t(B * H * L * D); }
};

Problem makeProblem(Kernel kernel) {
  static const int64_t lengths[kNumKernels] = {96, 120, 88};
  Problem p;
  p.L = lengths[kernel];
  std::mt19937 rng(1234 + unsigned(kernel));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (auto *t : {&p.q, &p.k, &p.v}) {
    t->resize(p.size());
    for (float &x : *t)
      x = dist(rng);
  }
  for (int64_t h = 0; h < p.H; ++h)
    p.slopes.push_back(std::pow(2.0f, -8.0f * float(h + 1) / float(p.H)));
  return p;
}

/// Calls `kernel` on `p`; `out` is resized and filled with NaN first so that
/// an element the kernel fails to write cannot pass. `bad` passes a key
/// tensor whose L disagrees with the query's, which the runtime must refuse.
int call(Kernel kernel, Problem &p, std::vector<float> &out, bool bad = false) {
  out.assign(p.size(), std::numeric_limits<float>::quiet_NaN());
  int64_t shape[4] = {p.B, p.H, p.L, p.D};
  int64_t shortShape[4] = {p.B, p.H, p.L - 1, p.D};
  attn_tensor q = attn_make_tensor(p.q.data(), ATTN_F32, 4, shape);
  attn_tensor k = attn_make_tensor(p.k.data(), ATTN_F32, 4, bad ? shortShape : shape);
  attn_tensor v = attn_make_tensor(p.v.data(), ATTN_F32, 4, shape);
  attn_tensor o = attn_make_tensor(out.data(), ATTN_F32, 4, shape);
  int64_t hs[1] = {p.H};
  attn_tensor slopes = attn_make_tensor(p.slopes.data(), ATTN_F32, 1, hs);
  switch (kernel) {
  case Causal: return th_causal(&q, &k, &v, &o);
  case Window: return th_window(&q, &k, &v, &o);
  case Alibi: return th_alibi(&q, &k, &v, &slopes, &o);
  default: return -1;
  }
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool cpuRunsV3() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
         __builtin_cpu_supports("f16c");
}

/// Results computed on one thread: expected[k] with the automatic variant,
/// alibiV2 with th_alibi's x86-64-v2 variant forced.
struct Expected {
  std::vector<float> out[kNumKernels];
  std::vector<float> alibiV2;
};

Expected computeExpected() {
  Expected e;
  attn_set_num_threads(1);
  for (int k = 0; k < kNumKernels; ++k) {
    Problem p = makeProblem(Kernel(k));
    EXPECT_EQ(call(Kernel(k), p, e.out[k]), ATTN_OK) << attn_last_error();
    for (float x : e.out[k])
      if (!std::isfinite(x)) {
        ADD_FAILURE() << kNames[k] << " wrote a non-finite value";
        break;
      }
  }
  Problem p = makeProblem(Alibi);
  EXPECT_EQ(attn_force_target(kV2), ATTN_OK);
  EXPECT_EQ(call(Alibi, p, e.alibiV2), ATTN_OK) << attn_last_error();
  EXPECT_EQ(attn_force_target(nullptr), ATTN_OK);
  attn_set_num_threads(0);
  return e;
}

/// Collects the first few problems seen by any thread (gtest's assertions
/// are thread-safe, but a race would print thousands of them).
class Failures {
public:
  void add(const std::string &what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (++count_ <= 10)
      messages_ += what + "\n";
  }
  void check() {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(count_, 0) << messages_;
  }

private:
  std::mutex mu_;
  int count_ = 0;
  std::string messages_;
};

/// Changes the thread count until `*stop`.
void changeThreadCounts(const std::atomic<bool> *stop, unsigned seed) {
  size_t n = seed;
  while (!stop->load(std::memory_order_acquire)) {
    attn_set_num_threads(kThreadCounts[n++ % std::size(kThreadCounts)]);
    std::this_thread::sleep_for(kPause);
  }
}

class Threads : public ::testing::Test {
protected:
  void SetUp() override {
    if (!cpuRunsV3())
      GTEST_SKIP() << "the kernels are compiled for x86-64-v3";
  }
  void TearDown() override {
    attn_force_target(nullptr);
    attn_set_num_threads(0);
  }
};

/// The body of FirstCallsAreConcurrent, in a fresh process: kWorkers threads
/// released at once make this process's first runtime calls (which variant
/// runs, then a kernel call) while another changes the thread count; then
/// one thread computes the expected results. Exits 0 when every call
/// succeeded with the right variant and bit-identical results.
[[noreturn]] void firstUseInAFreshProcess() {
  std::atomic<int> ready{0};
  std::atomic<bool> stop{false};
  std::vector<float> outs[kWorkers];
  const char *selected[kWorkers] = {};
  int status[kWorkers] = {};
  uint64_t features[kWorkers] = {};
  auto barrier = [&] {
    ready.fetch_add(1);
    while (ready.load() < kWorkers + 1) {
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kWorkers; ++t)
    threads.emplace_back([&, t] {
      Problem p = makeProblem(Kernel(t % kNumKernels));
      barrier();
      // The internal entry first (attn_selected_target reaches it only
      // after a mutex, which makes an overlap of first uses rarer).
      features[t] = attn_cpu_features();
      selected[t] = attn_selected_target(kNames[t % kNumKernels]);
      status[t] = call(Kernel(t % kNumKernels), p, outs[t]);
    });
  std::thread changer([&] {
    barrier();
    changeThreadCounts(&stop, 0);
  });
  for (std::thread &t : threads)
    t.join();
  stop.store(true, std::memory_order_release);
  changer.join();

  bool ok = true;
  attn_set_num_threads(1);
  for (int t = 0; t < kWorkers; ++t) {
    Kernel k = Kernel(t % kNumKernels);
    Problem p = makeProblem(k);
    std::vector<float> expected;
    int rc = call(k, p, expected);
    if (features[t] != attn_cpu_features() || !selected[t] ||
        std::strcmp(selected[t], kV3) != 0 || status[t] != ATTN_OK ||
        rc != ATTN_OK || !sameBits(outs[t], expected)) {
      std::fprintf(stderr, "%s: selected %s, status %d, %s\n", kNames[k],
                   selected[t] ? selected[t] : "NULL", status[t],
                   sameBits(outs[t], expected) ? "same result" : "different result");
      ok = false;
    }
  }
  std::exit(ok ? 0 : 1);
}

// The first calls into the runtime in a process happen on several threads at
// once: the lazily initialised state (CPU features, ATTN_TARGET, Halide's
// pool) must be set up race-free. Each round is a fresh process (a gtest
// death-test child, which re-executes this binary), since only the first
// calls in a process take those paths; under TSan a race report ends the
// child with exit code 66.
TEST_F(Threads, FirstCallsAreConcurrent) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (int round = 0; round < kFreshProcesses; ++round)
    EXPECT_EXIT(firstUseInAFreshProcess(), ::testing::ExitedWithCode(0), "")
        << "fresh process " << round;
}

// kWorkers threads call every kernel on their own buffers while another
// changes the thread count; now and then a worker makes a call the runtime
// must refuse, and its message must stay on its thread.
TEST_F(Threads, ConcurrentCallsWhileTheThreadCountChanges) {
  Expected e = computeExpected();
  Failures failures;
  for (int rep = 0; rep < kRepetitions; ++rep) {
    std::atomic<bool> stop{false};
    std::thread changer(changeThreadCounts, &stop, unsigned(rep));
    std::vector<std::thread> workers;
    for (int t = 0; t < kWorkers; ++t)
      workers.emplace_back([&, t] {
        Problem problems[kNumKernels] = {makeProblem(Causal), makeProblem(Window),
                                         makeProblem(Alibi)};
        std::vector<float> out;
        for (int c = 0; c < kCallsPerWorker; ++c) {
          int k = (t + c + rep) % kNumKernels;
          bool bad = (t + c + rep) % 5 == 0;
          int rc = call(Kernel(k), problems[k], out, bad);
          std::string where = std::string(kNames[k]) + " (round " +
                              std::to_string(rep) + ", thread " +
                              std::to_string(t) + ")";
          if (bad) {
            std::string msg = attn_last_error();
            if (rc != ATTN_ERR_SHAPE || msg.find(kNames[k]) == std::string::npos ||
                msg.find("binds L") == std::string::npos)
              failures.add(where + ": a bad call returned " + std::to_string(rc) +
                           " with '" + msg + "'");
            continue;
          }
          if (rc != ATTN_OK)
            failures.add(where + ": returned " + std::to_string(rc) + ": " +
                         attn_last_error());
          else if (attn_last_error()[0] != '\0')
            failures.add(where + ": succeeded but attn_last_error() is '" +
                         attn_last_error() + "'");
          else if (!sameBits(out, e.out[k]))
            failures.add(where + ": result differs from the one-thread result");
        }
      });
    for (std::thread &w : workers)
      w.join();
    stop.store(true, std::memory_order_release);
    changer.join();
  }
  failures.check();
}

// Two threads switch the forced target between th_alibi's two variants and
// back to automatic, and ask which variant runs, while workers call kernels
// and the thread count changes. A th_alibi result must be exactly one of
// its variants' results; th_causal (x86-64-v3 only) must either run its
// variant or be refused while x86-64-v2 is forced.
TEST_F(Threads, ForcedTargetChangesWhileKernelsRun) {
  Expected e = computeExpected();
  Failures failures;
  for (int rep = 0; rep < kRepetitions; ++rep) {
    std::atomic<bool> stop{false};
    std::thread changer(changeThreadCounts, &stop, unsigned(rep));
    std::vector<std::thread> forcers;
    for (int f = 0; f < 2; ++f)
      forcers.emplace_back([&, f] {
        const char *targets[] = {kV2, kV3, nullptr, "", kV2};
        size_t n = size_t(f);
        while (!stop.load(std::memory_order_acquire)) {
          const char *want = targets[n++ % std::size(targets)];
          if (attn_force_target(want) != ATTN_OK)
            failures.add(std::string("attn_force_target(") + (want ? want : "NULL") +
                         ") failed: " + attn_last_error());
          const char *alibi = attn_selected_target("th_alibi");
          if (!alibi || (std::strcmp(alibi, kV2) != 0 && std::strcmp(alibi, kV3) != 0))
            failures.add(std::string("attn_selected_target(th_alibi) = ") +
                         (alibi ? alibi : "NULL"));
          const char *causal = attn_selected_target("th_causal");
          if (causal && std::strcmp(causal, kV3) != 0)
            failures.add(std::string("attn_selected_target(th_causal) = ") + causal);
          if (attn_selected_target("no_such_kernel") != nullptr)
            failures.add("attn_selected_target(no_such_kernel) is not NULL");
          std::string tooLong(100, 'x');
          if (attn_force_target(tooLong.c_str()) != ATTN_ERR_DEVICE ||
              std::strstr(attn_last_error(), "too long") == nullptr)
            failures.add(std::string("a too long target name: '") +
                         attn_last_error() + "'");
          std::this_thread::sleep_for(kPause);
        }
      });
    std::vector<std::thread> workers;
    for (int t = 0; t < kWorkers; ++t)
      workers.emplace_back([&, t] {
        Problem problems[kNumKernels] = {makeProblem(Causal), makeProblem(Window),
                                         makeProblem(Alibi)};
        std::vector<float> out;
        for (int c = 0; c < kCallsPerWorker; ++c) {
          int k = (t + c + rep) % kNumKernels;
          int rc = call(Kernel(k), problems[k], out);
          std::string where = std::string(kNames[k]) + " (round " +
                              std::to_string(rep) + ", thread " +
                              std::to_string(t) + ")";
          if (k == Alibi) {
            if (rc != ATTN_OK)
              failures.add(where + ": returned " + std::to_string(rc) + ": " +
                           attn_last_error());
            else if (!sameBits(out, e.out[Alibi]) && !sameBits(out, e.alibiV2))
              failures.add(where + ": result is neither variant's result");
            continue;
          }
          if (rc == ATTN_ERR_DEVICE) {
            if (!std::strstr(attn_last_error(), "forced target 'x86-64-v2'"))
              failures.add(where + ": refused with '" + attn_last_error() + "'");
            continue;
          }
          if (rc != ATTN_OK)
            failures.add(where + ": returned " + std::to_string(rc) + ": " +
                         attn_last_error());
          else if (!sameBits(out, e.out[k]))
            failures.add(where + ": result differs from the one-thread result");
        }
      });
    for (std::thread &w : workers)
      w.join();
    stop.store(true, std::memory_order_release);
    for (std::thread &f : forcers)
      f.join();
    changer.join();
  }
  failures.check();
  ASSERT_EQ(attn_force_target(nullptr), ATTN_OK);
  EXPECT_STREQ(attn_selected_target("th_alibi"), kV3);
  EXPECT_STREQ(attn_selected_target("th_causal"), kV3);
}

} // namespace
