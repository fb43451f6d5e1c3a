//===- FlashAttention.cpp - attend as a tensor-core CUDA kernel -----------===//
//
// One thread block per tile of `tile_queries` queries, one warp per 16 of
// them (an mma.sync m16n8k16 row block). Per key tile of `key_tile` keys:
//
//   1. all threads copy K and V rows into shared memory with cp.async
//      (16 bytes each, rows clamped to L − 1 so that no load is out of
//      bounds; the clamped keys are masked below), K and V in separate
//      groups: steps 2 and 3 wait for K only, V arrives meanwhile (measured
//      on an H200: +2 % causal D = 64, +14 % causal D = 128);
//   2. each warp computes S = Q·Kᵀ for its 16 rows: Q's A fragments were
//      loaded into registers once, K's B fragments come from ldmatrix;
//   3. scores are scaled (the score region applied), masked to −inf where
//      the tile needs it, and folded into the running max / sum per row
//      (FlashAttention-2: the row sum stays per lane until the end; the
//      quad of lanes sharing a row exchange maxima with two shuffles);
//   4. P, rounded to the input type, is reused in registers as the A
//      fragment of P·V (an m16n8 accumulator pair has the A layout), V's B
//      fragments come from ldmatrix.trans.
//
// Tiles that the band (causal, window) puts wholly inside the allowed
// region and below L take a loop without per-element masks; tiles wholly
// outside are never visited; block-sparse masks skip dead tiles with one
// evaluation of the mask per tile.
//
//===----------------------------------------------------------------------===//
#include "FlashAttention.h"

#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Dialect/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <array>
#include <cmath>
#include <limits>
#include <optional>

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;

namespace {

constexpr int64_t kFragmentRows = 16; // mma.sync m16n8k16
constexpr int64_t kFragmentCols = 8;
constexpr int64_t kTf32K = 8;         // mma.sync m16n8k8 (TF32)
constexpr int64_t kMaxHeadDim = 128;  // K and V tiles fit 48 KiB of shared memory
constexpr int64_t kVectorBytes = 16; // global loads into shared memory
// Shared V rows padded by 8 elements: ldmatrix.trans rows hit distinct banks
// (16-bit), and TF32 reads of row t, column g hit bank 8t + g (f32).
constexpr int64_t kValuePad = 8;
constexpr int64_t kMaxStaticShared = 48 * 1024;

/// What one op asks of the kernel, read from the op and its attributes.
struct Plan {
  Operation *op = nullptr;
  int64_t warps = 4, tileQueries = 64, keyTile = 64;
  Type elem, outElem;
  int64_t D = 0, Dv = 0;
  double scale = 0;
  std::optional<int64_t> lo, hi; // j − i ∈ [lo, hi]
  bool causal = false;
  int64_t dilation = 1;
  std::vector<int64_t> globals;
  bool windowed = false;
  Region *mask = nullptr, *score = nullptr;
  std::optional<int64_t> block; // mask reads i, j only as i / block, j / block
  int qArg = 0, kArg = 0, vArg = 0, outArg = 0;
  std::vector<int> captureArgs;  // the kernel argument of each capture
  std::vector<int64_t> ranks;    // of every kernel argument

  /// f32 inputs run on TF32 tensor cores (m16n8k8).
  bool tf32() const { return elem.isF32(); }
  /// Shared K rows are padded against bank conflicts: by 16 bytes for
  /// ldmatrix (8 rows of 16 bytes hit distinct banks), by 4 floats for the
  /// TF32 reads (lanes g, t read row g, column t: bank 4g + t).
  int64_t keyPad() const { return tf32() ? 4 : 8; }
  int64_t sharedBytes() const {
    return keyTile * (D + keyPad() + Dv + kValuePad) *
           (elem.getIntOrFloatBitWidth() / 8);
  }
  /// A tile inside the band and below L needs no per-element predicate.
  bool bandIsWholeMask() const {
    return !mask && (!windowed || (dilation == 1 && globals.empty()));
  }
};

/// The running state of one warp's 16 rows: the P·V accumulators, and per
/// row half (g, g + 8) its max and this lane's part of the sum.
struct RowState {
  SmallVector<Value> acc; // Dv / 8 × vector<2x2xf32>
  Value max[2], sum[2];

  SmallVector<Value> flat() const {
    SmallVector<Value> v(acc);
    v.append({max[0], max[1], sum[0], sum[1]});
    return v;
  }
  static RowState from(ValueRange v) {
    RowState s;
    size_t n = v.size();
    for (size_t i = 0; i + 4 < n; ++i)
      s.acc.push_back(v[i]);
    s.max[0] = v[n - 4], s.max[1] = v[n - 3];
    s.sum[0] = v[n - 2], s.sum[1] = v[n - 1];
    return s;
  }
};

class FlashBuilder {
public:
  FlashBuilder(const Plan &p, ImplicitLocOpBuilder &b) : p(p), b(b) {}

  /// Fills the body of `fn`, whose arguments follow the runtime's order:
  /// one pointer per tensor, then each tensor's shape and strides.
  void build(gpu::GPUFuncOp fn);

private:
  const Plan &p;
  ImplicitLocOpBuilder &b;
  // Kernel-wide values.
  SmallVector<Value> ptr;
  SmallVector<SmallVector<Value>> shape, stride; // index
  Value kShared, vShared;
  Value tid, lane, warp, quadRow, quadCol; // g = lane / 4, t = lane % 4
  Value batch, head, queryStart, lq, lk, lastQuery;
  Value rowOf[2]; // this lane's query rows
  SmallVector<Value> qFragments;

  Type f32() { return b.getF32Type(); }
  Value idx(int64_t v) { return b.create<arith::ConstantIndexOp>(v); }
  Value f32c(double v) {
    return b.create<arith::ConstantOp>(b.getF32FloatAttr(float(v)));
  }
  Value add(Value a, Value c) { return b.create<arith::AddIOp>(a, c); }
  Value mul(Value a, Value c) { return b.create<arith::MulIOp>(a, c); }
  Value minIdx(Value a, Value c) { return b.create<arith::MinSIOp>(a, c); }
  Value maxIdx(Value a, Value c) { return b.create<arith::MaxSIOp>(a, c); }
  Value cmp(arith::CmpIPredicate pr, Value a, Value c) {
    return b.create<arith::CmpIOp>(pr, a, c);
  }
  Value both(Value a, Value c) { return b.create<arith::AndIOp>(a, c); }
  Value either(Value a, Value c) { return b.create<arith::OrIOp>(a, c); }

