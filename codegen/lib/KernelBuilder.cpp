//===- KernelBuilder.cpp - one func.func as one Halide pipeline -----------===//
#include "KernelBuilder.h"

#include "Algorithms.h"
#include "CNames.h"
#include "CPU/CpuSchedules.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

namespace {

std::string dtypeName(Type t) {
  if (t.isF16()) return "f16";
  if (t.isBF16()) return "bf16";
  if (t.isInteger(32)) return "i32";
  return "f32";
}

std::vector<std::string> dimsOf(ArrayAttr attr, RankedTensorType type) {
  std::vector<std::string> dims;
  for (int64_t k = 0; k < type.getRank(); ++k) {
    auto s = attr && k < int64_t(attr.size())
                 ? dyn_cast<StringAttr>(attr[k])
                 : StringAttr();
    if (s)
      dims.push_back(s.str());
    else if (!type.isDynamicDim(k))
      dims.push_back(std::to_string(type.getDimSize(k)));
    else
      dims.push_back("?" + std::to_string(k)); // from hand-written IR
  }
  return dims;
}

using Results = FailureOr<std::vector<TensorValue>>;

// runtime_abi.h's ATTN_VALUES_PERMUTATION and ATTN_MAX_BUCKET_VALUE.
constexpr int32_t kValuesPermutation = -1;
constexpr int32_t kMaxBucketValue = 65535;

/// What the LSH ops of one kernel built, for the ops downstream of them.
struct LshState {
  llvm::DenseMap<Operation *, HashFuncs> hashes;
  llvm::DenseMap<Operation *, SortFuncs> sorts;
  llvm::DenseMap<Operation *, ChunkedFuncs> chunked;
  /// Fused chains: the combine's row loop prefetches the per-slot rows.
  std::vector<std::pair<ChunkedFuncs, CombineFuncs>> fused;
};

/// A chunked_attend whose out and lse feed one combine_rounds and nothing
/// else: its per-slot buffer can live one head at a time.
bool feedsOnlyCombine(attn::ChunkedAttendOp op) {
  if (!op.getOut().hasOneUse() || !op.getLse().hasOneUse())
    return false;
  Operation *user = *op.getOut().getUsers().begin();
  return isa<attn::CombineRoundsOp>(user) &&
         user == *op.getLse().getUsers().begin();
}

/// The hashing and sorting that feed only `op`: they move with it into
/// the combine's loop over heads.
std::vector<H::Func> chainProducers(attn::ChunkedAttendOp op, LshState &lsh) {
  std::vector<H::Func> funcs;
  auto sort = op.getOrder().getDefiningOp<attn::SortChunkOp>();
  if (!sort || !sort.getOrder().hasOneUse() || !sort.getUndo().use_empty())
    return funcs;
  SortFuncs &s = lsh.sorts[sort];
  funcs = {s.input, s.sorted};
  auto hash = sort.getBuckets().getDefiningOp<attn::HashBucketOp>();
  if (hash && hash.getResult().hasOneUse())
    funcs.push_back(lsh.hashes[hash].bucket);
  return funcs;
}

/// The inverse of `order` when sort_chunk computed it (else chunked_attend
/// and its gradient invert the order themselves).
std::optional<H::Func> knownUndo(Value order, LshState &lsh) {
  if (auto sort = order.getDefiningOp<attn::SortChunkOp>())
    return lsh.sorts[sort].undo;
  return std::nullopt;
}

/// Gradient Funcs as values shaped and typed like the inputs they belong to.
std::vector<TensorValue>
gradientsOf(ValueTable &values,
            std::initializer_list<std::pair<H::Func, Value>> grads) {
  std::vector<TensorValue> result;
  for (auto [func, input] : grads) {
    TensorValue in = values.tensors.lookup(input);
    result.push_back({func, in.shape, in.type});
  }
  return result;
}

attn::ScheduleAttr scheduleOf(Operation *op) {
  return op->getAttrOfType<attn::ScheduleAttr>(attn::kScheduleAttrName);
}

/// One op: its algorithm, then the target's schedule. Returns one value per
/// result (ops such as the LSH primitives return pairs).
Results buildOp(Operation &op, ValueTable &values, const TargetInfo &target,
                LshState &lsh) {
  auto single = [](Halide::Func f, std::vector<H::Expr> shape,
                   H::Type type) -> Results {
    return std::vector<TensorValue>{TensorValue{f, std::move(shape), type}};
  };
  auto needSchedule = [&](Operation *o) -> FailureOr<attn::ScheduleAttr> {
    if (auto s = scheduleOf(o))
      return s;
    return o->emitError("codegen needs the #attn.schedule that "
                        "attn-choose-schedule attaches");
  };
  return llvm::TypeSwitch<Operation *, Results>(&op)
      .Case([&](attn::AttendOp a) -> Results {
        auto s = needSchedule(a);
        if (failed(s))
          return failure();
        if (s->getBf16Dot() && !target.has(CpuFeature::AVX512BF16))
          return a.emitError() << "the schedule's bf16 dot products need "
                                  "AVX512-BF16, which target '"
                               << target.name()
                               << "' lacks (add +avx512_bf16)";
        TileShape tile{int(s->getKeyTile()), int(s->getRegisterRows()),
                       int(s->getValueRows()), s->getBf16Dot()};
        auto f = defineAttend(a, values, int(s->getVectorWidth()), tile);
        if (failed(f))
          return failure();
        TensorValue q = values.tensors.lookup(a.getQ());
        TensorValue k = values.tensors.lookup(a.getK());
        TensorValue v = values.tensors.lookup(a.getV());
        std::vector<H::Expr> shape{q.shape[0], q.shape[1], q.shape[2],
                                   v.shape[3]};
        std::optional<AttendFuncs> chunked;
        if (int64_t kc = s->getKeyChunk()) {
          tile.keyChunk = int(kc);
          auto c = defineAttend(a, values, int(s->getVectorWidth()), tile);
          if (failed(c))
            return failure();
          if (c->chunked)
            chunked = *c;
        }
        if (!chunked) {
          cpu::scheduleAttend(*f, *s);
          return single(f->out, shape, resultType(a));
        }
        // Both forms, one per call: keys beyond two chunks take the
        // chunked softmax, shorter rows the whole-row one (a single chunk
        // cost 3 % more: its merge pass). Each tile computes only the
        // form its specialisation selects.
        H::Expr longRows = k.shape[2] > 2 * int(s->getKeyChunk());
        H::Func out("attend_by_length");
        out(f->c, f->i, f->h, f->b) =
            H::select(longRows, chunked->out(f->c, f->i, f->h, f->b),
                      f->out(f->c, f->i, f->h, f->b));
        cpu::attendTileLoops(out, f->c, f->i, f->h, f->b, *s);
        out.specialize(longRows);
        cpu::scheduleAttend(*f, *s, out);
        cpu::scheduleAttend(*chunked, *s, out);
        return single(out, shape, resultType(a));
      })
      .Case([&](attn::AttendGradOp a) -> Results {
        auto s = needSchedule(a);
        if (failed(s))
          return failure();
        auto f = defineAttendGrad(
            a, values, int(s->getVectorWidth()),
            {int(s->getKeyTile()), int(s->getRegisterRows())},
            int(s->getTileQueries()));
        if (failed(f))
          return failure();
        cpu::scheduleAttendGrad(*f, *s);
        std::vector<TensorValue> grads = gradientsOf(
            values, {{f->dq, a.getQ()}, {f->dk, a.getK()}, {f->dv, a.getV()}});
        auto grad = f->captureGrads.begin();
        for (Value capture : a.getCaptures())
          if (attn::isF32Capture(capture))
            grads.push_back({*grad++, values.tensors.lookup(capture).shape,
                             H::Float(32)});
        return grads;
      })
      .Case([&](attn::WindowedAttendOp w) -> Results {
        auto s = needSchedule(w);
        if (failed(s))
          return failure();
        auto f = defineWindowed(w, values, int(s->getTileQueries()),
                                {int(s->getKeyTile()), int(s->getRegisterRows()),
                                 int(s->getValueRows())});
        if (failed(f))
          return failure();
        cpu::scheduleWindowed(*f, *s);
        TensorValue q = values.tensors.lookup(w.getQ());
        TensorValue v = values.tensors.lookup(w.getV());
        return single(f->result,
                      {q.shape[0], q.shape[1], q.shape[2], v.shape[3]},
                      resultType(w));
      })
      .Case([&](attn::HashBucketOp hb) -> Results {
        auto s = needSchedule(hb);
        if (failed(s))
          return failure();
        auto f = defineHashBucket(hb, values);
        if (failed(f))
          return failure();
        cpu::scheduleHashBucket(*f, *s);
        lsh.hashes[hb] = *f;
        TensorValue x = values.tensors.lookup(hb.getX());
        return single(f->bucket,
                      {x.shape[0], x.shape[1], H::Expr(int32_t(hb.getRounds())),
                       x.shape[2]},
                      H::Int(32));
      })
      .Case([&](attn::SortChunkOp sc) -> Results {
        SortFuncs f = defineSortChunk(sc, values);
        cpu::scheduleSortChunk(f);
        lsh.sorts[sc] = f;
        std::vector<H::Expr> shape =
            values.tensors.lookup(sc.getBuckets()).shape;
        return std::vector<TensorValue>{{f.order, shape, H::Int(32)},
                                        {f.undo, shape, H::Int(32)}};
      })
      .Case([&](attn::ChunkedAttendOp ca) -> Results {
        auto s = needSchedule(ca);
        if (failed(s))
          return failure();
        auto f = defineChunkedAttend(ca, values, knownUndo(ca.getOrder(), lsh));
        if (failed(f))
          return failure();
        bool fused = feedsOnlyCombine(ca);
        cpu::scheduleChunkedAttend(*f, *s, fused);
        if (!fused)
          cpu::scheduleChunkedOutputs(*f, int(s->getVectorWidth()));
        lsh.chunked[ca] = *f;
        std::vector<H::Expr> lseShape =
            values.tensors.lookup(ca.getOrder()).shape;
        std::vector<H::Expr> outShape = lseShape;
        outShape.push_back(values.tensors.lookup(ca.getV()).shape[3]);
        return std::vector<TensorValue>{
            {f->out, outShape, resultType(ca, 0)},
            {f->lse, lseShape, resultType(ca, 1)}};
      })
      .Case([&](attn::ChunkedAttendGradOp ca) -> Results {
        auto s = needSchedule(ca);
        if (failed(s))
          return failure();
        auto f = defineChunkedAttendGrad(ca, values,
                                         knownUndo(ca.getOrder(), lsh));
        if (failed(f))
          return failure();
        cpu::scheduleChunkedAttendGrad(*f, *s);
        return gradientsOf(values, {{f->dq, ca.getQ()},
                                    {f->dk, ca.getK()},
                                    {f->dv, ca.getV()}});
      })
      .Case([&](attn::CombineRoundsGradOp cr) -> Results {
        CombineGradFuncs f = defineCombineRoundsGrad(cr, values);
        cpu::scheduleCombineRoundsGrad(f, target.f32Lanes());
        TensorValue out = values.tensors.lookup(cr.getOut());
        TensorValue lse = values.tensors.lookup(cr.getLse());
        return std::vector<TensorValue>{
            {f.dout, out.shape, resultType(cr, 0)},
            {f.dlse, lse.shape, resultType(cr, 1)}};
      })
      .Case([&](attn::CombineRoundsOp cr) -> Results {
        CombineFuncs f = defineCombineRounds(cr, values);
        cpu::scheduleCombineRounds(f, target.f32Lanes());
        auto chunked = cr.getOut().getDefiningOp<attn::ChunkedAttendOp>();
        if (chunked && feedsOnlyCombine(chunked)) {
          cpu::fuseLshChain(lsh.chunked[chunked], f,
                            chainProducers(chunked, lsh));
          lsh.fused.emplace_back(lsh.chunked[chunked], f);
        }
        TensorValue out = values.tensors.lookup(cr.getOut());
        return single(f.result,
                      {out.shape[0], out.shape[1], out.shape[3], out.shape[4]},
                      resultType(cr));
      })
      .Case<attn::LinearOp, attn::LayerNormOp, attn::GeluOp, attn::ReluOp,
            attn::AddOp, attn::SubOp, attn::MulOp, attn::SplitHeadsOp,
            attn::MergeHeadsOp, attn::NegOp, attn::ZerosLikeOp, attn::GeluGradOp,
            attn::ReluGradOp, attn::SumToOp, attn::LinearInputGradOp,
            attn::LinearWeightGradOp, attn::LayerNormGradOp>([&](Operation *d) -> Results {
        std::vector<H::Expr> shape;
        auto f = defineDense(d, values, shape);
        if (failed(f))
          return failure();
        cpu::scheduleDense(*f, target.f32Lanes());
        return single(f->out, shape, resultType(d));
      })
      .Default([](Operation *o) -> Results {
        return o->emitError() << "codegen does not support '" << o->getName()
                              << "' yet";
      });
}

} // namespace

