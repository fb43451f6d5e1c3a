#!/usr/bin/env sh
# The training benchmark of issue 10: a reversible stack against the same
# stack trained by storing each layer's inputs, N = 2, 4, 8, 16 layers,
# L = 4096 (or $1), one process per configuration (peak RSS is per process).
#   bench/train.sh [L] [BUILD_DIR]
L="${1:-4096}"
BUILD="${2:-build}"
for variant in reversible storing; do
  for n in 2 4 8 16; do
    "$BUILD/bench/attnc-bench-train" "$variant" "$n" "$L" || exit 1
  done
done
