//===- attnc.cpp - the attnc driver ---------------------------------------===//
//
// attnc FILE.attn --emit=ast|mlir|lowered   (like toyc -emit=)
// attnc -x mlir FILE.mlir --emit=mlir|lowered
//
// attnc FILE.attn -o DIR                     DIR/<stem>.a, .h, .json
// attnc FILE.attn --emit=halide              Halide's lowered statements
// attnc FILE.attn --target=cuda --emit=gpu|ptx   CUDA kernels as gpu/nvgpu IR, PTX
// attnc --cflags / --libs                    what a user program needs
//
//===----------------------------------------------------------------------===//
#include "attnc/Codegen/Codegen.h"
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Frontend/Frontend.h"
#include "attnc/Frontend/MLIRGen.h"
#include "attnc/Lowering/Passes.h"
#include "HostTarget.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <sstream>
#include <unistd.h>

namespace cl = llvm::cl;
using namespace attnc;

namespace {

enum class Emit { AST, MLIR, Lowered, Halide, Gpu, Ptx, Obj };
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
        clEnumValN(Emit::Gpu, "gpu",
                   "CUDA targets: every kernel as gpu/nvgpu IR, before "
                   "lowering"),
        clEnumValN(Emit::Ptx, "ptx", "CUDA targets: every kernel's PTX"),
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

cl::opt<std::string> targetList(
    "target",
    cl::desc("Target variant(s), comma-separated, dispatched at run time: "
             "host (default: this CPU), x86-64-v2, x86-64-v3, x86-64-v4, "
             "LEVEL+feature (e.g. x86-64-v2+avx), cuda[:sm_80|sm_90] "
             "(attend and windowed_attend on f32/bf16/f16, alone in a library)"),
    cl::value_desc("list"), cl::init("host"), cl::cat(category));

cl::opt<bool> grad("grad",
                   cl::desc("Also generate NAME_backward for every kernel (LANGUAGE.md)"),
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

/// Programs are small; an input larger than this is a mistake (a device,
/// a binary), refused before it is read whole.
constexpr size_t kMaxInputBytes = 16u << 20;

/// The input file (or stdin for "-"), at most kMaxInputBytes.
std::unique_ptr<llvm::MemoryBuffer> readBounded(const std::string &path,
                                                std::string &error) {
  int fd = 0;
  if (path != "-") {
    if (std::error_code ec = llvm::sys::fs::openFileForRead(path, fd)) {
      error = "cannot read '" + path + "': " + ec.message();
      return nullptr;
    }
  }
  std::string text;
  char chunk[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = "cannot read '" + path + "': " + std::strerror(errno);
      break;
    }
    if (n == 0)
      break;
    text.append(chunk, size_t(n));
    if (text.size() > kMaxInputBytes) {
      error = "'" + path + "' is larger than " +
              std::to_string(kMaxInputBytes >> 20) +
              " MiB; attnc reads programs up to that size";
      break;
    }
  }
  if (path != "-")
    ::close(fd);
  if (!error.empty())
    return nullptr;
  return llvm::MemoryBuffer::getMemBufferCopy(text, path);
}

/// `host` resolved, the list parsed and ordered best first.
std::optional<std::vector<TargetInfo>> resolveTargets(std::string &error) {
  std::string spec;
  for (llvm::StringRef part : llvm::split(llvm::StringRef(targetList), ',')) {
    std::string one = part.trim().str();
    if (one == "host") {
      auto host = hostTarget(error);
      if (!host)
        return std::nullopt;
      one = host->name();
    }
    spec += (spec.empty() ? "" : ",") + one;
  }
  return TargetInfo::parseList(spec, error);
}

/// Where the installed layout keeps headers and the runtime: relative to
/// this executable (PREFIX/bin/attnc -> PREFIX/include, PREFIX/lib), so a
/// moved prefix keeps working; in the build tree, the source tree's.
std::pair<std::string, std::string> runtimeLocation(const char *argv0) {
  std::string exe = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&fail));
  llvm::SmallString<256> prefix(llvm::sys::path::parent_path(
      llvm::sys::path::parent_path(exe)));
  llvm::SmallString<256> header(prefix), lib(prefix);
  llvm::sys::path::append(header, "include", "attnc", "runtime.h");
  llvm::sys::path::append(lib, "lib", "libattnrt.a");
  if (llvm::sys::fs::exists(header) && llvm::sys::fs::exists(lib)) {
    llvm::SmallString<256> include(prefix);
    llvm::sys::path::append(include, "include");
    return {include.str().str(), lib.str().str()};
  }
  return {ATTNC_RUNTIME_INCLUDE_DIR, ATTNC_RUNTIME_LIB};
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
      "  attnc prog.attn --target=cuda --emit=gpu|ptx   CUDA kernels\n"
      "  attnc -x mlir prog.mlir ...      start from attn IR\n"
      "  attnc --cflags, attnc --libs     flags to build a program against "
      "the output\n");

  if (printCflags || printLibs) {
    auto [include, lib] = runtimeLocation(argv[0]);
    if (printCflags)
      llvm::outs() << "-I" << include << (printLibs ? " " : "\n");
    if (printLibs)
      llvm::outs() << lib << " -lpthread -ldl -lm\n";
    return 0;
  }
  std::string targetError;
  auto targets = resolveTargets(targetError);
  if (!targets)
    return fail(targetError);
  // -o without --emit means "build the library", as in LANGUAGE.md.
  if (emit.getNumOccurrences() == 0 && outputFile != "-")
    emit = Emit::Obj;
  if (emit == Emit::Obj && outputFile == "-")
    return fail("--emit=obj needs -o DIR");

  std::string readError;
  auto buffer = readBounded(inputFile, readError);
  if (!buffer)
    return fail(readError);
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
  // Errors speak of the source (file:line:col), not of IR: no op dumps.
  context.printOpOnDiagnostic(false);

  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
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
    // Module-level errors (an empty file) name the file.
    (*module)->setLoc(mlir::FileLineColLoc::get(&context, name, 1, 1));
  }
  if (failed(mlir::verify(*module)))
    return 1;

  if (emit == Emit::MLIR) {
    module->print(output->os());
    output->keep();
    return 0;
  }
  // -x mlir input that names its target keeps it unless --target is given.
  std::vector<TargetInfo> variants = *targets;
  if (auto attr = (*module)->getAttrOfType<attn::TargetAttr>(
          attn::kTargetAttrName);
      attr && targetList.getNumOccurrences() == 0)
    variants = {attr.getInfo()};

  // The lowering pipeline, once per variant on its own copy of the module:
  // composites first, then what codegen reads (masks, the schedule for the
  // variant's #attn.target).
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> lowered;
  for (const TargetInfo &t : variants) {
    mlir::OwningOpRef<mlir::ModuleOp> copy = module->clone();
    (*copy)->setAttr(attn::kTargetAttrName,
                     attn::TargetAttr::get(&context, t));
    mlir::PassManager pm(&context);
    if (failed(mlir::applyPassManagerCLOptions(pm)))
      return 1;
    // lsh_attend is differentiated through its primitives, so it expands
    // first; backward kernels are then written from the program with its
    // reversible blocks whole (attn-expand-reversible writes theirs).
    pm.addNestedPass<mlir::func::FuncOp>(createAttnExpandLsh());
    if (grad)
      pm.addPass(createAttnGenerateBackward());
    pm.addPass(createAttnExpandReversible());
    pm.addNestedPass<mlir::func::FuncOp>(createAttnRecognizeWindows());
    pm.addNestedPass<mlir::func::FuncOp>(createAttnAnalyzeMasks());
    pm.addPass(createAttnChooseSchedule());
    if (failed(pm.run(*copy)))
      return 1;
    lowered.push_back(std::move(copy));
  }
  std::vector<mlir::ModuleOp> loweredOps;
  for (auto &m : lowered)
    loweredOps.push_back(*m);
  if (emit == Emit::Lowered) {
    for (auto [t, m] : llvm::zip(variants, loweredOps)) {
      if (variants.size() > 1)
        output->os() << "// -----// variant " << t.name() << "\n";
      m.print(output->os());
    }
    output->keep();
    return 0;
  }
  CodegenOptions options;
  options.outDir = outputFile;
  options.stem = llvm::sys::path::stem(name).str();
  options.verbose = !quiet;
  options.halideFeatures = halideFeatures;
  if (emit == Emit::Obj)
    return failed(emitLibrary(loweredOps, options)) ? 1 : 0;
  if (emit == Emit::Gpu || emit == Emit::Ptx) {
    if (failed(emitCudaStage(loweredOps,
                             emit == Emit::Gpu ? CudaStage::Gpu : CudaStage::Ptx,
                             output->os())))
      return 1;
    output->keep();
    return 0;
  }
  if (failed(emitHalideStmt(loweredOps, options, output->os())))
    return 1;
  output->keep();
  return 0;
}