  /// The address of tensor `a`'s element at `indices` (outermost first).
  Value address(int a, ArrayRef<Value> indices, Type elem) {
    Value off = idx(0);
    for (auto [d, i] : llvm::enumerate(indices))
      off = add(off, mul(i, stride[a][d]));
    Value off64 = b.create<arith::IndexCastOp>(b.getI64Type(), off);
    return b.create<LLVM::GEPOp>(ptr[a].getType(), elem, ptr[a],
                                 ValueRange{off64});
  }
  Value load(int a, ArrayRef<Value> indices, Type type, unsigned align) {
    Type elem = getElementTypeOrSelf(type);
    return b.create<LLVM::LoadOp>(type, address(a, indices, elem), align);
  }

  Value exp2(Value x) {
    // ex2.approx: 2 ulp, −inf → +0; LLVM 19's NVPTX has no llvm.exp2.
    return b
        .create<LLVM::InlineAsmOp>(f32(), ValueRange{x},
                                   "ex2.approx.ftz.f32 $0, $1;", "=f,f",
                                   false, false, LLVM::AsmDialectAttr(),
                                   ArrayAttr())
        .getResult(0);
  }
  Value quadReduce(Value x, bool isMax) {
    for (int32_t offset : {1, 2}) {
      Value other =
          b.create<gpu::ShuffleOp>(x, offset, 32, gpu::ShuffleMode::XOR)
              .getShuffleResult();
      x = isMax ? Value(b.create<arith::MaxNumFOp>(x, other))
                : Value(b.create<arith::AddFOp>(x, other));
    }
    return x;
  }

  Value zeroOf(VectorType t) {
    return b.create<arith::ConstantOp>(
        t, DenseElementsAttr::get(t, b.getZeroAttr(t.getElementType())));
  }
  Value zeroAcc() { return zeroOf(VectorType::get({2, 2}, f32())); }
  Value mma(Value a, Value bFrag, Value c);
  std::array<Value, 2> bFragmentPair(Value shared, Value row, Value col,
                                     bool transpose);
  SmallVector<Value> scores16();
  SmallVector<Value> scoresTf32();
  void accumulate16(ArrayRef<Value> pHalf, SmallVector<Value> &acc);
  void accumulateTf32(ArrayRef<Value> pv, SmallVector<Value> &acc);
  void loadQueryFragments();
  Value inlineRegion(Region &r, ArrayRef<Value> leading);
  Value elementAllowed(Value i, Value j);
  Value scoreOf(Value acc, Value i, Value j);
  void loadTile(int a, Value shared, int64_t width, Value keyStart);
  void asyncCommit();
  void asyncWait(int pending);
  RowState processTile(Value kt, bool masked, const RowState &in);
  RowState tileLoop(Value begin, Value end, bool masked, const RowState &in);
  RowState ifTile(Value cond, Value kt, const RowState &in);
  void store(const RowState &s);
};

/// c + a·b on tensor cores, m16n8k16: a vector<4x2xT> A fragment, b a
/// vector<2x2xT> B fragment, c and the result vector<2x2xf32>; for f32
/// inputs TF32 m16n8k8 with vector<4x1xf32> and vector<2x1xf32> fragments.
Value FlashBuilder::mma(Value a, Value bFrag, Value c) {
  if (p.tf32())
    return b.create<nvgpu::MmaSyncOp>(a, bFrag, c, ArrayRef<int64_t>{16, 8, 8},
                                      /*tf32Enabled=*/true);
  if (p.elem.isF16())
    return b.create<nvgpu::MmaSyncOp>(a, bFrag, c, ArrayRef<int64_t>{16, 8, 16});
  // MLIR 19 cannot lower a bf16 mma.sync: nvgpu's lowering knows no bf16,
  // and nvvm.mma.sync's verifier wants f16 pairs where the LLVM intrinsic
  // wants i32. The instruction itself, on bf16 pairs packed in i32:
  auto packed = [&](Value frag, int64_t rows, SmallVector<Value> &regs) {
    for (int64_t r = 0; r < rows; ++r)
      regs.push_back(b.create<LLVM::BitcastOp>(
          b.getI32Type(), b.create<vector::ExtractOp>(frag, ArrayRef<int64_t>{r})));
  };
  SmallVector<Value> operands;
  packed(a, 4, operands);
  packed(bFrag, 2, operands);
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t k = 0; k < 2; ++k)
      operands.push_back(b.create<vector::ExtractOp>(c, ArrayRef<int64_t>{r, k}));
  auto resultType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), SmallVector<Type>(4, f32()));
  Value d = b.create<LLVM::InlineAsmOp>(
                 resultType, operands,
                 "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{$0, $1, $2, $3}, {$4, $5, $6, $7}, {$8, $9}, "
                 "{$10, $11, $12, $13};",
                 "=f,=f,=f,=f,r,r,r,r,r,r,f,f,f,f", false, false,
                 LLVM::AsmDialectAttr(), ArrayAttr())
                .getResult(0);
  Value out = c;
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t k = 0; k < 2; ++k)
      out = b.create<vector::InsertOp>(
          b.create<LLVM::ExtractValueOp>(d, ArrayRef<int64_t>{2 * r + k}), out,
          ArrayRef<int64_t>{r, k});
  return out;
}

/// Clones region `r` here with its leading block arguments bound to
/// `leading` and its captures read from global memory; returns the yield.
Value FlashBuilder::inlineRegion(Region &r, ArrayRef<Value> leading) {
  Block &body = r.front();
  IRMapping map;
  for (auto [k, v] : llvm::enumerate(leading))
    map.map(body.getArgument(k), v);
  size_t firstCapture = leading.size();
  for (Operation &op : body) {
    if (auto y = dyn_cast<attn::YieldOp>(op))
      return map.lookup(y.getValues().front());
    if (auto ex = dyn_cast<tensor::ExtractOp>(op)) {
      auto arg = cast<BlockArgument>(ex.getTensor());
      int a = p.captureArgs[arg.getArgNumber() - firstCapture];
      SmallVector<Value> indices;
      for (Value i : ex.getIndices())
        indices.push_back(map.lookup(i));
      map.map(ex.getResult(), load(a, indices, ex.getType(), 4));
      continue;
    }
    b.clone(op, map);
  }
  llvm_unreachable("attn regions end in attn.yield (verified)");
}

