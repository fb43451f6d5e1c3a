//===- FrontendFuzzer.cpp - libFuzzer target over the whole frontend ------===//
//
// Feeds arbitrary bytes through lexing, parsing, checking, MLIRGen, the
// verifier and the lowering passes. A finding is any crash, assertion,
// sanitizer report or hang; a clean rejection is the expected outcome for
// most inputs. Built with -fsanitize=fuzzer when ATTNC_ENABLE_FUZZ=ON, and
// always as a replay tool (StandaloneReplay.cpp) that ctest runs over the
// kept corpus and every past finding.
//
//===----------------------------------------------------------------------===//
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Frontend/Frontend.h"
#include "attnc/Frontend/MLIRGen.h"
#include "attnc/Lowering/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

namespace {

// A context uniques every string and location it sees; recreating it now and
// then keeps a long fuzzing run's memory flat.
constexpr int kInputsPerContext = 2000;

mlir::MLIRContext &context() {
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static int uses = 0;
  if (!ctx || ++uses > kInputsPerContext) {
    mlir::DialectRegistry registry;
    attnc::registerAllAttnDialects(registry);
    ctx = std::make_unique<mlir::MLIRContext>(registry);
    ctx->loadAllAvailableDialects();
    // Verifier messages are expected outcomes, not findings.
    ctx->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
    uses = 0;
  }
  return *ctx;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  attnc::DiagnosticEngine diags("fuzz.attn", text);
  std::vector<attnc::KernelInfo> infos;
  std::optional<attnc::Module> ast = attnc::parseAndCheck(diags, infos);
  if (!ast) {
    (void)diags.render();
    return 0;
  }
  std::ostringstream dump;
  attnc::dumpAST(*ast, dump);

  mlir::MLIRContext &ctx = context();
  mlir::OwningOpRef<mlir::ModuleOp> module = attnc::mlirGen(ctx, *ast);
  if (failed(mlir::verify(*module)))
    return 0;
  mlir::PassManager pm(&ctx);
  pm.addPass(attnc::createAttnExpandReversible());
  pm.addNestedPass<mlir::func::FuncOp>(attnc::createAttnExpandLsh());
  pm.addNestedPass<mlir::func::FuncOp>(attnc::createAttnRecognizeWindows());
  pm.addNestedPass<mlir::func::FuncOp>(attnc::createAttnAnalyzeMasks());
  // A pinned target: fuzzing must not depend on the host.
  pm.addPass(attnc::createAttnChooseSchedule({/*target=*/"x86-64-v3"}));
  (void)pm.run(*module);
  return 0;
}
