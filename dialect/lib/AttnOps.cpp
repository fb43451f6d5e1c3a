//===- AttnOps.cpp - attn dialect operations and their verifiers ----------===//
//
// Verifier messages start lowercase and name the operand, the dimension and
// both values, so that a user who wrote the program (or IR) by hand can see
// what to change. A `?` dimension is compatible with anything: it is checked
// when the generated kernel runs.
//
//===----------------------------------------------------------------------===//

#include "attnc/Dialect/Attn/AttnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace attnc::attn;

namespace {

/// Reports the first shape problem of one op. Each check returns false once
/// anything failed, so a verifier can chain checks with `&&` and emit one
/// diagnostic.
class ShapeChecker {
public:
  explicit ShapeChecker(Operation *op) : op(op) {}

  bool rank(Value v, StringRef name, int64_t expected, StringRef layout) {
    if (failed)
      return false;
    int64_t r = shape(v).size();
    if (r == expected)
      return true;
    fail() << "expects " << name << " of rank " << expected << " ("
                  << layout << "), got rank " << r;
    return false;
  }

  bool minRank(Value v, StringRef name, int64_t minimum) {
    if (failed)
      return false;
    int64_t r = shape(v).size();
    if (r >= minimum)
      return true;
    fail() << "expects " << name << " of rank at least " << minimum
                  << ", got rank " << r;
    return false;
  }

  /// a[ai] must equal b[bi]; `dim` names the dimension (e.g. "L").
  bool same(Value a, StringRef aName, int64_t ai, Value b, StringRef bName,
            int64_t bi, StringRef dim) {
    if (failed)
      return false;
    int64_t x = at(a, ai), y = at(b, bi);
    if (ShapedType::isDynamic(x) || ShapedType::isDynamic(y) || x == y)
      return true;
    fail() << aName << " dimension " << norm(a, ai) << " (" << dim
                  << " = " << x << ") does not match " << bName
                  << " dimension " << norm(b, bi) << " (" << dim << " = " << y
                  << ")";
    return false;
  }

  /// a[ai] must equal a value that comes from an attribute or constant.
  bool equals(Value a, StringRef aName, int64_t ai, int64_t expected,
              StringRef what) {
    if (failed)
      return false;
    int64_t x = at(a, ai);
    if (ShapedType::isDynamic(x) || ShapedType::isDynamic(expected) ||
        x == expected)
      return true;
    fail() << aName << " dimension " << norm(a, ai) << " is " << x
                  << " but " << what << " is " << expected;
    return false;
  }

  bool sameElementType(Value a, StringRef aName, Value b, StringRef bName) {
    if (failed)
      return false;
    Type x = elem(a), y = elem(b);
    if (x == y)
      return true;
    fail() << bName << " element type " << y << " does not match "
                  << aName << " element type " << x;
    return false;
  }

  /// Integer attribute bounds, e.g. "rounds must be at least 1, got 0".
  bool atLeast(int64_t value, int64_t minimum, StringRef what) {
    if (failed)
      return false;
    if (value >= minimum)
      return true;
    fail() << what << " must be at least " << minimum << ", got "
                  << value;
    return false;
  }

  InFlightDiagnostic fail() {
    failed = true;
    return op->emitOpError();
  }
  LogicalResult result() const { return failure(failed); }

private:
  static ArrayRef<int64_t> shape(Value v) {
    return cast<RankedTensorType>(v.getType()).getShape();
  }
  static Type elem(Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType();
  }
  // Negative indices count from the end, like Python.
  static int64_t norm(Value v, int64_t i) {
    return i < 0 ? int64_t(shape(v).size()) + i : i;
  }
  static int64_t at(Value v, int64_t i) { return shape(v)[norm(v, i)]; }

