//===- Softmax.cpp - the one softmax of every attention op ----------------===//
#include "Softmax.h"

using namespace attnc::codegen;
namespace H = Halide;

RowSoftmax attnc::codegen::rowSoftmax(H::Func score, H::RDom over,
                                      H::Expr candidate, H::Var w, H::Var i,
                                      H::Var h, H::Var b,
                                      const std::string &name) {
  RowSoftmax s{H::Func(name + "_max"), H::Func(name + "_p"),
               H::Func(name + "_sum")};
  s.rowMax(i, h, b) = kLowest;
  s.rowMax(i, h, b) = H::max(s.rowMax(i, h, b), score(candidate, i, h, b));
  s.probs(w, i, h, b) = softmaxWeight(score(w, i, h, b), s.rowMax(i, h, b));
  s.rowSum(i, h, b) = 0.0f;
  s.rowSum(i, h, b) += s.probs(candidate, i, h, b);
  return s;
}

H::Expr attnc::codegen::softmaxWeight(H::Expr sc, H::Expr m) {
  // fast_exp (polynomial, a few ulps) needs arguments it cannot underflow
  // on: differences below -87 are exp-zero anyway.
  // NaN propagates (as in PyTorch): a NaN score makes its probability,
  // hence the row sum and the whole output row, NaN — a bug upstream shows
  // instead of silently dropping a key.
  return H::select(H::is_nan(sc), sc,
                   H::select(m == kLowest || sc == kLowest, 0.0f,
                             H::fast_exp(H::max(sc - m, -87.0f))));
}

H::Expr attnc::codegen::normalized(H::Expr acc, H::Expr sum, H::Type type) {
  // sum == 0 only for a row with no allowed candidate; a NaN sum fails the
  // test and its NaN reaches the output.
  return H::cast(type, H::select(sum == 0.0f, 0.0f, acc / sum));
}
