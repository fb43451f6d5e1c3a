//===- LshSchedule.cpp - the Reformer LSH primitives on x86 ---------------===//
//
// A chunk is a small dense attention (C queries × (before+1+after)·C keys):
// per chunk, in one parallel loop iteration, the queries are gathered
// transposed, Q·Kᵀ accumulates in a register tile with queries along the
// vector and keys as rows (the keys are read in place and broadcast), the
// row max and sum run over the key slots with queries along the vector,
// and P·V accumulates in a register tile of values × queries. Nothing
// larger than one chunk's scores lives per thread.
//
//===----------------------------------------------------------------------===//
#include "CpuSchedules.h"

using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

// Chunks per parallel task: the gathered keys and values slide across a
// task's chunks, so a task gathers (16 + before + after) chunks for 16.
constexpr int kChunksPerTask = 16;
// Rows per combine task: enough to amortise a task, and to gather a
// block's lse values with rows along the vector.
constexpr int kCombineRowsPerTask = 64;
// Rows ahead the combine prefetches (R rounds × D/16 lines each): 8 rows ×
// 4 rounds × 4 lines = 8 KiB in flight at R = 4, D = 64, well inside L1
// (Halide's prefetch is non-temporal: lines evicted from L1 are lost).
// Measured: 4 rows ahead saved less.
constexpr int kCombinePrefetchRows = 8;

void attnc::codegen::cpu::scheduleHashBucket(HashFuncs &f,
                                             attn::ScheduleAttr s) {
  const int VW = int(s.getVectorWidth()), W = int(s.getKeyTile()),
            QR = int(s.getRegisterRows());
  H::Var to("to"), ti("ti");
  f.rot.compute_root();
  f.bucket.compute_root()
      .split(f.t, to, ti, W, H::TailStrategy::GuardWithIf)
      .reorder(ti, f.r, to, f.h, f.b)
      .parallel(to)
      .vectorize(ti, VW);
  f.xT.compute_at(f.bucket, to).vectorize(f.t, VW, H::TailStrategy::RoundUp);
  registerTile(f.projOut, f.bucket, f.r, f.proj, f.t, f.n, f.rd.x, VW, W, QR);
  f.best.compute_at(f.bucket, f.r).vectorize(f.t, VW, H::TailStrategy::RoundUp);
  f.best.update().vectorize(f.t, VW, H::TailStrategy::RoundUp);
}

void attnc::codegen::cpu::scheduleSortChunk(SortFuncs &f) {
  f.input.compute_root();
  f.sorted.compute_root();
}

void attnc::codegen::cpu::scheduleChunkedPerHead(ChunkedFuncs &f, int lanes) {
  auto RoundUp = H::TailStrategy::RoundUp;
  auto Guard = H::TailStrategy::GuardWithIf;
  f.posFlat.compute_root().parallel(f.b).vectorize(f.l, lanes, Guard);
  f.posFlat.update().parallel(f.b);
  if (f.inverted) {
    f.undo.compute_root().parallel(f.b).vectorize(f.l, lanes, Guard);
    f.undo.update().parallel(f.b);
  }
  f.keyScale.compute_root().parallel(f.h).vectorize(f.l, lanes, Guard);
  f.keySq.compute_at(f.keyScale, f.h).vectorize(f.l, lanes, RoundUp);
  f.keySq.update().vectorize(f.l, lanes, RoundUp);
}

void attnc::codegen::cpu::scheduleChunkSoftmax(ChunkedFuncs &f, H::Func at,
                                               H::Var atVar,
                                               attn::ScheduleAttr s) {
  const int VW = int(s.getVectorWidth()), W = int(s.getKeyTile()),
            QR = int(s.getRegisterRows());
  auto RoundUp = H::TailStrategy::RoundUp;
  for (H::Func fn : {f.queryPos, f.keyPos, f.keySlotScale})
    fn.compute_at(at, atVar);
  if (!f.sharedQK)
    f.qT.compute_at(at, atVar).vectorize(f.t, VW, RoundUp);
  registerTile(f.score, at, atVar, f.dot, f.t, f.j, f.rd.x, VW, W, QR);
  f.rowMax.compute_at(at, atVar).vectorize(f.t, VW, RoundUp);
  f.rowMax.update().reorder(f.t, f.rj.x, f.rj.y).vectorize(f.t, VW, RoundUp);
  f.probs.compute_at(at, atVar).vectorize(f.t, VW, RoundUp);
  f.rowSum.compute_at(at, atVar).vectorize(f.t, VW, RoundUp);
  f.rowSum.update().reorder(f.t, f.rj.x, f.rj.y).vectorize(f.t, VW, RoundUp);
}