/// Whether key j may be seen by query i (j < L is checked by the caller).
Value FlashBuilder::elementAllowed(Value i, Value j) {
  Value ok;
  auto conj = [&](Value c) { ok = ok ? both(ok, c) : c; };
  if (p.windowed) {
    Value d = b.create<arith::SubIOp>(j, i);
    Value inBand = both(cmp(arith::CmpIPredicate::sge, d, idx(*p.lo)),
                        cmp(arith::CmpIPredicate::sle, d, idx(*p.hi)));
    if (p.dilation > 1)
      inBand = both(inBand, cmp(arith::CmpIPredicate::eq,
                                b.create<arith::RemSIOp>(d, idx(p.dilation)),
                                idx(0)));
    for (int64_t g : p.globals)
      inBand = either(inBand, either(cmp(arith::CmpIPredicate::eq, i, idx(g)),
                                     cmp(arith::CmpIPredicate::eq, j, idx(g))));
    return inBand;
  }
  if (p.causal)
    conj(cmp(arith::CmpIPredicate::sle, j, i));
  if (p.mask)
    conj(inlineRegion(*p.mask, {batch, head, i, j}));
  return ok;
}

/// The score in exp2 units: score(scale · q·k, b, h, i, j) · log2 e.
Value FlashBuilder::scoreOf(Value acc, Value i, Value j) {
  constexpr double log2e = 1.4426950408889634;
  if (!p.score)
    return b.create<arith::MulFOp>(acc, f32c(p.scale * log2e));
  Value s = b.create<arith::MulFOp>(acc, f32c(p.scale));
  Value scored = inlineRegion(*p.score, {s, batch, head, i, j});
  return b.create<arith::MulFOp>(scored, f32c(log2e));
}

/// K and V rows keyStart … keyStart + key_tile − 1 into shared memory.
void FlashBuilder::loadTile(int a, Value shared, int64_t width,
                            Value keyStart) {
  int64_t threads = 32 * p.warps;
  Value lastKey = b.create<arith::SubIOp>(lk, idx(1));
  int64_t elemBytes = p.elem.getIntOrFloatBitWidth() / 8;
  int64_t vectorElems = kVectorBytes / elemBytes;
  int64_t perRow = width / vectorElems;
  int64_t chunks = p.keyTile * perRow;
  int64_t rowBytes = cast<MemRefType>(shared.getType()).getDimSize(1) * elemBytes;
  Value base = b.create<arith::IndexCastOp>(
      b.getI64Type(), b.create<memref::ExtractAlignedPointerAsIndexOp>(shared));
  for (int64_t c0 = 0; c0 < chunks; c0 += threads) {
    Value c = add(tid, idx(c0));
    std::optional<OpBuilder::InsertionGuard> guard;
    if (c0 + threads > chunks) { // the last round: fewer chunks than threads
      auto inRange = b.create<scf::IfOp>(
          cmp(arith::CmpIPredicate::ult, c, idx(chunks)), false);
      guard.emplace(b);
      b.setInsertionPointToStart(inRange.thenBlock());
    }
    Value row = b.create<arith::DivUIOp>(c, idx(perRow));
    Value col = mul(b.create<arith::RemUIOp>(c, idx(perRow)), idx(vectorElems));
    Value key = minIdx(add(keyStart, row), lastKey);
    Value offset = add(mul(row, idx(rowBytes)), mul(col, idx(elemBytes)));
    Value dst = b.create<arith::AddIOp>(
        base, b.create<arith::IndexCastOp>(b.getI64Type(), offset));
    // 16 bytes global -> shared without registers, completing in the
    // background until the next cp.async.wait_group.
    b.create<LLVM::InlineAsmOp>(
        Type(), ValueRange{dst, address(a, {batch, head, key, col}, p.elem)},
        "cp.async.cg.shared.global [$0], [$1], 16;", "l,l", true, false,
        LLVM::AsmDialectAttr(), ArrayAttr());
  }
  asyncCommit();
}

void FlashBuilder::asyncCommit() {
  b.create<LLVM::InlineAsmOp>(Type(), ValueRange{}, "cp.async.commit_group;",
                              "", true, false, LLVM::AsmDialectAttr(),
                              ArrayAttr());
}

/// Waits until at most `pending` committed copy groups are in flight, then
/// makes every thread's copies visible to the block.
void FlashBuilder::asyncWait(int pending) {
  b.create<LLVM::InlineAsmOp>(
      Type(), ValueRange{},
      "cp.async.wait_group " + std::to_string(pending) + ";", "", true, false,
      LLVM::AsmDialectAttr(), ArrayAttr());
  b.create<gpu::BarrierOp>();
}

/// Two m16n8k16 B fragments (vector<2x2xT>) from one ldmatrix x4 of 16-bit
/// shared memory at this lane's (row, col): matrices 0-1 make the first,
/// 2-3 the second.
std::array<Value, 2> FlashBuilder::bFragmentPair(Value shared, Value row,
                                                 Value col, bool transpose) {
  Value frag = b.create<nvgpu::LdMatrixOp>(VectorType::get({4, 2}, p.elem),
                                           shared, ValueRange{row, col},
                                           transpose, 4);
  std::array<Value, 2> out;
  for (int64_t h = 0; h < 2; ++h)
    out[h] = b.create<vector::ShuffleOp>(frag, frag,
                                         ArrayRef<int64_t>{2 * h, 2 * h + 1});
  return out;
}