  Operation *op;
  bool failed = false;
};

/// q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv] -> result [B, H, Lq, Dv].
bool checkQKV(ShapeChecker &c, Value q, Value k, Value v, Value result) {
  const char *layout = "[B, H, L, D]";
  return c.rank(q, "q", 4, layout) && c.rank(k, "k", 4, layout) &&
         c.rank(v, "v", 4, layout) && c.rank(result, "result", 4, layout) &&
         c.sameElementType(q, "q", k, "k") &&
         c.sameElementType(q, "q", v, "v") &&
         c.same(k, "k", 0, q, "q", 0, "B") &&
         c.same(k, "k", 1, q, "q", 1, "H") &&
         c.same(k, "k", 3, q, "q", 3, "D") &&
         c.same(v, "v", 0, q, "q", 0, "B") &&
         c.same(v, "v", 1, q, "q", 1, "H") &&
         c.same(v, "v", 2, k, "k", 2, "L") &&
         c.same(result, "result", 0, q, "q", 0, "B") &&
         c.same(result, "result", 1, q, "q", 1, "H") &&
         c.same(result, "result", 2, q, "q", 2, "L") &&
         c.same(result, "result", 3, v, "v", 3, "D");
}

/// Bucket count, rounds and the source of rotations, shared by hash_bucket
/// and lsh_attend. x is [B, H, L, D]; rotations are [H, D, R, N/2].
bool checkHashing(ShapeChecker &c, Operation *op, Value x, Value rotations,
                  int64_t buckets, int64_t rounds, bool hasSeed) {
  if (!c.atLeast(buckets, 2, "buckets") || !c.atLeast(rounds, 1, "rounds"))
    return false;
  if (buckets % 2 != 0) {
    c.fail() << "buckets must be even (argmax over [x·R, −x·R]), got "
             << buckets;
    return false;
  }
  if (bool(rotations) == hasSeed) {
    c.fail() << (hasSeed ? "takes either 'seed' or a rotations operand, not "
                           "both"
                         : "expects either a 'seed' attribute or a rotations "
                           "operand");
    return false;
  }
  if (!rotations)
    return true;
  return c.rank(rotations, "rotations", 4, "[H, D, R, N/2]") &&
         c.same(rotations, "rotations", 0, x, "x", 1, "H") &&
         c.same(rotations, "rotations", 1, x, "x", 3, "D") &&
         c.equals(rotations, "rotations", 2, rounds, "rounds") &&
         c.equals(rotations, "rotations", 3, buckets / 2, "buckets / 2");
}

bool compatible(Type a, Type b) {
  auto x = dyn_cast<RankedTensorType>(a), y = dyn_cast<RankedTensorType>(b);
  if (!x || !y)
    return a == b;
  return x.getElementType() == y.getElementType() &&
         succeeded(verifyCompatibleShape(x.getShape(), y.getShape()));
}

/// A lambda region: one block whose arguments are `leading` then one per
/// capture, ending in attn.yield of one value compatible with `yields`.
/// ODS already guarantees at most one block; an empty region is a lambda
/// that was not given (attend's optional mask and score).
LogicalResult verifyLambda(Operation *op, Region &region, StringRef name,
                           ArrayRef<Type> leading, StringRef leadingNames,
                           OperandRange captures, Type yields,
                           size_t count = 1) {
  if (region.empty())
    return success();
  Block &block = region.front();
  size_t expected = leading.size() + captures.size();
  if (block.getNumArguments() != expected)
    return op->emitOpError()
           << name << " region expects " << expected << " arguments ("
           << leadingNames << " then " << captures.size()
           << " captures), got " << block.getNumArguments();
  for (auto [i, type] : llvm::enumerate(leading))
    if (block.getArgument(i).getType() != type)
      return op->emitOpError()
             << name << " region argument " << i << " has type "
             << block.getArgument(i).getType() << ", expected " << type;
  for (auto [i, capture] : llvm::enumerate(captures)) {
    Type argType = block.getArgument(leading.size() + i).getType();
    if (argType != capture.getType())
      return op->emitOpError()
             << name << " region argument " << leading.size() + i
             << " has type " << argType << ", expected the type of capture "
             << i << " (" << capture.getType() << ")";
  }
  // Unregistered ops may end a block too (--allow-unregistered-dialect).
  auto yield = block.empty() ? YieldOp() : dyn_cast<YieldOp>(block.back());
  if (!yield)
    return op->emitOpError() << name << " region must end in attn.yield";
  if (yield.getValues().size() != count)
    return op->emitOpError()
           << name << " region must yield exactly "
           << (count == 1 ? std::string("one value")
                          : std::to_string(count) + " values")
           << ", got " << yield.getValues().size();
  for (Value v : yield.getValues())
    if (!compatible(v.getType(), yields))
      return op->emitOpError() << name << " region yields " << v.getType()
                               << ", expected " << yields;
  return success();
}

/// Trailing-dimension broadcasting, shared by add, sub and mul.
LogicalResult verifyBroadcast(Operation *op, Value lhs, Value rhs,
                                     Value result) {
  auto l = cast<RankedTensorType>(lhs.getType());
  auto r = cast<RankedTensorType>(rhs.getType());
  ShapeChecker c(op);
  if (!c.sameElementType(lhs, "lhs", rhs, "rhs"))
    return failure();
  Value longer = l.getRank() >= r.getRank() ? lhs : rhs;
  Value shorter = longer == lhs ? rhs : lhs;
  int64_t lr = std::max(l.getRank(), r.getRank());
  int64_t sr = std::min(l.getRank(), r.getRank());
  StringRef ln = longer == lhs ? "lhs" : "rhs";
  StringRef sn = longer == lhs ? "rhs" : "lhs";
  bool ok = c.rank(result, "result", lr, "the longer operand's rank");
  for (int64_t i = 1; ok && i <= sr; ++i)
    ok = c.same(shorter, sn, -i, longer, ln, -i, "trailing");
  for (int64_t i = 0; ok && i < lr; ++i)
    ok = c.same(result, "result", i, longer, ln, i, "broadcast");
  return c.result();
}

} // namespace

