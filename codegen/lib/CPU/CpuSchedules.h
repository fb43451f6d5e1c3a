//===- CpuSchedules.h - internal: the x86 backend's schedules -------------===//
//
// One schedule function per op family, applying the op's #attn.schedule to
// the Funcs its algorithm defined (Algorithms.h). The values differ per
// target (vector width, register tile); the structure is the x86 family's.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_CPU_CPUSCHEDULES_H
#define ATTNC_CODEGEN_LIB_CPU_CPUSCHEDULES_H

#include "../Algorithms.h"

namespace attnc {
namespace codegen {
namespace cpu {

/// P·V loops that walk keys one at a time (block-sparse rows, window taps)
/// accumulate this many vectors of the value width per row: four
/// independent accumulators hide the FMA latency, and D = 64 is exactly
/// four AVX-512 or eight AVX2 vectors (two passes).
constexpr int kValueVectorsPerRow = 4;

/// The loops attend's tiles run in: compute_root, parallel over heads
/// (bh) and tiles of queries (io) inside them, c vectorised.
void attendTileLoops(Halide::Func owner, Halide::Var c, Halide::Var i,
                     Halide::Var h, Halide::Var b, attn::ScheduleAttr s);
/// `tileOwner`: a Func whose attendTileLoops the output is computed in
/// (one tile at a time) instead of its own.
void scheduleAttend(AttendFuncs &f, attn::ScheduleAttr s,
                    std::optional<Halide::Func> tileOwner = std::nullopt);
void scheduleAttendGrad(AttendGradFuncs &f, attn::ScheduleAttr s);
void scheduleWindowed(WindowedFuncs &f, attn::ScheduleAttr s);
void scheduleDense(DenseFuncs &f, int lanes);

/// LSH. Each stage alone is computed at the root, parallel over heads (or
/// chunks); `fuseLshChain` then moves a chain's per-head buffers (sorted
/// outputs, positions, key scales, hashing and sorting) inside the
/// combine's loop over heads, so that memory is O(R·L·D) for one head at a
/// time, never for all of them.
void scheduleHashBucket(HashFuncs &f, attn::ScheduleAttr s);
void scheduleSortChunk(SortFuncs &f);
/// What chunked_attend and its gradient share: the per-head stages at the
/// root (flat positions, key scales, an order's inverse computed here), and
/// a chunk's positions, scores (register tiles) and softmax at `at`/`atVar`.
void scheduleChunkedPerHead(ChunkedFuncs &f, int lanes);
void scheduleChunkSoftmax(ChunkedFuncs &f, Halide::Func at, Halide::Var atVar,
                          attn::ScheduleAttr s);
/// `perHead`: the chain will be fused into combine_rounds (fuseLshChain).
void scheduleChunkedAttend(ChunkedFuncs &f, attn::ScheduleAttr s,
                           bool perHead);
/// out and lse when anything but one combine_rounds reads them (which
/// inlines them).
void scheduleChunkedOutputs(ChunkedFuncs &f, int lanes);
void scheduleCombineRounds(CombineFuncs &f, int lanes);
/// The gradients (LshGradSchedule.cpp): per chunk, and per block of rows.
void scheduleChunkedAttendGrad(ChunkedGradFuncs &g, attn::ScheduleAttr s);
void scheduleCombineRoundsGrad(CombineGradFuncs &g, int lanes);
void fuseLshChain(ChunkedFuncs &chunked, CombineFuncs &combine,
                  const std::vector<Halide::Func> &perHeadProducers);
/// For a fused chain (after fuseLshChain): a lowering pass that prefetches,
/// from each row of the combine's row loop, the per-slot result rows a row
/// a few iterations ahead will read (addresses through the inverse
/// permutation, which Halide's own prefetch directive bounds by a box).
void addCombinePrefetch(Halide::Pipeline &p, const ChunkedFuncs &chunked,
                        const CombineFuncs &combine);

/// A transposing copy f(..., x, ..., y) stored x innermost, whose source is
/// y-major, in blocks of `lanes` × `lanes` vectorised along both: with
/// addVectorTransposes, `lanes` dense loads and a transpose in registers
/// per block. (Vectorised along x alone, each vector was `lanes` scalar
/// loads and inserts. x outside y made every vector's loads miss to L2,
/// and unscheduled, LLVM turned the copy into gathers and scatters: 7 %
/// and 6 % of causal attention at L = 1024 on Zen 5.)
void transposeInBlocks(Halide::Func f, Halide::Var x, Halide::Var y,
                       int lanes);
/// The lowering passes that turn transposeInBlocks' copies into dense loads,
/// shuffles and dense stores (VectorTranspose.cpp); every x86 pipeline.
void addVectorTransposes(Halide::Pipeline &p);

/// A row reduction `rowFn(i, h, b)` over (lane, lane group) `lanesVar`,
/// `groupVar`: computed at `at`/`atVar`, rfactored over the lanes, which
/// are stored innermost and vectorised (one partial result per lane).
/// `outerGroupVar`: a dimension of groups outside `groupVar` (key blocks).
void scheduleLaneReduction(Halide::Func rowFn, Halide::RVar lanesVar,
                           Halide::RVar groupVar, Halide::Func at,
                           Halide::VarOrRVar atVar, Halide::Var i,
                           Halide::Var h, Halide::Var b,
                           std::optional<Halide::RVar> outerGroupVar = {});

/// Computes `consumer` at `at`/`atVar` in register tiles of `width`
/// (`inner`, vectorised by `lanes`) × `rows` (`rowVar`, unrolled), and
/// `accum` — the reduction over `r` that `consumer` reads — once per tile
/// with the reduction loop outside, so its accumulators stay in registers
/// (DESIGN.md). An `accum` indexed by tile (position in the tile
/// `accInner`, `accRow`, then the tile indices `tileVars`) lets a predicate
/// on `r` that depends on the tile bound or skip the whole reduction.
/// `pairElement`: the reduction's innermost RVar of extent 2 (bf16 pairs),
/// vectorised with the lanes into one vdpbf16ps per accumulator.
void registerTile(Halide::Func consumer, Halide::Func at, Halide::VarOrRVar atVar,
                  Halide::Func accum, Halide::Var inner, Halide::Var rowVar,
                  Halide::RVar r, int lanes, int width, int rows,
                  std::optional<std::pair<Halide::Var, Halide::Var>> accVars = {},
                  std::vector<Halide::VarOrRVar> tileVars = {},
                  std::optional<Halide::RVar> pairElement = {});

/// registerTile's accumulator alone: `accum` computed at `at` (one
/// register tile per iteration there), `accInner` vectorised by `lanes`,
/// `accRow` unrolled, the reduction `r` outside them.
void registerAccumulator(Halide::Func accum, Halide::LoopLevel at,
                         Halide::Var accInner, Halide::Var accRow,
                         Halide::RVar r, int lanes,
                         std::vector<Halide::VarOrRVar> tileVars,
                         std::optional<Halide::RVar> pairElement);

/// One update of a register tile's accumulator: `accInner` vectorised by
/// `lanes`, `accRow` unrolled, its reduction `r` outside them, then the
/// tile indices (registerAccumulator's update; a second update, such as
/// the windowed global keys' P·V, takes the same schedule).
void registerTileUpdate(Halide::Stage update, Halide::Var accInner,
                        Halide::Var accRow, Halide::RVar r, int lanes,
                        std::vector<Halide::VarOrRVar> tileVars,
                        std::optional<Halide::RVar> pairElement = {});

} // namespace cpu
} // namespace codegen
} // namespace attnc

#endif
