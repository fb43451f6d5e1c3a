//===- Emit.cpp - static library, C header and manifest -------------------===//
//
// DIR/<stem>.a holds, for every target variant, one Halide object per
// kernel (without runtime); one Halide runtime object built for the
// features all variants share; and the entry points (Glue.cpp) that check
// attn_tensor arguments and dispatch to the best variant at run time. The
// archive is written by LLVM's archive writer and the entry points by
// LLVM's x86 backend, in-process: attnc runs no C compiler or `ar`, and
// needs no source tree. Outputs are written under temporary names and
// renamed into place only when all of them succeeded.
//
//===----------------------------------------------------------------------===//
#include "CNames.h"
#include "CPU/X86Object.h"
#include "CUDA/CudaBackend.h"
#include "Glue.h"
#include "KernelBuilder.h"

#include "attnc/Codegen/Codegen.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Signals.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

/// attn_dtype's values (runtime.h).
int32_t attnDtype(const std::string &d) {
  return d == "f16" ? 1 : d == "bf16" ? 2 : d == "i32" ? 3 : 0;
}

bool isInteger(const std::string &s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit);
}

bool isName(const std::string &s) {
  return !s.empty() && !isInteger(s) &&
         std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(c) || c == '_'; });
}

/// Symbolic dimension names in order of first use (inputs first).
std::vector<std::string> symbolsOf(const BuiltKernel &k) {
  std::vector<std::string> syms;
  for (const ArgInfo &a : k.args)
    for (const std::string &d : a.dims)
      if (isName(d) && std::find(syms.begin(), syms.end(), d) == syms.end())
        syms.push_back(d);
  return syms;
}

/// A derived dimension (E/H, H*D, (E/2)/A) as the runtime's postfix
/// program over `symbols`; nothing when it reads anything else.
class DerivedCompiler {
public:
  DerivedCompiler(const std::string &text,
                  const std::vector<std::string> &symbols)
      : s(text), symbols(symbols) {}

  std::optional<GlueDerived> compile() {
    GlueDerived d{s, {}};
    if (!product(d) || pos != s.size() || d.ops.size() > 32) // ATTN_MAX_DERIVED_OPS
      return std::nullopt;
    return d;
  }

private:
  bool product(GlueDerived &d) {
    if (!atom(d))
      return false;
    while (pos < s.size() && (s[pos] == '*' || s[pos] == '/')) {
      int32_t op = s[pos++] == '*' ? 2 : 3; // ATTN_DERIVED_MUL, _DIV
      if (!atom(d))
        return false;
      d.ops.push_back({op, 0});
    }
    return true;
  }
  bool atom(GlueDerived &d) {
    if (pos < s.size() && s[pos] == '(') {
      ++pos;
      if (!product(d) || pos >= s.size() || s[pos] != ')')
        return false;
      ++pos;
      return true;
    }
    size_t start = pos;
    while (pos < s.size() && (std::isalnum((unsigned char)s[pos]) || s[pos] == '_'))
      ++pos;
    std::string word = s.substr(start, pos - start);
    if (isInteger(word) && word.size() <= 18) {
      d.ops.push_back({1, std::stoll(word)}); // ATTN_DERIVED_LITERAL
      return true;
    }
    auto it = std::find(symbols.begin(), symbols.end(), word);
    if (!isName(word) || it == symbols.end())
      return false;
    d.ops.push_back({0, int64_t(it - symbols.begin())}); // ATTN_DERIVED_SYMBOL
    return true;
  }
  const std::string &s;
  const std::vector<std::string> &symbols;
  size_t pos = 0;
};

std::string prototype(const BuiltKernel &k) {
  std::vector<std::string> names;
  for (const ArgInfo &a : k.args)
    names.push_back(a.name);
  names = headerParamNames(names);
  std::string s = "int " + k.name + "(";
  for (size_t i = 0; i < k.args.size(); ++i)
    s += std::string(i ? ", " : "") +
         (k.args[i].isOutput ? "attn_tensor *" : "const attn_tensor *") +
         names[i];
  return s + ")";
}

std::string shapeText(const ArgInfo &a) {
  std::string s = a.dtype + "[";
  for (size_t i = 0; i < a.dims.size(); ++i)
    s += (i ? ", " : "") + a.dims[i];
  return s + "]";
}

