//===- CudaBackend.cpp - one func.func as one CUDA kernel -----------------===//
#include "CudaBackend.h"
#include "FlashAttention.h"
#include "PtxCompiler.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;

namespace {

/// A scratch module holding `fn`'s gpu.module for `widths`.
FailureOr<std::pair<OwningOpRef<ModuleOp>, CudaLaunch>>
buildScratch(func::FuncOp fn, Widths widths) {
  loadCudaDialects(fn.getContext());
  OwningOpRef<ModuleOp> scratch = ModuleOp::create(fn.getLoc());
  FailureOr<CudaLaunch> launch = buildFlashKernel(fn, *scratch, widths);
  if (failed(launch))
    return failure();
  return std::make_pair(std::move(scratch), *launch);
}

/// `body` on the scratch module of each width `fn` is compiled for.
LogicalResult forEachWidth(
    func::FuncOp fn,
    llvm::function_ref<LogicalResult(ModuleOp, const CudaLaunch &)> body) {
  FailureOr<std::vector<Widths>> all = widthsToCompile(fn);
  if (failed(all))
    return failure();
  for (Widths widths : *all) {
    auto scratch = buildScratch(fn, widths);
    if (failed(scratch) || failed(body(*scratch->first, scratch->second)))
      return failure();
  }
  return success();
}

} // namespace

FailureOr<BuiltKernel> attnc::codegen::buildCudaKernel(func::FuncOp fn,
                                                       const TargetInfo &target,
                                                       bool cubin) {
  FailureOr<BuiltKernel> k = describeKernel(fn);
  if (failed(k))
    return failure();
  LogicalResult built = forEachWidth(fn, [&](ModuleOp module,
                                              const CudaLaunch &launch) {
    auto gpuModule = *module.getOps<gpu::GPUModuleOp>().begin();
    FailureOr<std::string> ptx = compileToPtx(gpuModule, target.cudaSm());
    if (failed(ptx))
      return failure();
    GlueCuda c;
    std::string warning;
    if (cubin)
      c.cubin = assembleCubin(*ptx, target.cudaSm(), warning);
    if (!warning.empty())
      emitWarning(fn.getLoc()) << "no cubin embedded (the driver will "
                                  "JIT-compile the PTX): "
                               << warning;
    c.ptx = std::move(*ptx);
    c.function = launch.function;
    c.sm = target.cudaSm();
    c.threads = launch.threads;
    c.sharedBytes = launch.sharedBytes;
    c.tileRows = launch.tileRows;
    c.gridArg = launch.gridArg;
    c.denseArgs = launch.denseArgs;
    c.widthArgs[0] = launch.qArg;
    c.widthArgs[1] = launch.vArg;
    c.widths[0] = launch.headDim;
    c.widths[1] = launch.valueDim;
    k->cuda.push_back(std::move(c));
    return success();
  });
  if (failed(built))
    return failure();
  return k;
}

LogicalResult attnc::codegen::printGpuModule(func::FuncOp fn,
                                             llvm::raw_ostream &os) {
  return forEachWidth(fn, [&](ModuleOp module, const CudaLaunch &) {
    module.print(os);
    return success();
  });
}
