#!/bin/sh
# Every CUDA kernel of the given programs, for sm_80 and sm_90: attnc's PTX
# must assemble with ptxas, use tensor cores (mma.sync) and spill nothing.
# usage: ptxas-check.sh ATTNC PTXAS PROGRAM.attn...
set -u
attnc=$1 ptxas=$2
shift 2
if [ ! -x "$ptxas" ]; then
  echo "ptxas-check: ptxas not found ($ptxas); scripts/setup.sh installs it" >&2
  exit 1
fi
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
failed=0 count=0
for program in "$@"; do
  for sm in 80 90; do
    if ! "$attnc" "$program" --target=cuda:sm_$sm --emit=ptx --quiet \
        -o "$work/all.ptx" 2>"$work/err"; then
      echo "FAIL $program sm_$sm: attnc failed:"; cat "$work/err"
      failed=1; continue
    fi
    rm -f "$work"/k_*.ptx
    # attnc prints "// kernel NAME (target ...)" before each kernel's PTX.
    awk -v dir="$work" '/^\/\/ kernel /{n++; name=$3; f=sprintf("%s/k_%03d_%s.ptx", dir, n, name); next}
                        f {print > f}' "$work/all.ptx"
    for ptx in "$work"/k_*.ptx; do
      [ -e "$ptx" ] || { echo "FAIL $program sm_$sm: no kernel in the PTX"; failed=1; continue; }
      name=$(basename "$ptx" .ptx | cut -d_ -f3-)
      count=$((count + 1))
      if ! "$ptxas" -arch=sm_$sm -v "$ptx" -o "$work/k.cubin" >"$work/log" 2>&1; then
        echo "FAIL $name sm_$sm: ptxas rejected the PTX:"; cat "$work/log"
        failed=1; continue
      fi
      regs=$(sed -n 's/.*Used \([0-9]*\) registers.*/\1/p' "$work/log" | head -n1)
      if grep -q "bytes spill" "$work/log" &&
         grep "bytes spill" "$work/log" | grep -qv "0 bytes spill stores, 0 bytes spill loads"; then
        echo "FAIL $name sm_$sm: spills:"; grep "spill" "$work/log"
        failed=1; continue
      fi
      if ! grep -q "mma.sync.aligned.m16n8k" "$ptx"; then
        echo "FAIL $name sm_$sm: no mma.sync in the PTX"
        failed=1; continue
      fi
      echo "ok   $name sm_$sm: $regs registers, 0 spills ($(basename "$program"))"
    done
  done
done
echo "ptxas-check: $count kernel builds checked"
exit $failed