#define GET_OP_CLASSES
#include "attnc/Dialect/Attn/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// LSH primitives
//===----------------------------------------------------------------------===//

LogicalResult HashBucketOp::verify() {
  ShapeChecker c(*this);
  Value x = getX(), r = getResult();
  if (!(c.rank(x, "x", 4, "[B, H, L, D]") &&
        c.rank(r, "result", 4, "[B, H, R, L]") &&
        checkHashing(c, *this, x, getRotations(), getBuckets(), getRounds(),
                     getSeed().has_value()) &&
        c.same(r, "result", 0, x, "x", 0, "B") &&
        c.same(r, "result", 1, x, "x", 1, "H") &&
        c.equals(r, "result", 2, getRounds(), "rounds") &&
        c.same(r, "result", 3, x, "x", 2, "L")))
    return failure();
  return success();
}

LogicalResult SortChunkOp::verify() {
  ShapeChecker c(*this);
  Value b = getBuckets();
  if (!(c.rank(b, "buckets", 4, "[B, H, R, L]") &&
        c.atLeast(getChunk(), 1, "chunk length")))
    return failure();
  for (auto [name, v] : {std::pair<StringRef, Value>{"order", getOrder()},
                         {"undo", getUndo()}})
    if (!compatible(v.getType(), b.getType()))
      return emitOpError() << name << " type " << v.getType()
                           << " does not match buckets type " << b.getType();
  return success();
}

