//===- RecognizeWindows.cpp - Longformer masks as attn.windowed_attend ----===//
//
// A Longformer pattern written as an attend mask,
//
//   mask = (j − i ∈ [−left·d, right·d] ∧ (j − i) % d == 0)
//          ∨ i == g₁ ∨ j == g₁ ∨ … ∨ i == gₙ ∨ j == gₙ
//
// (the band in any form attn-analyze-masks reads, the dilation term
// optional, each global as both a query and a key), allows exactly the keys
// windowed_attend(left, right, dilation = d, global = [g…]) does. As an
// attend it is an elementwise mask: every key of every query is scored and
// rejected (the example's Longformer at L = 4096 ran at 7 % of full
// attention's rate per useful FLOP on the CPU), while windowed_attend
// visits the window's keys and the global rows and columns only. The
// rewrite needs q and k of one length (the same static size or symbol), no
// causal flag, score function, scale or captures (windowed_attend has
// none), and leaves every other attend alone.
//
//===----------------------------------------------------------------------===//
#include "MaskAnalysis.h"
#include "attnc/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"

#include <set>

namespace attnc {
#define GEN_PASS_DEF_ATTNRECOGNIZEWINDOWS
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {

struct Window {
  int64_t left = 0, right = 0, dilation = 1;
  std::vector<int64_t> globals;
};

/// The operands of a tree of `Op` (arith.ori or arith.andi), in order.
template <typename Op>
void flatten(Value v, SmallVectorImpl<Value> &terms) {
  if (auto op = v.getDefiningOp<Op>()) {
    flatten<Op>(op.getLhs(), terms);
    flatten<Op>(op.getRhs(), terms);
    return;
  }
  terms.push_back(v);
}

class Matcher {
public:
  Matcher(Value i, Value j) : analysis(i, j) {}

  /// `i == g` or `j == g` (either side constant): the position and which.
  std::optional<std::pair<int64_t, bool>> global(Value term) {
    auto cmp = term.getDefiningOp<arith::CmpIOp>();
    if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq)
      return std::nullopt;
    auto l = analysis.affine(cmp.getLhs()), r = analysis.affine(cmp.getRhs());
    if (!l || !r)
      return std::nullopt;
    Affine d{l->ci - r->ci, l->cj - r->cj, l->c - r->c}; // d = 0
    if (d.ci != 0 && d.cj == 0 && std::abs(d.ci) == 1)
      return std::make_pair(-d.c * d.ci, true); // a query position
    if (d.cj != 0 && d.ci == 0 && std::abs(d.cj) == 1)
      return std::make_pair(-d.c * d.cj, false); // a key position
    return std::nullopt;
  }

  /// `(±(j − i)) % d == 0` (remsi; 0 on either side): d.
  std::optional<int64_t> dilation(Value term) {
    auto cmp = term.getDefiningOp<arith::CmpIOp>();
    if (!cmp || cmp.getPredicate() != arith::CmpIPredicate::eq)
      return std::nullopt;
    Value rem = cmp.getLhs(), zero = cmp.getRhs();
    if (!matchPattern(zero, m_Zero()))
      std::swap(rem, zero);
    auto remOp = rem.getDefiningOp<arith::RemSIOp>();
    APInt d;
    if (!matchPattern(zero, m_Zero()) || !remOp ||
        !matchPattern(remOp.getRhs(), m_ConstantInt(&d)) ||
        d.getSExtValue() < 1)
      return std::nullopt;
    auto x = analysis.affine(remOp.getLhs());
    if (!x || x->c != 0 || std::abs(x->cj) != 1 || x->ci != -x->cj)
      return std::nullopt;
    return d.getSExtValue();
  }

  /// The band ∧ optional dilation term.
  std::optional<Window> core(Value term) {
    SmallVector<Value> conjuncts;
    flatten<arith::AndIOp>(term, conjuncts);
    Band band;
    std::optional<int64_t> dil;
    for (Value c : conjuncts) {
      if (auto b = analysis.band(c)) {
        band = band.intersect(*b);
      } else if (auto d = dilation(c); d && !dil) {
        dil = d;
      } else {
        return std::nullopt;
      }
    }
    int64_t d = dil.value_or(1);
    if (band.lo == -kUnbounded || band.hi == kUnbounded || band.lo > 0 ||
        band.hi < 0 || band.lo % d != 0 || band.hi % d != 0)
      return std::nullopt;
    return Window{-band.lo / d, band.hi / d, d, {}};
  }

  std::optional<Window> window(Value yielded) {
    SmallVector<Value> terms;
    flatten<arith::OrIOp>(yielded, terms);
    std::set<int64_t> queries, keys;
    std::optional<Window> w;
    for (Value t : terms) {
      if (auto g = global(t)) {
        if (g->first < 0)
          return std::nullopt;
        (g->second ? queries : keys).insert(g->first);
      } else if (auto c = core(t); c && !w) {
        w = c;
      } else {
        return std::nullopt;
      }
    }
    if (!w || queries != keys)
      return std::nullopt;
    w->globals.assign(queries.begin(), queries.end());
    return w;
  }

private:
  MaskAnalysis analysis;
};

/// Whether q and k have one length: the same static size, or kernel
/// arguments declared with the same dimension symbol.
bool sameLength(AttendOp op) {
  auto q = cast<RankedTensorType>(op.getQ().getType());
  auto k = cast<RankedTensorType>(op.getK().getType());
  if (!q.isDynamicDim(2) && !k.isDynamicDim(2))
    return q.getDimSize(2) == k.getDimSize(2);
  if (op.getQ() == op.getK())
    return true;
  auto fn = op->getParentOfType<func::FuncOp>();
  StringAttr a = dimensionSymbol(fn, op.getQ(), 2),
             b = dimensionSymbol(fn, op.getK(), 2);
  return a && a == b;
}

struct RecognizeWindowsPass
    : attnc::impl::AttnRecognizeWindowsBase<RecognizeWindowsPass> {
  void runOnOperation() override {
    getOperation().walk([](AttendOp op) {
      if (op.getMask().empty() || op.getCausal() || !op.getScore().empty() ||
          op.getScale() || !op.getCaptures().empty() || !sameLength(op))
        return;
      Block &body = op.getMask().front();
      Matcher m(body.getArgument(2), body.getArgument(3));
      auto w = m.window(cast<YieldOp>(body.getTerminator()).getValues()[0]);
      if (!w)
        return;
      OpBuilder b(op);
      auto windowed = b.create<WindowedAttendOp>(
          op.getLoc(), op.getResult().getType(), op.getQ(), op.getK(),
          op.getV(), w->left, w->right, w->dilation, w->globals);
      op.getResult().replaceAllUsesWith(windowed.getResult());
      op.erase();
    });
  }
};

} // namespace