/// The index of derived dimension `text` in g.derived (added once), or -1
/// when it cannot be evaluated from the symbols.
int64_t derivedIndex(GlueKernel &g, const std::string &text) {
  for (size_t i = 0; i < g.derived.size(); ++i)
    if (g.derived[i].text == text)
      return int64_t(i);
  std::optional<GlueDerived> d = DerivedCompiler(text, g.symbols).compile();
  if (!d)
    return -1;
  g.derived.push_back(std::move(*d));
  return int64_t(g.derived.size() - 1);
}

/// What the entry point of kernel `k` needs: its arguments as the runtime
/// checks them, and the Halide entry of each variant, best first.
GlueKernel glueKernel(const BuiltKernel &k,
                      const std::vector<TargetInfo> &variants) {
  GlueKernel g;
  g.name = k.name;
  g.symbols = symbolsOf(k);
  for (const ArgInfo &a : k.args) {
    GlueArg ga;
    ga.name = a.name;
    ga.dtype = attnDtype(a.dtype);
    ga.isOutput = a.isOutput;
    ga.values = a.values;
    for (const std::string &dim : a.dims) {
      auto it = std::find(g.symbols.begin(), g.symbols.end(), dim);
      if (isInteger(dim))
        ga.dims.push_back({-1, std::stoll(dim)}); // ATTN_DIM_LITERAL
      else if (it != g.symbols.end())
        ga.dims.push_back({int32_t(it - g.symbols.begin()), 0});
      else // derived (E/8, H*D): the runtime evaluates it
        ga.dims.push_back({-2, derivedIndex(g, dim)}); // ATTN_DIM_DERIVED
    }
    g.args.push_back(ga);
  }
  for (const std::string &e : k.exact)
    derivedIndex(g, e);
  for (size_t v = 0; v < variants.size(); ++v) {
    if (k.cuda.empty()) {
      g.variants.push_back({variants[v].name(), variants[v].features(),
                            halideEntry(k.name, v) + "_argv"});
      continue;
    }
    // No Halide entry: the runtime launches the PTX of the variant whose
    // widths match the call.
    for (const GlueCuda &c : k.cuda) {
      GlueVariant gv{variants[v].name(), 0, ""};
      gv.cuda = c;
      g.variants.push_back(std::move(gv));
    }
  }
  return g;
}

std::string headerSource(const std::vector<BuiltKernel> &kernels,
                         const std::string &stem, const std::string &source) {
  std::string guard = "ATTNC_GENERATED_" + stem + "_H";
  for (char &c : guard)
    c = std::isalnum(static_cast<unsigned char>(c)) ? std::toupper(c) : '_';
  std::ostringstream os;
  os << "/* Generated by attnc from " << source << ": do not edit. */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include \"attnc/runtime.h\"\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (const BuiltKernel &k : kernels) {
    os << "/* " << k.name << ":\n";
    for (const ArgInfo &a : k.args)
      os << " *   " << (a.isOutput ? "out " : "in  ") << a.name << " : "
         << shapeText(a) << "\n";
    os << " * Returns 0, or an attn_status with attn_last_error(). */\n"
       << prototype(k) << ";\n\n";
  }
  os << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return os.str();
}

std::string manifest(const std::vector<BuiltKernel> &kernels,
                     const std::string &stem,
                     const std::vector<TargetInfo> &variants,
                     const std::string &runtimeTarget) {
  llvm::json::Array ks;
  for (const BuiltKernel &k : kernels) {
    llvm::json::Array args;
    for (const ArgInfo &a : k.args) {
      llvm::json::Array dims;
      for (const std::string &d : a.dims)
        dims.push_back(d);
      args.push_back(llvm::json::Object{{"name", a.name},
                                        {"dtype", a.dtype},
                                        {"shape", std::move(dims)},
                                        {"output", a.isOutput}});
    }
    ks.push_back(llvm::json::Object{{"name", k.name}, {"args", std::move(args)}});
  }
  llvm::json::Array names, halide;
  for (const TargetInfo &t : variants) {
    names.push_back(t.name());
    halide.push_back(t.isCpu() ? t.halideTarget() : "none");
  }
  // "variants" is the run-time dispatch order: the first one the CPU
  // supports runs (attn_selected_target() says which).
  llvm::json::Object root{{"library", stem + ".a"},
                          {"header", stem + ".h"},
                          {"target", variants.front().name()},
                          {"variants", std::move(names)},
                          {"halide_targets", std::move(halide)},
                          {"runtime_target", runtimeTarget},
                          {"kernels", std::move(ks)}};
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return os.str();
}

