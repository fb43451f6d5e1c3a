#!/usr/bin/env bash
# Configures (once) and builds attnc into ./build with Ninja, two jobs by
# default (ATTNC_JOBS overrides): the machines this runs on have two cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${ATTNC_BUILD_DIR:-$root/build}"
jobs="${ATTNC_JOBS:-2}"

if [ ! -f "$build/build.ninja" ]; then
  echo "== configure ($build)"
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19
fi
echo "== build (ninja -j$jobs)"
start=$(date +%s)
ninja -C "$build" -j"$jobs"
echo "== built in $(( $(date +%s) - start )) s"