namespace {

/// chunked_attend's operands and its (out, lse), or chunked_attend_grad's
/// operands and the gradients (dout, dlse) of those results.
bool checkChunked(ShapeChecker &c, Value q, Value k, Value v, Value order,
                  Value out, StringRef outName, Value lse, StringRef lseName,
                  int64_t chunk, int64_t before, int64_t after) {
  const char *layout = "[B, H, L, D]";
  bool ok =
      c.rank(q, "q", 4, layout) && c.rank(k, "k", 4, layout) &&
      c.rank(v, "v", 4, layout) &&
      c.rank(order, "order", 4, "[B, H, R, L]") &&
      c.rank(out, outName, 5, "[B, H, R, L, Dv]") &&
      c.rank(lse, lseName, 4, "[B, H, R, L]") &&
      c.atLeast(chunk, 1, "chunk length") &&
      c.atLeast(before, 0, "before") && c.atLeast(after, 0, "after");
  static const char *bhld[] = {"B", "H", "L", "D"};
  static const char *bhrl[] = {"B", "H", "R", "L"};
  for (int64_t i = 0; ok && i < 4; ++i)
    ok = c.same(k, "k", i, q, "q", i, bhld[i]);
  for (int64_t i = 0; ok && i < 3; ++i)
    ok = c.same(v, "v", i, q, "q", i, bhld[i]);
  ok = ok && c.same(order, "order", 0, q, "q", 0, "B") &&
       c.same(order, "order", 1, q, "q", 1, "H") &&
       c.same(order, "order", 3, q, "q", 2, "L");
  for (int64_t i = 0; ok && i < 4; ++i)
    ok = c.same(out, outName, i, order, "order", i, bhrl[i]) &&
         c.same(lse, lseName, i, order, "order", i, bhrl[i]);
  return ok && c.same(out, outName, 4, v, "v", 3, "Dv");
}

/// combine_rounds' (out, lse) and its result, or the result's gradient.
bool checkCombine(ShapeChecker &c, Value out, Value lse, Value r,
                  StringRef rName) {
  bool ok = c.rank(out, "out", 5, "[B, H, R, L, Dv]") &&
            c.rank(lse, "lse", 4, "[B, H, R, L]") &&
            c.rank(r, rName, 4, "[B, H, L, Dv]");
  static const char *names[] = {"B", "H", "R", "L"};
  for (int64_t i = 0; ok && i < 4; ++i)
    ok = c.same(lse, "lse", i, out, "out", i, names[i]);
  return ok && c.same(r, rName, 0, out, "out", 0, "B") &&
         c.same(r, rName, 1, out, "out", 1, "H") &&
         c.same(r, rName, 2, out, "out", 3, "L") &&
         c.same(r, rName, 3, out, "out", 4, "Dv");
}

/// A gradient has the shape of what it is the gradient of.
bool checkGradientShape(ShapeChecker &c, Value grad, StringRef gradName,
                        Value of, StringRef ofName) {
  int64_t rank = cast<RankedTensorType>(of.getType()).getRank();
  bool ok = c.rank(grad, gradName, rank, "the shape of " + ofName.str());
  for (int64_t i = 0; ok && i < rank; ++i)
    ok = c.same(grad, gradName, i, of, ofName, i, "dimension");
  return ok;
}

} // namespace

LogicalResult ChunkedAttendOp::verify() {
  ShapeChecker c(*this);
  (void)checkChunked(c, getQ(), getK(), getV(), getOrder(), getOut(), "out",
                     getLse(), "lse", getChunk(), getBefore(), getAfter());
  return c.result();
}

LogicalResult ChunkedAttendGradOp::verify() {
  ShapeChecker c(*this);
  (void)(checkChunked(c, getQ(), getK(), getV(), getOrder(), getDout(),
                      "dout", getDlse(), "dlse", getChunk(), getBefore(),
                      getAfter()) &&
         checkGradientShape(c, getDq(), "dq", getQ(), "q") &&
         checkGradientShape(c, getDk(), "dk", getK(), "k") &&
         checkGradientShape(c, getDv(), "dv", getV(), "v"));
  return c.result();
}

LogicalResult CombineRoundsOp::verify() {
  ShapeChecker c(*this);
  (void)checkCombine(c, getOut(), getLse(), getResult(), "result");
  return c.result();
}

LogicalResult CombineRoundsGradOp::verify() {
  ShapeChecker c(*this);
  (void)(checkCombine(c, getOut(), getLse(), getDy(), "dy") &&
         checkGradientShape(c, getDout(), "dout", getOut(), "out") &&
         checkGradientShape(c, getDlse(), "dlse", getLse(), "lse"));
  return c.result();
}

LogicalResult LshAttendOp::verify() {
  ShapeChecker c(*this);
  Value qk = getQk(), v = getV(), r = getResult();
  const char *layout = "[B, H, L, D]";
  bool ok = c.rank(qk, "qk", 4, layout) && c.rank(v, "v", 4, layout) &&
            c.rank(r, "result", 4, layout) &&
            checkHashing(c, *this, qk, getRotations(), getBuckets(),
                         getRounds(), getSeed().has_value()) &&
            c.atLeast(getChunk(), 1, "chunk length") &&
            c.atLeast(getBefore(), 0, "before") &&
            c.atLeast(getAfter(), 0, "after") &&
            c.same(v, "v", 0, qk, "qk", 0, "B") &&
            c.same(v, "v", 1, qk, "qk", 1, "H") &&
            c.same(v, "v", 2, qk, "qk", 2, "L") &&
            c.same(r, "result", 0, qk, "qk", 0, "B") &&
            c.same(r, "result", 1, qk, "qk", 1, "H") &&
            c.same(r, "result", 2, qk, "qk", 2, "L") &&
            c.same(r, "result", 3, v, "v", 3, "Dv");
  (void)ok;
  return c.result();
}