FailureOr<BuiltKernel> attnc::codegen::describeKernel(func::FuncOp fn) {
  BuiltKernel k{fn.getName().str(), fn.getLoc()};
  if (auto why = kernelNameProblem(k.name))
    return fn.emitError() << "kernel name '" << k.name << "' " << *why;
  if (auto exact = fn->getAttrOfType<ArrayAttr>(attn::kExactAttrName))
    for (Attribute a : exact)
      if (auto s = dyn_cast<StringAttr>(a))
        k.exact.push_back(s.str());
  Block &entry = fn.getBody().front();
  for (auto [idx, arg] : llvm::enumerate(entry.getArguments())) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type)
      return fn.emitError("codegen needs ranked tensor arguments");
    auto nameAttr = fn.getArgAttrOfType<StringAttr>(idx, "attn.name");
    std::string name = nameAttr ? nameAttr.str() : "arg" + std::to_string(idx);
    k.args.push_back({name, dtypeName(type.getElementType()),
                      dimsOf(fn.getArgAttrOfType<ArrayAttr>(idx, "attn.dims"),
                             type),
                      false});
  }
  auto resultTypes = fn.getFunctionType().getResults();
  for (auto [r, t] : llvm::enumerate(resultTypes)) {
    auto type = dyn_cast<RankedTensorType>(t);
    if (!type)
      return fn.emitError("codegen needs ranked tensor results");
    // Results are out, or out0, out1, ... unless named (backward kernels
    // name theirs d_<parameter>).
    auto nameAttr = fn.getResultAttrOfType<StringAttr>(r, "attn.name");
    std::string name = nameAttr ? nameAttr.str()
                       : resultTypes.size() == 1 ? "out"
                                                 : "out" + std::to_string(r);
    k.args.push_back({name, dtypeName(type.getElementType()),
                      dimsOf(fn.getResultAttrOfType<ArrayAttr>(r, "attn.dims"),
                             type),
                      true});
  }
  // Index inputs the kernel follows are checked by the runtime first.
  for (auto [idx, arg] : llvm::enumerate(entry.getArguments())) {
    for (Operation *user : arg.getUsers()) {
      if (auto ca = dyn_cast<attn::ChunkedAttendOp>(user);
          ca && ca.getOrder() == arg)
        k.args[idx].values = kValuesPermutation;
      else if (auto cg = dyn_cast<attn::ChunkedAttendGradOp>(user);
               cg && cg.getOrder() == arg)
        k.args[idx].values = kValuesPermutation;
      else if (isa<attn::SortChunkOp>(user) && k.args[idx].values == 0)
        k.args[idx].values = kMaxBucketValue + 1;
    }
  }
  return k;
}

