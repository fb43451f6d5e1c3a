#!/usr/bin/env bash
# Quick start, command 1: install what is missing, build, and run the main
# job. Today the main job compiles every example program through attnc to
# attn MLIR and to lowered MLIR and prints one row per kernel; running the
# kernels against the reference arrives with the Halide codegen.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build="${ATTNC_BUILD_DIR:-$root/build}"
attnc="$build/tools/attnc/attnc"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

printf '\n%-20s %-26s %6s %8s %10s  %s\n' example kernel "ops" "lowered" "time(ms)" status
printf '%s\n' "$(printf '%.0s-' {1..90})"
failures=0
for src in "$root"/examples/*.attn; do
  name="$(basename "$src" .attn)"
  t0=$(date +%s%N)
  if "$attnc" "$src" --emit=mlir -o "$out/$name.mlir" 2> "$out/$name.err" &&
     "$attnc" "$src" --emit=lowered -o "$out/$name.lowered.mlir" 2>> "$out/$name.err"; then
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    # One row per func.func: how many attn ops it has before and after lowering.
    python3 - "$out/$name.mlir" "$out/$name.lowered.mlir" "$name" "$ms" <<'PY'
import re, sys
def per_kernel(path):
    counts, cur = {}, None
    for line in open(path):
        m = re.search(r"func\.func @(\w+)", line)
        if m:
            cur = m.group(1); counts[cur] = 0
        elif cur:
            counts[cur] += len(re.findall(r"\battn\.\w+", line))
    return counts
before, after = per_kernel(sys.argv[1]), per_kernel(sys.argv[2])
for k in before:
    print(f"{sys.argv[3]:<20} {k:<26} {before[k]:>6} {after[k]:>8} {sys.argv[4]:>10}  ok")
PY
  else
    failures=$((failures + 1))
    printf '%-20s %-26s %6s %8s %10s  FAILED\n' "$name" - - - -
    cat "$out/$name.err"
  fi
done
echo
if [ "$failures" -ne 0 ]; then
  echo "demo: $failures example(s) failed"
  exit 1
fi
echo "demo: every example compiled (kernels run against the reference once the codegen lands)"