//===----------------------------------------------------------------------===//
// Dense-family attention
//===----------------------------------------------------------------------===//

LogicalResult WindowedAttendOp::verify() {
  ShapeChecker c(*this);
  if (!(checkQKV(c, getQ(), getK(), getV(), getResult()) &&
        c.atLeast(getLeft(), 0, "left window extent") &&
        c.atLeast(getRight(), 0, "right window extent") &&
        c.atLeast(getDilation(), 1, "dilation")))
    return failure();
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t g : getGlobal()) {
    if (g < 0)
      return emitOpError() << "global position " << g << " is negative";
    if (!seen.insert(g).second)
      return emitOpError() << "global position " << g << " is listed twice";
  }
  return success();
}

namespace {

/// What attend and attend_grad share: the scale and the mask and score
/// regions.
LogicalResult verifyAttendLambdas(Operation *op, std::optional<APFloat> scale,
                                  Region &mask, Region &score,
                                  OperandRange captures) {
  if (scale) {
    double s = scale->convertToDouble();
    if (!std::isfinite(s) || s == 0.0)
      return op->emitOpError() << "scale must be finite and non-zero, got "
                               << s;
  }
  MLIRContext *ctx = op->getContext();
  Type idx = IndexType::get(ctx), f32 = Float32Type::get(ctx);
  if (failed(verifyLambda(op, mask, "mask", {idx, idx, idx, idx},
                          "b, h, i, j : index", captures,
                          IntegerType::get(ctx, 1))))
    return failure();
  return verifyLambda(op, score, "score", {f32, idx, idx, idx, idx},
                      "s : f32, b, h, i, j : index", captures, f32);
}

} // namespace

LogicalResult AttendOp::verifyRegions() {
  ShapeChecker c(*this);
  if (!checkQKV(c, getQ(), getK(), getV(), getResult()))
    return failure();
  return verifyAttendLambdas(*this, getScale(), getMask(), getScore(),
                             getCaptures());
}

LogicalResult AttendGradOp::verifyRegions() {
  ShapeChecker c(*this);
  if (!checkQKV(c, getQ(), getK(), getV(), getDout()))
    return failure();
  // Each gradient has its input's type.
  for (auto [grad, gradName, input, inputName] :
       {std::tuple<Value, StringRef, Value, StringRef>{getDq(), "dq", getQ(), "q"},
        {getDk(), "dk", getK(), "k"},
        {getDv(), "dv", getV(), "v"}})
    if (!compatible(grad.getType(), input.getType()))
      return emitOpError() << gradName << " type " << grad.getType()
                           << " does not match " << inputName << " type "
                           << input.getType();
  if (failed(verifyAttendLambdas(*this, getScale(), getMask(), getScore(),
                                 getCaptures())))
    return failure();
  if (getScore().empty() != getScoreGrad().empty())
    return emitOpError() << (getScore().empty()
                                 ? "score_grad region without a score region"
                                 : "score region without its score_grad region");
  // One gradient per f32 capture, of its type.
  SmallVector<Value> f32Captures;
  for (Value c : getCaptures())
    if (isF32Capture(c))
      f32Captures.push_back(c);
  if (getCaptureGrads().size() != f32Captures.size())
    return emitOpError() << "expects one capture gradient per f32 capture ("
                         << f32Captures.size() << "), got "
                         << getCaptureGrads().size();
  for (auto [k, grad, capture] :
       llvm::enumerate(getCaptureGrads(), f32Captures))
    if (!compatible(grad.getType(), capture.getType()))
      return emitOpError() << "capture gradient " << k << " type "
                           << grad.getType()
                           << " does not match its capture's type "
                           << capture.getType();
  MLIRContext *ctx = getContext();
  Type idx = IndexType::get(ctx), f32 = Float32Type::get(ctx);
  size_t reads = getScore().empty() ? 0 : f32CaptureReads(getScore()).size();
  return verifyLambda(*this, getScoreGrad(), "score_grad",
                      {f32, idx, idx, idx, idx}, "s : f32, b, h, i, j : index",
                      getCaptures(), f32, 1 + reads);
}