LogicalResult writeFile(ModuleOp module, const std::string &path,
                        const std::string &text) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return module.emitError() << "cannot write " << path << ": "
                              << ec.message();
  os << text;
  return success();
}

FailureOr<TargetInfo> targetOf(ModuleOp module) {
  auto attr = module->getAttrOfType<attn::TargetAttr>(attn::kTargetAttrName);
  if (!attr)
    return module.emitError("codegen needs the module's attn.target (set by "
                            "attnc --target or attn-choose-schedule)");
  return attr.getInfo();
}

FailureOr<std::vector<BuiltKernel>> buildAll(ModuleOp module,
                                             const TargetInfo &target) {
  std::vector<BuiltKernel> kernels;
  for (auto fn : module.getOps<func::FuncOp>()) {
    // Halide reports schedule errors by throwing: turn them into
    // diagnostics on the kernel instead of letting them end the process.
    try {
      FailureOr<BuiltKernel> k = target.isCpu() ? buildKernel(fn, target)
                                                : buildCudaKernel(fn, target);
      if (failed(k))
        return failure();
      kernels.push_back(std::move(*k));
    } catch (const H::Error &e) {
      return fn.emitError() << "Halide: " << e.what(), failure();
    }
  }
  if (kernels.empty())
    return module.emitError("no kernel to compile"), failure();
  return kernels;
}

/// Every variant module's target and Halide pipelines.
LogicalResult buildVariants(ArrayRef<ModuleOp> modules,
                            std::vector<TargetInfo> &targets,
                            std::vector<std::vector<BuiltKernel>> &built) {
  for (ModuleOp m : modules) {
    auto t = targetOf(m);
    if (failed(t))
      return failure();
    auto kernels = buildAll(m, *t);
    if (failed(kernels))
      return failure();
    targets.push_back(*t);
    built.push_back(std::move(*kernels));
  }
  return success();
}

H::Target halideTarget(const TargetInfo &t, const CodegenOptions &o) {
  std::string name = t.halideTarget();
  if (!o.halideFeatures.empty())
    name += "-" + o.halideFeatures;
  if (!H::Target::validate_target_string(name))
    throw H::CompileError("invalid Halide target '" + name + "'");
  return H::Target(name);
}

/// The Halide target of one kernel of variant `t`: bf16 dot products are
/// patterns of Halide's avx512_sapphirerapids only (X86Object.h).
H::Target kernelTarget(const BuiltKernel &k, const TargetInfo &t,
                       const CodegenOptions &o) {
  H::Target target = halideTarget(t, o);
  return k.bf16Dot ? target.with_feature(H::Target::AVX512_SapphireRapids)
                   : target;
}

/// Renames every temporary into place, or removes them all.
struct Outputs {
  std::vector<std::pair<std::string, std::string>> files; // temp -> final
  std::vector<std::string> scratch;
  bool committed = false;
  // Every file is also removed if attnc is interrupted (SIGINT, SIGTERM):
  // no partial output survives a killed compile.
  std::string temp(const std::string &final) {
    std::string t = final + ".tmp" + std::to_string(llvm::sys::Process::getProcessId());
    files.push_back({t, final});
    llvm::sys::RemoveFileOnSignal(t);
    return t;
  }
  std::string intermediate(const std::string &path) {
    scratch.push_back(path);
    llvm::sys::RemoveFileOnSignal(path);
    return path;
  }
  std::error_code commit() {
    for (auto &[t, final] : files) {
      if (std::error_code ec = llvm::sys::fs::rename(t, final))
        return ec;
      llvm::sys::DontRemoveFileOnSignal(t);
    }
    committed = true;
    return {};
  }
  ~Outputs() {
    for (const std::string &s : scratch)
      llvm::sys::fs::remove(s);
    if (!committed)
      for (auto &[t, final] : files)
        llvm::sys::fs::remove(t);
  }
};

} // namespace

std::string attnc::codegen::halideEntry(const std::string &kernel,
                                        size_t variant) {
  return "__attnc_" + kernel + "_v" + std::to_string(variant);
}

