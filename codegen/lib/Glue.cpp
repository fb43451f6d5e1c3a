//===- Glue.cpp - the C entry points as LLVM IR ---------------------------===//
#include "Glue.h"
#include "CPU/X86Object.h"

#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

using namespace llvm;
using namespace attnc::codegen;

namespace {

constexpr int kMaxRank = 8; // ATTN_MAX_RANK

/// The runtime ABI's structs with C's natural layout on x86-64.
struct AbiTypes {
  Type *i32, *i64;
  PointerType *ptr;
  StructType *dim, *arg, *cuda, *variant, *derived, *spec;

  explicit AbiTypes(LLVMContext &c) {
    i32 = Type::getInt32Ty(c);
    i64 = Type::getInt64Ty(c);
    ptr = PointerType::get(c, 0);
    dim = StructType::create(c, {i32, i64}, "attn_dim_spec");
    arg = StructType::create(
        c, {ptr, i32, i32, i32, i32, ArrayType::get(dim, kMaxRank)},
        "attn_arg_spec");
    // ptr, ptr, five i32 (24 bytes from offset 16: padded to 40), i64.
    cuda = StructType::create(c, {ptr, ptr, i32, i32, i32, i32, i32, i64, i32,
                                  i32, i32, i32, ptr, i64},
                              "attn_cuda_kernel");
    variant = StructType::create(c, {ptr, i64, ptr, ptr}, "attn_variant");
    // attn_derived_op has attn_dim_spec's layout: {i32, i64}.
    derived = StructType::create(c, {ptr, i32, ptr}, "attn_derived_dim");
    spec = StructType::create(c, {ptr, i32, ptr, i32, ptr, i32, ptr, i32, ptr},
                              "attn_kernel_spec");
  }
};

class GlueBuilder {
public:
  GlueBuilder(LLVMContext &ctx, Module &m) : ctx(ctx), m(m), t(ctx) {}

  /// A private constant C string.
  Constant *str(const std::string &s, const std::string &name) {
    return IRBuilder<>(ctx).CreateGlobalString(s, name, 0, &m);
  }

  Constant *privateArray(Type *elem, std::vector<Constant *> items,
                         const std::string &name) {
    auto *type = ArrayType::get(elem, items.size());
    return new GlobalVariable(m, type, true, GlobalValue::PrivateLinkage,
                              ConstantArray::get(type, items), name);
  }

  /// A private constant byte array (binary data, NULs included), or null
  /// when empty.
  Constant *bytes(const std::string &data, const std::string &name) {
    if (data.empty())
      return Constant::getNullValue(t.ptr);
    Constant *init = ConstantDataArray::get(
        ctx, ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(data.data()),
                               data.size()));
    auto *g = new GlobalVariable(m, init->getType(), true,
                                 GlobalValue::PrivateLinkage, init, name);
    g->setAlignment(Align(8));
    return g;
  }

  /// A private constant attn_cuda_kernel (its PTX a private C string), or
  /// null for a CPU variant.
  Constant *cudaKernel(const std::optional<GlueCuda> &c, const std::string &p) {
    if (!c)
      return Constant::getNullValue(t.ptr);
    auto i32 = [&](int32_t v) { return ConstantInt::get(t.i32, v); };
    Constant *init = ConstantStruct::get(
        t.cuda, {str(c->ptx, p + "ptx"), str(c->function, p + "function"),
                 i32(c->sm), i32(c->threads), i32(c->sharedBytes),
                 i32(c->tileRows), i32(c->gridArg),
                 ConstantInt::get(t.i64, c->denseArgs), i32(c->widthArgs[0]),
                 i32(c->widthArgs[1]), i32(c->widths[0]), i32(c->widths[1]),
                 bytes(c->cubin, p + "cubin"),
                 ConstantInt::get(t.i64, c->cubin.size())});
    return new GlobalVariable(m, t.cuda, true, GlobalValue::PrivateLinkage,
                              init, p + "cuda");
  }

  /// Halide's argv entry point, or null where there is none (CUDA).
  Constant *entryOf(const GlueVariant &v) {
    if (v.entry.empty())
      return Constant::getNullValue(t.ptr);
    FunctionType *entryType = FunctionType::get(t.i32, {t.ptr}, false);
    return cast<Constant>(m.getOrInsertFunction(v.entry, entryType).getCallee());
  }

  Constant *pairOf(std::pair<int32_t, int64_t> p) {
    return ConstantStruct::get(t.dim, {ConstantInt::get(t.i32, p.first),
                                       ConstantInt::get(t.i64, p.second)});
  }