bool attnc::attn::isF32Capture(Value capture) {
  auto t = dyn_cast<RankedTensorType>(capture.getType());
  return t && t.getElementType().isF32();
}

SmallVector<Operation *> attnc::attn::f32CaptureReads(Region &score) {
  SmallVector<Operation *> reads;
  if (score.empty())
    return reads;
  Block &block = score.front();
  for (Operation &op : block) {
    auto read = dyn_cast<tensor::ExtractOp>(op);
    if (!read)
      continue;
    auto arg = dyn_cast<BlockArgument>(read.getTensor());
    // Arguments after (s, b, h, i, j) are the captures.
    if (arg && arg.getOwner() == &block && arg.getArgNumber() >= 5 &&
        isF32Capture(arg))
      reads.push_back(&op);
  }
  return reads;
}

//===----------------------------------------------------------------------===//
// Reversible residual block
//===----------------------------------------------------------------------===//

LogicalResult ReversibleBlockOp::verifyRegions() {
  Type x1 = getX1().getType(), x2 = getX2().getType();
  if (!compatible(getY1().getType(), x1))
    return emitOpError() << "y1 type " << getY1().getType()
                         << " does not match x1 type " << x1;
  if (!compatible(getY2().getType(), x2))
    return emitOpError() << "y2 type " << getY2().getType()
                         << " does not match x2 type " << x2;
  // F reads x2 and is added to x1; G reads y1 (x1's type) and is added to x2.
  if (failed(verifyLambda(*this, getF(), "f", {x2}, "x of x2's type",
                          getCaptures(), x1)))
    return failure();
  return verifyLambda(*this, getG(), "g", {x1}, "x of x1's type",
                      getCaptures(), x2);
}

//===----------------------------------------------------------------------===//
// Dense helpers
//===----------------------------------------------------------------------===//

namespace {

/// x[..., K] times w [M, N] along w's dimension `contracted` (0: K = M, the
/// result's last dimension is N; 1: K = N, it is M), the leading
/// dimensions kept: linear and linear_input_grad.
bool checkRowTimesMatrix(ShapeChecker &c, Value x, StringRef xName, Value w,
                         int64_t contracted, Value r) {
  static const char *dims[] = {"M", "N"};
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  bool ok = c.minRank(x, xName, 1) && c.rank(w, "w", 2, "[M, N]") &&
            c.rank(r, "result", rank, xName.str() + "'s rank") &&
            c.same(x, xName, -1, w, "w", contracted, dims[contracted]) &&
            c.same(r, "result", -1, w, "w", 1 - contracted,
                   dims[1 - contracted]);
  for (int64_t i = 0; ok && i + 1 < rank; ++i)
    ok = c.same(r, "result", i, x, xName, i, "leading");
  return ok;
}

} // namespace

LogicalResult LinearOp::verify() {
  ShapeChecker c(*this);
  Value w = getW();
  bool ok = checkRowTimesMatrix(c, getX(), "x", w, 0, getResult());
  if (ok && getBias())
    ok = c.rank(getBias(), "bias", 1, "[N]") &&
         c.same(getBias(), "bias", 0, w, "w", 1, "N");
  return c.result();
}

LogicalResult LayerNormOp::verify() {
  ShapeChecker c(*this);
  Value x = getX();
  if (!c.minRank(x, "x", 1))
    return failure();
  if (getAffine().size() != 0 && getAffine().size() != 2)
    return emitOpError() << "expects both gamma and beta or neither, got "
                         << getAffine().size() << " affine operand(s)";
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "eps must be positive, got "
                         << getEps().convertToDouble();
  static const StringRef names[] = {"gamma", "beta"};
  for (auto [name, p] : llvm::zip(names, getAffine()))
    if (!(c.rank(p, name, 1, "[N]") && c.same(p, name, 0, x, "x", -1, "N")))
      return failure();
  if (!compatible(getResult().getType(), x.getType()))
    return emitOpError() << "result type " << getResult().getType()
                         << " does not match x type " << x.getType();
  return success();
}

