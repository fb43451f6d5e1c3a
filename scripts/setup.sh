#!/usr/bin/env bash
# Installs every Debian package attnc needs to build and test; idempotent.
# Runs `apt-get update` once (only when something is missing), then installs
# only what is not already there.
set -euo pipefail

PACKAGES=(
  cmake ninja-build g++ git python3
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  clang-19 libclang-rt-19-dev
  libhalide14-0-dev
  pocl-opencl-icd ocl-icd-opencl-dev
  libgtest-dev libbenchmark-dev
  zlib1g-dev libzstd-dev libcurl4-openssl-dev libedit-dev libxml2-dev libffi-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ptxas: the tests assemble every CUDA kernel for sm_80 and sm_90. The CUDA
# toolkit's when there is one, else the ptxas of NVIDIA's nvcc wheel on PyPI
# (about 40 MB; no toolkit, driver or GPU needed), unpacked into .deps/.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -x /usr/local/cuda/bin/ptxas ] || command -v ptxas >/dev/null 2>&1 ||
   [ -x "$root/.deps/cuda/bin/ptxas" ]; then
  echo "setup: ptxas present"
else
  echo "setup: fetching ptxas (nvidia-cuda-nvcc-cu12 wheel) into $root/.deps/cuda/bin"
  python3 - "$root/.deps/cuda/bin" <<'PY'
import io, json, os, sys, urllib.parse, urllib.request, zipfile
dest = sys.argv[1]
index = "https://pypi.org/pypi/nvidia-cuda-nvcc-cu12/json"
meta = json.load(urllib.request.urlopen(index, timeout=60))
wheel = next(f for f in meta["urls"]
             if f["filename"].endswith(".whl") and "x86_64" in f["filename"])
# Mirrors may answer with URLs relative to the index.
data = urllib.request.urlopen(urllib.parse.urljoin(index, wheel["url"]),
                              timeout=600).read()
with zipfile.ZipFile(io.BytesIO(data)) as z:
    name = next(n for n in z.namelist() if n.endswith("/bin/ptxas"))
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, "ptxas"), "wb") as out:
        out.write(z.read(name))
os.chmod(os.path.join(dest, "ptxas"), 0o755)
print("setup: ptxas from", wheel["filename"])
PY
fi
echo "setup: done"