FailureOr<BuiltKernel> attnc::codegen::buildKernel(func::FuncOp fn,
                                                  const TargetInfo &target) {
  FailureOr<BuiltKernel> described = describeKernel(fn);
  if (failed(described))
    return failure();
  BuiltKernel k = std::move(*described);
  ValueTable values;
  Block &entry = fn.getBody().front();
  for (auto [idx, arg] : llvm::enumerate(entry.getArguments())) {
    auto type = cast<RankedTensorType>(arg.getType());
    H::ImageParam ip(halideType(type.getElementType()), int(type.getRank()),
                     k.args[idx].name);
    TensorValue tv{H::Func(ip), {}, ip.type(), ip};
    for (int64_t d = 0; d < type.getRank(); ++d)
      tv.shape.push_back(ip.dim(int(type.getRank() - 1 - d)).extent());
    values.tensors[arg] = tv;
    k.inputs.push_back(ip);
  }

  LshState lsh;
  std::vector<H::Func> outputs;
  for (Operation &op : entry) {
    if (auto c = dyn_cast<arith::ConstantIndexOp>(op)) {
      values.scalars[c] = H::Expr(int32_t(c.value()));
      continue;
    }
    if (auto d = dyn_cast<tensor::DimOp>(op)) {
      auto idx = d.getConstantIndex();
      if (!idx)
        return d.emitError("codegen needs a constant dimension index");
      values.scalars[d] = values.tensors.lookup(d.getSource()).shape[*idx];
      continue;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [r, v] : llvm::enumerate(ret.getOperands())) {
        TensorValue tv = values.tensors.lookup(v);
        bool reused = isa<BlockArgument>(v) ||
                      llvm::any_of(outputs, [&](H::Func f) {
                        return f.name() == tv.func.name();
                      });
        H::Func out = tv.func;
        if (reused) { // an output must be a Func of its own
          out = H::Func(k.name + "_out" + std::to_string(r));
          std::vector<H::Var> vars(tv.rank());
          out(vars) = tv.func(std::vector<H::Expr>(vars.begin(), vars.end()));
        }
        outputs.push_back(out);
      }
      break;
    }
    Results results = buildOp(op, values, target, lsh);
    if (failed(results))
      return failure();
    if (results->size() != op.getNumResults())
      return op.emitError("codegen produced the wrong number of results");
    for (auto [value, tensor] : llvm::zip(op.getResults(), *results))
      values.tensors[value] = tensor;
  }
  fn.walk([&](Operation *op) {
    if (auto s = scheduleOf(op); s && s.getBf16Dot())
      k.bf16Dot = true;
  });
  k.pipeline = H::Pipeline(outputs);
  cpu::addVectorTransposes(k.pipeline);
  for (auto &[chunked, combine] : lsh.fused)
    cpu::addCombinePrefetch(k.pipeline, chunked, combine);
  return k;
}