/// S = Q·Kᵀ for this warp's 16 rows, m16n8k16: ldmatrix x4 loads the B
/// fragments of two 8-key column tiles (lanes 0-15: keys of the first,
/// 16-31: of the second; lanes / 8 odd: the upper 8 of the 16 head
/// elements).
SmallVector<Value> FlashBuilder::scores16() {
  SmallVector<Value> s(p.keyTile / kFragmentCols, zeroAcc());
  Value lrow = add(b.create<arith::RemUIOp>(lane, idx(8)),
                   mul(b.create<arith::DivUIOp>(lane, idx(16)), idx(8)));
  Value lcol = mul(b.create<arith::RemUIOp>(
                       b.create<arith::DivUIOp>(lane, idx(8)), idx(2)),
                   idx(8));
  for (int64_t kk = 0; kk < p.D / kFragmentRows; ++kk)
    for (int64_t n = 0; n < int64_t(s.size()); n += 2) {
      auto frags = bFragmentPair(kShared, add(lrow, idx(n * kFragmentCols)),
                                 add(lcol, idx(kk * kFragmentRows)), false);
      for (int64_t h = 0; h < 2; ++h)
        s[n + h] = mma(qFragments[kk], frags[h], s[n + h]);
    }
  return s;
}

/// S = Q·Kᵀ, TF32 m16n8k8: B fragment (k = t and t + 4, n = g) read from
/// shared memory element by element (ldmatrix moves 16-bit elements only).
SmallVector<Value> FlashBuilder::scoresTf32() {
  SmallVector<Value> s(p.keyTile / kFragmentCols, zeroAcc());
  auto bType = VectorType::get({2, 1}, f32());
  for (int64_t kk = 0; kk < p.D / kTf32K; ++kk)
    for (int64_t n = 0; n < int64_t(s.size()); ++n) {
      Value key = add(quadRow, idx(n * kFragmentCols));
      Value frag = zeroOf(bType);
      for (int64_t r = 0; r < 2; ++r) {
        Value e = b.create<memref::LoadOp>(
            kShared, ValueRange{key, add(quadCol, idx(kk * kTf32K + 4 * r))});
        frag = b.create<vector::InsertOp>(e, frag, ArrayRef<int64_t>{r, 0});
      }
      s[n] = mma(qFragments[kk], frag, s[n]);
    }
  return s;
}

/// acc += P·V, m16n8k16: P (rounded to the input type) is the A fragment as
/// it lies in the accumulators (column tiles 2kk and 2kk + 1 of a lane hold
/// a0..a3); ldmatrix.trans x4 gives V's B fragments (lanes 0-7 / 8-15: keys
/// 0-7 / 8-15 of value columns nv, lanes 16-31 the same of nv + 1).
void FlashBuilder::accumulate16(ArrayRef<Value> pHalf, SmallVector<Value> &acc) {
  Value vrow = add(b.create<arith::RemUIOp>(lane, idx(8)),
                   mul(b.create<arith::RemUIOp>(
                           b.create<arith::DivUIOp>(lane, idx(8)), idx(2)),
                       idx(8)));
  Value vcol = mul(b.create<arith::DivUIOp>(lane, idx(16)), idx(8));
  for (int64_t kk = 0; kk < p.keyTile / kFragmentRows; ++kk) {
    Value aFrag = b.create<vector::ShuffleOp>(pHalf[2 * kk], pHalf[2 * kk + 1],
                                              ArrayRef<int64_t>{0, 1, 2, 3});
    for (int64_t nv = 0; nv < p.Dv / kFragmentCols; nv += 2) {
      auto frags = bFragmentPair(vShared, add(vrow, idx(kk * kFragmentRows)),
                                 add(vcol, idx(nv * kFragmentCols)), true);
      for (int64_t h = 0; h < 2; ++h)
        acc[nv + h] = mma(aFrag, frags[h], acc[nv + h]);
    }
  }
}

/// acc += P·V, TF32 m16n8k8: the A fragment wants columns t and t + 4 of
/// each 8-key tile where a lane holds 2t and 2t + 1, so each comes from the
/// lane of the quad that holds it (one shuffle per element and source
/// half); V's B fragment (k = t, t + 4; n = g) is read element by element.
void FlashBuilder::accumulateTf32(ArrayRef<Value> pv, SmallVector<Value> &acc) {
  auto aType = VectorType::get({4, 1}, f32());
  auto bType = VectorType::get({2, 1}, f32());
  Value odd = cmp(arith::CmpIPredicate::ne,
                  b.create<arith::RemUIOp>(quadCol, idx(2)), idx(0));
  Value quadBase = mul(quadRow, idx(4));
  Value half = b.create<arith::DivUIOp>(quadCol, idx(2));
  Value source[2]; // lanes holding columns t and t + 4
  for (int64_t r = 0; r < 2; ++r)
    source[r] = b.create<arith::IndexCastOp>(
        b.getI32Type(), add(add(quadBase, half), idx(2 * r)));
  Value width = b.create<arith::ConstantIntOp>(32, 32);
  auto fetch = [&](Value v, Value lanes) {
    return b.create<gpu::ShuffleOp>(v, lanes, width, gpu::ShuffleMode::IDX)
        .getShuffleResult();
  };
  for (int64_t kk = 0; kk < int64_t(pv.size()); ++kk) {
    Value aFrag = zeroOf(aType);
    for (int64_t r = 0; r < 4; ++r) { // a0 (g, t) a1 (g+8, t) a2 (g, t+4) a3
      int64_t h = r % 2;
      Value even = fetch(b.create<vector::ExtractOp>(pv[kk], ArrayRef<int64_t>{h, 0}),
                         source[r / 2]);
      Value oddv = fetch(b.create<vector::ExtractOp>(pv[kk], ArrayRef<int64_t>{h, 1}),
                         source[r / 2]);
      Value e = b.create<arith::SelectOp>(odd, oddv, even);
      aFrag = b.create<vector::InsertOp>(e, aFrag, ArrayRef<int64_t>{r, 0});
    }
    for (int64_t nv = 0; nv < p.Dv / kFragmentCols; ++nv) {
      Value frag = zeroOf(bType);
      for (int64_t r = 0; r < 2; ++r) {
        Value e = b.create<memref::LoadOp>(
            vShared, ValueRange{add(quadCol, idx(kk * kTf32K + 4 * r)),
                                add(quadRow, idx(nv * kFragmentCols))});
        frag = b.create<vector::InsertOp>(e, frag, ArrayRef<int64_t>{r, 0});
      }
      acc[nv] = mma(aFrag, frag, acc[nv]);
    }
  }
}

