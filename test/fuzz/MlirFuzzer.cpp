//===- MlirFuzzer.cpp - libFuzzer target over attn-opt's MLIR input -------===//
//
// Parses arbitrary bytes as MLIR with the attn dialect (and the dialects it
// uses) registered and unregistered dialects allowed, as attn-opt
// --allow-unregistered-dialect does, verifies, and runs attn-expand-lsh,
// attn-analyze-masks and attn-choose-schedule (target=x86-64-v3). Rejections
// — parse errors, verifier errors, a pass that fails with a diagnostic — are
// the expected outcome for most inputs. Findings are crashes, assertions,
// sanitizer reports and hangs, and two properties checked here (abort()):
//   * IR that verifies prints (custom and generic form) to text that parses
//     and verifies again: the attn attributes' and ops' printers and parsers
//     agree;
//   * a pipeline that succeeds leaves IR that verifies and round-trips (the
//     pass manager's own verifier is off so that a pass that breaks the IR
//     is told apart from one that rejects its input).
// Built with -fsanitize=fuzzer when ATTNC_ENABLE_FUZZ=ON
// (attnc-mlir-fuzzer), and always as a replay tool (StandaloneReplay.cpp,
// attnc-mlir-fuzz-replay) that ctest runs over the seed corpus (the dialect
// and lowering tests, split at `// -----`) and every past finding.
// libMLIR is not instrumented: memory errors inside it (MLIR 19's parser
// use-after-free, llvm/llvm-project#107121) need valgrind on the replay tool
// (scripts/fuzz.sh says how).
//
//===----------------------------------------------------------------------===//
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Lowering/Passes.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

// A context uniques every type, attribute and identifier it sees; recreating
// it now and then keeps a long fuzzing run's memory flat.
constexpr int kInputsPerContext = 2000;

/// The last diagnostic, for the message of a finding.
std::string &lastDiagnostic() {
  static std::string text;
  return text;
}

mlir::MLIRContext &context() {
  static std::unique_ptr<mlir::MLIRContext> ctx;
  static int uses = 0;
  if (!ctx || ++uses > kInputsPerContext) {
    mlir::DialectRegistry registry;
    attnc::registerAllAttnDialects(registry);
    // Single-threaded: no thread pool per context, and a finding's stack is
    // the one that made it.
    ctx = std::make_unique<mlir::MLIRContext>(
        registry, mlir::MLIRContext::Threading::DISABLED);
    ctx->loadAllAvailableDialects();
    ctx->allowUnregisteredDialects();
    // Parser, verifier and pass errors are expected outcomes, not findings.
    ctx->getDiagEngine().registerHandler([](mlir::Diagnostic &d) {
      lastDiagnostic() = d.str();
      return mlir::success();
    });
    uses = 0;
  }
  return *ctx;
}

mlir::OwningOpRef<mlir::ModuleOp> parse(mlir::MLIRContext &ctx,
                                        llvm::StringRef text, bool verify) {
  llvm::SourceMgr sm;
  // A copy: MLIR's lexer reads the NUL after the text, which libFuzzer's
  // buffer does not have (attn-opt's file buffers do).
  sm.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz.mlir"),
                        llvm::SMLoc());
  mlir::ParserConfig config(&ctx, verify);
  return mlir::parseSourceFile<mlir::ModuleOp>(sm, config);
}

[[noreturn]] void finding(const char *what, const std::string &ir) {
  std::fprintf(stderr, "attnc-mlir-fuzzer: %s\n  last diagnostic: %s\n--- IR ---\n%s\n",
               what, lastDiagnostic().c_str(), ir.c_str());
  std::abort();
}

/// Prints `module` (custom or generic form) and parses it back with the
/// verifier on; a failure is a finding.
void checkRoundTrip(mlir::MLIRContext &ctx, mlir::ModuleOp module,
                    const char *stage) {
  for (bool generic : {false, true}) {
    std::string text;
    llvm::raw_string_ostream os(text);
    mlir::OpPrintingFlags flags;
    if (generic)
      flags.printGenericOpForm();
    module->print(os, flags);
    os.flush();
    if (!parse(ctx, text, /*verify=*/true))
      finding((std::string(stage) + (generic ? ": the generic form" : ": the custom form") +
               " does not parse back")
                  .c_str(),
              text);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext &ctx = context();
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  mlir::OwningOpRef<mlir::ModuleOp> module = parse(ctx, text, /*verify=*/false);
  if (!module || failed(mlir::verify(*module)))
    return 0;
  checkRoundTrip(ctx, *module, "input");

  mlir::PassManager pm(&ctx);
  pm.enableVerifier(false);
  pm.addPass(attnc::createAttnExpandReversible());
  pm.addNestedPass<mlir::func::FuncOp>(attnc::createAttnExpandLsh());
  pm.addNestedPass<mlir::func::FuncOp>(attnc::createAttnRecognizeWindows());
  pm.addNestedPass<mlir::func::FuncOp>(attnc::createAttnAnalyzeMasks());
  // A pinned target: fuzzing must not depend on the host.
  pm.addPass(attnc::createAttnChooseSchedule({/*target=*/"x86-64-v3"}));
  if (failed(pm.run(*module)))
    return 0;
  if (failed(mlir::verify(*module))) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    module->print(os, mlir::OpPrintingFlags().printGenericOpForm());
    finding("the passes succeeded but left IR that does not verify", os.str());
  }
  checkRoundTrip(ctx, *module, "after the passes");
  return 0;
}
