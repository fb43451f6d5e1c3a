//===- Attend.cpp - the algorithm of attn.attend --------------------------===//
//
// Tile-local softmax: the scores of a tile of queries against the keys it
// can see, then row max, exp, row sum and P·V over them. Nothing of size
// L×L exists: memory is O(L·D + tile·L) per thread (the schedule decides the
// tile). Reads are clamped so that tiles may run past every edge; padded
// keys are masked.
//
// Mask structure (#attn.mask from attn-analyze-masks) changes which keys are
// visited, never the result:
//  - band (causal, sliding windows): j − i ∈ [lo, hi] become predicates on
//    the key reductions, which Halide turns into loop bounds;
//  - block (reads i, j only as i/S, j/S): liveness is tested once per lane
//    group (max, sum), per key block (P·V) and per register tile (Q·Kᵀ).
//
//===----------------------------------------------------------------------===//
#include "Algorithms.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

H::Expr attnc::codegen::attendScale(Operation *op, H::Expr d) {
  if (auto a = op->getAttrOfType<FloatAttr>("scale"))
    return H::Expr(float(a.getValueAsDouble()));
  return 1.0f / H::sqrt(H::cast<float>(d));
}

std::vector<TensorValue> attnc::codegen::capturedTensors(OperandRange captures,
                                                         ValueTable &values) {
  std::vector<TensorValue> out;
  for (Value v : captures)
    out.push_back(values.tensors.lookup(v));
  return out;
}

std::optional<int32_t> attnc::codegen::bandBound(std::optional<int64_t> x) {
  if (!x || *x >= INT32_MAX || *x <= INT32_MIN)
    return std::nullopt;
  return int32_t(*x);
}

H::Expr attnc::codegen::meetsBand(H::Expr keyFirst, H::Expr keyLast,
                                  H::Expr rowFirst, H::Expr rowLast,
                                  std::optional<int32_t> lo,
                                  std::optional<int32_t> hi) {
  H::Expr meets = H::Internal::const_true();
  if (hi)
    meets = meets && keyFirst <= rowLast + *hi;
  if (lo)
    meets = meets && keyLast >= rowFirst + *lo;
  return meets;
}

FailureOr<H::Expr> attnc::codegen::allowedPairs(Region &mask, bool causal,
                                                ArrayRef<TensorValue> captures,
                                                H::Expr base, H::Var b,
                                                H::Var h, H::Var i, H::Var j) {
  H::Expr allowed = base;
  if (!mask.empty()) {
    auto e = regionToExpr(mask, {b, h, i, j}, captures);
    if (failed(e))
      return failure();
    allowed = allowed && *e;
  }
  if (causal)
    allowed = allowed && j <= i;
  return allowed;
}

namespace {
constexpr int64_t kMaxBlockSize = int64_t(1) << 30;
} // namespace

H::Func attnc::codegen::clampedF32(const TensorValue &t, const std::string &name,
                                   H::Var w, H::Var l, bool transposed) {
  H::Func f(name);
  H::Var h("h"), b("b");
  // In range but at the edges (`likely`): Halide peels the edges off, and
  // vector copies in between are dense loads, not gathers.
  H::Expr value =
      H::cast<float>(t.func(H::clamp(H::likely(w), 0, t.shape[3] - 1),
                            H::clamp(H::likely(l), 0, t.shape[2] - 1), h, b));
  if (transposed)
    f(l, w, h, b) = value;
  else
    f(w, l, h, b) = value;
  return f;
}

H::Func attnc::codegen::bf16Pairs(const TensorValue &t, const std::string &name,
                                  H::Var pair, H::Var other, H::Var p,
                                  bool pairOfPositions) {
  H::Func f(name);
  H::Var h("h"), b("b");
  H::Expr W = t.shape[3], L = t.shape[2];
  H::Expr paired = 2 * p + pair;
  H::Expr w = pairOfPositions ? H::clamp(other, 0, W - 1) : H::min(paired, W - 1);
  H::Expr l = pairOfPositions ? H::min(paired, L - 1) : H::clamp(other, 0, L - 1);
  H::Expr end = pairOfPositions ? L : W;
  H::Expr value = H::cast(H::BFloat(16), t.func(w, l, h, b));
  f(pair, other, p, h, b) =
      H::select(paired < end, value, H::cast(H::BFloat(16), 0.0f));
  return f;
}

