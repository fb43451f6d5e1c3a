#!/usr/bin/env bash
# Quick start, command 2: install what is missing, build, run every test
# (lit + FileCheck suites, GoogleTest, fuzz-corpus replay) through ctest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build="${ATTNC_BUILD_DIR:-$root/build}"
echo "== test"
cd "$build"
ctest --output-on-failure -j"${ATTNC_JOBS:-2}"
