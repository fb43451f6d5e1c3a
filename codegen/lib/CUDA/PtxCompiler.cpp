//===- PtxCompiler.cpp - gpu.module to PTX, in-process --------------------===//
#include "PtxCompiler.h"

#include "attnc/Dialect/Attn/AttnAttrs.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>

extern "C" {
void LLVMInitializeNVPTXTargetInfo();
void LLVMInitializeNVPTXTarget();
void LLVMInitializeNVPTXTargetMC();
void LLVMInitializeNVPTXAsmPrinter();
}

using namespace mlir;
using namespace attnc::codegen;

namespace {

constexpr const char *kTriple = "nvptx64-nvidia-cuda";
// PTX ISA 8.0 (CUDA 12.0 drivers and later JIT it; sm_90 needs >= 7.8).
constexpr const char *kPtxFeatures = "+ptx80";

/// The conversions of gpu-probe/COMMANDS.md, after math functions became
/// arithmetic (MLIR's polynomial approximations: no libdevice needed).
constexpr const char *kToNvvm =
    "convert-scf-to-cf,convert-nvgpu-to-nvvm,"
    "convert-gpu-to-nvvm{index-bitwidth=64},convert-vector-to-llvm,"
    "convert-arith-to-llvm,reconcile-unrealized-casts";

std::unique_ptr<llvm::TargetMachine> nvptxMachine(int sm, std::string &error) {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    mlir::registerConversionPasses();
  });
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(kTriple, error);
  if (!target)
    return nullptr;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      kTriple, "sm_" + std::to_string(sm), kPtxFeatures, llvm::TargetOptions(),
      std::nullopt, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

/// The math ops left after the polynomial approximations, as arithmetic or
/// PTX: MLIR's GPU lowering would call libdevice for them, which attnc does
/// not link.
LogicalResult expandRemainingMath(gpu::GPUModuleOp module) {
  SmallVector<Operation *> ops;
  module.walk([&](Operation *op) {
    if (isa<math::MathDialect>(op->getDialect()))
      ops.push_back(op);
  });
  for (Operation *op : ops) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value x = op->getNumOperands() ? op->getOperand(0) : Value();
    Value repl;
    if (isa<math::AbsFOp>(op)) {
      Value neg = b.create<arith::CmpFOp>(
          loc, arith::CmpFPredicate::OLT, x,
          b.create<arith::ConstantOp>(loc, b.getZeroAttr(x.getType())));
      repl = b.create<arith::SelectOp>(loc, neg, b.create<arith::NegFOp>(loc, x), x);
    } else if (isa<math::AbsIOp>(op)) {
      Value zero = b.create<arith::ConstantOp>(loc, b.getZeroAttr(x.getType()));
      Value neg = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x, zero);
      repl = b.create<arith::SelectOp>(loc, neg,
                                       b.create<arith::SubIOp>(loc, zero, x), x);
    } else if (isa<math::FmaOp>(op)) {
      repl = b.create<LLVM::FMAOp>(loc, x, op->getOperand(1), op->getOperand(2));
    } else if (isa<math::SqrtOp>(op) && x.getType().isF32()) {
      repl = b.create<LLVM::InlineAsmOp>(loc, x.getType(), ValueRange{x},
                                         "sqrt.rn.f32 $0, $1;", "=f,f", false,
                                         false, LLVM::AsmDialectAttr(),
                                         ArrayAttr())
                 .getResult(0);
    } else {
      return op->emitError() << "'" << op->getName()
                             << "' has no CUDA lowering in attnc yet";
    }
    op->getResult(0).replaceAllUsesWith(repl);
    op->erase();
  }
  return success();
}

} // namespace

void attnc::codegen::loadCudaDialects(MLIRContext *ctx) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  ctx->loadDialect<arith::ArithDialect, cf::ControlFlowDialect,
                   gpu::GPUDialect, LLVM::LLVMDialect, math::MathDialect,
                   memref::MemRefDialect, NVVM::NVVMDialect,
                   nvgpu::NVGPUDialect, scf::SCFDialect,
                   vector::VectorDialect>();
}

