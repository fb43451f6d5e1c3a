//===- Softmax.cpp - the one softmax of every attention op ----------------===//
#include "Softmax.h"

using namespace attnc::codegen;
namespace H = Halide;

RowSoftmax attnc::codegen::rowSoftmax(H::Func score, H::RDom over,
                                      H::Expr candidate, H::Var w,
                                      const std::vector<H::Var> &row,
                                      const std::string &name,
                                      std::optional<VisitedProbs> visited) {
  RowSoftmax s{H::Func(name + "_max"), H::Func(name + "_p"),
               H::Func(name + "_sum")};
  std::vector<H::Expr> at(row.begin(), row.end());
  auto with = [&](H::Expr first) {
    std::vector<H::Expr> args{first};
    args.insert(args.end(), at.begin(), at.end());
    return args;
  };
  s.rowMax(at) = kLowest;
  s.rowMax(at) = H::max(s.rowMax(at), score(with(candidate)));
  if (visited) {
    s.probs(with(w)) =
        visited->zeroUnvisited ? H::Expr(0.0f) : H::undef<float>();
    s.probs(with(visited->candidate)) = H::select(
        visited->allowed,
        softmaxWeight(score(with(visited->candidate)), s.rowMax(at)), 0.0f);
    s.probsOver = visited->over;
  } else {
    s.probs(with(w)) = softmaxWeight(score(with(w)), s.rowMax(at));
  }
  s.rowSum(at) = 0.0f;
  s.rowSum(at) += s.probs(with(candidate));
  return s;
}

namespace {

// exp(x) for x in [-87, 0] (a score minus its row max, clamped), relative
// error ~2e-7: x = k·ln2 + r with k = round(x·log2 e) by truncating
// x·log2 e − 1/2 (x ≤ 0, so truncation rounds up), |r| ≤ ln2/2, e^r by its
// degree-6 Taylor polynomial (remainder (ln2/2)^7/7! ≈ 1.2e-7), 2^k built in
// the exponent bits (k ≥ -126: a normal float). Halide's fast_exp floors
// through two 256-bit halves on AVX-512 and clamps k for any argument;
// knowing the sign saves a third of the instructions of a softmax weight,
// which with the two matmuls is the whole of attention's inner loop.
H::Expr expNonPositive(H::Expr x) {
  H::Expr k = H::cast<int32_t>(x * 1.44269504f - 0.5f);
  H::Expr r = x - H::cast<float>(k) * 0.693147181f;
  H::Expr p = 1.0f / 720;
  for (float c : {1.0f / 120, 1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f})
    p = p * r + c;
  return p * H::reinterpret<float>((k + 127) << 23);
}

} // namespace

H::Expr attnc::codegen::softmaxWeight(H::Expr sc, H::Expr m) {
  // The exponential needs arguments it cannot underflow on: differences
  // below -87 are exp-zero anyway.
  // NaN propagates (as in PyTorch): a NaN score makes its probability,
  // hence the row sum and the whole output row, NaN — a bug upstream shows
  // instead of silently dropping a key.
  return H::select(H::is_nan(sc), sc,
                   H::select(m == kLowest || sc == kLowest, 0.0f,
                             expNonPositive(H::max(sc - m, -87.0f))));
}

H::Expr attnc::codegen::normalized(H::Expr acc, H::Expr sum, H::Type type) {
  // sum == 0 only for a row with no allowed candidate; a NaN sum fails the
  // test and its NaN reaches the output.
  return H::cast(type, H::select(sum == 0.0f, 0.0f, acc / sum));
}