LogicalResult attnc::emitLibrary(ArrayRef<ModuleOp> variantModules,
                                 const CodegenOptions &o) {
  if (variantModules.empty())
    return failure();
  ModuleOp module = variantModules.front();
  std::vector<TargetInfo> variants;
  std::vector<std::vector<BuiltKernel>> built;
  if (failed(buildVariants(variantModules, variants, built)))
    return failure();
  const std::vector<BuiltKernel> &kernels = built.front();
  std::string source = o.stem + ".attn";
  if (auto fl = dyn_cast<FileLineColLoc>(module.getLoc()))
    source = fl.getFilename().str();
  if (llvm::sys::fs::exists(o.outDir) && !llvm::sys::fs::is_directory(o.outDir))
    return module.emitError() << "cannot create output directory " << o.outDir
                              << ": a file of that name exists";
  if (std::error_code ec = llvm::sys::fs::create_directories(o.outDir))
    return module.emitError() << "cannot create output directory " << o.outDir
                              << ": " << ec.message();
  for (const BuiltKernel &k : kernels)
    if (symbolsOf(k).size() > 64 || k.args.size() > 64)
      return module.emitError() << "kernel " << k.name
                                << " has more than 64 arguments or symbolic "
                                   "dimensions, the runtime's limit";
  // A CUDA library's host side (the runtime's Halide part) runs anywhere.
  std::string baselineError;
  TargetInfo runtimeTarget =
      variants.front().isCpu() ? TargetInfo::common(variants)
                               : *TargetInfo::parse("x86-64", baselineError);
  std::string base = o.outDir + "/" + o.stem;
  Outputs out;
  std::vector<std::string> objects;
  for (size_t v = 0; v < variants.size(); ++v) {
    for (BuiltKernel &k : built[v]) {
      if (!k.cuda.empty()) { // compiled to PTX already; the entry point carries it
        if (o.verbose) {
          size_t bytes = 0, cubins = 0;
          for (const GlueCuda &c : k.cuda) {
            bytes += c.ptx.size();
            cubins += !c.cubin.empty();
          }
          llvm::errs() << llvm::formatv(
              "attnc: compiled {0} for {1} ({2} width variant(s), {3} KiB of "
              "PTX, {4} cubin(s) by ptxas)\n",
              k.name, variants[v].name(), k.cuda.size(), bytes / 1024, cubins);
        }
        continue;
      }
      auto start = Clock::now();
      std::string obj = out.intermediate(
          base + "." + k.name + "." + std::to_string(v) + ".o");
      H::Target target =
          kernelTarget(k, variants[v], o).with_feature(H::Target::NoRuntime);
      // Halide reports errors by throwing: on the kernel, not the module.
      try {
        if (k.bf16Dot)
          k.pipeline.compile_to_bitcode(out.intermediate(obj + ".bc"), k.inputs,
                                        halideEntry(k.name, v), target);
        else
          k.pipeline.compile_to_object(obj, k.inputs, halideEntry(k.name, v),
                                       target);
      } catch (const H::Error &e) {
        return emitError(k.loc) << "Halide: " << e.what();
      }
      if (k.bf16Dot) {
        std::string error =
            codegen::compileX86Bitcode(obj + ".bc", obj, codegen::kX86Bf16Features);
        if (!error.empty())
          return emitError(k.loc) << error;
      }
      objects.push_back(obj);
      if (o.verbose)
        llvm::errs() << llvm::formatv("attnc: compiled {0} for {1} in {2:F2} s\n",
                                      k.name, variants[v].name(),
                                      secondsSince(start));
    }
  }
  try {
    std::string rt = out.intermediate(base + ".halide_runtime.o");
    H::compile_standalone_runtime(rt, halideTarget(runtimeTarget, o));
    objects.push_back(rt);
  } catch (const H::Error &e) {
    return module.emitError() << "Halide runtime: " << e.what();
  }

  std::vector<GlueKernel> glue;
  for (const BuiltKernel &k : kernels)
    glue.push_back(glueKernel(k, variants));
  std::string glueObj = out.intermediate(base + ".entry.o");
  std::string error = emitGlueObject(glue, o.stem, glueObj);
  if (!error.empty())
    return module.emitError() << error;
  objects.push_back(glueObj);

  std::vector<llvm::NewArchiveMember> members;
  // Members are named by file name (not the build path): deterministic.
  std::vector<std::string> memberNames;
  memberNames.reserve(objects.size());
  for (const std::string &obj : objects) {
    auto member = llvm::NewArchiveMember::getFile(obj, /*Deterministic=*/true);
    if (!member)
      return module.emitError() << "cannot read " << obj << ": "
                                << llvm::toString(member.takeError());
    memberNames.push_back(llvm::sys::path::filename(obj).str());
    member->MemberName = memberNames.back();
    members.push_back(std::move(*member));
  }
  std::string lib = base + ".a";
  if (llvm::Error e = llvm::writeArchive(
          out.temp(lib), members, llvm::SymtabWritingMode::NormalSymtab,
          llvm::object::Archive::K_GNU, /*Deterministic=*/true, /*Thin=*/false))
    return module.emitError() << "cannot write " << lib << ": "
                              << llvm::toString(std::move(e));
  if (failed(writeFile(module, out.temp(base + ".h"),
                       headerSource(kernels, o.stem, source))) ||
      failed(writeFile(module, out.temp(base + ".json"),
                       manifest(kernels, o.stem, variants,
                                runtimeTarget.name()))))
    return failure();
  if (std::error_code ec = out.commit())
    return module.emitError() << "cannot move the outputs into " << o.outDir
                              << ": " << ec.message();
  if (o.verbose) {
    std::string names;
    for (const TargetInfo &t : variants)
      names += (names.empty() ? "" : ", ") + t.name();
    llvm::errs() << "attnc: wrote " << lib << ", " << base << ".h, " << base
                 << ".json (" << kernels.size() << " kernel(s), target(s) "
                 << names << ")\n";
  }
  return success();
}