FailureOr<std::string> attnc::codegen::compileToPtx(gpu::GPUModuleOp module,
                                                    int sm) {
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine = nvptxMachine(sm, error);
  if (!machine)
    return module.emitError() << "LLVM's NVPTX backend is unavailable: "
                              << error;
  MLIRContext *ctx = module.getContext();
  // The launch shape is the host's business (attn_cuda_kernel); the NVVM
  // lowering would carry it onto llvm.func, where it means nothing.
  module.walk([](gpu::GPUFuncOp fn) {
    fn->removeAttr(attn::kTileRowsAttrName);
    fn->removeAttr(attn::kGridArgAttrName);
  });
  {
    RewritePatternSet patterns(ctx);
    // Math functions as arithmetic (no libdevice), and the arith ops the
    // LLVM conversion lacks (floordivsi, ceildivsi) expanded.
    populateMathPolynomialApproximationPatterns(patterns);
    arith::populateArithExpandOpsPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(module, std::move(patterns))))
      return module.emitError("math functions did not become arithmetic");
  }
  if (failed(expandRemainingMath(module)))
    return failure();
  PassManager pm(ctx, gpu::GPUModuleOp::getOperationName());
  if (failed(parsePassPipeline(kToNvvm, pm, llvm::errs())) ||
      failed(pm.run(module)))
    return module.emitError("lowering the CUDA kernel to NVVM failed");

  // The gpu.module's functions as a plain module, translated to LLVM IR.
  OwningOpRef<ModuleOp> plain = ModuleOp::create(module.getLoc());
  OpBuilder builder(ctx);
  builder.setInsertionPointToEnd(plain->getBody());
  for (Operation &op : module.getBody()->without_terminator())
    builder.clone(op);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(*plain, llvmContext, module.getName());
  if (!llvmModule)
    return module.emitError("translating the CUDA kernel to LLVM IR failed");
  llvmModule->setTargetTriple(kTriple);
  llvmModule->setDataLayout(machine->createDataLayout());

  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder passes(machine.get());
    passes.registerModuleAnalyses(mam);
    passes.registerCGSCCAnalyses(cgam);
    passes.registerFunctionAnalyses(fam);
    passes.registerLoopAnalyses(lam);
    passes.crossRegisterProxies(lam, fam, cgam, mam);
    passes.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
        .run(*llvmModule, mam);
  }
  std::string ptx;
  {
    llvm::raw_string_ostream os(ptx);
    llvm::buffer_ostream bos(os);
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, bos, nullptr,
                                     llvm::CodeGenFileType::AssemblyFile))
      return module.emitError("LLVM's NVPTX backend cannot emit PTX");
    codegen.run(*llvmModule);
  }
  return ptx;
}

std::string attnc::codegen::assembleCubin(const std::string &ptx, int sm,
                                          std::string &warning) {
  std::string ptxas;
  if (const char *env = std::getenv("ATTNC_PTXAS"))
    ptxas = env;
  else if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    ptxas = "/usr/local/cuda/bin/ptxas";
  else if (auto found = llvm::sys::findProgramByName("ptxas"))
    ptxas = *found;
  if (ptxas.empty() || ptxas == "off")
    return "";
  llvm::SmallString<128> in, out, err;
  if (llvm::sys::fs::createTemporaryFile("attnc", "ptx", in) ||
      llvm::sys::fs::createTemporaryFile("attnc", "cubin", out) ||
      llvm::sys::fs::createTemporaryFile("attnc", "log", err)) {
    warning = "no temporary files for ptxas";
    return "";
  }
  auto cleanup = llvm::make_scope_exit([&] {
    llvm::sys::fs::remove(in);
    llvm::sys::fs::remove(out);
    llvm::sys::fs::remove(err);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(in, ec);
    if (ec) {
      warning = "cannot write " + in.str().str() + ": " + ec.message();
      return "";
    }
    os << ptx;
  }
  std::string arch = "-arch=sm_" + std::to_string(sm);
  llvm::SmallVector<llvm::StringRef> args{ptxas, arch, "-O3", in, "-o", out};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, err, err};
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/300, 0, &message);
  auto cubin = llvm::MemoryBuffer::getFile(out);
  if (rc != 0 || !cubin || (*cubin)->getBufferSize() == 0) {
    auto log = llvm::MemoryBuffer::getFile(err);
    warning = ptxas + " failed (exit " + std::to_string(rc) + ")" +
              (message.empty() ? "" : ": " + message) +
              (log ? ": " + (*log)->getBuffer().take_front(300).trim().str()
                   : std::string());
    return "";
  }
  return (*cubin)->getBuffer().str();
}
