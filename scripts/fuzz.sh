#!/usr/bin/env bash
# Builds a libFuzzer target with clang-19 (ASan + UBSan, assertions on) in
# ./build-fuzz and fuzzes it for SECONDS (default 600):
#
#   scripts/fuzz.sh [frontend|mlir] [SECONDS]      (scripts/fuzz.sh 600: frontend)
#
#   frontend  attnc-frontend-fuzzer: .attn bytes through lex, parse, check,
#             MLIRGen, verify and the lowering passes; seeds test/fuzz/corpus,
#             dictionary test/fuzz/attn.dict; corpus fuzz-out/corpus.
#   mlir      attnc-mlir-fuzzer: attn-opt's input, MLIR bytes through parse,
#             verify, attn-expand-lsh, attn-analyze-masks, attn-choose-schedule
#             and print/parse round trips; seeds the dialect and lowering
#             tests split at `// -----`, dictionary test/fuzz/mlir.dict;
#             corpus fuzz-out/mlir-corpus.
#
# Findings land in fuzz-out/ (crash-*, leak-*, timeout-*; mlir-* for the MLIR
# target). Minimise each (the fuzzer binary with -minimize_crash=1
# -runs=10000 FILE) and copy it into test/fuzz/regressions/ (frontend) or
# test/fuzz/mlir-regressions/ (mlir), which ctest replays forever
# (fuzz-replay, mlir-fuzz-replay). ATTNC_JOBS: build parallelism (default 2);
# ATTNC_FUZZ_ARGS: extra libFuzzer flags (e.g. -jobs=2 -workers=2).
#
# ASan sees only the project's code: LLVM, MLIR and Halide are prebuilt and
# uninstrumented, and a bad write inside them goes unseen (ASan's quarantine
# even hides its effects). Replay the corpus under valgrind in a normal
# build now and then to catch those:
#   valgrind -q --error-exitcode=9 build/test/fuzz/attnc-mlir-fuzz-replay fuzz-out/mlir-corpus/*
# (That is how MLIR 19's parser use-after-free, llvm/llvm-project#107121,
# turned up; see test/fuzz/mlir-regressions/README.md.)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target=frontend
case "${1:-}" in
  frontend|mlir) target=$1; shift ;;
  ''|*[!0-9]*) [ -z "${1:-}" ] || { echo "usage: $0 [frontend|mlir] [seconds]" >&2; exit 2; } ;;
esac
seconds="${1:-600}"
build="$root/build-fuzz"
"$root/scripts/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 -DATTNC_ENABLE_FUZZ=ON
fi
ninja -C "$build" -j"${ATTNC_JOBS:-2}" "attnc-$target-fuzzer"
out="$root/fuzz-out"
if [ "$target" = frontend ]; then
  corpus="$out/corpus" dict="$root/test/fuzz/attn.dict" prefix="$out/"
  mkdir -p "$corpus"
  cp -n "$root"/test/fuzz/corpus/* "$corpus/" 2>/dev/null || true
else
  corpus="$out/mlir-corpus" dict="$root/test/fuzz/mlir.dict" prefix="$out/mlir-"
  mkdir -p "$corpus"
  # One seed per `// -----` section of every dialect and lowering test.
  for f in "$root"/test/Dialect/attn/*.mlir "$root"/test/Lowering/*.mlir; do
    awk -v stem="$corpus/seed-$(basename "$f" .mlir)" '
      /^\/\/ -----/ { n++; next }
      { print > (stem "-" n ".mlir") }' n=0 "$f"
  done
fi
# shellcheck disable=SC2086
exec "$build/test/fuzz/attnc-$target-fuzzer" "$corpus" \
  -dict="$dict" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=4096 -artifact_prefix="$prefix" -print_final_stats=1 \
  ${ATTNC_FUZZ_ARGS:-}
