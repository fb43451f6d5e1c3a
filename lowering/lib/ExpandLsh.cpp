//===- ExpandLsh.cpp - expand attn.lsh_attend into primitives -------------===//
//
// The composite exists so that a user writes Reformer attention in one call;
// codegen only implements the primitives, so the composite never survives
// lowering.
//
//===----------------------------------------------------------------------===//

#include "attnc/Lowering/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNEXPANDLSH
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc::attn;

namespace {

struct ExpandLshAttend : OpRewritePattern<LshAttendOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LshAttendOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto qkType = cast<RankedTensorType>(op.getQk().getType());
    auto vType = cast<RankedTensorType>(op.getV().getType());
    ArrayRef<int64_t> qk = qkType.getShape();
    int64_t rounds = op.getRounds();
    Type f32 = rewriter.getF32Type();

    // [B, H, R, L] for buckets, order, undo and lse; [B, H, R, L, Dv] for out.
    SmallVector<int64_t> brl = {qk[0], qk[1], rounds, qk[2]};
    auto i32Type = RankedTensorType::get(brl, rewriter.getI32Type());
    auto lseType = RankedTensorType::get(brl, f32);
    SmallVector<int64_t> outShape = brl;
    outShape.push_back(vType.getDimSize(3));
    auto outType = RankedTensorType::get(outShape, vType.getElementType());

    auto hash = rewriter.create<HashBucketOp>(
        loc, i32Type, op.getQk(), op.getRotations(), op.getBucketsAttr(),
        op.getRoundsAttr(), op.getSeedAttr());
    auto sort = rewriter.create<SortChunkOp>(loc, i32Type, i32Type,
                                             hash.getResult(),
                                             op.getChunkAttr());
    // Shared QK: the same tensor is query and key; keys are normalised.
    auto chunked = rewriter.create<ChunkedAttendOp>(
        loc, outType, lseType, op.getQk(), op.getQk(), op.getV(),
        sort.getOrder(), op.getChunkAttr(), op.getBeforeAttr(),
        op.getAfterAttr(), op.getCausalAttr(), /*self_mask=*/rewriter.getBoolAttr(true),
        /*normalize_keys=*/rewriter.getBoolAttr(true),
        /*full_if_short=*/rewriter.getBoolAttr(true));
    rewriter.replaceOpWithNewOp<CombineRoundsOp>(
        op, op.getType(), chunked.getOut(), chunked.getLse());
    return success();
  }
};

struct ExpandLshPass
    : attnc::impl::AttnExpandLshBase<ExpandLshPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandLshAttend>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
