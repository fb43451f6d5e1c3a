//===- Softmax.h - internal: the one softmax of every attention op --------===//
//
// Tile-local softmax, shared by attend, windowed_attend and the dense rows
// of global tokens: row max over the row's candidates, probabilities
// exp(s − max), row sum, and (after the op's own P·V) normalisation.
//
// A masked candidate has score `kLowest`; its probability is exactly 0. A
// row whose every candidate is masked has max = kLowest, probabilities 0,
// sum 0 and an output of zeros (LANGUAGE.md). Subtracting the row max keeps
// large logits (±1e4) finite.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_SOFTMAX_H
#define ATTNC_CODEGEN_LIB_SOFTMAX_H

#include <Halide.h>

#include <limits>
#include <string>
#include <vector>

namespace attnc {
namespace codegen {

inline const float kLowest = std::numeric_limits<float>::lowest();

struct RowSoftmax {
  Halide::Func rowMax, probs, rowSum;
};

/// The unnormalised probability of a candidate with score `score` in a row
/// whose max is `rowMax`: exp(score − max), 0 for a masked candidate
/// (kLowest), NaN for a NaN score. The one definition every softmax uses.
Halide::Expr softmaxWeight(Halide::Expr score, Halide::Expr rowMax);

/// `score(w, row...)` over candidates w of a row (e.g. i, h, b); `over` visits
/// the candidates of a row (it may carry predicates that skip dead ones)
/// and `candidate` is the w it stands for. With `probsOverVisited`, the
/// probabilities are 0 and then computed over `over` only (an update): the
/// exponentials of the candidates `over` skips are not evaluated, at the
/// price of a store of 0 for each — worth it when most are skipped.
RowSoftmax rowSoftmax(Halide::Func score, Halide::RDom over,
                      Halide::Expr candidate, Halide::Var w,
                      const std::vector<Halide::Var> &row,
                      const std::string &name, bool probsOverVisited = false);

/// acc / sum, or 0 for a row with no allowed candidate, as `type` (NaN
/// stays NaN).
Halide::Expr normalized(Halide::Expr acc, Halide::Expr sum, Halide::Type type);

} // namespace codegen
} // namespace attnc

#endif