RowState FlashBuilder::processTile(Value kt, bool masked, const RowState &in) {
  int64_t nTiles = p.keyTile / kFragmentCols;
  Value keyStart = mul(kt, idx(p.keyTile));
  auto accType = VectorType::get({2, 2}, f32());
  Value zero = b.create<arith::ConstantOp>(
      accType, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));

  // K and V copied asynchronously: Q·Kᵀ and the softmax run while V's
  // rows are still arriving.
  b.create<gpu::BarrierOp>(); // the previous tile's reads are done
  loadTile(p.kArg, kShared, p.D, keyStart);
  loadTile(p.vArg, vShared, p.Dv, keyStart);
  asyncWait(1); // K has arrived

  SmallVector<Value> s = p.tf32() ? scoresTf32() : scores16();

  // Scores in exp2 units, masked; the tile's max per row half.
  Value negInf = f32c(-std::numeric_limits<double>::infinity());
  SmallVector<SmallVector<Value>> x(nTiles, SmallVector<Value>(4));
  Value tileMax[2] = {negInf, negInf};
  for (int64_t n = 0; n < nTiles; ++n)
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t c = 0; c < 2; ++c) {
        Value acc = b.create<vector::ExtractOp>(s[n], ArrayRef<int64_t>{h, c});
        Value j = add(keyStart, add(mul(quadCol, idx(2)), idx(n * 8 + c)));
        Value v = scoreOf(acc, rowOf[h], j);
        if (masked) {
          Value ok = cmp(arith::CmpIPredicate::slt, j, lk);
          if (Value allowed = elementAllowed(rowOf[h], j))
            ok = both(ok, allowed);
          v = b.create<arith::SelectOp>(ok, v, negInf);
        }
        x[n][2 * h + c] = v;
        tileMax[h] = b.create<arith::MaxNumFOp>(tileMax[h], v);
      }

  RowState out;
  Value alpha[2];
  Value base[2];
  for (int h = 0; h < 2; ++h) {
    Value m = b.create<arith::MaxNumFOp>(in.max[h], quadReduce(tileMax[h], true));
    // A row with no allowed key so far keeps max −inf: subtract 0 instead
    // (its weights are exp2(−inf) = 0, never NaN).
    Value none = b.create<arith::CmpFOp>(arith::CmpFPredicate::OEQ, m, negInf);
    base[h] = b.create<arith::SelectOp>(none, f32c(0), m);
    alpha[h] = exp2(b.create<arith::SubFOp>(in.max[h], base[h]));
    out.max[h] = m;
  }
  // P = exp2(x − max) per element; the row sums stay per lane.
  // For 16-bit inputs P is rounded as soon as it exists (half the
  // registers while the row sums finish).
  SmallVector<Value> pv(nTiles, zero);
  Value rowSum[2] = {f32c(0), f32c(0)};
  for (int64_t n = 0; n < nTiles; ++n) {
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t c = 0; c < 2; ++c) {
        Value e = exp2(b.create<arith::SubFOp>(x[n][2 * h + c], base[h]));
        rowSum[h] = b.create<arith::AddFOp>(rowSum[h], e);
        pv[n] = b.create<vector::InsertOp>(e, pv[n], ArrayRef<int64_t>{h, c});
      }
    if (!p.tf32())
      pv[n] = b.create<arith::TruncFOp>(VectorType::get({2, 2}, p.elem), pv[n]);
  }
  for (int h = 0; h < 2; ++h)
    out.sum[h] = b.create<arith::AddFOp>(
        b.create<arith::MulFOp>(in.sum[h], alpha[h]), rowSum[h]);

  // O = O · alpha + P·V.
  Value alphaVec = zero;
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t c = 0; c < 2; ++c)
      alphaVec = b.create<vector::InsertOp>(alpha[h], alphaVec,
                                            ArrayRef<int64_t>{h, c});
  for (Value acc : in.acc)
    out.acc.push_back(b.create<arith::MulFOp>(acc, alphaVec));
  asyncWait(0); // V has arrived
  if (p.tf32())
    accumulateTf32(pv, out.acc);
  else
    accumulate16(pv, out.acc);
  return out;
}

RowState FlashBuilder::tileLoop(Value begin, Value end, bool masked,
                                const RowState &in) {
  auto loop = b.create<scf::ForOp>(begin, end, idx(1), in.flat());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  RowState cur = RowState::from(loop.getRegionIterArgs());
  Value kt = loop.getInductionVar();
  RowState next;
  if (p.block) {
    // A block-sparse mask is constant on a tile: one evaluation decides.
    Value live = inlineRegion(*p.mask, {batch, head, queryStart,
                                        mul(kt, idx(p.keyTile))});
    next = ifTile(live, kt, cur);
  } else {
    next = processTile(kt, masked, cur);
  }
  b.create<scf::YieldOp>(next.flat());
  return RowState::from(loop.getResults());
}

/// processTile(kt) when `cond` holds, else the state unchanged.
RowState FlashBuilder::ifTile(Value cond, Value kt, const RowState &in) {
  SmallVector<Value> flat = in.flat();
  SmallVector<Type> types;
  for (Value v : flat)
    types.push_back(v.getType());
  auto ifOp = b.create<scf::IfOp>(types, cond, true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    b.create<scf::YieldOp>(processTile(kt, true, in).flat());
    b.setInsertionPointToStart(ifOp.elseBlock());
    b.create<scf::YieldOp>(flat);
  }
  return RowState::from(ifOp.getResults());
}