  GlobalVariable *spec(const GlueKernel &k) {
    std::string p = "__attnc." + k.name + ".";
    std::vector<Constant *> args;
    for (const GlueArg &a : k.args) {
      std::vector<Constant *> dims;
      for (int d = 0; d < kMaxRank; ++d)
        dims.push_back(pairOf(d < int(a.dims.size()) ? a.dims[d]
                                                     : std::make_pair(0, 0L)));
      args.push_back(ConstantStruct::get(
          t.arg, {str(a.name, p + "argname"),
                  ConstantInt::get(t.i32, a.dtype),
                  ConstantInt::get(t.i32, a.dims.size()),
                  ConstantInt::get(t.i32, a.isOutput ? 1 : 0),
                  ConstantInt::get(t.i32, a.values),
                  ConstantArray::get(ArrayType::get(t.dim, kMaxRank), dims)}));
    }
    std::vector<Constant *> symbols;
    for (const std::string &s : k.symbols)
      symbols.push_back(str(s, p + "symbol"));
    if (symbols.empty())
      symbols.push_back(str("", p + "symbol"));
    std::vector<Constant *> derived;
    for (const GlueDerived &d : k.derived) {
      std::vector<Constant *> ops;
      for (const auto &op : d.ops)
        ops.push_back(pairOf(op));
      derived.push_back(ConstantStruct::get(
          t.derived, {str(d.text, p + "derived"),
                      ConstantInt::get(t.i32, d.ops.size()),
                      privateArray(t.dim, ops, p + "derived_ops")}));
    }
    std::vector<Constant *> variants;
    for (const GlueVariant &v : k.variants)
      variants.push_back(ConstantStruct::get(
          t.variant, {str(v.target, p + "target"),
                      ConstantInt::get(t.i64, v.cpuFeatures), entryOf(v),
                      cudaKernel(v.cuda, p)}));
    Constant *init = ConstantStruct::get(
        t.spec,
        {str(k.name, p + "name"), ConstantInt::get(t.i32, k.args.size()),
         privateArray(t.arg, args, p + "args"),
         ConstantInt::get(t.i32, k.symbols.size()),
         privateArray(t.ptr, symbols, p + "symbols"),
         ConstantInt::get(t.i32, k.variants.size()),
         privateArray(t.variant, variants, p + "variants"),
         ConstantInt::get(t.i32, k.derived.size()),
         k.derived.empty()
             ? Constant::getNullValue(t.ptr)
             : privateArray(t.derived, derived, p + "derived_dims")});
    return new GlobalVariable(m, t.spec, true, GlobalValue::PrivateLinkage,
                              init, p + "spec");
  }

  /// int NAME(ptr, ..., ptr) { ptr t[n] = {...}; return attn_invoke(&spec, t); }
  void entryPoint(const GlueKernel &k, GlobalVariable *spec) {
    std::vector<Type *> params(k.args.size(), t.ptr);
    auto *fn = Function::Create(FunctionType::get(t.i32, params, false),
                                GlobalValue::ExternalLinkage, k.name, m);
    fn->addFnAttr(Attribute::NoUnwind);
    IRBuilder<> b(BasicBlock::Create(ctx, "entry", fn));
    auto *arrayType = ArrayType::get(t.ptr, std::max<size_t>(k.args.size(), 1));
    Value *tensors = b.CreateAlloca(arrayType, nullptr, "tensors");
    for (auto [i, a] : llvm::enumerate(fn->args())) {
      a.setName(k.args[i].name);
      b.CreateStore(&a, b.CreateConstInBoundsGEP2_32(arrayType, tensors, 0, i));
    }
    FunctionCallee invoke = m.getOrInsertFunction(
        "attn_invoke", FunctionType::get(t.i32, {t.ptr, t.ptr}, false));
    b.CreateRet(b.CreateCall(invoke, {spec, tensors}));
  }

  /// A constructor registering every spec with the runtime.
  void registration(const std::vector<GlobalVariable *> &specs) {
    auto *fn = Function::Create(FunctionType::get(Type::getVoidTy(ctx), false),
                                GlobalValue::InternalLinkage,
                                "__attnc.register", m);
    IRBuilder<> b(BasicBlock::Create(ctx, "entry", fn));
    FunctionCallee reg = m.getOrInsertFunction(
        "attn_register_kernel",
        FunctionType::get(Type::getVoidTy(ctx), {t.ptr}, false));
    for (GlobalVariable *s : specs)
      b.CreateCall(reg, {s});
    b.CreateRetVoid();
    appendToGlobalCtors(m, fn, 65535);
  }

private:
  LLVMContext &ctx;
  Module &m;
  AbiTypes t;
};

} // namespace

std::string attnc::codegen::emitGlueObject(
    const std::vector<GlueKernel> &kernels, const std::string &moduleName,
    const std::string &path) {
  initializeX86Backend();
  LLVMContext ctx;
  Module m(moduleName, ctx);
  Triple triple("x86_64-unknown-linux-gnu");
  m.setTargetTriple(triple.str());
  std::string error;
  const Target *target = TargetRegistry::lookupTarget(triple.str(), error);
  if (!target)
    return "LLVM has no x86-64 backend: " + error;
  // The baseline CPU: entry points run before any variant is chosen.
  std::unique_ptr<TargetMachine> tm(target->createTargetMachine(
      triple.str(), "x86-64", "", TargetOptions(), Reloc::PIC_));
  m.setDataLayout(tm->createDataLayout());

  GlueBuilder glue(ctx, m);
  std::vector<GlobalVariable *> specs;
  for (const GlueKernel &k : kernels) {
    specs.push_back(glue.spec(k));
    glue.entryPoint(k, specs.back());
  }
  glue.registration(specs);
  std::string verifyErrors;
  raw_string_ostream verifyOs(verifyErrors);
  if (verifyModule(m, &verifyOs))
    return "internal error: invalid entry-point IR: " + verifyErrors;

  std::error_code ec;
  raw_fd_ostream out(path, ec, sys::fs::OF_None);
  if (ec)
    return "cannot write " + path + ": " + ec.message();
  legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, out, nullptr, CodeGenFileType::ObjectFile))
    return "LLVM cannot emit an object file for x86-64";
  pm.run(m);
  return "";
}
