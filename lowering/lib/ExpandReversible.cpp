//===- ExpandReversible.cpp - reversible blocks as ops, and their inverse -===//
//
// attn.reversible_block computes y1 = x1 + F(x2), y2 = x2 + G(y1). Codegen
// knows F's and G's ops, not the block, so the block becomes its regions
// inlined around two attn.add. For a kernel that returns a block applied to
// its own parameters, the pass also writes the kernel NAME_inverse that
// LANGUAGE.md promises: the same parameters with y1, y2 in x1's and x2's
// places, returning x2 = y2 − G(y1) and then x1 = y1 − F(x2) — the
// recomputation that lets a stack of reversible layers train without
// storing activations.
//
//===----------------------------------------------------------------------===//
#include "attnc/Lowering/Passes.h"

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
using namespace attnc::attn;

namespace {

/// Clones `region` (one block: x, then the captures) at `b` with x bound
/// to `x` and the captures to `captures`; returns what it yields.
Value inlineLambda(OpBuilder &b, Region &region, Value x, ValueRange captures) {
  Block &body = region.front();
  IRMapping map;
  map.map(body.getArgument(0), x);
  for (auto [arg, c] : llvm::zip(body.getArguments().drop_front(), captures))
    map.map(arg, c);
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
  return map.lookup(cast<YieldOp>(body.getTerminator()).getValues()[0]);
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

/// NAME_inverse: `fn`'s parameters with y1, y2 where x1, x2 were; returns
/// x1, x2.
func::FuncOp buildInverse(func::FuncOp fn, ReversibleBlockOp block) {
  OpBuilder b(fn);
  b.setInsertionPointAfter(fn);
  Location loc = block.getLoc();
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
  for (Value c : block.getCaptures())
    captures.push_back(entry->getArgument(unsigned(argNumber(fn, c))));
  Value y1 = entry->getArgument(unsigned(p1)), y2 = entry->getArgument(unsigned(p2));
  Value g = inlineLambda(b, block.getG(), y1, captures);
  Value x2 = b.create<SubOp>(loc, x2Type, y2, g);
  Value f = inlineLambda(b, block.getF(), x2, captures);
  Value x1 = b.create<SubOp>(loc, x1Type, y1, f);
  b.create<func::ReturnOp>(fn.getLoc(), ValueRange{x1, x2});
  return inverse;
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
        symbols.insert(buildInverse(fn, block));
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
