//===- VectorTranspose.cpp - transposes in registers, not lane by lane ----===//
//
// A copy that transposes, vectorised along both of its dimensions
// (transposeInBlocks), reaches code generation as
//   out[concat(ramp(o_0, 1, n), ..., ramp(o_m-1, 1, n))]
//       = concat(in[ramp(b, s, m)], in[ramp(b + 1, s, m)], ...,
//                in[ramp(b + n - 1, s, m)])
// with a stride s known only at run time. Halide 14 scalarises both sides:
// every element a scalar load and an insert (or extract and store), which
// made K's transposition 6 % of causal attention at L = 1024 on Zen 5.
// These two mutators rewrite the load as m dense loads of n lanes (the
// same elements) and a shuffle, which LLVM lowers to vpermt2ps, and the
// store as one dense store per piece.
//
//===----------------------------------------------------------------------===//
#include "CpuSchedules.h"

using namespace attnc::codegen;
namespace H = Halide;
namespace I = Halide::Internal;

namespace {

/// concat(in[ramp(b + k, s, m)] for k < n) → shuffle of m rows
/// in[ramp(b + l·s, 1, n)]: lane l of piece k is element k of row l.
class DenseTransposedLoads : public I::IRMutator {
  using I::IRMutator::visit;

  H::Expr visit(const I::Shuffle *op) override {
    if (!op->is_concat() || op->vectors.size() < 2)
      return I::IRMutator::visit(op);
    std::vector<const I::Load *> loads;
    for (const H::Expr &v : op->vectors) {
      const I::Load *load = v.as<I::Load>();
      if (!load || !load->index.as<I::Ramp>() ||
          !I::is_const_one(load->predicate))
        return I::IRMutator::visit(op);
      loads.push_back(load);
    }
    const I::Load *first = loads.front();
    const I::Ramp *ramp = first->index.as<I::Ramp>();
    int n = int(loads.size()), m = ramp->lanes;
    for (int k = 0; k < n; ++k) {
      const I::Ramp *rk = loads[k]->index.as<I::Ramp>();
      if (loads[k]->name != first->name || rk->lanes != m ||
          !I::can_prove(rk->base == ramp->base + k) ||
          !I::can_prove(rk->stride == ramp->stride))
        return I::IRMutator::visit(op);
    }
    H::Type row = first->type.with_lanes(n);
    std::vector<H::Expr> rows;
    for (int l = 0; l < m; ++l)
      rows.push_back(I::Load::make(
          row, first->name, I::Ramp::make(ramp->base + l * ramp->stride, 1, n),
          first->image, first->param, I::const_true(n),
          I::ModulusRemainder()));
    std::vector<int> indices(size_t(n) * m);
    for (int k = 0; k < n; ++k)
      for (int l = 0; l < m; ++l)
        indices[k * m + l] = l * n + k;
    return I::Shuffle::make(rows, indices);
  }
};

/// out[concat(ramp(o_k, 1, n) ...)] = v → out[ramp(o_k, 1, n)] = slice k
/// of v, for each k.
class DenseConcatStores : public I::IRMutator {
  using I::IRMutator::visit;

  I::Stmt visit(const I::Store *op) override {
    const I::Shuffle *index = op->index.as<I::Shuffle>();
    if (!index || !index->is_concat() || !I::is_const_one(op->predicate))
      return I::IRMutator::visit(op);
    for (const H::Expr &piece : index->vectors) {
      const I::Ramp *r = piece.as<I::Ramp>();
      if (!r || !I::is_const_one(r->stride))
        return I::IRMutator::visit(op);
    }
    std::string name = I::unique_name('t');
    H::Expr value = I::Variable::make(op->value.type(), name);
    std::vector<I::Stmt> stores;
    int at = 0;
    for (const H::Expr &piece : index->vectors) {
      int lanes = piece.type().lanes();
      stores.push_back(I::Store::make(
          op->name, I::Shuffle::make_slice(value, at, 1, lanes), piece,
          op->param, I::const_true(lanes), I::ModulusRemainder()));
      at += lanes;
    }
    return I::LetStmt::make(name, mutate(op->value), I::Block::make(stores));
  }
};

} // namespace

void attnc::codegen::cpu::addVectorTransposes(H::Pipeline &p) {
  p.add_custom_lowering_pass(new DenseTransposedLoads);
  p.add_custom_lowering_pass(new DenseConcatStores);
}