void FlashBuilder::store(const RowState &s) {
  Value total[2], inv[2];
  for (int h = 0; h < 2; ++h) {
    total[h] = quadReduce(s.sum[h], false);
    // A row that saw no key yields zeros (the op's definition).
    Value some = b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, total[h],
                                         f32c(0));
    inv[h] = b.create<arith::SelectOp>(
        some, b.create<arith::DivFOp>(f32c(1), total[h]), f32c(0));
  }
  auto outVec = VectorType::get({2}, p.outElem);
  for (int64_t h = 0; h < 2; ++h) {
    Value inRange = cmp(arith::CmpIPredicate::slt, rowOf[h], lq);
    auto ifOp = b.create<scf::IfOp>(inRange, false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    Value scaleVec = b.create<vector::SplatOp>(VectorType::get({2}, f32()), inv[h]);
    for (auto [nv, acc] : llvm::enumerate(s.acc)) {
      Value row = b.create<vector::ExtractOp>(acc, ArrayRef<int64_t>{h});
      Value o = b.create<arith::MulFOp>(row, scaleVec);
      if (p.outElem != f32())
        o = b.create<arith::TruncFOp>(outVec, o);
      Value col = add(mul(quadCol, idx(2)), idx(int64_t(nv) * kFragmentCols));
      b.create<LLVM::StoreOp>(
          o, address(p.outArg, {batch, head, rowOf[h], col}, p.outElem), 4);
    }
  }
}

/// Q's A fragments, once; rows past L read row L − 1 (never stored).
/// m16n8k16: a0 (g, 2t), a1 (g + 8, 2t), a2 (g, 2t + 8), a3 (g + 8, 2t + 8)
/// of each 16 × 16 block as pairs; TF32 m16n8k8: a0 (g, t), a1 (g + 8, t),
/// a2 (g, t + 4), a3 (g + 8, t + 4) of each 16 × 8 block.
void FlashBuilder::loadQueryFragments() {
  bool tf32 = p.tf32();
  int64_t k = tf32 ? kTf32K : kFragmentRows;
  auto elemType = tf32 ? VectorType::get({1}, f32()) : VectorType::get({2}, p.elem);
  auto fragType = VectorType::get({4, tf32 ? 1 : 2}, p.elem);
  Value colBase = tf32 ? quadCol : mul(quadCol, idx(2));
  for (int64_t kk = 0; kk < p.D / k; ++kk) {
    Value frag = zeroOf(fragType);
    for (int64_t r = 0; r < 4; ++r) {
      Value row = minIdx(rowOf[r % 2], lastQuery);
      Value col = add(colBase, idx(kk * k + (k / 2) * (r / 2)));
      Value v = load(p.qArg, {batch, head, row, col}, elemType, 4);
      frag = b.create<vector::InsertOp>(v, frag, ArrayRef<int64_t>{r});
    }
    qFragments.push_back(frag);
  }
}