LogicalResult SumToOp::verify() {
  ShapeChecker c(*this);
  Value x = getX(), r = getResult();
  int64_t xr = cast<RankedTensorType>(x.getType()).getRank();
  int64_t rr = cast<RankedTensorType>(r.getType()).getRank();
  if (rr > xr)
    return emitOpError() << "result rank " << rr << " exceeds x rank " << xr;
  bool ok = c.sameElementType(x, "x", r, "result");
  for (int64_t i = 1; ok && i <= rr; ++i)
    ok = c.same(r, "result", -i, x, "x", -i, "trailing");
  return c.result();
}

LogicalResult LinearInputGradOp::verify() {
  ShapeChecker c(*this);
  (void)checkRowTimesMatrix(c, getDy(), "dy", getW(), 1, getResult());
  return c.result();
}

LogicalResult LinearWeightGradOp::verify() {
  ShapeChecker c(*this);
  Value x = getX(), dy = getDy(), r = getResult();
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  bool ok = c.minRank(x, "x", 1) && c.rank(dy, "dy", rank, "x's rank") &&
            c.rank(r, "result", 2, "[M, N]") &&
            c.same(r, "result", 0, x, "x", -1, "M") &&
            c.same(r, "result", 1, dy, "dy", -1, "N");
  for (int64_t i = 0; ok && i + 1 < rank; ++i)
    ok = c.same(dy, "dy", i, x, "x", i, "leading");
  return c.result();
}

LogicalResult LayerNormGradOp::verify() {
  ShapeChecker c(*this);
  Value x = getX();
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "eps must be positive, got "
                         << getEps().convertToDouble();
  if (!c.minRank(x, "x", 1))
    return failure();
  if (getGamma() && !(c.rank(getGamma(), "gamma", 1, "[N]") &&
                      c.same(getGamma(), "gamma", 0, x, "x", -1, "N")))
    return failure();
  for (auto [name, v] : {std::pair<StringRef, Value>{"dy", getDy()},
                         {"result", getResult()}})
    if (!compatible(v.getType(), x.getType()))
      return emitOpError() << name << " type " << v.getType()
                           << " does not match x type " << x.getType();
  return success();
}

LogicalResult SplitHeadsOp::verify() {
  ShapeChecker c(*this);
  Value x = getX(), r = getResult();
  if (!(c.rank(x, "x", 3, "[B, L, H·D]") &&
        c.rank(r, "result", 4, "[B, H, L, D]") &&
        c.same(r, "result", 0, x, "x", 0, "B") &&
        c.same(r, "result", 2, x, "x", 1, "L")))
    return failure();
  APInt heads;
  if (!matchPattern(getHeads(), m_ConstantInt(&heads)))
    return success(); // bound at run time
  int64_t h = heads.getSExtValue();
  if (!c.atLeast(h, 1, "heads") || !c.equals(r, "result", 1, h, "heads"))
    return failure();
  int64_t e = cast<RankedTensorType>(x.getType()).getDimSize(2);
  if (ShapedType::isDynamic(e))
    return success();
  if (e % h != 0)
    return emitOpError() << "heads " << h
                         << " does not divide the model dimension " << e;
  return c.equals(r, "result", 3, e / h, "model dimension / heads")
             ? success()
             : failure();
}

LogicalResult MergeHeadsOp::verify() {
  ShapeChecker c(*this);
  Value x = getX(), r = getResult();
  if (!(c.rank(x, "x", 4, "[B, H, L, D]") &&
        c.rank(r, "result", 3, "[B, L, H·D]") &&
        c.same(r, "result", 0, x, "x", 0, "B") &&
        c.same(r, "result", 1, x, "x", 2, "L")))
    return failure();
  auto s = cast<RankedTensorType>(x.getType()).getShape();
  int64_t hd = ShapedType::kDynamic;
  if (!ShapedType::isDynamic(s[1]) && !ShapedType::isDynamic(s[3]) &&
      __builtin_mul_overflow(s[1], s[3], &hd))
    hd = ShapedType::kDynamic;
  return c.equals(r, "result", 2, hd, "H·D") ? success() : failure();
}
