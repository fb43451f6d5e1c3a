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
#include <optional>
#include <string>
#include <vector>

namespace attnc {
namespace codegen {

inline const float kLowest = std::numeric_limits<float>::lowest();

struct RowSoftmax {
  Halide::Func rowMax, probs, rowSum;
  /// With VisitedProbs: the RDom the probabilities' update visits.
  std::optional<Halide::RDom> probsOver;
};

/// Probabilities computed only where they are read (an update over
/// `over`, standing for candidate `candidate`), instead of for every
/// candidate: the exponentials of the candidates it skips are never
/// evaluated. Visited candidates where `allowed` is false get 0 (a reader
/// visits them, but they are not the row's). The rest are 0 with
/// `zeroUnvisited` (a store each), else never written: no reader may
/// visit them.
struct VisitedProbs {
  Halide::RDom over;
  Halide::Expr candidate, allowed;
  bool zeroUnvisited = false;
};

/// The unnormalised probability of a candidate with score `score` in a row
/// whose max is `rowMax`: exp(score − max), 0 for a masked candidate
/// (kLowest), NaN for a NaN score. The one definition every softmax uses.
Halide::Expr softmaxWeight(Halide::Expr score, Halide::Expr rowMax);

/// `score(w, row...)` over candidates w of a row (e.g. i, h, b); `over` visits
/// the candidates of a row (it may carry predicates that skip dead ones)
/// and `candidate` is the w it stands for. Probabilities are computed for
/// every w, or with `visited` only where it says.
RowSoftmax rowSoftmax(Halide::Func score, Halide::RDom over,
                      Halide::Expr candidate, Halide::Var w,
                      const std::vector<Halide::Var> &row,
                      const std::string &name,
                      std::optional<VisitedProbs> visited = std::nullopt);

/// acc / sum, or 0 for a row with no allowed candidate, as `type` (NaN
/// stays NaN).
Halide::Expr normalized(Halide::Expr acc, Halide::Expr sum, Halide::Type type);

} // namespace codegen
} // namespace attnc

#endif