void FlashBuilder::build(gpu::GPUFuncOp fn) {
  Block &entry = fn.getBody().front();
  b.setInsertionPointToStart(&entry);
  size_t n = p.ranks.size();
  size_t arg = n;
  for (size_t a = 0; a < n; ++a) {
    ptr.push_back(entry.getArgument(a));
    SmallVector<Value> sh, st;
    for (int64_t d = 0; d < p.ranks[a]; ++d)
      sh.push_back(b.create<arith::IndexCastOp>(b.getIndexType(),
                                                entry.getArgument(arg++)));
    for (int64_t d = 0; d < p.ranks[a]; ++d)
      st.push_back(b.create<arith::IndexCastOp>(b.getIndexType(),
                                                entry.getArgument(arg++)));
    shape.push_back(sh);
    stride.push_back(st);
  }
  kShared = fn.getWorkgroupAttributions()[0];
  vShared = fn.getWorkgroupAttributions()[1];

  tid = b.create<gpu::ThreadIdOp>(gpu::Dimension::x);
  lane = b.create<arith::RemUIOp>(tid, idx(32));
  warp = b.create<arith::DivUIOp>(tid, idx(32));
  quadRow = b.create<arith::DivUIOp>(lane, idx(4));
  quadCol = b.create<arith::RemUIOp>(lane, idx(4));
  head = b.create<gpu::BlockIdOp>(gpu::Dimension::y);
  batch = b.create<gpu::BlockIdOp>(gpu::Dimension::z);
  // The last query tiles first: under a causal mask they have the most keys.
  Value tiles = b.create<gpu::GridDimOp>(gpu::Dimension::x);
  Value tile = b.create<arith::SubIOp>(
      b.create<arith::SubIOp>(tiles, idx(1)),
      b.create<gpu::BlockIdOp>(gpu::Dimension::x));
  queryStart = mul(tile, idx(p.tileQueries));
  lq = shape[p.qArg][2];
  lk = shape[p.kArg][2];
  Value warpRow = add(queryStart, add(mul(warp, idx(kFragmentRows)), quadRow));
  rowOf[0] = warpRow;
  rowOf[1] = add(warpRow, idx(8));

  lastQuery = b.create<arith::SubIOp>(lq, idx(1));
  loadQueryFragments();

  // The key tiles this query tile can see: the band's, within [0, L).
  int64_t T = p.keyTile;
  Value keyTiles = b.create<arith::CeilDivSIOp>(lk, idx(T));
  Value lastRow = minIdx(add(queryStart, idx(p.tileQueries - 1)), lastQuery);
  Value begin = idx(0), end = keyTiles;
  if (p.lo)
    begin = maxIdx(idx(0), b.create<arith::FloorDivSIOp>(
                               add(queryStart, idx(*p.lo)), idx(T)));
  if (p.hi)
    end = minIdx(end, add(b.create<arith::FloorDivSIOp>(
                              add(lastRow, idx(*p.hi)), idx(T)),
                          idx(1)));
  end = maxIdx(end, begin);
  Value hasGlobalQuery;
  for (int64_t g : p.globals) {
    Value in = both(cmp(arith::CmpIPredicate::sge, idx(g), queryStart),
                    cmp(arith::CmpIPredicate::slt, idx(g),
                        add(queryStart, idx(p.tileQueries))));
    hasGlobalQuery = hasGlobalQuery ? either(hasGlobalQuery, in) : in;
  }
  if (hasGlobalQuery) { // a global query sees every key
    begin = b.create<arith::SelectOp>(hasGlobalQuery, idx(0), begin);
    end = b.create<arith::SelectOp>(hasGlobalQuery, keyTiles, end);
  }

  auto accType = VectorType::get({2, 2}, f32());
  RowState state;
  Value zero = b.create<arith::ConstantOp>(
      accType, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
  state.acc.assign(p.Dv / kFragmentCols, zero);
  for (int h = 0; h < 2; ++h) {
    state.max[h] = f32c(-std::numeric_limits<double>::infinity());
    state.sum[h] = f32c(0);
  }
  if (p.bandIsWholeMask() && !p.block) {
    // Unmasked tiles: every (i, j) of the tile inside the band, j < L.
    Value fullBegin = begin, fullEnd = b.create<arith::FloorDivSIOp>(lk, idx(T));
    if (p.lo)
      fullBegin = maxIdx(begin, b.create<arith::CeilDivSIOp>(
                                    add(queryStart, idx(p.tileQueries - 1 + *p.lo)),
                                    idx(T)));
    if (p.hi)
      fullEnd = minIdx(fullEnd,
                       add(b.create<arith::FloorDivSIOp>(
                               add(queryStart, idx(*p.hi - (T - 1))), idx(T)),
                           idx(1)));
    fullBegin = minIdx(fullBegin, end);
    fullEnd = minIdx(maxIdx(fullEnd, fullBegin), end);
    state = tileLoop(begin, fullBegin, true, state);
    state = tileLoop(fullBegin, fullEnd, false, state);
    state = tileLoop(fullEnd, end, true, state);
  } else {
    state = tileLoop(begin, end, true, state);
  }
  // Global keys outside the band: their tiles, once each.
  std::vector<int64_t> globalTiles;
  for (int64_t g : p.globals)
    if (std::find(globalTiles.begin(), globalTiles.end(), g / T) ==
        globalTiles.end())
      globalTiles.push_back(g / T);
  for (int64_t gt : globalTiles) {
    Value kt = idx(gt);
    Value outside = both(cmp(arith::CmpIPredicate::slt, kt, keyTiles),
                         either(cmp(arith::CmpIPredicate::slt, kt, begin),
                                cmp(arith::CmpIPredicate::sge, kt, end)));
    state = ifTile(outside, kt, state);
  }
  store(state);
  b.create<gpu::ReturnOp>();
}

/// Reads the op, its operands (kernel parameters) and its attributes.
FailureOr<Plan> planOf(func::FuncOp fn, Operation *op, Widths widths) {
  Plan p;
  p.op = op;
  auto sched = op->getAttrOfType<attn::GpuScheduleAttr>(attn::kScheduleAttrName);
  if (!sched)
    return op->emitError("the CUDA backend needs an #attn.gpu_schedule "
                         "(attn-choose-schedule sets it for a cuda target)");
  p.warps = sched.getWarps();
  p.tileQueries = sched.getTileQueries();
  p.keyTile = sched.getKeyTile();
  Block &entry = fn.getBody().front();
  auto argIndex = [&](Value v) -> int {
    auto ba = dyn_cast<BlockArgument>(v);
    return ba && ba.getOwner() == &entry ? int(ba.getArgNumber()) : -1;
  };
  Value q = op->getOperand(0), k = op->getOperand(1), v = op->getOperand(2);
  p.qArg = argIndex(q), p.kArg = argIndex(k), p.vArg = argIndex(v);
  if (p.qArg < 0 || p.kArg < 0 || p.vArg < 0)
    return op->emitError("the CUDA backend compiles kernels whose attention "
                         "reads the kernel's parameters directly");
  auto qt = cast<RankedTensorType>(q.getType());
  auto kt = cast<RankedTensorType>(k.getType());
  auto vt = cast<RankedTensorType>(v.getType());
  auto rt = cast<RankedTensorType>(op->getResult(0).getType());
  p.elem = qt.getElementType();
  p.outElem = rt.getElementType();
  if (kt.getElementType() != p.elem || vt.getElementType() != p.elem)
    return op->emitError("CUDA kernels need q, k and v of one element type");
  if (!p.elem.isBF16() && !p.elem.isF16() && !p.elem.isF32())
    return op->emitError() << "CUDA kernels take f32 (TF32 tensor cores), "
                              "bf16 or f16 q, k, v, not "
                           << p.elem;
  p.D = widths.head ? widths.head : qt.getDimSize(3);
  p.Dv = widths.value ? widths.value : vt.getDimSize(3);
  for (int64_t d : {p.D, p.Dv})
    if (ShapedType::isDynamic(d) || d % 16 != 0 || d > kMaxHeadDim)
      return op->emitError()
             << "CUDA kernels need head and value widths that are static "
                "multiples of 16 up to "
             << kMaxHeadDim << ", not "
             << (ShapedType::isDynamic(d) ? std::string("a symbolic width")
                                          : std::to_string(d));
  if (p.sharedBytes() > kMaxStaticShared)
    return op->emitError() << "CUDA kernel's K and V tiles of " << p.keyTile
                           << " keys need " << p.sharedBytes()
                           << " bytes of shared memory, more than "
                           << kMaxStaticShared
                           << "; choose a smaller key_tile in #attn.gpu_schedule";
  p.scale = 1.0 / std::sqrt(double(p.D));
  if (auto a = dyn_cast<attn::AttendOp>(op)) {
    if (auto s = a.getScale())
      p.scale = s->convertToDouble();
    p.causal = a.getCausal();
    if (!a.getMask().empty())
      p.mask = &a.getMask();
    if (!a.getScore().empty())
      p.score = &a.getScore();
    for (Value c : a.getCaptures()) {
      int ci = argIndex(c);
      if (ci < 0)
        return op->emitError("the CUDA backend reads captured tensors from "
                             "the kernel's parameters only");
      p.captureArgs.push_back(ci);
    }
    if (auto m = op->getAttrOfType<attn::MaskAttr>(attn::kMaskAttrName)) {
      if (m.getKind() == attn::MaskKind::band) {
        p.lo = m.getLo(), p.hi = m.getHi();
      } else if (m.getKind() == attn::MaskKind::block && p.mask && m.getSize() &&
                 *m.getSize() % p.keyTile == 0 &&
                 *m.getSize() % p.tileQueries == 0) {
        p.block = m.getSize();
      }
    } else if (p.causal) {
      p.hi = 0;
    }
  } else {
    auto w = cast<attn::WindowedAttendOp>(op);
    p.windowed = true;
    // Positions are below 2^30 (the runtime's bound): sides and dilations
    // beyond 2^31 mean the same as 2^31, and their products stay in 64 bits.
    constexpr int64_t kFar = int64_t(1) << 31;
    p.dilation = std::min<int64_t>(w.getDilation(), kFar);
    p.lo = -std::min<int64_t>(w.getLeft(), kFar) * p.dilation;
    p.hi = std::min<int64_t>(w.getRight(), kFar) * p.dilation;
    for (int64_t g : w.getGlobal())
      p.globals.push_back(g);
  }
  for (BlockArgument a : entry.getArguments()) {
    auto t = cast<RankedTensorType>(a.getType());
    p.ranks.push_back(t.getRank());
  }
  p.outArg = int(entry.getNumArguments());
  p.ranks.push_back(rt.getRank());
  return p;
}

} // namespace