LogicalResult attnc::emitHalideStmt(ArrayRef<ModuleOp> variantModules,
                                    const CodegenOptions &o,
                                    llvm::raw_ostream &os) {
  llvm::SmallString<128> tmp;
  if (variantModules.empty() ||
      llvm::sys::fs::createTemporaryFile("attnc", "stmt", tmp))
    return failure();
  auto cleanup = llvm::make_scope_exit([&] { llvm::sys::fs::remove(tmp); });
  for (ModuleOp m : variantModules)
    if (FailureOr<TargetInfo> t = targetOf(m); succeeded(t) && !t->isCpu())
      return m.emitError() << "target '" << t->name()
                           << "' is compiled without Halide: use --emit=gpu "
                              "or --emit=ptx";
  std::vector<TargetInfo> variants;
  std::vector<std::vector<BuiltKernel>> built;
  if (failed(buildVariants(variantModules, variants, built)))
    return failure();
  for (auto [t, kernels] : llvm::zip(variants, built)) {
    for (BuiltKernel &k : kernels) {
      try {
        k.pipeline.compile_to_lowered_stmt(tmp.str().str(), k.inputs, H::Text,
                                           kernelTarget(k, t, o));
      } catch (const H::Error &e) {
        return emitError(k.loc) << "Halide: " << e.what();
      }
      std::ifstream in(tmp.str().str());
      std::stringstream ss;
      ss << in.rdbuf();
      os << "// kernel " << k.name << " (target " << t.name() << ")\n"
         << ss.str() << "\n";
    }
  }
  return success();
}

LogicalResult attnc::emitCudaStage(ArrayRef<ModuleOp> variantModules,
                                   CudaStage stage, llvm::raw_ostream &os) {
  for (ModuleOp m : variantModules) {
    FailureOr<TargetInfo> t = targetOf(m);
    if (failed(t))
      return failure();
    if (t->isCpu())
      return m.emitError() << "--emit=gpu and --emit=ptx need a CUDA target "
                              "(--target=cuda:sm_80 or cuda:sm_90), not '"
                           << t->name() << "'";
    for (auto fn : m.getOps<func::FuncOp>()) {
      if (stage == CudaStage::Gpu) {
        os << "// kernel " << fn.getName() << " (target " << t->name() << ")\n";
        if (failed(printGpuModule(fn, os)))
          return failure();
        continue;
      }
      FailureOr<BuiltKernel> k = buildCudaKernel(fn, *t, /*cubin=*/false);
      if (failed(k))
        return failure();
      for (const GlueCuda &c : k->cuda)
        os << "// kernel " << c.function << " (target " << t->name() << ")\n"
           << c.ptx << "\n";
    }
  }
  return success();
}
