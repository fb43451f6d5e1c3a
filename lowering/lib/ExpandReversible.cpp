//===- ExpandReversible.cpp - reversible blocks, their inverse, backward -===//
//
// attn.reversible_block computes y1 = x1 + F(x2), y2 = x2 + G(y1). Codegen
// knows F's and G's ops, not the block, so the block becomes its regions
// inlined around two attn.add. For a kernel that returns a block applied to
// its own parameters, the pass also writes the kernels LANGUAGE.md
// promises: NAME_inverse (the same parameters with y1, y2 in x1's and x2's
// places, returning x2 = y2 − G(y1) and then x1 = y1 − F(x2)) and
// NAME_backward (that recomputation, then F's and G's gradient rules from
// GradientRules.cpp), which let a stack of reversible layers train without
// storing activations.
//
//===----------------------------------------------------------------------===//
#include "attnc/Lowering/Passes.h"
#include "GradientRules.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

#include <set>
#include <string>

namespace attnc {
#define GEN_PASS_DEF_ATTNEXPANDREVERSIBLE
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc;
using namespace attnc::attn;

namespace {

/// Clones `region` (one block: x, then the captures) at `b` with x bound
/// to `x` and the captures to `captures`; returns what it yields. `map`
/// keeps what each of the region's values became.
Value inlineLambda(OpBuilder &b, Region &region, Value x, ValueRange captures,
                   IRMapping &map) {
  Block &body = region.front();
  map.map(body.getArgument(0), x);
  for (auto [arg, c] : llvm::zip(body.getArguments().drop_front(), captures))
    map.map(arg, c);
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
  return map.lookupOrDefault(cast<YieldOp>(body.getTerminator()).getValues()[0]);
}

Value inlineLambda(OpBuilder &b, Region &region, Value x, ValueRange captures) {
  IRMapping map;
  return inlineLambda(b, region, x, captures, map);
}

/// The entry-block argument number of `v` in `fn`, or -1.
int argNumber(func::FuncOp fn, Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  return arg && arg.getOwner() == &fn.getBody().front() ? int(arg.getArgNumber())
                                                        : -1;
}

/// Why `block` has no inverse kernel, or "" when `fn` returns exactly the
/// block's results and the block reads only `fn`'s parameters.
std::string whyNoInverse(func::FuncOp fn, ReversibleBlockOp block) {
  if (argNumber(fn, block.getX1()) < 0 || argNumber(fn, block.getX2()) < 0)
    return "x1 and x2 are not the kernel's parameters";
  for (Value c : block.getCaptures())
    if (argNumber(fn, c) < 0)
      return "a captured weight is not a kernel parameter";
  auto ret = cast<func::ReturnOp>(fn.getBody().front().getTerminator());
  if (ret.getNumOperands() != 2 || ret.getOperand(0) != block.getY1() ||
      ret.getOperand(1) != block.getY2())
    return "the kernel does not return (y1, y2) of the block";
  return "";
}

/// x1, x2 recomputed from y1, y2 (the parameters of `fn` at x1's and x2's
/// positions in `entry`): x2 = y2 − G(y1), then x1 = y1 − F(x2). `gMap` and
/// `fMap` keep what G's and F's values became; `captures` the weights.
std::pair<Value, Value> reconstructInputs(OpBuilder &b, func::FuncOp fn,
                                          ReversibleBlockOp block, Block *entry,
                                          SmallVectorImpl<Value> &captures,
                                          IRMapping &gMap, IRMapping &fMap) {
  for (Value c : block.getCaptures())
    captures.push_back(entry->getArgument(unsigned(argNumber(fn, c))));
  Location loc = block.getLoc();
  Value y1 = entry->getArgument(unsigned(argNumber(fn, block.getX1())));
  Value y2 = entry->getArgument(unsigned(argNumber(fn, block.getX2())));
  Value x2 = b.create<SubOp>(loc, block.getX2().getType(), y2,
                             inlineLambda(b, block.getG(), y1, captures, gMap));
  Value x1 = b.create<SubOp>(loc, block.getX1().getType(), y1,
                             inlineLambda(b, block.getF(), x2, captures, fMap));
  return {x1, x2};
}

/// NAME_inverse: `fn`'s parameters with y1, y2 where x1, x2 were; returns
/// x1, x2.
func::FuncOp buildInverse(func::FuncOp fn, ReversibleBlockOp block) {
  OpBuilder b(fn);
  b.setInsertionPointAfter(fn);
  int p1 = argNumber(fn, block.getX1()), p2 = argNumber(fn, block.getX2());
  Type x1Type = block.getX1().getType(), x2Type = block.getX2().getType();
  auto type = b.getFunctionType(fn.getArgumentTypes(), {x1Type, x2Type});
  auto inverse =
      b.create<func::FuncOp>(fn.getLoc(), (fn.getName() + "_inverse").str(), type);
  // Parameters keep their names and dimensions, but x1 and x2 now hold the
  // outputs y1, y2; the results take x1's and x2's dimensions.
  MLIRContext *ctx = fn.getContext();
  SmallVector<DictionaryAttr> argAttrs;
  fn.getAllArgAttrs(argAttrs);
  inverse.setAllArgAttrs(argAttrs);
  std::set<std::string> names;
  for (unsigned a = 0; a < fn.getNumArguments(); ++a)
    if (auto n = fn.getArgAttrOfType<StringAttr>(a, "attn.name"))
      names.insert(n.str());
  for (auto [pos, wanted] : {std::pair<int, const char *>{p1, "y1"}, {p2, "y2"}}) {
    std::string name = wanted;
    while (names.count(name))
      name = "rev_" + name;
    names.insert(name);
    inverse.setArgAttr(unsigned(pos), "attn.name", StringAttr::get(ctx, name));
  }
  for (auto [r, pos] : llvm::enumerate(SmallVector<int>{p1, p2}))
    if (auto dims = fn.getArgAttr(unsigned(pos), "attn.dims"))
      inverse.setResultAttr(unsigned(r), "attn.dims", dims);
  for (NamedAttribute a : fn->getDiscardableAttrs())
    inverse->setAttr(a.getName(), a.getValue());

  Block *entry = inverse.addEntryBlock();
  b.setInsertionPointToStart(entry);
  SmallVector<Value> captures;
  IRMapping gMap, fMap;
  auto [x1, x2] =
      reconstructInputs(b, fn, block, entry, captures, gMap, fMap);
  b.create<func::ReturnOp>(fn.getLoc(), ValueRange{x1, x2});
  return inverse;
}

/// Why `block`'s F or G has no backward, or "".
std::string whyNoBackward(ReversibleBlockOp block) {
  std::string why;
  for (Region *r : {&block.getF(), &block.getG()})
    r->walk([&](Operation *op) {
      if (why.empty() && op->getParentOp() == block)
        why = whyNoGradient(*op);
    });
  return why;
}

/// NAME_backward (LANGUAGE.md): y1, y2 where x1, x2 were, the weights, then
/// dy1, dy2; returns x1, x2 (reconstructed as NAME_inverse does), dx1, dx2
/// and the gradient of every other f32 parameter. Only F's and G's inputs
/// are recomputed; nothing of the forward is stored (RevNet):
///   x2 = y2 − G(y1), x1 = y1 − F(x2)
///   dy1' = dy1 + G'(y1)ᵀ dy2,   dx1 = dy1',   dx2 = dy2 + F'(x2)ᵀ dy1'
/// and the weights collect G's share (from dy2) and F's (from dy1').
FailureOr<func::FuncOp> buildBackward(func::FuncOp fn, ReversibleBlockOp block,
                                      func::FuncOp inverse) {
  OpBuilder b(fn);
  b.setInsertionPointAfter(inverse);
  Location loc = block.getLoc();
  MLIRContext *ctx = fn.getContext();
  unsigned p1 = unsigned(argNumber(fn, block.getX1())),
           p2 = unsigned(argNumber(fn, block.getX2()));
  Type x1Type = block.getX1().getType(), x2Type = block.getX2().getType();
  SmallVector<Type> args(fn.getArgumentTypes());
  args.push_back(x1Type);
  args.push_back(x2Type);
  SmallVector<Type> results = {x1Type, x2Type, x1Type, x2Type};
  SmallVector<unsigned> weights;
  for (auto [i, t] : llvm::enumerate(fn.getArgumentTypes()))
    if (i != p1 && i != p2 && isF32Tensor(t)) {
      weights.push_back(unsigned(i));
      results.push_back(t);
    }
  auto backward = b.create<func::FuncOp>(
      fn.getLoc(), (fn.getName() + "_backward").str(),
      b.getFunctionType(args, results));
  // The inverse's parameter names (y1, y2 in x1's and x2's places), then
  // d_y1, d_y2; results x1, x2, d_x1, d_x2, d_<weight>.
  SmallVector<DictionaryAttr> argAttrs;
  inverse.getAllArgAttrs(argAttrs);
  unsigned n = fn.getNumArguments();
  for (auto [i, attrs] : llvm::enumerate(argAttrs))
    backward.setArgAttrs(unsigned(i), attrs);
  auto nameOf = [&](unsigned i) { return parameterName(fn, i); };
  auto yName = [&](unsigned i) { return parameterName(inverse, i); };
  // Names an argument or result `at` and gives it parameter `dimsOf`'s
  // dimensions.
  auto nameArg = [&](unsigned at, std::string name, unsigned dimsOf) {
    backward.setArgAttr(at, "attn.name", StringAttr::get(ctx, name));
    if (auto dims = fn.getArgAttr(dimsOf, "attn.dims"))
      backward.setArgAttr(at, "attn.dims", dims);
  };
  auto nameResult = [&](unsigned at, std::string name, unsigned dimsOf) {
    backward.setResultAttr(at, "attn.name", StringAttr::get(ctx, name));
    if (auto dims = fn.getArgAttr(dimsOf, "attn.dims"))
      backward.setResultAttr(at, "attn.dims", dims);
  };
  // Every C argument of the kernel gets a distinct name.
  std::set<std::string> taken;
  for (unsigned i = 0; i < n; ++i)
    taken.insert(yName(i));
  auto fresh = [&](std::string name) {
    return uniqueGradientName(taken, std::move(name));
  };
  nameArg(n, fresh("d_" + yName(p1)), p1);
  nameArg(n + 1, fresh("d_" + yName(p2)), p2);
  nameResult(0, fresh(nameOf(p1)), p1);
  nameResult(1, fresh(nameOf(p2)), p2);
  nameResult(2, fresh("d_" + nameOf(p1)), p1);
  nameResult(3, fresh("d_" + nameOf(p2)), p2);
  for (auto [r, i] : llvm::enumerate(weights))
    nameResult(unsigned(4 + r), fresh("d_" + nameOf(i)), i);
  for (NamedAttribute a : fn->getDiscardableAttrs())
    backward->setAttr(a.getName(), a.getValue());

  Block *entry = backward.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value dy1 = entry->getArgument(n), dy2 = entry->getArgument(n + 1);
  // The inverse, keeping the mappings: G's and F's recomputed values are
  // what their gradient rules read.
  SmallVector<Value> captures;
  IRMapping gMap, fMap;
  auto [x1, x2] =
      reconstructInputs(b, fn, block, entry, captures, gMap, fMap);

  Adjoints adj(b);
  Block &g = block.getG().front(), &f = block.getF().front();
  adj.accumulate(cast<YieldOp>(g.getTerminator()).getValues()[0], dy2, loc);
  if (failed(backpropagate(b, g, gMap, adj)))
    return failure();
  Value dy1Total = dy1;
  if (Value fromG = adj.of(g.getArgument(0)))
    dy1Total = b.create<AddOp>(loc, x1Type, dy1, fromG);
  adj.accumulate(cast<YieldOp>(f.getTerminator()).getValues()[0], dy1Total, loc);
  if (failed(backpropagate(b, f, fMap, adj)))
    return failure();
  Value dx2 = dy2;
  if (Value fromF = adj.of(f.getArgument(0)))
    dx2 = b.create<AddOp>(loc, x2Type, dy2, fromF);

  SmallVector<Value> outs = {x1, x2, dy1Total, dx2};
  for (unsigned i : weights) {
    Value sum;
    for (auto [k, c] : llvm::enumerate(block.getCaptures())) {
      if (argNumber(fn, c) != int(i))
        continue;
      for (Block *body : {&g, &f})
        if (Value d = adj.of(body->getArgument(1 + unsigned(k))))
          sum = sum ? b.create<AddOp>(loc, d.getType(), sum, d).getResult() : d;
    }
    if (!sum) {
      backward.erase();
      return fn.emitError() << "parameter '" << nameOf(i)
                            << "' is not read by F or G: " << fn.getName()
                            << "_backward would return a zero gradient, "
                               "which is not generated yet";
    }
    outs.push_back(sum);
  }
  b.create<func::ReturnOp>(fn.getLoc(), outs);
  return backward;
}

struct ExpandReversiblePass
    : attnc::impl::AttnExpandReversibleBase<ExpandReversiblePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<ReversibleBlockOp> blocks;
    module.walk([&](ReversibleBlockOp op) { blocks.push_back(op); });
    SymbolTable symbols(module);
    for (ReversibleBlockOp block : blocks) {
      auto fn = block->getParentOfType<func::FuncOp>();
      std::string why = fn ? whyNoInverse(fn, block) : "it is not in a kernel";
      if (why.empty()) {
        std::string name = (fn.getName() + "_inverse").str();
        if (symbols.lookup(name)) {
          block.emitError() << "cannot generate '" << name
                            << "': the program already defines a kernel of "
                               "that name";
          return signalPassFailure();
        }
        func::FuncOp inverse = buildInverse(fn, block);
        symbols.insert(inverse);
        std::string backwardName = (fn.getName() + "_backward").str();
        if (symbols.lookup(backwardName)) {
          block.emitError() << "cannot generate '" << backwardName
                            << "': the program already defines a kernel of "
                               "that name";
          return signalPassFailure();
        }
        if (std::string noGrad = whyNoBackward(block); !noGrad.empty()) {
          block.emitWarning() << "no " << backwardName << " kernel: " << noGrad;
        } else {
          FailureOr<func::FuncOp> backward = buildBackward(fn, block, inverse);
          if (failed(backward))
            return signalPassFailure();
          symbols.insert(*backward);
        }
      } else {
        block.emitWarning() << "no " << (fn ? fn.getName().str() : "")
                            << "_inverse kernel: " << why;
      }
      // The forward: y1 = x1 + F(x2), y2 = x2 + G(y1).
      OpBuilder b(block);
      Location loc = block.getLoc();
      Value f = inlineLambda(b, block.getF(), block.getX2(), block.getCaptures());
      Value y1 = b.create<AddOp>(loc, block.getY1().getType(), block.getX1(), f);
      Value g = inlineLambda(b, block.getG(), y1, block.getCaptures());
      Value y2 = b.create<AddOp>(loc, block.getY2().getType(), block.getX2(), g);
      block.getY1().replaceAllUsesWith(y1);
      block.getY2().replaceAllUsesWith(y2);
      block.erase();
    }
  }
};

} // namespace
