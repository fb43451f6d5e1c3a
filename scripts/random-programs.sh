#!/usr/bin/env bash
# Random valid programs at scale: generates COUNT (default 1000) seeded random
# .attn programs from the grammar (test/random/generate.py), compiles every
# one with attnc and checks each kernel against the C++ reference on three
# ragged shape sets. CI runs the same test with 200 programs
# (ATTNC_RANDOM_PROGRAMS); this is the long run.
#
#   scripts/random-programs.sh [COUNT] [SEED]
#
# Environment:
#   ATTNC_RANDOM_BUILD_DIR  build tree (default ./build-random-programs; its
#                           own tree, so the main build keeps 200 programs)
#   ATTNC_RANDOM_EXCLUDE    features to leave out: known-bugs (default: the
#                           list in test/random/CMakeLists.txt), none (every
#                           feature), or a comma-separated list of names
#                           (test/random/generate.py --list-features)
#   ATTNC_JOBS              parallel jobs (default 2)
#
# Prints how many programs failed to compile (attnc's error for each; a file
# with a failure is split and every kernel compiled alone) and how many
# kernels mismatched the reference or failed at run time (gtest's message;
# ctest runs each kernel in its own process, so a crash costs one test).
# Runs the tests only when every program compiled. Exits 0 only when there
# is no failure of either kind.
# To reproduce one kernel: its file is <build>/test/random/generated/
# random_<k>.attn, its test RandomPrograms.rk<index> in
# <build>/test/random/attnc-random-programs.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
count="${1:-1000}"
seed="${2:-2026}"
build="${ATTNC_RANDOM_BUILD_DIR:-$root/build-random-programs}"
jobs="${ATTNC_JOBS:-2}"
start=$(date +%s)

exclude="${ATTNC_RANDOM_EXCLUDE:-known-bugs}"

echo "== configure ($build): $count programs, seed $seed"
mkdir -p "$build"
logs="$build/random-programs"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DATTNC_RANDOM_PROGRAMS="$count" -DATTNC_RANDOM_SEED="$seed" \
  -DATTNC_RANDOM_EXCLUDE="$exclude" >"$logs.configure.log" 2>&1 ||
  { cat "$logs.configure.log"; exit 2; }
echo "   features left out: $exclude (test/random/generate.py --list-features)"

echo "== build attnc"
ninja -C "$build" -j"$jobs" attnc attnrt attnc-reference >"$logs.attnc.log" 2>&1 ||
  { tail -40 "$logs.attnc.log"; exit 2; }

echo "== generate and compile $count programs (ninja -j$jobs -k 0)"
log="$logs.build.log"
ninja -C "$build" -j"$jobs" -k 0 attnc-random-programs >"$log" 2>&1
built=$?
compiled=$(date +%s)
gen="$build/test/random/generated"
files=$(ls "$gen"/random_*.attn 2>/dev/null | wc -l)
target=$(sed -n 's/^ATTNC_RANDOM_TARGET:STRING=//p' "$build/CMakeCache.txt")
failed_files=$(grep -oE 'FAILED: .*random_[0-9]+\.a' "$log" | grep -oE 'random_[0-9]+' | sort -u)
compile_failures=0
for f in $failed_files; do
  # attnc stops at the first bad kernel: compile each kernel of the file alone
  split="$build/failed/$f"
  rm -rf "$split" && mkdir -p "$split"
  python3 - "$gen/$f.attn" "$split" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for k in re.split(r'\n(?=# rk[0-9]+:)', text)[1:]:
    name = re.match(r'# (rk[0-9]+):', k).group(1)
    open('%s/%s.attn' % (sys.argv[2], name), 'w').write(k)
PY
  for k in "$split"/rk*.attn; do
    if ! "$build/tools/attnc/attnc" "$k" -o "$split/out" --quiet \
         --target="$target" >"${k%.attn}.log" 2>&1; then
      compile_failures=$((compile_failures + 1))
      echo "-- attnc failed on $k:"
      head -8 "${k%.attn}.log"
    fi
  done
done
if [ "$built" -ne 0 ] && [ "$compile_failures" -eq 0 ]; then
  echo "-- the build failed (not in attnc):"
  grep -B2 -A20 'FAILED' "$log" | head -60
  exit 2
fi
echo "   $files files, $compile_failures program(s) failed to compile," \
     "$((compiled - start)) s"

mismatches=0
total=0
if [ "$built" -eq 0 ]; then
  echo "== run (ctest -j$jobs: every kernel in its own process)"
  (cd "$build" && ctest -j"$jobs" -L random-programs --output-on-failure \
     --timeout 120 >"$logs.ctest.log" 2>&1)
  total=$(grep -oE 'tests passed, [0-9]+ tests failed out of [0-9]+' "$logs.ctest.log" |
          grep -oE '[0-9]+$' || echo 0)
  mismatches=$(grep -oE '[0-9]+ tests failed out of' "$logs.ctest.log" | grep -oE '^[0-9]+' || echo 0)
  grep -E '^\s*[0-9]+ - RandomPrograms' "$logs.ctest.log" || true
  if [ "$mismatches" -ne 0 ]; then
    grep -E 'max \|kernel|Failure|Which is|Constraint|attn_last_error|shape set' \
      "$logs.ctest.log" | head -80
  fi
fi
end=$(date +%s)
echo "== $count programs (seed $seed): $compile_failures compile failure(s)," \
     "$mismatches of $total kernel test(s) failed, $((end - start)) s"
[ "$built" -eq 0 ] && [ "$mismatches" -eq 0 ]
