#!/usr/bin/env bash
# The ctest `install-prefix`: install attnc into WORK/P, move the prefix to
# WORK/Q, build the standalone project in this folder against WORK/Q with
# find_package(attnc) + attnc_add_kernels, run it, and check that the build
# used WORK/Q and nothing from the attnc build tree.
#
#   test/install/run.sh BUILD_DIR SOURCE_DIR WORK_DIR [CC CXX [GENERATOR]]
set -euo pipefail

build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$3
cc=${4:-cc}
cxx=${5:-c++}
gen=${6:-Ninja}

fail() { echo "install-prefix: FAIL: $*" >&2; exit 1; }
note() { echo "install-prefix: $*"; }

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
P=$work/P
Q=$work/Q

note "cmake --install $build --prefix $P"
cmake --install "$build" --prefix "$P" > "$work/install.log" || {
  cat "$work/install.log"; fail "cmake --install"; }
mv "$P" "$Q"
note "moved to $Q"

for f in bin/attnc bin/attn-opt include/attnc/runtime.h lib/libattnrt.a \
         lib/cmake/attnc/attncConfig.cmake lib/cmake/attnc/attncConfigVersion.cmake; do
  [ -f "$Q/$f" ] || fail "$Q/$f is missing"
done
[ -e "$Q/include/attnc/runtime_abi.h" ] && fail "runtime_abi.h is internal but was installed"
for tool in attnc attn-opt; do
  if ldd "$Q/bin/$tool" | grep -q "not found"; then
    ldd "$Q/bin/$tool" | grep "not found"
    fail "$tool: shared libraries not found (install RPATH)"
  fi
  "$Q/bin/$tool" --help > /dev/null || fail "$tool --help"
done

# attnc --cflags / --libs must name the prefix the binary is in.
cflags=$("$Q/bin/attnc" --cflags)
libs=$("$Q/bin/attnc" --libs)
[ "$cflags" = "-I$Q/include" ] && [ "$libs" = "$Q/lib/libattnrt.a -lpthread -ldl -lm" ] ||
  fail "attnc --cflags = '$cflags', --libs = '$libs' (want $Q)"
note "attnc --cflags/--libs point into $Q"

# The second attnc_add_kernels call builds three variants, dispatched at run
# time (x86-64-v2 among them: the library runs everywhere).
targets=x86-64-v2,x86-64-v3,x86-64-v4

note "configuring test/install against $Q/lib/cmake/attnc"
cmake -S "$src/test/install" -B "$work/build" -G "$gen" \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -Dattnc_DIR="$Q/lib/cmake/attnc" -DATTNC_SOURCE_DIR="$src" \
  -DATTNC_TEST_TARGETS="$targets" > "$work/configure.log" 2>&1 || {
  cat "$work/configure.log"; fail "configure"; }
grep -F "attnc " "$work/configure.log" | grep -F "$Q" || fail "find_package did not find $Q"

note "building"
cmake --build "$work/build" -j 2 -v > "$work/build.log" 2>&1 || {
  tail -50 "$work/build.log"; fail "build"; }

# The build ran the installed attnc and linked the installed runtime.
grep -q -F "$Q/bin/attnc " "$work/build.log" || fail "the build did not run $Q/bin/attnc"
grep -q -F "$Q/lib/libattnrt.a" "$work/build.log" || fail "the build did not link $Q/lib/libattnrt.a"
grep -q -F "$Q/include" "$work/build.log" || fail "the build did not include $Q/include"
for bad in "$build/tools/attnc/attnc" "$build/runtime/libattnrt.a" "$src/runtime/include" "$P/"; do
  if grep -F "$bad" "$work/build.log"; then
    fail "the build used $bad"
  fi
done
grep -q -F -- "--target=$targets" "$work/build.log" || fail "TARGETS was not passed to attnc"
for stem in cross local; do
  d=$work/build/${stem}_kernels.attnc
  for ext in a h json; do
    [ -f "$d/$stem.$ext" ] || fail "$d/$stem.$ext was not generated"
  done
done

note "running"
"$work/build/install-test" || fail "install-test"
note "PASS"
