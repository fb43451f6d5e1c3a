#!/usr/bin/env bash
# Builds the libFuzzer target with clang-19 (ASan + UBSan, assertions on) in
# ./build-fuzz and fuzzes the frontend for $1 seconds (default 600). Findings
# land in fuzz-out/; copy each into test/fuzz/regressions/ so that ctest
# replays it forever.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-600}"
build="$root/build-fuzz"
"$root/scripts/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 -DATTNC_ENABLE_FUZZ=ON
fi
ninja -C "$build" -j"${ATTNC_JOBS:-2}" attnc-frontend-fuzzer
mkdir -p "$root/fuzz-out/corpus"
cp -n "$root"/test/fuzz/corpus/* "$root/fuzz-out/corpus/" 2>/dev/null || true
exec "$build/test/fuzz/attnc-frontend-fuzzer" "$root/fuzz-out/corpus" \
  -dict="$root/test/fuzz/attn.dict" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=4096 -artifact_prefix="$root/fuzz-out/" -print_final_stats=1