/// The attention op `fn` returns, or an error on what else it holds.
static FailureOr<Operation *> attentionOf(func::FuncOp fn) {
  Block &entry = fn.getBody().front();
  Operation *op = nullptr;
  for (Operation &o : entry) {
    if (isa<attn::AttendOp, attn::WindowedAttendOp>(o) && !op) {
      op = &o;
      continue;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(o)) {
      if (!op || ret.getNumOperands() != 1 || ret.getOperand(0) != op->getResult(0))
        return fn.emitError("the CUDA backend compiles kernels that return "
                            "one attend or windowed_attend");
      continue;
    }
    return o.emitError() << "'" << o.getName()
                         << "' has no CUDA kernel yet: the CUDA backend "
                            "compiles kernels that return one attend or "
                            "windowed_attend of their parameters";
  }
  if (!op)
    return fn.emitError("no attention to compile for CUDA");
  return op;
}

FailureOr<std::vector<Widths>> attnc::codegen::widthsToCompile(func::FuncOp fn) {
  // Head widths of common models (GPT-2/BERT 64, Llama 128, small 32, 96).
  static constexpr int64_t kCommonWidths[] = {32, 64, 96, 128};
  FailureOr<Operation *> op = attentionOf(fn);
  if (failed(op))
    return failure();
  auto width = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getDimSize(3);
  };
  std::vector<int64_t> heads{0}, values{0};
  if (ShapedType::isDynamic(width((*op)->getOperand(0))))
    heads.assign(std::begin(kCommonWidths), std::end(kCommonWidths));
  if (ShapedType::isDynamic(width((*op)->getOperand(2))))
    values.assign(std::begin(kCommonWidths), std::end(kCommonWidths));
  // q and v declared with the same width symbol: one width, not pairs.
  StringAttr qName = attn::dimensionSymbol(fn, (*op)->getOperand(0), 3);
  bool tied = qName && qName == attn::dimensionSymbol(fn, (*op)->getOperand(2), 3) &&
              heads.size() > 1;
  std::vector<Widths> out;
  for (int64_t h : heads)
    for (int64_t v : values)
      if (!tied || h == v)
        out.push_back({h, v});
  return out;
}

FailureOr<CudaLaunch> attnc::codegen::buildFlashKernel(func::FuncOp fn,
                                                       ModuleOp container,
                                                       Widths widths) {
  FailureOr<Operation *> found = attentionOf(fn);
  if (failed(found))
    return failure();
  Operation *op = *found;
  FailureOr<Plan> plan = planOf(fn, op, widths);
  if (failed(plan))
    return failure();
  const Plan &p = *plan;

  MLIRContext *ctx = fn.getContext();
  ImplicitLocOpBuilder b(op->getLoc(), ctx);
  b.setInsertionPointToEnd(container.getBody());
  // A kernel per width pair: its name says which.
  std::string name = fn.getName().str();
  if (widths.head || widths.value)
    name += "_d" + std::to_string(p.D) + "_e" + std::to_string(p.Dv);
  auto module = b.create<gpu::GPUModuleOp>(name + "_cuda");
  b.setInsertionPointToStart(module.getBody());
  auto ptrType = LLVM::LLVMPointerType::get(ctx, 1);
  SmallVector<Type> params(p.ranks.size(), ptrType);
  for (int64_t r : p.ranks)
    params.append(2 * r, b.getI64Type());
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  auto kType = MemRefType::get({p.keyTile, p.D + p.keyPad()}, p.elem,
                               MemRefLayoutAttrInterface(), workgroup);
  auto vType = MemRefType::get({p.keyTile, p.Dv + kValuePad}, p.elem,
                               MemRefLayoutAttrInterface(), workgroup);
  auto kernel = b.create<gpu::GPUFuncOp>(name, b.getFunctionType(params, {}),
                                         TypeRange{kType, vType}, TypeRange{});
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  // 16-byte vector stores and ldmatrix rows need 16-byte aligned buffers.
  for (unsigned a = 0; a < 2; ++a)
    kernel.setWorkgroupAttributionAttr(a, LLVM::LLVMDialect::getAlignAttrName(),
                                       b.getI64IntegerAttr(16));
  int32_t threads = int32_t(32 * p.warps);
  kernel.setKnownBlockSizeAttr(b.getDenseI32ArrayAttr({threads, 1, 1}));
  // The launch shape the runtime gets from attn_cuda_kernel, on the kernel
  // for readers of --emit=gpu and the host emulator (test/cuda/emulator).
  kernel->setAttr(attn::kTileRowsAttrName, b.getI64IntegerAttr(p.tileQueries));
  kernel->setAttr(attn::kGridArgAttrName, b.getI64IntegerAttr(p.outArg));
  FlashBuilder(p, b).build(kernel);

  CudaLaunch launch;
  launch.function = name;
  launch.threads = threads;
  launch.tileRows = int32_t(p.tileQueries);
  launch.gridArg = p.outArg;
  launch.denseArgs = (1ull << p.qArg) | (1ull << p.kArg) | (1ull << p.vArg) |
                     (1ull << p.outArg);
  launch.qArg = p.qArg;
  launch.vArg = p.vArg;
  launch.headDim = widths.head ? int32_t(p.D) : 0;
  launch.valueDim = widths.value ? int32_t(p.Dv) : 0;
  return launch;
}
