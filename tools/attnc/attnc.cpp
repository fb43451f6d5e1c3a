//===- attnc.cpp - the attnc driver ---------------------------------------===//
//
// attnc FILE.attn --emit=ast|mlir|lowered   (like toyc -emit=)
// attnc -x mlir FILE.mlir --emit=mlir|lowered
//
// attnc FILE.attn -o DIR                     DIR/<stem>.a, .h, .json
// attnc FILE.attn --emit=halide              Halide's lowered statements
// attnc --cflags / --libs                    what a user program needs
//
//===----------------------------------------------------------------------===//
#include "attnc/Codegen/Codegen.h"
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Frontend/Frontend.h"
#include "attnc/Frontend/MLIRGen.h"
#include "attnc/Lowering/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <sstream>

namespace cl = llvm::cl;
using namespace attnc;

namespace {

enum class Emit { AST, MLIR, Lowered, Halide, Obj };
enum class InputKind { Attn, MLIR };

cl::OptionCategory category("attnc options");

cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input file>"),
                               cl::init("-"), cl::value_desc("filename"),
                               cl::cat(category));

cl::opt<Emit> emit(
    "emit", cl::desc("What to print"), cl::init(Emit::MLIR),
    cl::values(
        clEnumValN(Emit::AST, "ast", "the checked AST with inferred types"),
        clEnumValN(Emit::MLIR, "mlir", "attn dialect IR as generated"),
        clEnumValN(Emit::Lowered, "lowered",
                   "attn IR after the lowering passes (expand-lsh, "
                   "analyze-masks, choose-schedule)"),
        clEnumValN(Emit::Halide, "halide",
                   "Halide's lowered statement of every kernel"),
        clEnumValN(Emit::Obj, "obj",
                   "DIR/<stem>.a, .h and .json (the default with -o)")),
    cl::cat(category));

cl::opt<InputKind> inputKind(
    "x", cl::desc("Input language"), cl::init(InputKind::Attn),
    cl::values(clEnumValN(InputKind::Attn, "attn", ".attn source (default)"),
               clEnumValN(InputKind::MLIR, "mlir", "MLIR in the attn dialect")),
    cl::cat(category));

cl::opt<std::string> outputFile(
    "o", cl::desc("Output directory for --emit=obj, file otherwise "
                  "(default stdout)"),
    cl::value_desc("path"), cl::init("-"), cl::cat(category));

cl::list<std::string> targets(
    "target", cl::desc("Code generation target: cpu (default); cuda and "
                       "opencl are not implemented yet"),
    cl::value_desc("cpu|cuda|opencl"), cl::cat(category));

cl::opt<bool> grad("grad",
                   cl::desc("Also generate NAME_backward (not implemented yet)"),
                   cl::cat(category));

cl::opt<bool> printCflags("cflags",
                          cl::desc("Print the compiler flags a program "
                                   "calling generated kernels needs"),
                          cl::cat(category));
cl::opt<bool> printLibs("libs",
                        cl::desc("Print the linker flags a program calling "
                                 "generated kernels needs (after DIR/<stem>.a)"),
                        cl::cat(category));

cl::opt<std::string> halideFeatures(
    "halide-features",
    cl::desc("Extra Halide target features, '-'-separated (e.g. profile)"),
    cl::value_desc("features"), cl::cat(category));

cl::opt<bool> quiet("quiet", cl::desc("No progress output on stderr"),
                    cl::cat(category));

