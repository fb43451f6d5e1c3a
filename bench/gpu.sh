#!/bin/sh
# bench/gpu.sh [BUILD_DIR] [attnc-gpu-bench flags...]
#
# Prints the machine (GPU name, driver and maximum SM clock from nvidia-smi
# when it exists; CPU model; glibc), then runs
# BUILD_DIR/bench/gpu/attnc-cuda-examples when that exists (every kernel of
# examples/cuda checked against a reference; takes no arguments), then
# BUILD_DIR/bench/gpu/attnc-gpu-bench (default BUILD_DIR: build). Both run
# even if the first fails; the script prints both statuses and exits with
# the benchmark's status if it failed, else with the examples' one. Extra
# arguments go to the benchmark, e.g.
#
#   bench/gpu.sh build --lengths 4096 --kinds causal --iters 20
#   bench/gpu.sh build --check-only
#
# Needs nothing but a POSIX shell, the NVIDIA driver and the built binary
# (libstdc++ is linked into it; no cmake, compiler or CUDA toolkit), so the
# binary alone can be carried to a GPU machine. BUILD_DIR is taken relative
# to the current directory, else to the repository root.
set -u

build=build
if [ $# -gt 0 ]; then
  case $1 in
    -*) ;;              # no BUILD_DIR: flags only
    *) build=$1; shift ;;
  esac
fi

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/bench/gpu/attnc-gpu-bench
if [ ! -e "$bin" ] && [ -e "$root/$bin" ]; then
  bin=$root/$bin
fi
if [ ! -f "$bin" ]; then
  echo "bench/gpu.sh: no $build/bench/gpu/attnc-gpu-bench (build it with" \
       "cmake --build $build --target attnc-gpu-bench)" >&2
  exit 127
fi
if [ ! -x "$bin" ]; then
  echo "bench/gpu.sh: $bin is not executable (chmod +x it)" >&2
  exit 126
fi

echo "== machine"
if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv ||
    echo "(nvidia-smi failed)"
else
  echo "GPU: (no nvidia-smi)"
fi
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*:[[:space:]]*//')
echo "CPU: ${cpu:-unknown} ($(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') cores online)"
glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null || true)
echo "OS: $(uname -srm)${glibc:+, $glibc}"
# Optional first step: the examples/cuda kernels, checked.
examples=$build/bench/gpu/attnc-cuda-examples
if [ ! -e "$examples" ] && [ -e "$root/$examples" ]; then
  examples=$root/$examples
fi
examples_status=
if [ -e "$examples" ]; then
  echo "== $examples"
  if [ -f "$examples" ] && [ -x "$examples" ]; then
    "$examples"
    examples_status=$?
  else
    echo "bench/gpu.sh: $examples is not an executable file (chmod +x it)" >&2
    examples_status=126
  fi
  [ "$examples_status" -eq 0 ] ||
    echo "bench/gpu.sh: attnc-cuda-examples exited with status $examples_status" >&2
fi

echo "== $bin $*"
"$bin" "$@"
status=$?
[ $status -eq 0 ] || echo "bench/gpu.sh: attnc-gpu-bench exited with status $status" >&2
if [ -n "$examples_status" ]; then
  echo "== status: attnc-cuda-examples $examples_status, attnc-gpu-bench $status"
  [ $status -ne 0 ] || status=$examples_status
fi
exit $status
