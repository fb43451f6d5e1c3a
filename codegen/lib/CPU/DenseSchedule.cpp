//===- DenseSchedule.cpp - the dense helpers on x86 -----------------------===//
//
// Each output at root, parallel over its outermost dimension and vectorised
// along its innermost one; row statistics and linear's accumulator per
// outer row, the accumulator vectorised along the output features.
//
//===----------------------------------------------------------------------===//
#include "CpuSchedules.h"

using namespace attnc::codegen;
namespace H = Halide;

void attnc::codegen::cpu::scheduleDense(DenseFuncs &f, int lanes) {
  const std::vector<H::Var> &v = f.vars;
  auto Guard = H::TailStrategy::GuardWithIf;
  for (H::Func s : f.staged) {
    H::Var inner = s.args()[0];
    s.compute_root().vectorize(inner, lanes, Guard);
  }
  f.out.compute_root();
  // Blocks of output rows: the loop the inner reduction is computed in.
  H::Var rows = v.back(), block("block"), row("row");
  if (f.blockRows > 0 && v.size() > 1) {
    f.out.split(v.back(), block, row, f.blockRows, Guard);
    rows = block;
  }
  if (v.size() > 1)
    f.out.parallel(rows);
  f.out.vectorize(v.front(), lanes, Guard);
  for (H::Func r : f.rowReductions)
    r.compute_at(f.out, v.back());
  if (f.innerDomain) {
    // Guarded, not rounded up: rounding would read w and the bias past N.
    if (v.size() > 1)
      f.inner.compute_at(f.out, rows);
    else // a vector of sums (sum_to [N]): no outer row to compute it in
      f.inner.compute_root();
    f.inner.vectorize(v[0], lanes, Guard);
    std::vector<H::VarOrRVar> order = {v[0]};
    if (f.blockRows > 0) // the block's rows inside the reduction
      order.push_back(v.back());
    for (int k = 0; k < f.innerDomain->dimensions(); ++k)
      order.push_back((*f.innerDomain)[k]);
    f.inner.update().reorder(order).vectorize(v[0], lanes, Guard);
  }
}
