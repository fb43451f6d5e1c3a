//===- LockstepEmulator.h - the CUDA backend's kernels run on the host ----===//
//
// Runs a gpu.func built by the CUDA backend (codegen/lib/CUDA, what
// `attnc --target=cuda --emit=gpu` prints) on the host CPU: every thread
// block of the grid in turn, and in each block all threads in lockstep, op
// by op. The kernel's own IR is executed, not a re-derivation of it: its
// tile loops, key-tile ranges, masks, online softmax, shared-memory layout,
// cp.async groups and the register fragments of nvgpu.ldmatrix and
// mma.sync, which the emulator implements from the PTX ISA's definitions
// (warp-level matrix fragments for m16n8k16 and m16n8k8, ldmatrix).
//
// What makes a run fail (with the op's location in the message):
//   - a load, store, cp.async or ldmatrix outside every tensor and every
//     shared buffer, or an ldmatrix row that is not 16-byte aligned;
//   - a read of shared memory nobody wrote (shared memory starts as NaN)
//     or of a cp.async group not yet waited for (copies land at
//     cp.async.wait_group, not before);
//   - a warp-collective op (mma.sync, ldmatrix, shuffle) or a barrier
//     reached by part of a warp or block, a loop whose bounds differ
//     between threads, an op or inline PTX the emulator does not know.
// Out of reach by construction: races between warps (lockstep has none)
// and the PTX the LLVM NVPTX backend makes of this IR (ptxas and the GPU
// runs check that).
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TEST_CUDA_EMULATOR_LOCKSTEPEMULATOR_H
#define ATTNC_TEST_CUDA_EMULATOR_LOCKSTEPEMULATOR_H

#include "Reference.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
}

namespace attnc::emu {

/// A tensor in (host) global memory, as the runtime passes it to a CUDA
/// kernel: its data, its size in bytes, shape and strides in elements.
struct Tensor {
  void *data = nullptr;
  size_t bytes = 0;
  std::vector<int64_t> shape, strides;
};

struct Options {
  /// TF32 mma.sync reads 10 mantissa bits of each f32 operand (what the
  /// tensor cores do); false: exact f32 products, to check the kernel's
  /// logic to f32 precision.
  bool tf32Truncation = false;
};

/// 16-bit float encodings (round to nearest even), as the GPU stores them
/// (bf16: the reference's).
using ref::bf16Bits;
using ref::fromBf16Bits;
uint16_t f16Bits(double x);
double fromF16Bits(uint16_t bits);

/// Loads the dialects the CUDA backend's IR uses.
void loadDialects(mlir::MLIRContext &ctx);

/// Runs `kernel` over the grid the runtime would launch for `tensors` (in
/// the kernel's argument order): attn.tile_rows rows of the output
/// (argument attn.grid_arg) per block in x, heads in y, batch in z. Returns
/// an empty string, or what went wrong.
std::string launch(mlir::gpu::GPUFuncOp kernel,
                   const std::vector<Tensor> &tensors, const Options &options);

} // namespace attnc::emu

#endif