void attnc::codegen::cpu::scheduleChunkedAttend(ChunkedFuncs &f,
                                                attn::ScheduleAttr s,
                                                bool perHead) {
  const int VW = int(s.getVectorWidth()), W = int(s.getKeyTile()),
            QR = int(s.getRegisterRows());
  auto RoundUp = H::TailStrategy::RoundUp;
  auto Guard = H::TailStrategy::GuardWithIf;
  // Per head: flat positions, key scales (and the inverse of an order that
  // did not come from sort_chunk).
  scheduleChunkedPerHead(f, VW);

  // Parallel over blocks of chunks (× heads × batches, or blocks alone when
  // the chain runs inside the combine's loop over heads: a fused block ×
  // head loop there would bound heads through a division by the runtime
  // chunk count, which Halide cannot narrow to the one head). Within a
  // block the chunks run in order, and the gathered keys and values of
  // chunk u slide: each chunk of the block gathers only its newest
  // neighbour.
  H::Var cb("cb"), ci("ci"), blk("blk");
  f.result.compute_root()
      .align_storage(f.x, VW)
      .reorder(f.x, f.t, f.c, f.h, f.b)
      .split(f.c, cb, ci, kChunksPerTask, Guard);
  if (perHead) {
    blk = cb;
  } else {
    H::Var ch("ch");
    f.result.fuse(cb, f.h, ch).fuse(ch, f.b, blk);
  }
  f.result.parallel(blk).vectorize(f.x, VW, Guard);
  // Everything else per chunk.
  f.keysT.store_at(f.result, blk).compute_at(f.result, ci)
      .vectorize(f.t, VW, RoundUp);
  // Values rows computed exactly as wide as P·V's register tiles read them
  // (bounds inference over-approximates the tiles by a vector, which the
  // copy would fill through a gather per row), stored a vector wider: rows
  // 256 bytes apart share cache sets every 16 rows.
  H::Expr valueRow = (f.valueWidth + (W - 1)) / W * W;
  f.values.store_at(f.result, blk).compute_at(f.result, ci)
      .bound(f.x, 0, valueRow)
      .align_storage(f.x, valueRow + VW)
      .vectorize(f.x, VW, RoundUp);
  scheduleChunkSoftmax(f, f.result, ci, s);
  f.rowLse.compute_at(f.result, ci).vectorize(f.t, VW, RoundUp);
  registerTile(f.pvOut, f.result, ci, f.pvAcc, f.x, f.t, f.rj.x, VW,
               int(s.getValueTile()), int(s.getValueRows()), {}, {f.rj.y});
}

void attnc::codegen::cpu::scheduleChunkedOutputs(ChunkedFuncs &f, int lanes) {
  // At the root: they are outputs, or read by another op (a backward's
  // combine_rounds_grad).
  f.out.compute_root().parallel(f.h).vectorize(f.x, lanes,
                                               H::TailStrategy::GuardWithIf);
  f.lse.compute_root().parallel(f.h).vectorize(f.i, lanes,
                                               H::TailStrategy::GuardWithIf);
}

namespace {

constexpr const char *kCombineRowVar = "ii";

namespace I = H::Internal;

/// The first load of `buffer` with a vector (ramp) index under a statement,
/// with the lets and loops between that statement and the load.
class FindRowLoad : public I::IRVisitor {
public:
  explicit FindRowLoad(std::string buffer) : buffer(std::move(buffer)) {}
  std::string buffer;
  bool found = false;
  H::Expr index;                                  // the ramp's base
  std::vector<std::pair<std::string, H::Expr>> lets; // outer to inner
  std::vector<const I::For *> loops;              // outer to inner

private:
  using I::IRVisitor::visit;
  std::vector<std::pair<std::string, H::Expr>> letStack;
  std::vector<const I::For *> loopStack;

  void visit(const I::Load *op) override {
    if (found)
      return;
    const auto *ramp = op->index.as<I::Ramp>();
    if (op->name == buffer && ramp) {
      found = true;
      index = ramp->base;
      lets = letStack;
      loops = loopStack;
      return;
    }
    I::IRVisitor::visit(op);
  }
  // A let binds inside its body only: the stack holds those in scope.
  template <typename LetNode> void visitLet(const LetNode *op) {
    if (found)
      return;
    op->value.accept(this);
    letStack.emplace_back(op->name, op->value);
    op->body.accept(this);
    letStack.pop_back();
  }
  void visit(const I::LetStmt *op) override { visitLet(op); }
  void visit(const I::Let *op) override { visitLet(op); }
  void visit(const I::For *op) override {
    if (found)
      return;
    loopStack.push_back(op);
    op->body.accept(this);
    loopStack.pop_back();
  }
};

/// At the top of each iteration of loop `loop`, prefetches the cache lines
/// of `buffer` that the first vector load of it in the body reads, as
/// iteration `loop + ahead` (clamped to the loop's last) will read them:
/// the same index with the lets between loop and load substituted, the
/// inner loops (rounds, vectors of a row) walked, the loop variable moved
/// ahead. Prefetches never fault; the index reads only what iteration
/// `loop + ahead` reads itself.
class PrefetchAhead : public I::IRMutator {
public:
  PrefetchAhead(std::string loop, std::string buffer, H::Type type, int ahead)
      : loop(std::move(loop)), buffer(std::move(buffer)), type(type),
        ahead(ahead) {}

private:
  using I::IRMutator::visit;
  std::string loop, buffer;
  H::Type type;
  int ahead;

