#!/bin/sh
# bench/gpu.sh [BUILD_DIR] [attnc-gpu-bench flags...]
#
# Prints the machine (GPU name, driver and maximum SM clock from nvidia-smi
# when it exists; CPU model; glibc), then runs
# BUILD_DIR/bench/gpu/attnc-cuda-examples and
# BUILD_DIR/bench/gpu/attnc-cuda-examples-f32, each when it exists (every
# kernel of examples/cuda, bf16, and of examples/*.attn, f32, checked against
# a reference; they take no arguments), then
# BUILD_DIR/bench/gpu/attnc-gpu-bench (default BUILD_DIR: build). All run
# even if one fails; the script prints their statuses and exits with the
# benchmark's status if it failed, else with the first failed check's. Extra
# arguments go to the benchmark, e.g.
#
#   bench/gpu.sh build --lengths 4096 --kinds causal --iters 20
#   bench/gpu.sh build --check-only
#
# Needs nothing but a POSIX shell, the NVIDIA driver and the built binaries
# (libstdc++ is linked into them; no cmake, compiler or CUDA toolkit), so the
# binaries alone can be carried to a GPU machine. BUILD_DIR is taken relative
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
# Optional first steps: the example programs' kernels, checked (bf16 and
# f16, then f32). run_check NAME runs BUILD_DIR/bench/gpu/NAME when it
# exists and appends "NAME STATUS" to $checks; the first nonzero status goes
# to $checks_status.
checks=
checks_status=0
run_check() {
  check=$build/bench/gpu/$1
  if [ ! -e "$check" ] && [ -e "$root/$check" ]; then
    check=$root/$check
  fi
  [ -e "$check" ] || return 0
  echo "== $check"
  if [ -f "$check" ] && [ -x "$check" ]; then
    "$check"
    check_status=$?
  else
    echo "bench/gpu.sh: $check is not an executable file (chmod +x it)" >&2
    check_status=126
  fi
  [ "$check_status" -eq 0 ] ||
    echo "bench/gpu.sh: $1 exited with status $check_status" >&2
  checks="$checks$1 $check_status, "
  [ "$checks_status" -ne 0 ] || checks_status=$check_status
}
run_check attnc-cuda-examples
run_check attnc-cuda-examples-f32

echo "== $bin $*"
"$bin" "$@"
status=$?
[ $status -eq 0 ] || echo "bench/gpu.sh: attnc-gpu-bench exited with status $status" >&2
if [ -n "$checks" ]; then
  echo "== status: ${checks}attnc-gpu-bench $status"
  [ $status -ne 0 ] || status=$checks_status
fi
exit $status
