#!/usr/bin/env bash
# Builds attnc with sanitizers (clang-19) and runs ctest in each build.
#
#   scripts/sanitize.sh [asan|tsan|all]      (default: all)
#
#   asan  build-asan/, -DATTNC_SANITIZE=address,undefined (LeakSanitizer
#         included); builds everything and runs the whole ctest suite (lit,
#         GoogleTest, fuzz replays, install-prefix).
#   tsan  build-tsan/, -DATTNC_SANITIZE=thread; builds attnc and the tests
#         that call kernels, and runs those: test/threads (label `threads`),
#         RuntimeErrors, Reliability, MultiTarget and Numerics.
#
# A report stops the process that makes it (halt_on_error, and
# -fno-sanitize-recover=all at compile time), so a clean run is a passing
# ctest; the script stops at the first failure. ATTNC_JOBS: build and ctest
# parallelism (default 2). Measured on the 2-core VM, -j1, shared: asan 32
# min (27 of them the build, most of that attnc compiling test/random's
# programs), tsan about 10 min.
#
# Instrumented: the project's own code — dialect, lowering, frontend,
# codegen, the runtime, the tools and the tests. Not instrumented: the
# prebuilt LLVM/MLIR 19 and Halide 14 shared libraries, and the kernels attnc
# generates (Halide's runtime is compiled into each generated library).
# attnc itself runs instrumented at build time (it compiles the test
# kernels), hence the options are exported for the build too. Options that
# are not defaults, and why:
#   ASAN_OPTIONS allow_user_poisoning=0  LLVM's BumpPtrAllocator poisons the
#       free part of a slab when the code that starts the slab is compiled
#       with ASan: our code (an attn attribute's storage constructor, inlined
#       from MLIR's headers) can start a slab of an MLIRContext allocator that
#       the uninstrumented libMLIR then hands out without unpoisoning, and
#       attnc / attn-opt die with a false use-after-poison in memmove (seen in
#       lit: Codegen/names.test, Lowering/analyze-masks.mlir). ASan then
#       ignores manual poisoning; its own checks are unchanged. (The fuzz
#       targets build the same default in: test/fuzz/SanitizerOptions.cpp.)
#   LDFLAGS=-fsanitize=address,undefined  for ctest's install-prefix, which
#       builds a separate CMake project against the installed, instrumented
#       libattnrt.a: CMake reads LDFLAGS when it configures that project.
#   TSAN_OPTIONS suppressions=test/threads/tsan.supp  Halide's parking lot
#       only (Halide-internal synchronisation TSan cannot see); the file says
#       why.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
which="${1:-all}"
jobs="${ATTNC_JOBS:-2}"
export ASAN_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-19
export LLVM_SYMBOLIZER_PATH=/usr/bin/llvm-symbolizer-19
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:report_error_type=1

configure() { # DIR SANITIZERS
  if [ ! -f "$1/build.ninja" ]; then
    cmake -S "$root" -B "$1" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
      -DATTNC_SANITIZE="$2"
  fi
}

run_asan() {
  local build="$root/build-asan" start tstart
  start=$(date +%s)
  export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:allow_user_poisoning=0:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
  configure "$build" address,undefined
  echo "== asan+ubsan: build (ninja -j$jobs)"
  ninja -C "$build" -j"$jobs"
  echo "== asan+ubsan: built in $(( $(date +%s) - start )) s; ctest"
  tstart=$(date +%s)
  (cd "$build" && LDFLAGS="-fsanitize=address,undefined" \
     ctest --output-on-failure -j"$jobs")
  echo "== asan+ubsan: clean; ctest $(( $(date +%s) - tstart )) s, total $(( $(date +%s) - start )) s"
}

run_tsan() {
  local build="$root/build-tsan" start tstart
  start=$(date +%s)
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/test/threads/tsan.supp"
  configure "$build" thread
  echo "== tsan: build (ninja -j$jobs)"
  ninja -C "$build" -j"$jobs" attnc-threads attnc-numerics attnc-multitarget
  echo "== tsan: built in $(( $(date +%s) - start )) s; ctest"
  tstart=$(date +%s)
  (cd "$build" && ctest --output-on-failure -j"$jobs" \
     -R '^(Threads|RuntimeErrors|Reliability|MultiTarget|RaggedShapes/Numerics)\.')
  echo "== tsan: clean; ctest $(( $(date +%s) - tstart )) s, total $(( $(date +%s) - start )) s"
}

case "$which" in
  asan) run_asan ;;
  tsan) run_tsan ;;
  all) run_asan; run_tsan ;;
  *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;;
esac
