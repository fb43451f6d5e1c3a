//===- ChooseSchedule.cpp - schedule choices as attributes ----------------===//
//
// The numbers come from measurements on this project's machines (DESIGN.md
// and bench/): per tile of queries the scores stay in L2, and a register
// tile of 2 vectors × `register_rows` accumulators fits the 16 (AVX2) or 32
// (AVX-512) vector registers with room for operands.
//
//===----------------------------------------------------------------------===//
#include "attnc/Lowering/Passes.h"

namespace attnc {
#define GEN_PASS_DEF_ATTNCHOOSESCHEDULE
#include "attnc/Lowering/Passes.h.inc"
} // namespace attnc

using namespace mlir;
using namespace attnc::attn;

namespace {

int64_t hostVectorWidth() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? 16 : 8;
}

struct ChooseSchedulePass
    : attnc::impl::AttnChooseScheduleBase<ChooseSchedulePass> {
  using AttnChooseScheduleBase::AttnChooseScheduleBase;

  void runOnOperation() override {
    int64_t lanes = vectorWidth > 0 ? int64_t(vectorWidth) : hostVectorWidth();
    Builder b(&getContext());
    auto set = [&](Operation *op, StringRef name, int64_t value) {
      if (!op->hasAttr(name)) // a schedule written by hand wins
        op->setAttr(name, b.getI64IntegerAttr(value));
    };
    getOperation().walk([&](Operation *op) {
      if (isa<AttendOp>(op)) {
        set(op, "attn.vector_width", lanes);
        set(op, "attn.tile_queries", 48);
        set(op, "attn.register_rows", lanes == 16 ? 8 : 6);
      } else if (isa<WindowedAttendOp>(op)) {
        set(op, "attn.vector_width", lanes);
        // Taller tiles amortise re-reading the left + right keys.
        set(op, "attn.tile_queries", 64);
      }
    });
  }
};

} // namespace