FailureOr<AttendFuncs> attnc::codegen::defineAttend(attn::AttendOp op,
                                                    ValueTable &values,
                                                    int lanes, TileShape tile) {
  AttendFuncs f;
  TensorValue q = values.tensors.lookup(op.getQ());
  TensorValue k = values.tensors.lookup(op.getK());
  TensorValue v = values.tensors.lookup(op.getV());
  std::vector<TensorValue> caps = capturedTensors(op.getCaptures(), values);
  H::Var c = f.c, i = f.i, j = f.j, h = f.h, b = f.b, r = f.r, g = f.g,
         kl = f.kl;
  H::Expr D = q.shape[3], Lk = k.shape[2];
  const int KB = tile.keys, QR = tile.rows, VR = tile.valueRows;

  auto mask = op->getAttrOfType<attn::MaskAttr>(attn::kMaskAttrName);
  attn::MaskKind kind = mask ? mask.getKind() : attn::MaskKind::elementwise;
  bool isBand = kind == attn::MaskKind::band;
  std::optional<int32_t> bandLo, bandHi;
  if (isBand) {
    bandLo = bandBound(mask.getLo());
    bandHi = bandBound(mask.getHi());
  }
  int64_t blockSize = kind == attn::MaskKind::block ? *mask.getSize() : 0;
  // Dead blocks can be skipped whole when a lane group never straddles two;
  // a block larger than any sequence the runtime accepts (2^31) has nothing
  // to skip, and its size must fit the 32-bit loop arithmetic.
  bool isBlock = blockSize > 0 && blockSize % lanes == 0 &&
                 blockSize <= kMaxBlockSize;
  int32_t S = int32_t(std::max<int64_t>(blockSize, 1));
  H::Expr keyBlocks = (Lk + S - 1) / S;

  // Keys are padded to a whole number of KB-blocks; padded keys are masked.
  H::Expr Lp = (Lk + KB - 1) / KB * KB;
  // bf16 dot products read pairs along the head dimension: Q's stored
  // (element, query, pair), K's packed per key tile as f32 K is below.
  f.bf16Dot = tile.bf16Pairs;
  H::Var t = f.t, p = f.p;
  if (f.bf16Dot) {
    f.qf = bf16Pairs(q, "q_pairs", t, i, p, /*pairOfPositions=*/false);
    // Packed per key tile, as f32 K below.
    H::Func pairs = bf16Pairs(k, "k_pairs_rows", t, j, p,
                              /*pairOfPositions=*/false);
    f.kt = H::Func("k_pairs");
    f.kt(t, kl, p, f.jb, h, b) = pairs(t, f.jb * KB + kl, p, h, b);
  } else {
    // Q in blocks of `lanes` along the head dimension, rows inside a
    // block: element d of row i at (d / lanes, i, d % lanes). The Q·Kᵀ
    // register tile broadcasts one element of each of its rows per step,
    // then `lanes` floats apart from one base address, and staging Q is a
    // vector copy, not a transposition. (Row-major, each row needed its own
    // pointer, and eight of them exhausted the registers; rows innermost,
    // staging Q was 7 % of causal attention at L = 1024 on Zen 5.) The
    // clamps are `likely` in range, so that Halide peels the edges and the
    // copies in between are dense vectors.
    f.qf = H::Func("q_f32");
    H::Expr dq = f.db * lanes + f.d;
    f.qf(f.d, i, f.db, h, b) = H::cast<float>(
        q.func(H::clamp(H::likely(dq), 0, D - 1),
               H::clamp(i, 0, q.shape[2] - 1), h, b));
    // K transposed (keys innermost: score vectors run along keys) and
    // packed per key tile: a register tile's reduction reads KB × D
    // contiguous floats. (Transposed whole, each step of d read KB floats
    // of a row L floats long: at L = 4096 a head's K no longer stayed in
    // L2, and Q·Kᵀ ran at 82 % of peak against P·V's 100 %, causal on
    // Zen 5.)
    f.kt = H::Func("k_t");
    f.kt(kl, f.d, f.jb, h, b) = H::cast<float>(
        k.func(H::clamp(H::likely(f.d), 0, D - 1),
               H::clamp(H::likely(f.jb * KB + kl), 0, Lk - 1), h, b));
  }

  // Q·Kᵀ, indexed by register tile (jb: KB keys, g: QR rows), as K is
  // packed. With a block-sparse mask a tile whose first and last rows both
  // lie in dead blocks skips its reduction: a tile spans one key block
  // (S % KB == 0) and at most two query blocks (QR <= S).
  // Whether `key`'s block is live for any of `rows` rows from `firstRow`,
  // rows <= S: they span at most two query blocks, so the first and the
  // last row decide.
  auto liveForRows = [&](H::Expr firstRow, int rows,
                         H::Expr key) -> FailureOr<H::Expr> {
    auto first = regionToExpr(op.getMask(), {b, h, firstRow, key}, caps);
    auto last =
        regionToExpr(op.getMask(), {b, h, firstRow + (rows - 1), key}, caps);
    if (failed(first) || failed(last))
      return failure();
    return *first || *last;
  };
  f.rd = f.bf16Dot ? H::RDom(0, 2, 0, (D + 1) / 2, "rd") : H::RDom(0, D, "rd");
  // q·k for query row `row` and key `key`, one step of the reduction:
  // bf16 products of a pair widen to f32 exactly, and Halide matches the
  // pair's sum (a vectorised rd.x) to vdpbf16ps.
  H::Var jb = f.jb;
  auto term = [&](H::Expr row) {
    if (f.bf16Dot)
      return H::cast<float>(f.qf(f.rd.x, row, f.rd.y, h, b)) *
             H::cast<float>(f.kt(f.rd.x, kl, f.rd.y, jb, h, b));
    return f.qf(f.rd % lanes, row, f.rd / lanes, h, b) *
           f.kt(kl, f.rd, jb, h, b);
  };
  f.dotAcc = H::Func("qk");
  if (isBlock && blockSize % KB == 0 && QR <= blockSize) {
    f.qk = AttendFuncs::QK::BlockTiled;
    auto live = liveForRows(g * QR, QR, jb * KB);
    if (failed(live))
      return failure();
    f.rd.where(*live);
  }
  f.dotAcc(kl, r, jb, g, h, b) = 0.0f;
  f.dotAcc(kl, r, jb, g, h, b) += term(g * QR + r);
  H::Expr dot = f.dotAcc(j % KB, i % QR, j / KB, i / QR, h, b);
  H::Expr s = dot * attendScale(op, D);
  if (!op.getScore().empty()) {
    auto e = regionToExpr(op.getScore(), {s, b, h, i, j}, caps);
    if (failed(e))
      return failure();
    s = H::cast<float>(*e);
  }
  // A block mask is applied per lane group instead (S % lanes == 0: a
  // group lies in one block): the row max, the probabilities and the row
  // sum visit live groups only, and P·V reads probabilities, so a dead
  // key's score is never read — evaluating the mask per key (a gather of
  // the layout per vector) would cost more than the live keys' softmax.
  FailureOr<H::Expr> allowed = H::Expr(j < Lk);
  if (!isBlock || op.getCausal())
    allowed = allowedPairs(op.getMask(), op.getCausal(), caps, j < Lk, b, h,
                           i, j);
  if (failed(allowed))
    return failure();
  f.score = H::Func("score");
  H::Expr masked = H::select(*allowed, s, kLowest);
  if (f.qk == AttendFuncs::QK::BlockTiled) {
    // Scores of live register tiles only (the softmax reads no others):
    // writing the dead tiles' zeros was 6 % of BigBird at L = 2048. The
    // tiles cover whole key blocks, as the softmax reads them (keys past
    // Lk are masked).
    f.rs = H::RDom(0, KB, 0, keyBlocks * (S / KB), "rs");
    auto live = liveForRows(i / QR * QR, QR, f.rs.y * KB);
    if (failed(live))
      return failure();
    f.rs.where(*live);
    H::Expr key = f.rs.y * KB + f.rs.x;
    f.score(j, i, h, b) = H::undef<float>();
    f.score(key, i, h, b) = H::Internal::substitute(j.name(), key, masked);
  } else {
    f.score(j, i, h, b) = masked;
  }

  // With tile.keyChunk the softmax runs per chunk of KC keys: a chunk's
  // max, its probabilities and sum relative to that max, and its P·V,
  // which `state` then merges into those of the chunks before it
  // (FlashAttention's rescaling, once per chunk instead of per key tile).
  // Only one chunk's scores and probabilities exist at a time: tile × KC
  // floats each, which stay in L2 where tile × L ones did not (K and V of
  // a head are L·D floats each, streamed past them). Otherwise, and for
  // band and block masks, whose rows' keys are bounded already (a band's
  // bounds per chunk came out loose in Halide), the whole row is one chunk
  // (kc = 0) and there is nothing to merge.
  f.chunked = tile.keyChunk > 0 && !isBlock && !isBand;
  bool chunked = f.chunked;
  H::Expr KC = chunked ? H::Expr(tile.keyChunk) : Lp;
  H::Expr chunks = chunked ? (Lp + KC - 1) / KC : H::Expr(1);
  H::Var jl = f.jl, kc = f.kc;
  H::Expr chunkStart = kc * KC;
  H::Func chunkScore("chunk_score");
  chunkScore(jl, i, kc, h, b) = f.score(chunkStart + jl, i, h, b);

  // Row max and row sum run over `lanes` key lanes (the schedule rfactors
  // them), never across rows. A band keeps whole lane groups that touch
  // it (the mask still rejects the keys of a group outside it).
  //
  // With a block mask they run over (lane, lane group, block) and test
  // liveness once per block of the row (its lane groups share it), not
  // once per lane group.
  H::Expr candidate;
  if (isBlock) {
    // The mask evaluated once per (row, key block) of a tile: the row max,
    // the probabilities and the row sum each test every block of every
    // row, and the mask's own arithmetic (clamped layout loads, i / S)
    // cost more than a live block's exponentials.
    auto liveAt = regionToExpr(op.getMask(), {b, h, i, f.kb * S}, caps);
    if (failed(liveAt))
      return failure();
    f.liveBlock = H::Func("live_block");
    f.liveBlock(f.kb, i, h, b) = H::cast<uint8_t>(*liveAt);
    f.rk = H::RDom(0, lanes, 0, S / lanes, 0, keyBlocks, "rk");
    candidate = f.rk.z * S + f.rk.y * lanes + f.rk.x;
    f.rk.where(f.liveBlock(f.rk.z, i, h, b) != 0);
  } else {
    f.rk = H::RDom(0, lanes, 0, KC / lanes, "rk");
    candidate = f.rk.y * lanes + f.rk.x;
    if (chunked)
      f.rk.where(chunkStart + f.rk.y * lanes < Lp);
  }
  if (isBand) {
    H::Expr groupLo = f.rk.y * lanes; // a band is never chunked
    f.rk.where(meetsBand(groupLo, groupLo + (lanes - 1), i, i, bandLo, bandHi));
  }
  f.rb = H::RDom(0, S, 0, keyBlocks, "rb");
  // P·V row groups of VR <= S rows skip the key blocks dead for all their
  // rows. (Taller groups, possible only with SSE's 4 lanes or a
  // hand-written schedule, take the dense P·V: dead keys' probabilities
  // are 0.)
  bool pvBlocks = isBlock && VR <= blockSize;
  if (pvBlocks) {
    auto live = liveForRows(g * VR, VR, f.rb.y * S);
    if (failed(live))
      return failure();
    f.rb.where(*live);
  }
  // Block-sparse rows skip the exponentials of dead blocks (most of a
  // BigBird row); a band's probabilities are bounded by the tile already.
  // P·V by row groups reads a key block where any row of the group sees
  // it: exactly those blocks get probabilities (0 where the row itself
  // does not see them), and the others are never written. (Zeroing whole
  // rows first was 7 % of BigBird at L = 2048, in memset.) A dense P·V
  // reads every key: the others are 0.
  std::optional<VisitedProbs> visited;
  if (isBlock) {
    visited = VisitedProbs{f.rk, candidate, H::Expr(true),
                           /*zeroUnvisited=*/!pvBlocks};
    if (pvBlocks) {
      H::RDom rv(0, lanes, 0, S / lanes, 0, keyBlocks, "rv");
      H::Expr first = i / VR * VR; // its group's first and last rows decide
      rv.where(f.liveBlock(rv.z, first, h, b) != 0 ||
               f.liveBlock(rv.z, first + (VR - 1), h, b) != 0);
      visited = VisitedProbs{rv, rv.z * S + rv.y * lanes + rv.x,
                             f.liveBlock(rv.z, i, h, b) != 0};
    }
  }
  f.softmax = rowSoftmax(chunkScore, f.rk, candidate, jl, {i, kc, h, b},
                         chunked ? "chunk" : "row", visited);
  H::Func probs = f.softmax.probs;

  // P·V. For a band or block mask it is indexed by row group g (VR rows
  // r): the keys the group can see — [g·VR + lo, g·VR + VR − 1 + hi], or
  // the key blocks live for any of its rows — bound a reduction that runs
  // outside the group's register tile. Keys a row of the group does not
  // see have probability 0, so the union is exact.
  //
  // With bf16 dot products a dense or band P·V multiplies pairs of keys:
  // the probabilities rounded to bf16 (8 significant bits, as
  // FlashAttention's P on tensor cores) times V (bf16 like q and k) paired
  // along keys. Chunks and Lp are whole numbers of KB-blocks, so pairs
  // never straddle their ends. Block P·V stays f32 (its reduction is per
  // key block).
  f.pvPairs = f.bf16Dot && !pvBlocks;
  if (f.pvPairs) {
    f.vf = bf16Pairs(v, "v_pairs", t, c, p, /*pairOfPositions=*/true);
    f.probsBf16 = H::Func("probs_bf16");
    f.probsBf16(jl, i, kc, h, b) =
        H::cast(H::BFloat(16), probs(jl, i, kc, h, b));
  } else {
    f.vf = clampedF32(v, "v_f32", c, j);
  }
  // The keys of a chunk's dense (rp) or band (rg) P·V: [0, KC) before Lp,
  // or with pairs (element of the pair, pair).
  auto pvKeys = [&](const char *name) {
    H::RDom keys = f.pvPairs ? H::RDom(0, 2, 0, KC / 2, name)
                             : H::RDom(0, KC, name);
    if (chunked)
      keys.where(chunkStart + (f.pvPairs ? 2 * keys.y : H::Expr(keys.x)) < Lp);
    return keys;
  };
  f.rp = pvKeys("rp");
  f.rg = pvKeys("rg");
  // Probability times value for one step of `keys`: a key (rp, rg), a key
  // of a block (rb: key rb.y·S + rb.x) or an element of a pair of keys.
  auto weighted = [&](H::RDom keys, H::Expr row) {
    if (f.pvPairs)
      return H::cast<float>(f.probsBf16(2 * keys.y + keys.x, row, kc, h, b)) *
             H::cast<float>(f.vf(keys.x, c, kc * (KC / 2) + keys.y, h, b));
    H::Expr key = pvBlocks ? keys.y * S + keys.x : H::Expr(keys.x);
    return probs(key, row, kc, h, b) * f.vf(c, chunkStart + key, h, b);
  };
  f.pvAcc = H::Func("pv");
  f.chunkAcc = H::Func(chunked ? "chunk_pv" : "acc");
  if (isBand || pvBlocks) {
    f.pv = isBand ? AttendFuncs::PV::BandTiled : AttendFuncs::PV::BlockTiled;
    if (isBand) {
      H::Expr first = f.pvPairs ? 2 * f.rg.y : H::Expr(f.rg.x);
      H::Expr last = f.pvPairs ? first + 1 : first;
      f.rg.where(
          meetsBand(first, last, g * VR, g * VR + (VR - 1), bandLo, bandHi));
    }
    f.pvAcc(c, r, g, kc, h, b) = 0.0f;
    f.pvAcc(c, r, g, kc, h, b) += weighted(isBand ? f.rg : f.rb, g * VR + r);
    f.chunkAcc(c, i, kc, h, b) = f.pvAcc(c, i % VR, i / VR, kc, h, b);
  } else {
    f.pv = AttendFuncs::PV::Dense;
    f.pvAcc(c, i, kc, h, b) = 0.0f;
    f.pvAcc(c, i, kc, h, b) += weighted(f.rp, i);
    f.chunkAcc(c, i, kc, h, b) = f.pvAcc(c, i, kc, h, b);
  }

  f.out = H::Func("attend");
  if (!chunked) {
    f.out(c, i, h, b) = normalized(f.chunkAcc(c, i, 0, h, b),
                                   f.softmax.rowSum(i, 0, h, b), resultType(op));
    return f;
  }
  // Merging a chunk (P·V, max cm, sum cs) into the state (acc, m, l):
  // both rescale to the larger max, so one of the two factors is 1 and the
  // other exp(lower − higher) (0 while either max is kLowest, i.e. no key
  // allowed yet). A NaN reaches acc and l through the products.
  f.rc = H::RDom(0, chunks, "rc");
  f.state = H::Func("state");
  f.state(c, i, h, b) = {0.0f, kLowest, 0.0f};
  H::Expr acc = f.state(c, i, h, b)[0], m = f.state(c, i, h, b)[1],
          l = f.state(c, i, h, b)[2];
  H::Expr cm = f.softmax.rowMax(i, f.rc, h, b);
  H::Expr cs = f.softmax.rowSum(i, f.rc, h, b);
  H::Expr keepOld = m >= cm;
  H::Expr e = softmaxWeight(H::min(m, cm), H::max(m, cm));
  H::Expr oldScale = H::select(keepOld, 1.0f, e);
  H::Expr chunkScale = H::select(keepOld, e, 1.0f);
  f.state(c, i, h, b) = {
      acc * oldScale + f.chunkAcc(c, i, f.rc, h, b) * chunkScale,
      H::max(m, cm), l * oldScale + cs * chunkScale};
  f.out(c, i, h, b) = normalized(f.state(c, i, h, b)[0],
                                 f.state(c, i, h, b)[2], resultType(op));
  return f;
}
