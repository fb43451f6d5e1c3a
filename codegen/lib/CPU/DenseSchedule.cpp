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
  f.out.compute_root();
  if (v.size() > 1)
    f.out.parallel(v.back());
  f.out.vectorize(v.front(), lanes, H::TailStrategy::GuardWithIf);
  for (H::Func r : f.rowReductions)
    r.compute_at(f.out, v.back());
  if (f.innerDomain) {
    // Guarded, not rounded up: rounding would read w and the bias past N.
    auto Guard = H::TailStrategy::GuardWithIf;
    f.inner.compute_at(f.out, v.back()).vectorize(v[0], lanes, Guard);
    f.inner.update().reorder(v[0], *f.innerDomain).vectorize(v[0], lanes,
                                                              Guard);
  }
}
