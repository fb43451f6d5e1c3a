//===- LockstepEmulator.cpp - the CUDA backend's kernels run on the host --===//
//
// Every SSA value holds one copy per thread of the block (a Slot: threads ×
// elements doubles; integers, pointers and floats alike, each float rounded
// to its type after every op). Control flow is structured (scf): a loop's
// bounds must agree across the threads that reach it; an scf.if whose
// condition differs between threads runs both regions under complementary
// masks of active threads and merges the results per thread, and memory
// ops only act for active threads.
//
//===----------------------------------------------------------------------===//
#include "LockstepEmulator.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <unordered_map>

using namespace mlir;

namespace attnc::emu {

void loadDialects(MLIRContext &ctx) {
  ctx.loadDialect<arith::ArithDialect, func::FuncDialect, gpu::GPUDialect,
                  LLVM::LLVMDialect, math::MathDialect, memref::MemRefDialect,
                  nvgpu::NVGPUDialect, scf::SCFDialect,
                  vector::VectorDialect>();
}

//===-- Number formats --------------------------------------------------===//

uint16_t f16Bits(double x) {
  _Float16 h = _Float16(float(x));
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
double fromF16Bits(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return double(float(h));
}
namespace {

double roundF32(double x) { return double(float(x)); }

/// What a TF32 tensor core reads of an f32: sign, exponent, 10 mantissa bits.
double tf32(double x) {
  float f = float(x);
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u &= 0xffffe000u;
  std::memcpy(&f, &u, 4);
  return f;
}

/// x as a value of scalar type t: floats rounded, integers wrapped.
double asType(Type t, double x) {
  if (t.isF32())
    return roundF32(x);
  if (t.isBF16())
    return fromBf16Bits(bf16Bits(x));
  if (t.isF16())
    return fromF16Bits(f16Bits(x));
  if (t.isF64() || t.isIndex())
    return x;
  if (auto it = dyn_cast<IntegerType>(t)) {
    unsigned w = it.getWidth();
    if (w >= 64)
      return x;
    if (w == 1)
      return x != 0 ? 1 : 0;
    uint64_t bits = uint64_t(int64_t(x)) & ((uint64_t(1) << w) - 1);
    // Signless integers are kept sign-extended.
    int64_t v = int64_t(bits << (64 - w)) >> (64 - w);
    return double(v);
  }
  return x;
}

unsigned bitWidth(Type t) {
  if (t.isIndex())
    return 64;
  return t.getIntOrFloatBitWidth();
}
uint64_t asUnsigned(Type t, double x) {
  unsigned w = bitWidth(t);
  uint64_t u = uint64_t(int64_t(x));
  return w >= 64 ? u : u & ((uint64_t(1) << w) - 1);
}

/// Elements of a scalar, vector or literal struct (of scalars) type.
int64_t elementCount(Type t) {
  if (auto v = dyn_cast<VectorType>(t))
    return v.getNumElements();
  if (auto s = dyn_cast<LLVM::LLVMStructType>(t)) {
    int64_t n = 0;
    for (Type f : s.getBody())
      n += elementCount(f);
    return n;
  }
  return 1;
}
Type scalarOf(Type t) { return getElementTypeOrSelf(t); }

int64_t byteSize(Type t) {
  Type e = scalarOf(t);
  return elementCount(t) * int64_t(bitWidth(e) / 8);
}

double readScalar(const char *p, Type t) {
  if (t.isF32()) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  uint16_t h;
  if (t.isBF16() || t.isF16()) {
    std::memcpy(&h, p, 2);
    return t.isBF16() ? fromBf16Bits(h) : fromF16Bits(h);
  }
  if (t.isInteger(32)) {
    int32_t i;
    std::memcpy(&i, p, 4);
    return i;
  }
  if (t.isInteger(64) || t.isIndex()) {
    int64_t i;
    std::memcpy(&i, p, 8);
    return double(i);
  }
  if (t.isInteger(8))
    return double(int8_t(*p));
  return std::numeric_limits<double>::quiet_NaN();
}
void writeScalar(char *p, Type t, double x) {
  if (t.isF32()) {
    float f = float(x);
    std::memcpy(p, &f, 4);
  } else if (t.isBF16() || t.isF16()) {
    uint16_t h = t.isBF16() ? bf16Bits(x) : f16Bits(x);
    std::memcpy(p, &h, 2);
  } else if (t.isInteger(32)) {
    int32_t i = int32_t(int64_t(x));
    std::memcpy(p, &i, 4);
  } else if (t.isInteger(64) || t.isIndex()) {
    int64_t i = int64_t(x);
    std::memcpy(p, &i, 8);
  }
}

//===-- One thread block ------------------------------------------------===//

/// A value per thread: `n` elements each.
struct Slot {
  int64_t n = 1;
  std::vector<double> v;
  double &at(int thread, int64_t e) { return v[size_t(thread * n + e)]; }
  double at(int thread, int64_t e) const { return v[size_t(thread * n + e)]; }
};

struct Memory {
  char *begin;
  size_t bytes;
  bool shared;
};

struct Copy {
  char *dst;
  const char *src;
};

struct Fail {
  std::string message;
};

class BlockRun {
public:
  BlockRun(gpu::GPUFuncOp fn, const std::vector<Tensor> &tensors,
           const Options &options, int64_t block[3], int64_t grid[3])
      : fn(fn), options(options) {
    threads = 1;
    if (auto known = fn.getKnownBlockSizeAttr())
      threads = known[0];
    for (int d = 0; d < 3; ++d)
      blockId[d] = block[d], gridDim[d] = grid[d];
    active.assign(size_t(threads), 1);
    for (const Tensor &t : tensors)
      memory.push_back({static_cast<char *>(t.data), t.bytes, false});
    Block &entry = fn.getBody().front();
    // Arguments: one pointer per tensor, then each tensor's shape, strides.
    size_t a = 0;
    for (const Tensor &t : tensors)
      uniform(entry.getArgument(unsigned(a++)),
              double(reinterpret_cast<uintptr_t>(t.data)));
    for (const Tensor &t : tensors) {
      for (int64_t s : t.shape)
        uniform(entry.getArgument(unsigned(a++)), double(s));
      for (int64_t s : t.strides)
        uniform(entry.getArgument(unsigned(a++)), double(s));
    }
    if (a != fn.getNumArguments())
      throw Fail{"the kernel takes " + std::to_string(fn.getNumArguments()) +
                 " arguments, the tensors give " + std::to_string(a)};
    // Shared memory: one buffer per workgroup attribution, NaN-filled so
    // that a read of what nobody wrote shows in the output.
    for (BlockArgument wg : fn.getWorkgroupAttributions()) {
      auto type = cast<MemRefType>(wg.getType());
      size_t bytes =
          size_t(type.getNumElements()) * (bitWidth(type.getElementType()) / 8);
      shared.emplace_back(bytes + 16, char(0xff));
      char *base = shared.back().data();
      base += (16 - reinterpret_cast<uintptr_t>(base) % 16) % 16;
      memory.push_back({base, bytes, true});
      sharedBase[wg] = base;
      uniform(wg, double(reinterpret_cast<uintptr_t>(base)));
    }
  }

  void run() { runBlock(fn.getBody().front()); }

private:
  gpu::GPUFuncOp fn;
  const Options &options;
  int threads = 1;
  int64_t blockId[3], gridDim[3];
  std::vector<uint8_t> active;
  /// Node-based: a Slot reference stays valid while others are added.
  std::unordered_map<const void *, Slot> env;
  std::vector<Memory> memory;
  std::deque<std::vector<char>> shared;
  llvm::DenseMap<Value, char *> sharedBase;
  std::vector<Copy> openGroup;
  std::deque<std::vector<Copy>> committed;

  [[noreturn]] void fail(Operation *op, const llvm::Twine &what) {
    std::string s;
    llvm::raw_string_ostream os(s);
    os << op->getLoc() << ": '" << op->getName() << "' " << what;
    throw Fail{os.str()};
  }

  void uniform(Value v, double x) {
    Slot &s = env[v.getAsOpaquePointer()];
    s.n = 1;
    s.v.assign(size_t(threads), x);
  }
  const Slot &get(Operation *op, Value v) {
    auto it = env.find(v.getAsOpaquePointer());
    if (it == env.end())
      fail(op, "reads a value not computed yet");
    return it->second;
  }
  Slot &result(Value v, int64_t n) {
    Slot &s = env[v.getAsOpaquePointer()];
    s.n = n;
    s.v.assign(size_t(threads * n), 0.0);
    return s;
  }
  bool allActive() const {
    for (uint8_t a : active)
      if (!a)
        return false;
    return true;
  }
  void requireWarp(Operation *op) {
    for (int w = 0; w < threads; w += 32) {
      int on = 0;
      for (int l = w; l < std::min(w + 32, threads); ++l)
        on += active[size_t(l)];
      if (on != 0 && on != std::min(32, threads - w))
        fail(op, "is warp-collective but only part of a warp reaches it");
    }
  }
  /// The one value every active thread has (loop bounds, uniform branches).
  double uniformValue(Operation *op, Value v) {
    const Slot &s = get(op, v);
    std::optional<double> x;
    for (int t = 0; t < threads; ++t)
      if (active[size_t(t)]) {
        if (x && *x != s.at(t, 0))
          fail(op, "has an operand that differs between threads");
        x = s.at(t, 0);
      }
    return x.value_or(0);
  }

  /// The memory holding [addr, addr + bytes), or a failure.
  const Memory &memoryAt(Operation *op, double addr, int64_t bytes,
                         std::optional<bool> shared) {
    uintptr_t a = uintptr_t(addr);
    for (const Memory &m : memory) {
      uintptr_t b = reinterpret_cast<uintptr_t>(m.begin);
      if (a >= b && a + uintptr_t(bytes) <= b + m.bytes &&
          (!shared || *shared == m.shared))
        return m;
    }
    std::string s;
    llvm::raw_string_ostream os(s);
    os << "accesses " << bytes << " bytes at 0x";
    os.write_hex(a);
    os << ", outside every "
       << (shared ? (*shared ? "shared buffer" : "tensor")
                  : "tensor and shared buffer");
    fail(op, os.str());
  }

  //===-- Regions --------------------------------------------------------===//

  /// Runs `block`'s ops; returns the operands of its terminator (a yield).
  SmallVector<Value> runBlock(Block &block) {
    for (Operation &op : block) {
      if (isa<scf::YieldOp, gpu::ReturnOp>(op))
        return SmallVector<Value>(op.getOperands());
      step(&op);
    }
    return {};
  }
  void bind(ValueRange to, ArrayRef<Slot> from) {
    for (auto [v, s] : llvm::zip(to, from))
      env[v.getAsOpaquePointer()] = s;
  }
  SmallVector<Slot> slots(Operation *op, ArrayRef<Value> vs) {
    SmallVector<Slot> out;
    for (Value v : vs)
      out.push_back(get(op, v));
    return out;
  }

  void runFor(scf::ForOp loop) {
    Operation *op = loop;
    double lb = uniformValue(op, loop.getLowerBound());
    double ub = uniformValue(op, loop.getUpperBound());
    double step = uniformValue(op, loop.getStep());
    if (step <= 0)
      fail(op, "has a step that is not positive");
    SmallVector<Slot> carried =
        slots(op, SmallVector<Value>(loop.getInitArgs()));
    Block &body = *loop.getBody();
    for (double i = lb; i < ub; i += step) {
      uniform(loop.getInductionVar(), i);
      bind(loop.getRegionIterArgs(), carried);
      carried = slots(op, runBlock(body));
    }
    bind(loop.getResults(), carried);
  }

  void runIf(scf::IfOp ifOp) {
    Operation *op = ifOp;
    const Slot cond = get(op, ifOp.getCondition());
    bool anyTrue = false, anyFalse = false;
    for (int t = 0; t < threads; ++t)
      if (active[size_t(t)])
        (cond.at(t, 0) != 0 ? anyTrue : anyFalse) = true;
    auto branch = [&](Region &r, bool when) -> SmallVector<Slot> {
      if (r.empty())
        return {};
      std::vector<uint8_t> saved = active;
      for (int t = 0; t < threads; ++t)
        active[size_t(t)] = saved[size_t(t)] && ((cond.at(t, 0) != 0) == when);
      SmallVector<Slot> out = slots(op, runBlock(r.front()));
      active = saved;
      return out;
    };
    SmallVector<Slot> thenOut, elseOut;
    if (anyTrue)
      thenOut = branch(ifOp.getThenRegion(), true);
    if (anyFalse)
      elseOut = branch(ifOp.getElseRegion(), false);
    for (auto [k, r] : llvm::enumerate(ifOp.getResults())) {
      Slot merged = anyTrue ? thenOut[k] : elseOut[k];
      if (anyTrue && anyFalse)
        for (int t = 0; t < threads; ++t)
          if (cond.at(t, 0) == 0)
            for (int64_t e = 0; e < merged.n; ++e)
              merged.at(t, e) = elseOut[k].at(t, e);
      env[Value(r).getAsOpaquePointer()] = std::move(merged);
    }
  }

  //===-- Ops -------------------------------------------------------------===//

  void step(Operation *op) {
    llvm::TypeSwitch<Operation *>(op)
        .Case([&](scf::ForOp o) { runFor(o); })
        .Case([&](scf::IfOp o) { runIf(o); })
        .Case([&](arith::ConstantOp o) { constant(o); })
        .Case([&](gpu::ThreadIdOp o) {
          Slot &s = result(o, 1);
          for (int t = 0; t < threads; ++t)
            s.at(t, 0) = o.getDimension() == gpu::Dimension::x ? t : 0;
        })
        .Case([&](gpu::BlockIdOp o) {
          uniform(o, double(blockId[int(o.getDimension())]));
        })
        .Case([&](gpu::GridDimOp o) {
          uniform(o, double(gridDim[int(o.getDimension())]));
        })
        .Case([&](gpu::BlockDimOp o) {
          uniform(o, o.getDimension() == gpu::Dimension::x ? threads : 1);
        })
        .Case([&](gpu::BarrierOp o) {
          if (!allActive())
            fail(o, "is reached by part of the block only");
        })
        .Case([&](gpu::ShuffleOp o) { shuffle(o); })
        .Case([&](vector::ExtractOp o) { extract(o); })
        .Case([&](vector::InsertOp o) { insert(o); })
        .Case([&](vector::ShuffleOp o) { vectorShuffle(o); })
        .Case<vector::SplatOp, vector::BroadcastOp>([&](Operation *o) {
          int64_t n = elementCount(o->getResult(0).getType());
          const Slot &x = get(o, o->getOperand(0));
          if (x.n != 1)
            fail(o, "broadcasts a vector (not emulated)");
          Slot &s = result(o->getResult(0), n);
          for (int t = 0; t < threads; ++t)
            for (int64_t e = 0; e < n; ++e)
              s.at(t, e) = x.at(t, 0);
        })
        .Case([&](memref::LoadOp o) {
          memrefAccess(o, o.getMemRef(), o.getIndices(), nullptr);
        })
        .Case([&](memref::StoreOp o) {
          memrefAccess(o, o.getMemRef(), o.getIndices(), &get(o, o.getValue()));
        })
        .Case([&](memref::ExtractAlignedPointerAsIndexOp o) {
          env[o.getResult().getAsOpaquePointer()] = get(o, o.getSource());
        })
        .Case([&](nvgpu::LdMatrixOp o) { ldmatrix(o); })
        .Case([&](nvgpu::MmaSyncOp o) {
          auto shape = o.getMmaShape();
          int64_t k = cast<IntegerAttr>(shape[2]).getInt();
          mmaSync(o, k, o.getTf32Enabled().has_value(), get(o, o.getMatrixA()),
                  get(o, o.getMatrixB()), get(o, o.getMatrixC()),
                  result(o.getRes(), 4), false);
        })
        .Case([&](LLVM::InlineAsmOp o) { inlineAsm(o); })
        .Case([&](LLVM::GEPOp o) { gep(o); })
        .Case([&](LLVM::LoadOp o) { load(o); })
        .Case([&](LLVM::StoreOp o) { store(o); })
        .Case([&](LLVM::BitcastOp o) { bitcast(o); })
        .Case([&](LLVM::ExtractValueOp o) {
          auto pos = o.getPosition();
          if (pos.size() != 1)
            fail(o, "extracts from a nested struct (not emulated)");
          const Slot &x = get(o, o.getContainer());
          Slot &s = result(o, 1);
          for (int t = 0; t < threads; ++t)
            s.at(t, 0) = x.at(t, pos[0]);
        })
        .Default([&](Operation *o) { elementwise(o); });
  }

  void constant(arith::ConstantOp o) {
    Attribute a = o.getValue();
    Type t = o.getType();
    std::vector<double> elems;
    auto scalar = [&](Attribute e) -> double {
      if (auto f = dyn_cast<FloatAttr>(e))
        return f.getValueAsDouble();
      if (auto i = dyn_cast<IntegerAttr>(e))
        return t.isInteger(1) || scalarOf(t).isInteger(1)
                   ? double(i.getValue().getBoolValue())
                   : double(i.getValue().getSExtValue());
      fail(o, "has a constant the emulator cannot read");
    };
    if (auto d = dyn_cast<DenseElementsAttr>(a)) {
      for (Attribute e : d.getValues<Attribute>())
        elems.push_back(scalar(e));
    } else {
      elems.push_back(scalar(a));
    }
    Slot &s = result(o, int64_t(elems.size()));
    for (int th = 0; th < threads; ++th)
      for (size_t e = 0; e < elems.size(); ++e)
        s.at(th, int64_t(e)) = asType(scalarOf(t), elems[e]);
  }

  void shuffle(gpu::ShuffleOp o) {
    requireWarp(o);
    const Slot &x = get(o, o.getValue());
    const Slot &offset = get(o, o.getOffset());
    const Slot &width = get(o, o.getWidth());
    Slot &out = result(o.getShuffleResult(), 1);
    Slot &valid = result(o.getValid(), 1);
    for (int t = 0; t < threads; ++t) {
      int lane = t % 32, w = int(width.at(t, 0));
      int base = t - lane + (lane / w) * w, laneInSeg = lane % w;
      int off = int(offset.at(t, 0)), src;
      switch (o.getMode()) {
      case gpu::ShuffleMode::XOR:
        src = laneInSeg ^ off;
        break;
      case gpu::ShuffleMode::IDX:
        src = off;
        break;
      case gpu::ShuffleMode::DOWN:
        src = laneInSeg + off;
        break;
      case gpu::ShuffleMode::UP:
        src = laneInSeg - off;
        break;
      }
      bool ok = src >= 0 && src < w;
      out.at(t, 0) = x.at(ok ? base + src : t, 0);
      valid.at(t, 0) = ok;
    }
  }

  /// Offset (in elements) of a static position into a vector of `shape`,
  /// and the elements it selects.
  std::pair<int64_t, int64_t> position(Operation *op, ArrayRef<int64_t> pos,
                                       VectorType type) {
    int64_t offset = 0, inner = type.getNumElements();
    for (auto [d, p] : llvm::enumerate(pos)) {
      if (ShapedType::isDynamic(p))
        fail(op, "has a dynamic position (not emulated)");
      inner /= type.getDimSize(unsigned(d));
      offset += p * inner;
    }
    return {offset, inner};
  }
  void extract(vector::ExtractOp o) {
    auto [offset, n] =
        position(o, o.getStaticPosition(), o.getSourceVectorType());
    const Slot &x = get(o, o.getVector());
    Slot &s = result(o.getResult(), n);
    for (int t = 0; t < threads; ++t)
      for (int64_t e = 0; e < n; ++e)
        s.at(t, e) = x.at(t, offset + e);
  }
  void insert(vector::InsertOp o) {
    auto [offset, n] =
        position(o, o.getStaticPosition(), o.getDestVectorType());
    const Slot &x = get(o, o.getSource());
    Slot s = get(o, o.getDest());
    for (int t = 0; t < threads; ++t)
      for (int64_t e = 0; e < n; ++e)
        s.at(t, offset + e) = x.at(t, e);
    env[o.getResult().getAsOpaquePointer()] = std::move(s);
  }
  void vectorShuffle(vector::ShuffleOp o) {
    auto v1 = o.getV1VectorType();
    int64_t rows1 = v1.getDimSize(0), inner = v1.getNumElements() / rows1;
    const Slot &a = get(o, o.getV1());
    const Slot &b = get(o, o.getV2());
    SmallVector<int64_t> mask;
    for (Attribute m : o.getMask())
      mask.push_back(cast<IntegerAttr>(m).getInt());
    Slot &s = result(o.getResult(), int64_t(mask.size()) * inner);
    for (int t = 0; t < threads; ++t)
      for (auto [r, m] : llvm::enumerate(mask)) {
        const Slot &src = m < rows1 ? a : b;
        int64_t row = m < rows1 ? m : m - rows1;
        for (int64_t e = 0; e < inner; ++e)
          s.at(t, int64_t(r) * inner + e) = src.at(t, row * inner + e);
      }
  }

  /// Thread t's element of workgroup buffer `memref` at `indices` (each
  /// index checked against its dimension).
  char *sharedElement(Operation *o, Value memref, ArrayRef<const Slot *> indices,
                      int t) {
    auto it = sharedBase.find(memref);
    if (it == sharedBase.end())
      fail(o, "accesses a memref that is not a workgroup buffer");
    auto type = cast<MemRefType>(memref.getType());
    int64_t offset = 0;
    for (auto [d, i] : llvm::enumerate(indices)) {
      int64_t x = int64_t(i->at(t, 0));
      if (x < 0 || x >= type.getDimSize(unsigned(d)))
        fail(o, "indexes dimension " + std::to_string(d) + " at " +
                    std::to_string(x) + ", outside the buffer");
      offset = offset * type.getDimSize(unsigned(d)) + x;
    }
    return it->second + offset * (bitWidth(type.getElementType()) / 8);
  }
  SmallVector<const Slot *> slotsOf(Operation *o, ValueRange values) {
    SmallVector<const Slot *> out;
    for (Value v : values)
      out.push_back(&get(o, v));
    return out;
  }

  /// memref.load (value == nullptr) or memref.store on a shared buffer.
  void memrefAccess(Operation *o, Value memref, ValueRange indices,
                    const Slot *value) {
    Type elem = cast<MemRefType>(memref.getType()).getElementType();
    SmallVector<const Slot *> idx = slotsOf(o, indices);
    Slot *out = value ? nullptr : &result(o->getResult(0), 1);
    for (int t = 0; t < threads; ++t) {
      if (!active[size_t(t)])
        continue;
      char *p = sharedElement(o, memref, idx, t);
      if (value)
        writeScalar(p, elem, value->at(t, 0));
      else
        out->at(t, 0) = readScalar(p, elem);
    }
  }

  /// ldmatrix: thread 8m + r of a warp gives the address of row r of
  /// matrix m (8 consecutive 16-bit elements); thread l receives elements
  /// (l / 4, 2 (l % 4) + c) of each matrix, or with .trans (2 (l % 4) + c,
  /// l / 4).
  void ldmatrix(nvgpu::LdMatrixOp o) {
    requireWarp(o);
    Type elem = cast<MemRefType>(o.getSrcMemref().getType()).getElementType();
    if (bitWidth(elem) != 16)
      fail(o, "loads elements that are not 16-bit");
    int64_t tiles = o.getNumTiles();
    SmallVector<const Slot *> idx = slotsOf(o, o.getIndices());
    // Each thread's row address.
    std::vector<const char *> row(size_t(threads), nullptr);
    for (int t = 0; t < threads; ++t) {
      if (!active[size_t(t)] || t % 32 >= 8 * tiles)
        continue;
      const char *p = sharedElement(o, o.getSrcMemref(), idx, t);
      memoryAt(o, double(reinterpret_cast<uintptr_t>(p)), 16, true);
      if (reinterpret_cast<uintptr_t>(p) % 16)
        fail(o, "gives a row address that is not 16-byte aligned");
      row[size_t(t)] = p;
    }
    Slot &s = result(o.getRes(), 2 * tiles);
    for (int t = 0; t < threads; ++t) {
      if (!active[size_t(t)])
        continue;
      int warp = t - t % 32, lane = t % 32;
      for (int64_t m = 0; m < tiles; ++m)
        for (int c = 0; c < 2; ++c) {
          int r = o.getTranspose() ? 2 * (lane % 4) + c : lane / 4;
          int k = o.getTranspose() ? lane / 4 : 2 * (lane % 4) + c;
          const char *p = row[size_t(warp + 8 * m + r)] + 2 * k;
          s.at(t, 2 * m + c) = readScalar(p, elem);
        }
    }
  }

  /// D = A·B + C for each warp, m16n8k16 (16-bit A, B) or m16n8k8 (TF32),
  /// from each thread's fragments (g = lane / 4, t = lane % 4):
  ///   m16n8k16  A[r][c]: (g + 8 (r % 2), 2t + c + 8 (r / 2)), r < 4, c < 2
  ///             B[r][c]: (k = 2t + c + 8r, n = g)
  ///   m16n8k8   A[r]:    (g + 8 (r % 2), t + 4 (r / 2))
  ///             B[r]:    (k = t + 4r, n = g)
  ///   C, D[r][c]:        (g + 8r, 2t + c)
  /// With `packed`, A and B hold 32-bit registers of two 16-bit elements
  /// (the lower-numbered in the low half).
  void mmaSync(Operation *o, int64_t k, bool isTf32, const Slot &a,
               const Slot &b, const Slot &c, Slot &d, bool packed) {
    requireWarp(o);
    if (!(k == 16 && !isTf32) && !(k == 8 && isTf32))
      fail(o, "has a shape the emulator does not know (m16n8k" +
                  std::to_string(k) + (isTf32 ? ", tf32)" : ")"));
    // Element e of a fragment (of a packed register pair when `packed`).
    auto element = [&](const Slot &frag, int t, int64_t e) {
      if (!packed)
        return frag.at(t, e);
      uint32_t bits = uint32_t(uint64_t(int64_t(frag.at(t, e / 2))));
      return fromBf16Bits(uint16_t(e % 2 ? bits >> 16 : bits & 0xffff));
    };
    for (int w = 0; w < threads; w += 32) {
      if (!active[size_t(w)])
        continue;
      double A[16][16] = {}, B[16][8] = {}, C[16][8] = {};
      for (int lane = 0; lane < 32; ++lane) {
        int t = w + lane, g = lane / 4, q = lane % 4;
        auto in = [&](double x) {
          return isTf32 && options.tf32Truncation ? tf32(x) : x;
        };
        if (k == 16) {
          for (int r = 0; r < 4; ++r)
            for (int cc = 0; cc < 2; ++cc)
              A[g + 8 * (r % 2)][2 * q + cc + 8 * (r / 2)] =
                  element(a, t, 2 * r + cc);
          for (int r = 0; r < 2; ++r)
            for (int cc = 0; cc < 2; ++cc)
              B[2 * q + cc + 8 * r][g] = element(b, t, 2 * r + cc);
        } else {
          for (int r = 0; r < 4; ++r)
            A[g + 8 * (r % 2)][q + 4 * (r / 2)] = in(a.at(t, r));
          for (int r = 0; r < 2; ++r)
            B[q + 4 * r][g] = in(b.at(t, r));
        }
        for (int r = 0; r < 2; ++r)
          for (int cc = 0; cc < 2; ++cc)
            C[g + 8 * r][2 * q + cc] = c.at(t, 2 * r + cc);
      }
      for (int lane = 0; lane < 32; ++lane) {
        int t = w + lane, g = lane / 4, q = lane % 4;
        for (int r = 0; r < 2; ++r)
          for (int cc = 0; cc < 2; ++cc) {
            int row = g + 8 * r, col = 2 * q + cc;
            double sum = C[row][col];
            for (int kk = 0; kk < k; ++kk)
              sum += A[row][kk] * B[kk][col];
            d.at(t, 2 * r + cc) = roundF32(sum);
          }
      }
    }
  }

  void inlineAsm(LLVM::InlineAsmOp o) {
    StringRef text = o.getAsmString();
    auto operand = [&](unsigned i) -> const Slot & {
      return get(o, o.getOperands()[i]);
    };
    if (text.starts_with("ex2.approx.ftz.f32")) {
      const Slot &x = operand(0);
      Slot &s = result(o.getRes(), 1);
      for (int t = 0; t < threads; ++t) {
        double y = roundF32(std::exp2(x.at(t, 0)));
        s.at(t, 0) = std::fabs(y) < std::numeric_limits<float>::min() ? 0 : y;
      }
    } else if (text.starts_with("cp.async.cg.shared.global")) {
      if (!text.ends_with(", 16;"))
        fail(o, "copies other than 16 bytes (not emulated)");
      const Slot &dst = operand(0), &src = operand(1);
      for (int t = 0; t < threads; ++t) {
        if (!active[size_t(t)])
          continue;
        memoryAt(o, dst.at(t, 0), 16, true);
        memoryAt(o, src.at(t, 0), 16, false);
        if (uintptr_t(dst.at(t, 0)) % 16 || uintptr_t(src.at(t, 0)) % 16)
          fail(o, "copies 16 bytes between addresses not 16-byte aligned");
        openGroup.push_back(
            {reinterpret_cast<char *>(uintptr_t(dst.at(t, 0))),
             reinterpret_cast<const char *>(uintptr_t(src.at(t, 0)))});
      }
    } else if (text == "cp.async.commit_group;") {
      committed.push_back(std::move(openGroup));
      openGroup.clear();
    } else if (text.starts_with("cp.async.wait_group ")) {
      int pending = std::stoi(text.drop_front(20).str());
      // Copies land here, oldest group first: data read before its wait
      // is whatever the buffer held.
      while (int(committed.size()) > pending) {
        for (const Copy &c : committed.front())
          std::memcpy(c.dst, c.src, 16);
        committed.pop_front();
      }
    } else if (text.starts_with(
                   "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32")) {
      // Operands: 4 A registers, 2 B registers (bf16 pairs), 4 C floats.
      Slot a, b, c;
      a.n = 4, b.n = 2, c.n = 4;
      a.v.assign(size_t(threads * 4), 0);
      b.v.assign(size_t(threads * 2), 0);
      c.v.assign(size_t(threads * 4), 0);
      for (int t = 0; t < threads; ++t) {
        for (int r = 0; r < 4; ++r)
          a.at(t, r) = operand(unsigned(r)).at(t, 0);
        for (int r = 0; r < 2; ++r)
          b.at(t, r) = operand(unsigned(4 + r)).at(t, 0);
        for (int r = 0; r < 4; ++r)
          c.at(t, r) = operand(unsigned(6 + r)).at(t, 0);
      }
      mmaSync(o, 16, false, a, b, c, result(o.getRes(), 4), true);
    } else {
      fail(o, "is inline PTX the emulator does not know: " + text.str());
    }
  }

  void gep(LLVM::GEPOp o) {
    auto raw = o.getRawConstantIndices();
    if (raw.size() != 1 || raw[0] != LLVM::GEPOp::kDynamicIndex)
      fail(o, "is not base + one dynamic index (not emulated)");
    std::optional<Type> elem = o.getElemType();
    int64_t size = byteSize(*elem);
    const Slot &base = get(o, o.getBase());
    const Slot &index = get(o, o.getDynamicIndices()[0]);
    Slot &s = result(o.getResult(), 1);
    for (int t = 0; t < threads; ++t)
      s.at(t, 0) = base.at(t, 0) + index.at(t, 0) * double(size);
  }
  void load(LLVM::LoadOp o) {
    Type type = o.getType();
    Type elem = scalarOf(type);
    int64_t n = elementCount(type), bytes = byteSize(type);
    const Slot &addr = get(o, o.getAddr());
    Slot &s = result(o.getResult(), n);
    for (int t = 0; t < threads; ++t) {
      if (!active[size_t(t)])
        continue;
      memoryAt(o, addr.at(t, 0), bytes, false);
      const char *p = reinterpret_cast<const char *>(uintptr_t(addr.at(t, 0)));
      for (int64_t e = 0; e < n; ++e)
        s.at(t, e) = readScalar(p + e * (bytes / n), elem);
    }
  }
  void store(LLVM::StoreOp o) {
    Type type = o.getValue().getType();
    Type elem = scalarOf(type);
    int64_t n = elementCount(type), bytes = byteSize(type);
    const Slot &addr = get(o, o.getAddr());
    const Slot &x = get(o, o.getValue());
    for (int t = 0; t < threads; ++t) {
      if (!active[size_t(t)])
        continue;
      memoryAt(o, addr.at(t, 0), bytes, false);
      char *p = reinterpret_cast<char *>(uintptr_t(addr.at(t, 0)));
      for (int64_t e = 0; e < n; ++e)
        writeScalar(p + e * (bytes / n), elem, x.at(t, e));
    }
  }
  /// vector<2x16-bit float> to i32: the first element in the low half.
  void bitcast(LLVM::BitcastOp o) {
    auto from = dyn_cast<VectorType>(o.getArg().getType());
    if (!from || from.getNumElements() != 2 ||
        bitWidth(from.getElementType()) != 16 || !o.getType().isInteger(32))
      fail(o, "is a bitcast the emulator does not know");
    bool bf = from.getElementType().isBF16();
    const Slot &x = get(o, o.getArg());
    Slot &s = result(o.getResult(), 1);
    for (int t = 0; t < threads; ++t) {
      uint32_t lo = bf ? bf16Bits(x.at(t, 0)) : f16Bits(x.at(t, 0));
      uint32_t hi = bf ? bf16Bits(x.at(t, 1)) : f16Bits(x.at(t, 1));
      s.at(t, 0) = double(lo | (hi << 16));
    }
  }

  /// arith and math ops, element by element.
  void elementwise(Operation *o) {
    if (o->getNumResults() != 1 || o->getNumRegions() != 0)
      fail(o, "is an op the emulator does not know");
    Type rt = o->getResult(0).getType();
    Type re = scalarOf(rt);
    int64_t n = elementCount(rt);
    SmallVector<const Slot *> in;
    for (Value v : o->getOperands())
      in.push_back(&get(o, v));
    Type ie = o->getNumOperands() ? scalarOf(o->getOperand(0).getType()) : re;
    auto fn = scalarFunction(o, ie);
    Slot &s = result(o->getResult(0), n);
    double args[3];
    for (int t = 0; t < threads; ++t)
      for (int64_t e = 0; e < n; ++e) {
        for (size_t k = 0; k < in.size() && k < 3; ++k)
          args[k] = in[k]->at(t, in[k]->n == 1 ? 0 : e);
        s.at(t, e) = asType(re, fn(args, active[size_t(t)] != 0));
      }
  }

  using Scalar = std::function<double(const double *, bool)>;
  /// The one-operand math functions score and mask regions may use.
  static double (*unaryMath(StringRef name))(double) {
    static const llvm::StringMap<double (*)(double)> table = {
        {"math.tanh", [](double x) { return std::tanh(x); }},
        {"math.exp", [](double x) { return std::exp(x); }},
        {"math.exp2", [](double x) { return std::exp2(x); }},
        {"math.log", [](double x) { return std::log(x); }},
        {"math.log2", [](double x) { return std::log2(x); }},
        {"math.sqrt", [](double x) { return std::sqrt(x); }},
        {"math.rsqrt", [](double x) { return 1 / std::sqrt(x); }},
        {"math.absf", [](double x) { return std::fabs(x); }},
        {"math.absi", [](double x) { return std::fabs(x); }},
        {"math.sin", [](double x) { return std::sin(x); }},
        {"math.cos", [](double x) { return std::cos(x); }},
        {"math.floor", [](double x) { return std::floor(x); }},
        {"math.ceil", [](double x) { return std::ceil(x); }},
        {"math.erf", [](double x) { return std::erf(x); }},
    };
    auto it = table.find(name);
    return it == table.end() ? nullptr : it->second;
  }
  Scalar scalarFunction(Operation *o, Type ie) {
    if (auto f = unaryMath(o->getName().getStringRef()))
      return [f](const double *a, bool) { return f(a[0]); };
    auto i64 = [](double x) { return int64_t(x); };
    auto divisor = [this, o](double x, bool live) {
      if (x == 0 && live)
        fail(o, "divides by zero");
      return x == 0 ? int64_t(1) : int64_t(x);
    };
    using namespace arith;
    return llvm::TypeSwitch<Operation *, Scalar>(o)
        .Case([&](AddIOp) {
          return [=](const double *a, bool) {
            return double(i64(a[0]) + i64(a[1]));
          };
        })
        .Case([&](SubIOp) {
          return [=](const double *a, bool) {
            return double(i64(a[0]) - i64(a[1]));
          };
        })
        .Case([&](MulIOp) {
          return [=](const double *a, bool) {
            return double(i64(a[0]) * i64(a[1]));
          };
        })
        .Case([&](DivSIOp) {
          return [=](const double *a, bool l) {
            return double(i64(a[0]) / divisor(a[1], l));
          };
        })
        .Case([&](RemSIOp) {
          return [=](const double *a, bool l) {
            return double(i64(a[0]) % divisor(a[1], l));
          };
        })
        .Case([&](DivUIOp) {
          return [=](const double *a, bool l) {
            return double(asUnsigned(ie, a[0]) / uint64_t(divisor(a[1], l)));
          };
        })
        .Case([&](RemUIOp) {
          return [=](const double *a, bool l) {
            return double(asUnsigned(ie, a[0]) % uint64_t(divisor(a[1], l)));
          };
        })
        .Case([&](FloorDivSIOp) {
          return [=](const double *a, bool l) {
            int64_t x = i64(a[0]), y = divisor(a[1], l), q = x / y;
            return double((x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q);
          };
        })
        .Case([&](CeilDivSIOp) {
          return [=](const double *a, bool l) {
            int64_t x = i64(a[0]), y = divisor(a[1], l), q = x / y;
            return double((x % y != 0 && ((x < 0) == (y < 0))) ? q + 1 : q);
          };
        })
        .Case([&](MinSIOp) {
          return [=](const double *a, bool) { return std::min(a[0], a[1]); };
        })
        .Case([&](MaxSIOp) {
          return [=](const double *a, bool) { return std::max(a[0], a[1]); };
        })
        .Case([&](AndIOp) {
          return [=](const double *a, bool) {
            return double(i64(a[0]) & i64(a[1]));
          };
        })
        .Case([&](OrIOp) {
          return [=](const double *a, bool) {
            return double(i64(a[0]) | i64(a[1]));
          };
        })
        .Case([&](XOrIOp) {
          return [=](const double *a, bool) {
            return double(i64(a[0]) ^ i64(a[1]));
          };
        })
        .Case([&](CmpIOp c) {
          // arith's own evaluation, on the operands' bit width.
          auto pred = c.getPredicate();
          unsigned w = bitWidth(ie);
          return [=](const double *a, bool) {
            return double(applyCmpPredicate(
                pred, APInt(w, uint64_t(int64_t(a[0])), /*isSigned=*/true),
                APInt(w, uint64_t(int64_t(a[1])), /*isSigned=*/true)));
          };
        })
        .Case<IndexCastOp, ExtSIOp, TruncIOp, SIToFPOp, ExtFOp, TruncFOp>(
            [&](Operation *) {
              return [](const double *a, bool) { return a[0]; };
            })
        .Case([&](ExtUIOp) {
          return [=](const double *a, bool) {
            return double(asUnsigned(ie, a[0]));
          };
        })
        .Case([&](FPToSIOp) {
          return [](const double *a, bool) { return std::trunc(a[0]); };
        })
        .Case([&](SelectOp) {
          return [](const double *a, bool) { return a[0] != 0 ? a[1] : a[2]; };
        })
        .Case([&](AddFOp) {
          return [](const double *a, bool) { return a[0] + a[1]; };
        })
        .Case([&](SubFOp) {
          return [](const double *a, bool) { return a[0] - a[1]; };
        })
        .Case([&](MulFOp) {
          return [](const double *a, bool) { return a[0] * a[1]; };
        })
        .Case([&](DivFOp) {
          return [](const double *a, bool) { return a[0] / a[1]; };
        })
        .Case(
            [&](NegFOp) { return [](const double *a, bool) { return -a[0]; }; })
        .Case([&](MaxNumFOp) {
          return [](const double *a, bool) { return std::fmax(a[0], a[1]); };
        })
        .Case([&](MinNumFOp) {
          return [](const double *a, bool) { return std::fmin(a[0], a[1]); };
        })
        .Case([&](MaximumFOp) {
          return [](const double *a, bool) {
            return std::isnan(a[0]) || std::isnan(a[1]) ? NAN
                                                        : std::max(a[0], a[1]);
          };
        })
        .Case([&](MinimumFOp) {
          return [](const double *a, bool) {
            return std::isnan(a[0]) || std::isnan(a[1]) ? NAN
                                                        : std::min(a[0], a[1]);
          };
        })
        .Case([&](CmpFOp c) {
          auto pred = c.getPredicate();
          return [=](const double *a, bool) {
            return double(
                applyCmpPredicate(pred, APFloat(a[0]), APFloat(a[1])));
          };
        })
        .Case([&](math::PowFOp) {
          return [](const double *a, bool) { return std::pow(a[0], a[1]); };
        })
        .Default([&](Operation *) -> Scalar {
          fail(o, "is an op the emulator does not know");
        });
  }
};

} // namespace

std::string launch(gpu::GPUFuncOp kernel, const std::vector<Tensor> &tensors,
                   const Options &options) {
  auto tileRows = kernel->getAttrOfType<IntegerAttr>("attn.tile_rows");
  auto gridArg = kernel->getAttrOfType<IntegerAttr>("attn.grid_arg");
  if (!tileRows || !gridArg || gridArg.getInt() < 0 ||
      size_t(gridArg.getInt()) >= tensors.size())
    return "the kernel has no attn.tile_rows and attn.grid_arg (or the "
           "tensors do not include its grid argument)";
  // The runtime's grid: x over the rows of the grid argument, y its heads,
  // z every dimension outside.
  const Tensor &g = tensors[size_t(gridArg.getInt())];
  int64_t rank = int64_t(g.shape.size());
  int64_t grid[3] = {1, 1, 1};
  if (rank >= 2)
    grid[0] =
        (g.shape[size_t(rank - 2)] + tileRows.getInt() - 1) / tileRows.getInt();
  if (rank >= 3)
    grid[1] = g.shape[size_t(rank - 3)];
  for (int64_t d = 0; d + 3 < rank; ++d)
    grid[2] *= g.shape[size_t(d)];
  try {
    for (int64_t z = 0; z < grid[2]; ++z)
      for (int64_t y = 0; y < grid[1]; ++y)
        for (int64_t x = 0; x < grid[0]; ++x) {
          int64_t block[3] = {x, y, z};
          BlockRun(kernel, tensors, options, block, grid).run();
        }
  } catch (const Fail &f) {
    return f.message;
  }
  return "";
}

} // namespace attnc::emu