int fail(const std::string &msg) {
  llvm::errs() << "attnc: error: " << msg << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "attnc: ahead-of-time compiler for attention variants\n\n"
      "  attnc prog.attn -o DIR           DIR/prog.a, DIR/prog.h, DIR/prog.json\n"
      "  attnc prog.attn --emit=ast       the checked AST\n"
      "  attnc prog.attn --emit=mlir      attn dialect IR "
      "(--mlir-print-debuginfo for locations)\n"
      "  attnc prog.attn --emit=lowered   IR after the lowering passes\n"
      "  attnc prog.attn --emit=halide    Halide's lowered statements\n"
      "  attnc -x mlir prog.mlir ...      start from attn IR\n"
      "  attnc --cflags, attnc --libs     flags to build a program against "
      "the output\n");

  if (printCflags || printLibs) {
    if (printCflags)
      llvm::outs() << "-I" ATTNC_RUNTIME_INCLUDE_DIR << (printLibs ? " " : "\n");
    if (printLibs)
      llvm::outs() << ATTNC_RUNTIME_LIB << " -lpthread -ldl -lm\n";
    return 0;
  }
  if (grad)
    return fail("--grad (backward kernels) is not implemented yet");
  for (const std::string &t : targets)
    if (t != "cpu")
      return fail("target '" + t + "' is not implemented yet; only cpu is");
  // -o without --emit means "build the library", as in LANGUAGE.md.
  if (emit.getNumOccurrences() == 0 && outputFile != "-")
    emit = Emit::Obj;
  if (emit == Emit::Obj && outputFile == "-")
    return fail("--emit=obj needs -o DIR");

  auto buffer = llvm::MemoryBuffer::getFileOrSTDIN(inputFile);
  if (std::error_code ec = buffer.getError())
    return fail("cannot read '" + inputFile + "': " + ec.message());
  std::string name = inputFile == "-" ? "<stdin>" : inputFile.getValue();

  std::string errorMessage;
  std::unique_ptr<llvm::ToolOutputFile> output;
  if (emit != Emit::Obj) {
    output = mlir::openOutputFile(outputFile, &errorMessage);
    if (!output)
      return fail(errorMessage);
  }

  mlir::DialectRegistry registry;
  registerAllAttnDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  // Verifier and pass diagnostics print file:line:col with the source line.
  mlir::SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  mlir::OwningOpRef<mlir::ModuleOp> module;
  if (inputKind == InputKind::MLIR) {
    if (emit == Emit::AST)
      return fail("--emit=ast needs .attn input, not -x mlir");
    module = mlir::parseSourceFile<mlir::ModuleOp>(sourceMgr, &context);
    if (!module)
      return 1;
  } else {
    llvm::StringRef text =
        sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();
    DiagnosticEngine diags(name, text.str());
    std::vector<KernelInfo> infos;
    std::optional<Module> ast = parseAndCheck(diags, infos);
    if (!ast) {
      llvm::errs() << diags.render();
      return 1;
    }
    if (emit == Emit::AST) {
      std::string dumped;
      {
        std::ostringstream os;
        dumpAST(*ast, os);
        dumped = os.str();
      }
      output->os() << dumped;
      output->keep();
      return 0;
    }
    module = mlirGen(context, *ast);
  }
  if (failed(mlir::verify(*module)))
    return 1;

  if (emit != Emit::MLIR) {
    mlir::PassManager pm(&context);
    if (failed(mlir::applyPassManagerCLOptions(pm)))
      return 1;
    // The lowering pipeline: composites first, then what codegen reads.
    pm.addNestedPass<mlir::func::FuncOp>(createAttnExpandLsh());
    pm.addNestedPass<mlir::func::FuncOp>(createAttnAnalyzeMasks());
    pm.addNestedPass<mlir::func::FuncOp>(createAttnChooseSchedule());
    if (failed(pm.run(*module)))
      return 1;
  }
  if (emit == Emit::Halide || emit == Emit::Obj) {
    CodegenOptions options;
    options.outDir = outputFile;
    options.stem = llvm::sys::path::stem(name).str();
    options.verbose = !quiet;
    if (!halideFeatures.empty())
      options.target = hostTarget() + "-" + halideFeatures.getValue();
    if (emit == Emit::Obj)
      return failed(emitLibrary(*module, options)) ? 1 : 0;
    if (failed(emitHalideStmt(*module, options, output->os())))
      return 1;
    output->keep();
    return 0;
  }
  module->print(output->os());
  output->keep();
  return 0;
}