  I::Stmt visit(const I::For *op) override {
    if (op->name != loop)
      return I::IRMutator::visit(op);
    FindRowLoad find(buffer);
    op->body.accept(&find);
    if (!find.found)
      return op;
    auto resolve = [&](H::Expr e) {
      for (auto it = find.lets.rbegin(); it != find.lets.rend(); ++it)
        e = I::substitute(it->first, it->second, e);
      return e;
    };
    H::Expr last = op->min + op->extent - 1;
    H::Expr next = H::min(I::Variable::make(H::Int(32), op->name) + ahead, last);
    H::Expr index =
        I::substitute(op->name, next, resolve(find.index));
    H::Expr host = I::Variable::make(H::Handle(), buffer);
    I::Stmt fetch = I::Evaluate::make(I::Call::make(
        type, I::Call::prefetch, {host, index, 1, 1}, I::Call::Intrinsic));
    // The loops nest in reverse: the innermost around the load (the rounds,
    // whose row address is loaded) outermost here, the vectors of a row
    // innermost, so that one row's address is computed once.
    for (const I::For *inner : find.loops) {
      fetch = I::For::make(inner->name, resolve(inner->min),
                           resolve(inner->extent), I::ForType::Serial,
                           inner->device_api, fetch);
    }
    I::Stmt body = I::Block::make(fetch, mutate(op->body));
    return I::For::make(op->name, op->min, op->extent, op->for_type,
                        op->device_api, body);
  }
};

} // namespace

void attnc::codegen::cpu::addCombinePrefetch(H::Pipeline &p,
                                             const ChunkedFuncs &chunked,
                                             const CombineFuncs &combine) {
  H::Func result = combine.result;
  std::string loop = result.name() + ".s0." + combine.i.name() + "." +
                     kCombineRowVar;
  p.add_custom_lowering_pass(new PrefetchAhead(
      loop, chunked.result.name(), chunked.result.output_types()[0],
      kCombinePrefetchRows));
}

void attnc::codegen::cpu::scheduleCombineRounds(CombineFuncs &f, int lanes) {
  // Per task a block of rows: the round weights (lse gathered through the
  // inverse permutation) for the whole block with rows along the vector,
  // so the block's scattered loads overlap; then per row the weighted sum
  // of its R output rows, values along the vector.
  auto Guard = H::TailStrategy::GuardWithIf;
  auto RoundUp = H::TailStrategy::RoundUp;
  H::Var io("io"), ii("ii");
  f.result.compute_root()
      .split(f.i, io, ii, kCombineRowsPerTask, Guard)
      .reorder(f.x, ii, io, f.h, f.b)
      .parallel(io)
      .vectorize(f.x, lanes, Guard);
  f.maxLse.compute_at(f.result, io).vectorize(f.i, lanes, RoundUp);
  f.maxLse.update().vectorize(f.i, lanes, RoundUp);
  f.weight.compute_at(f.result, io)
      .reorder_storage(f.i, H::Var(f.weight.args()[0]))
      .reorder(f.i, H::Var(f.weight.args()[0]))
      .vectorize(f.i, lanes, RoundUp);
  f.weightSum.compute_at(f.result, io).vectorize(f.i, lanes, RoundUp);
  f.weightSum.update().vectorize(f.i, lanes, RoundUp);
  // Stored per block: a row's accumulator is not a heap allocation per row.
  f.acc.store_at(f.result, io).compute_at(f.result, ii)
      .vectorize(f.x, lanes, Guard);
  f.acc.update().vectorize(f.x, lanes, Guard);
}

void attnc::codegen::cpu::fuseLshChain(
    ChunkedFuncs &chunked, CombineFuncs &combine,
    const std::vector<H::Func> &perHeadProducers) {
  // The combine walks heads one after the other (its rows in parallel);
  // each head's sorted outputs, positions and scales — and the hashing and
  // sorting feeding them — are computed inside that loop, chunks in
  // parallel, so one head's O(R·L·(D+1)) lives at a time.
  // The largest, R·L·(E+1) floats per head, is allocated once per batch
  // entry and folded to one head: an allocation per head of this size is
  // fresh pages from the kernel each time (faulted in, zeroed, unmapped),
  // which at L = 65536 cost as much as writing the results.
  chunked.result.store_at(combine.result, combine.b)
      .compute_at(combine.result, combine.h)
      .fold_storage(chunked.h, 1);
  std::vector<H::Func> perHead = {chunked.posFlat, chunked.keyScale};
  if (chunked.inverted)
    perHead.push_back(chunked.undo);
  perHead.insert(perHead.end(), perHeadProducers.begin(),
                 perHeadProducers.end());
  for (H::Func &f : perHead)
    f.compute_at(combine.result, combine.h);
}
