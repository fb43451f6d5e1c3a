//===- Algorithms.h - internal: each op's Halide Funcs, defined once ------===//
//
// An op's algorithm is written once, here, as Halide Funcs that do not
// depend on the target; a backend (CPU/, later CUDA) schedules them from
// the op's #attn.schedule. The one input an algorithm takes from the
// schedule is how its reductions are indexed (`TileShape`): block-sparse
// Q·Kᵀ and band P·V are reductions indexed by register tile, so that a
// whole tile's dead keys are skipped by one test, and bf16 dot products
// reduce over pairs — that changes the definition, not only the loop
// order.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_ALGORITHMS_H
#define ATTNC_CODEGEN_LIB_ALGORITHMS_H

#include "HalideKernel.h"
#include "Softmax.h"

#include <optional>

namespace attnc {
namespace codegen {

/// A [B, H, L, W] input as f32 with both inner indices clamped into the
/// tensor, so that vectorised tiles may run past either edge: f(w, l, h, b),
/// or f(l, w, h, b) with `transposed` (positions innermost). The Vars name
/// the dimensions the schedule refers to.
Halide::Func clampedF32(const TensorValue &t, const std::string &name,
                        Halide::Var w, Halide::Var l, bool transposed = false);

/// Positions and sizes are below this (the runtime refuses larger extents),
/// so 32-bit index arithmetic with offsets of this size cannot overflow.
constexpr int32_t kMaxExtent = int32_t(1) << 30;

/// What of the register tiles a reduction is indexed by: Q·Kᵀ's `keys`
/// lanes × `rows`, and P·V's `valueRows` (attend's row groups); with
/// `bf16Pairs` (#attn.schedule bf16_dot) the matmuls of bf16 operands
/// reduce over (pair, element of the pair), the shape of vdpbf16ps.
struct TileShape {
  int keys = 0, rows = 0, valueRows = 0;
  bool bf16Pairs = false;
  // attend: keys per softmax chunk (#attn.schedule key_chunk), 0 for the
  // whole row.
  int keyChunk = 0;
};

/// A [B, H, L, W] bf16 input as pairs along `pairOf`: f(t, l, p) or, with
/// `pairOfPositions`, f(t, w, p) = the input at w = 2p + t (l = 2p + t),
/// the other index clamped, 0 past the end of the paired dimension (an
/// odd extent). Stored t innermost, then the unpaired index: one
/// vdpbf16ps operand is 16 consecutive pairs.
Halide::Func bf16Pairs(const TensorValue &t, const std::string &name,
                       Halide::Var pair, Halide::Var other, Halide::Var p,
                       bool pairOfPositions);

/// What attend and attend_grad share: the scale (the `scale` attribute or
/// 1/sqrt(D)), the tensors of the captures, and a band bound of #attn.mask
/// as a 32-bit offset (none for a bound beyond every position, |x| >= 2^31).
Halide::Expr attendScale(mlir::Operation *op, Halide::Expr headDim);
std::vector<TensorValue> capturedTensors(mlir::OperandRange captures,
                                         ValueTable &values);
std::optional<int32_t> bandBound(std::optional<int64_t> x);

/// Whether keys [keyFirst, keyLast] meet the band j − i ∈ [lo, hi] of some
/// row in [rowFirst, rowLast] (a missing bound is unbounded): the predicate
/// that bounds a reduction over keys to a band.
Halide::Expr meetsBand(Halide::Expr keyFirst, Halide::Expr keyLast,
                       Halide::Expr rowFirst, Halide::Expr rowLast,
                       std::optional<int32_t> lo, std::optional<int32_t> hi);

/// `base` and the pairs (i, j) an attend's `mask` region and `causal` allow.
mlir::FailureOr<Halide::Expr>
allowedPairs(mlir::Region &mask, bool causal,
             llvm::ArrayRef<TensorValue> captures, Halide::Expr base,
             Halide::Var b, Halide::Var h, Halide::Var i, Halide::Var j);

struct AttendFuncs {
  enum class QK { Dense, BlockTiled };        // Q·Kᵀ per key or per tile
  enum class PV { Dense, BandTiled, BlockTiled }; // per key or row group
  QK qk = QK::Dense;
  PV pv = PV::Dense;
  // bf16 dot products: qf, kt are bf16Pairs along the head dimension, and,
  // with pvPairs, vf along keys and P·V reads probsBf16.
  bool bf16Dot = false, pvPairs = false;
  // The softmax runs per chunk of keys (TileShape::keyChunk), merged by
  // `state`; otherwise over the whole row, and `state` is undefined.
  bool chunked = false;
  Halide::Func qf, kt, vf;     // inputs as f32 (K transposed: keys innermost)
  Halide::Func probsBf16;
  Halide::Func dotAcc, score;  // Q·Kᵀ accumulator, masked scaled scores
  RowSoftmax softmax;          // per chunk: softmax(jl, i, kc, h, b)
  // P·V of a chunk (register-tiled pvAcc), then `state` = (P·V, max, sum)
  // of the chunks so far, one update per chunk (rc).
  Halide::Func pvAcc, chunkAcc, state, out;
  // Block mask: whether row i sees key block kb (1 or 0), evaluated once
  // per tile for the softmax's liveness tests; undefined otherwise.
  Halide::Func liveBlock;
  Halide::Var c{"c"}, d{"d"}, i{"i"}, j{"j"}, h{"h"}, b{"b"}, r{"r"},
      g{"g"}, kl{"kl"}, t{"t"}, p{"p"}, jl{"jl"}, kc{"kc"}, kb{"kb"},
      db{"db"}, jb{"jb"};
  // rd: head dim (bf16Dot: rd.x in the pair, rd.y the pair); rk: keys as
  // (lane, lane group) for max and sum; rp / rg / rb: keys of P·V (dense,
  // band row group, blocks live for a row group; with pvPairs rp and rg
  // are (element of the pair, pair) too).
  // rc: the chunks.
  Halide::RDom rd, rk, rp, rg, rb, rc;
  // QK::BlockTiled: the score's key tiles (lane rs.x of key tile rs.y)
  // live for the row's register tile; the others are never written.
  Halide::RDom rs;
};

mlir::FailureOr<AttendFuncs> defineAttend(attn::AttendOp op, ValueTable &values,
                                          int lanes, TileShape tile);

/// attend_grad (AttendGrad.cpp): per tile of `tileQueries` queries, the
/// recomputed softmax, dS, the tile's dq rows and its share of dk and dv,
/// all written by one update of `grads` (rows: dq's, then dk's and dv's;
/// a dq row's second element holds, at column k, its row's share of the
/// gradient of f32 capture read k, which `captureGrads` sum per capture).
struct AttendGradFuncs {
  int tileQueries = 0;
  Halide::Func qf, kt, kf, vt, dof; // q, K transposed, K rows, V transposed, dO
  Halide::Func dotAcc, scaled, score;
  RowSoftmax softmax;
  Halide::Func invSum, dpAcc, dp, rowDot, ds;
  Halide::Func dqAcc, dqTile, dkAcc, dkPart, dvAcc, dvPart;
  Halide::Func grads, dq, dk, dv;
  std::vector<Halide::Func> rowCaptureGrads; // per f32 capture read
  std::vector<Halide::Func> captureGrads;    // per f32 capture
  Halide::Var c{"c"}, d{"d"}, i{"i"}, j{"j"}, h{"h"}, b{"b"}, r{"r"},
      g{"g"}, t{"qtile"}, x{"x"}, n{"n"};
  // rd / rc: head and value dims; rk: keys as (lane, lane group); rg: keys
  // of a row group's dq; ri: rows of a tile; u: (grads row, tile).
  Halide::RDom rd, rc, rk, rg, ri, u;
};

mlir::FailureOr<AttendGradFuncs>
defineAttendGrad(attn::AttendGradOp op, ValueTable &values, int lanes,
                 TileShape tile, int tileQueries);

struct WindowedFuncs {
  int globals = 0;
  Halide::Func qT, kT, vf;          // queries and keys innermost
  Halide::Func winDot, score;       // window taps, then globals, per query
  RowSoftmax softmax;
  Halide::Func pvAcc, result;
  Halide::Func gk, gv, gDot;        // global keys/values seen by every row
  Halide::Func globalRow;           // per query: index among globals, or -1
  // Global rows: dense attention over all keys.
  Halide::Func kAll, vAll, gqk, gscore, gPv, full;
  RowSoftmax denseSoftmax;
  Halide::Var c{"c"}, d{"d"}, i{"i"}, j{"j"}, w{"w"}, g{"g"}, gi{"gi"},
      h{"h"}, b{"b"};
  Halide::RDom rd, taps, keys;      // head dim, candidates, all keys
  // Band form: query t of block blk against key slot w of the block's band.
  // With a dilation, residue rho of the queries modulo it (qT is then
  // indexed (t, d, blk, rho)); bandCandidates: band slots then globals.
  bool band = false;
  int blockQueries = 0, dilation = 1;
  Halide::Func kRows, bandDot, bandScore, bandCandidates, bandMax, bandProbs,
      bandSum, bandPv, bandPvOut; // kRows: keys as f32 rows (head dim innermost)
  Halide::Var t{"t"}, blk{"blk"}, rho{"rho"};
  Halide::RDom bandSlots;
  // The band's Q·Kᵀ is indexed by register tile (query lane tl and slot
  // row sr of query group tq and slot group sg) and its P·V by row group
  // (row vr of group vg), so that a tile outside every window of its
  // queries skips its reduction; bandPvSlots: P·V's band slots,
  // globalPvSlots: its global keys (a second update).
  // bandRd: the head dimension of the band's Q·Kᵀ (its predicate skips
  // tiles).
  Halide::Var tl{"tl"}, sr{"sr"}, tq{"tq"}, sg{"sg"}, vr{"vr"}, vg{"vg"};
  Halide::RDom bandRd, bandPvSlots, globalPvSlots;
};

/// `blockQueries`: the query tile of the schedule; a window without
/// dilation or global tokens, at most kMaxBandSlots keys wide per block, is
/// computed as a band (see Windowed.cpp).
mlir::FailureOr<WindowedFuncs> defineWindowed(attn::WindowedAttendOp op,
                                              ValueTable &values,
                                              int blockQueries, TileShape tile);

/// Reformer LSH (Lsh.cpp). hash_bucket: rotations, positions transposed,
/// the projection (a register-tiled matmul: positions × N/2 per round) and
/// the first argmax over [p, −p].
struct HashFuncs {
  int32_t half = 0; // N/2
  Halide::Func rot, xT, proj, projOut, best, bucket;
  Halide::Var n{"n"}, r{"r"}, t{"t"}, d{"d"}, h{"h"}, b{"b"};
  Halide::RDom rd, rk;
};

mlir::FailureOr<HashFuncs> defineHashBucket(attn::HashBucketOp op,
                                            ValueTable &values);

/// sort_chunk: the runtime's counting sort as an extern stage with two
/// outputs, and one Func per result.
struct SortFuncs {
  Halide::Func input, sorted, order, undo;
  Halide::Var t{"t"}, r{"r"}, h{"h"}, b{"b"};
};

SortFuncs defineSortChunk(attn::SortChunkOp op, ValueTable &values);

/// chunked_attend: rows are (slot t, chunk c) of the sorted sequence;
/// `result` holds per row the output (columns < E) and the lse (column E).
struct ChunkedFuncs {
  Halide::Expr numChunks;
  bool inverted = false; // undo computed here from order
  bool sharedQK = false;  // q and k one tensor: queries read from keysT
  Halide::Expr valueWidth; // E
  Halide::Expr shortMode;  // full_if_short and L ≤ C: one segment per round
  Halide::Expr slots;      // S: entries per chunk (C, or L in short mode)
  int32_t before = 0, neighbours = 1; // before, before + 1 + after
  Halide::Func posFlat, undo, kf, keySq, keyScale, queryPos, keyPos, qT, dot,
      keySlotScale, score, rowMax, probs, rowSum, rowLse, vf, keysT, values,
      pvAcc, pvOut, result, out, lse;
  // Key slot (j, n): slot j of neighbour chunk n.
  Halide::Var x{"x"}, t{"t"}, j{"j"}, n{"n"}, c{"c"}, i{"i"}, r{"r"}, d{"d"},
      h{"h"}, b{"b"}, l{"l"};
  Halide::RDom ro, rd, rj;
};

/// `knownUndo`: the inverse of the order when it is sort_chunk's (else it
/// is inverted here). `ChunkedOp` is attn::ChunkedAttendOp or
/// attn::ChunkedAttendGradOp (whose backward recomputes this forward).
template <typename ChunkedOp>
mlir::FailureOr<ChunkedFuncs>
defineChunkedAttend(ChunkedOp op, ValueTable &values,
                    std::optional<Halide::Func> knownUndo);

struct CombineFuncs {
  Halide::Func maxLse, weight, weightSum, acc, result;
  Halide::Var x{"x"}, i{"i"}, h{"h"}, b{"b"};
  Halide::RDom rr;
};

/// `CombineOp` is attn::CombineRoundsOp or attn::CombineRoundsGradOp.
template <typename CombineOp>
CombineFuncs defineCombineRounds(CombineOp op, ValueTable &values);

/// chunked_attend_grad (LshGrad.cpp): the forward's Funcs recomputed, then
/// per chunk dP, δ and dS, the chunk's dq rows and its key slots' shares of
/// dk and dv in `grads`; dq, dk and dv sum those shares over rounds and
/// neighbouring chunks per position.
struct ChunkedGradFuncs {
  ChunkedFuncs fwd;
  Halide::Func doutRows, doutT, dlseSorted, qRows, invSum, dpAcc, dp, delta,
      ds, dqAcc, dqT, keyAcc, keyPart, valAcc, valPart, grads, dqSum, keySum,
      valSum, keyDot, dq, dk, dv;
  Halide::Var row{"row"};
  Halide::RDom rx, rt, rjn, rr, rnr, rd;
};

mlir::FailureOr<ChunkedGradFuncs>
defineChunkedAttendGrad(attn::ChunkedAttendGradOp op, ValueTable &values,
                        std::optional<Halide::Func> knownUndo);

/// combine_rounds_grad (LshGrad.cpp): the forward's weights and result
/// recomputed, then dout and dlse per round.
struct CombineGradFuncs {
  CombineFuncs fwd;
  Halide::Func rowDot, roundDot, dout, dlse;
  Halide::Var r{"r"};
  Halide::RDom rx;
};

CombineGradFuncs defineCombineRoundsGrad(attn::CombineRoundsGradOp op,
                                         ValueTable &values);

/// The dense helpers: one Func each (with its inner reductions).
struct DenseFuncs {
  Halide::Func out;
  std::vector<Halide::Var> vars;          // innermost first
  std::vector<Halide::Func> rowReductions; // computed per outer row
  Halide::Func inner;                      // linear's accumulator, if any
  std::optional<Halide::RDom> innerDomain;
  /// With an inner reduction: output rows (outermost var) accumulated in one
  /// pass over the reduction, so that each reduced row is read once per
  /// block of this many output rows (linear_weight_grad: Σ over positions).
  int blockRows = 0;
  std::vector<Halide::Func> staged; // computed once at the root (wᵀ)
};

mlir::FailureOr<DenseFuncs> defineDense(mlir::Operation *op, ValueTable &values,
                                        std::vector<Halide::Expr> &shape);

} // namespace codegen
} // namespace attnc

#endif
