//===- ChooseSchedule.cpp - #attn.schedule per op, per target -------------===//
//
// The target comes from the IR (#attn.target, set by the driver or by this
// pass's `target` option), never from the compiling machine: a test that
// pins its target gets the same schedule on every host.
//
// The numbers come from measurements on this project's machines (DESIGN.md
// and bench/):
//  - tile_queries: per tile of 48 queries the scores against L = 2048 keys
//    (384 KiB) stay in L2; attend_grad takes the same tiles (its four
//    tile × L buffers overflow L2, yet 24-query tiles measured no faster:
//    312-337 ms against 314-315 at L = 2048 on Zen 4); windowed tiles are taller (64) because each tile
//    re-reads its left + right halo of keys.
//  - the register tile is key_tile = 2 vectors wide and register_rows tall:
//    2 × 6 = 12 accumulators of the 16 AVX2/SSE registers leave 4 for the
//    broadcast query element and the key vectors. With AVX-512's 32
//    registers attend's Q·Kᵀ tile is 4 vectors × 6 queries, like its P·V
//    tile (below): 24 accumulators, each query broadcast feeding 4 FMAs
//    (10 loads per 24 FMAs instead of 10 per 16 with 2 × 8). Zen 5, one
//    thread, [1, 8, L, 64], best of 4, L = 1024 / 2048 / 4096: full
//    10.9 / 42.4 / 197 ms -> 10.4 / 41.0 / 187, causal 6.15 / 22.8 /
//    93.9 -> 5.80 / 22.1 / 87.6 (64-key tiles: BigBird's 64-key blocks
//    still skip whole tiles).
//  - attend's P·V tile on AVX-512 is 4 vectors (D = 64 values) × 6 rows:
//    each probability broadcast feeds 4 FMAs instead of 2, and 6 rows of
//    probabilities (each its own pointer: rows are L floats apart) leave
//    LLVM enough general registers; with 8 rows it rebuilt four of the
//    addresses per step in vector registers. Zen 4, [1, 8, L, 64],
//    best of 3: causal L = 2048 / 4096 50.5 / 197 ms -> 48.9 / 189 ms,
//    full unchanged. With 16 registers 2 × 6 stays. Windowed P·V as
//    2 vectors × 4 queries: 4 × 4, 2 × 8 and 32-query tiles measured the
//    same on Zen 4 (L = 4096, window 128 + 128: 32.5-34 ms each); so did
//    LSH chunks' P·V with 4 × 4 (R = 4, L = 16384: 146-154 ms both). On
//    Zen 5, whose two full-width AVX-512 FMA pipes need twice the
//    independent accumulators to stay busy, the windowed tiles take 8 rows
//    with 32 registers (2 × 8 = 16 accumulators each for scores and P·V):
//    best of 3, L = 4096 / 16384: 18.8 / 76.0 ms -> 15.7 / 64.6 ms (2 × 8
//    scores alone with the 2 × 4 P·V: 18.3 / 73.5; 4 × 4 P·V: 16.3 / 64.4).
//    Two threads: B·H = 8, L = 2048 / 4096, full 1.95× / 2.04× and causal
//    1.95× / 1.99× over one (1.56-1.82× / 1.73-1.85× before): each row of
//    probabilities is read once per P·V tile, not twice.
//  - attend's key_chunk (without a band or block mask, which bound a
//    tile's keys already): 1024. The whole-row softmax keeps a tile's
//    scores and probabilities, 48 × L floats each (768 KiB each at
//    L = 4096), which with K and V overflow a 1 MiB L2 past L = 2048;
//    chunks of 1024 keys keep them in it. Zen 5, one thread, [1, 8, L, 64],
//    best of 3, whole rows against chunks of 1024 / 512 / 256: L = 4096
//    192.7 ms against 163.9 / 166.6 / 174.9; L = 2048 41.2 against 41.8
//    (two chunks) / 42.3 / 43.7, and one chunk with its merge pass costs
//    3 % at L = 1024. So a kernel holds both forms and takes the chunks
//    only beyond 2 × key_chunk keys (KernelBuilder).
//  - hash_bucket's projection is a matmul (positions × N/2) with the
//    attend rule's register tile, positions along the vector.
//  - chunked_attend (LSH) tiles are its chunks; its scores run queries
//    along the vector and keys as rows, like attend's register tile
//    transposed (a chunk's keys are gathered, its queries are few).
//  - windowed scores run queries along the vector and 4 window taps as
//    rows (2 × 4 = 8 accumulators; 8 taps with AVX-512's 32 registers,
//    above): the taps of neighbouring queries share keys at a constant
//    offset.
//  - CUDA (attend, windowed_attend): 4 warps of 16 query rows (an
//    mma.sync m16n8k16 row block each) per thread block and 64 keys per
//    shared-memory tile: FlashAttention-2's forward shape for head
//    dimensions up to 128 on sm_80/sm_90 (32 keys for f32 tiles wider
//    than 64, which would not fit 48 KiB of shared memory). Measured on
//    an H200, bf16, L = 16384, D = 64, same run: causal 228 TFLOP/s; with
//    128-key tiles 196, with 8 warps (128-row tiles) 161.
//
//===----------------------------------------------------------------------===//
#include "attnc/Lowering/Passes.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNCHOOSESCHEDULE
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {

constexpr int64_t kAttendTileQueries = 48;
constexpr int64_t kWindowedTileQueries = 64;

constexpr int64_t kVectorsPerRegisterTile = 2;
constexpr int64_t kWindowTapsPerRegisterTile = 4;
constexpr int64_t kWideValueVectors = 4, kWideValueRows = 6;
constexpr int64_t kKeyChunk = 1024;

/// bf16 q and k on a CPU with AVX512-BF16: the matmuls take vdpbf16ps,
/// which does twice an FMA's work per instruction at the same rate
/// (measured on Zen 5: 256 against 132 GFLOP/s per core).
bool bf16Dot(Operation *op, const TargetInfo &target) {
  auto attend = dyn_cast<AttendOp>(op);
  auto bf16 = [](Value v) {
    return cast<ShapedType>(v.getType()).getElementType().isBF16();
  };
  return attend && target.has(CpuFeature::AVX512BF16) &&
         bf16(attend.getQ()) && bf16(attend.getK());
}

/// A band or block mask (attn-analyze-masks) bounds the keys each tile
/// visits already; attend chunks the keys of the others.
bool boundsKeys(Operation *op) {
  auto mask = op->getAttrOfType<MaskAttr>(kMaskAttrName);
  return mask && (mask.getKind() == MaskKind::band ||
                  mask.getKind() == MaskKind::block);
}

/// The x86 schedule family: one rule for SSE, AVX2 and AVX-512, scaled by
/// the register file. (A CUDA family would sit beside it.)
ScheduleAttr cpuSchedule(MLIRContext *ctx, Operation *op,
                         const TargetInfo &target) {
  int64_t lanes = target.f32Lanes();
  int64_t keyTile = kVectorsPerRegisterTile * lanes;
  if (isa<WindowedAttendOp>(op)) {
    int64_t taps = target.vectorRegisters() >= 32
                       ? 2 * kWindowTapsPerRegisterTile
                       : kWindowTapsPerRegisterTile;
    return ScheduleAttr::get(ctx, lanes, kWindowedTileQueries, taps, keyTile,
                             keyTile, taps, false, 0);
  }
  bool wide = target.vectorRegisters() >= 32;
  int64_t rows = wide ? 8 : 6;
  // chunked_attend_grad recomputes its forward in the same tiles.
  auto chunk = isa<ChunkedAttendOp>(op)
                   ? cast<ChunkedAttendOp>(op).getChunk()
                   : isa<ChunkedAttendGradOp>(op)
                         ? cast<ChunkedAttendGradOp>(op).getChunk()
                         : 0;
  if (chunk)
    return ScheduleAttr::get(ctx, lanes, std::min<int64_t>(chunk, 4096), rows,
                             keyTile, keyTile, rows, false, 0);
  int64_t keyChunk = isa<AttendOp>(op) && !boundsKeys(op) ? kKeyChunk : 0;
  if (isa<AttendOp>(op) && wide)
    return ScheduleAttr::get(ctx, lanes, kAttendTileQueries, kWideValueRows,
                             kWideValueVectors * lanes,
                             kWideValueVectors * lanes, kWideValueRows,
                             bf16Dot(op, target), keyChunk);
  return ScheduleAttr::get(ctx, lanes, kAttendTileQueries, rows, keyTile,
                           keyTile, rows, false, keyChunk);
}

constexpr int64_t kGpuWarps = 4;
constexpr int64_t kGpuKeyTile = 64;

/// The CUDA family; nothing when the op has no CUDA kernel yet.
std::optional<GpuScheduleAttr> gpuSchedule(MLIRContext *ctx, Operation *op) {
  if (!isa<AttendOp, WindowedAttendOp>(op))
    return std::nullopt;
  // f32 tiles are twice as large: K and V tiles of 64 keys with head or
  // value width 128 would exceed the 48 KiB of static shared memory (a
  // symbolic width is compiled for up to 128).
  auto q = cast<RankedTensorType>(op->getOperand(0).getType());
  auto v = cast<RankedTensorType>(op->getOperand(2).getType());
  auto wide = [](RankedTensorType t) {
    return t.isDynamicDim(3) || t.getDimSize(3) > 64;
  };
  int64_t keyTile = kGpuKeyTile;
  if (q.getElementType().isF32() && (wide(q) || wide(v)))
    keyTile /= 2;
  return GpuScheduleAttr::get(ctx, kGpuWarps, 16 * kGpuWarps, keyTile);
}

struct ChooseSchedulePass
    : attnc::impl::AttnChooseScheduleBase<ChooseSchedulePass> {
  using AttnChooseScheduleBase::AttnChooseScheduleBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    TargetAttr targetAttr;
    if (!target.empty()) {
      std::string error;
      auto info = TargetInfo::parse(target, error);
      if (!info) {
        module.emitError() << "attn-choose-schedule: " << error;
        return signalPassFailure();
      }
      targetAttr = TargetAttr::get(ctx, *info);
      module->setAttr(kTargetAttrName, targetAttr);
    } else {
      targetAttr = module->getAttrOfType<TargetAttr>(kTargetAttrName);
    }
    if (!targetAttr) {
      module.emitError() << "attn-choose-schedule needs a target: pass "
                            "target=x86-64-v3 (or another) or set "
                            "attn.target on the module";
      return signalPassFailure();
    }
    TargetInfo info = targetAttr.getInfo();
    if (!info.isCpu()) {
      WalkResult r = module.walk([&](Operation *op) {
        if (op->getDialect() != op->getContext()->getLoadedDialect<AttnDialect>() ||
            isa<YieldOp>(op) || op->hasAttr(kScheduleAttrName))
          return WalkResult::advance();
        std::optional<GpuScheduleAttr> s = gpuSchedule(ctx, op);
        if (!s) {
          op->emitError() << "'" << op->getName() << "' has no kernel for target '"
                          << info.name()
                          << "' yet: CUDA compiles attn.attend and "
                             "attn.windowed_attend";
          return WalkResult::interrupt();
        }
        op->setAttr(kScheduleAttrName, *s);
        return WalkResult::advance();
      });
      if (r.wasInterrupted())
        signalPassFailure();
      return;
    }
    module.walk([&](Operation *op) {
      if (!isa<AttendOp, AttendGradOp, WindowedAttendOp, ChunkedAttendOp,
               ChunkedAttendGradOp, HashBucketOp>(op))
        return;
      if (op->hasAttr(kScheduleAttrName)) // a schedule written by hand wins
        return;
      op->setAttr(kScheduleAttrName, cpuSchedule(ctx, op, info));
    });
  }
};

} // namespace
