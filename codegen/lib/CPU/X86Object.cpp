//===- X86Object.cpp - Halide bitcode to an x86 object by LLVM 19 ---------===//
#include "X86Object.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"

#include <mutex>

void attnc::codegen::initializeX86Backend() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
  });
}

std::string attnc::codegen::compileX86Bitcode(const std::string &bitcode,
                                              const std::string &object,
                                              const std::string &features) {
  initializeX86Backend();
  auto buffer = llvm::MemoryBuffer::getFile(bitcode);
  if (!buffer)
    return "cannot read " + bitcode + ": " + buffer.getError().message();
  llvm::LLVMContext context;
  // Halide 14 writes LLVM 14 bitcode; LLVM 19 reads it, upgrading the
  // intrinsics whose signatures changed since (the bf16 ones among them).
  auto module = llvm::parseBitcodeFile(buffer.get()->getMemBufferRef(), context);
  if (!module)
    return "cannot read Halide's bitcode: " + llvm::toString(module.takeError());
  if (llvm::verifyModule(**module, &llvm::errs()))
    return "Halide's bitcode does not verify under LLVM 19";

  std::string triple = (*module)->getTargetTriple(), error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return "LLVM's x86 backend is unavailable: " + error;
  // What Halide 14 gives its own target machine (CodeGen_Internal.cpp,
  // get_target_options): fast-math codegen, FMA contraction, PIC.
  llvm::TargetOptions options;
  options.AllowFPOpFusion = llvm::FPOpFusion::Fast;
  options.UnsafeFPMath = true;
  options.NoInfsFPMath = true;
  options.NoNaNsFPMath = true;
  options.HonorSignDependentRoundingFPMathOption = true;
  options.NoZerosInBSS = false;
  options.GuaranteedTailCallOpt = false;
  options.FunctionSections = true;
  options.UseInitArray = true;
  options.FloatABIType = llvm::FloatABI::Hard;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, "x86-64-v4", features, options, llvm::Reloc::PIC_,
      llvm::CodeModel::Small, llvm::CodeGenOptLevel::Aggressive));
  (*module)->setDataLayout(machine->createDataLayout());

  std::error_code ec;
  llvm::raw_fd_ostream out(object, ec, llvm::sys::fs::OF_None);
  if (ec)
    return "cannot write " + object + ": " + ec.message();
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out, nullptr,
                                   llvm::CodeGenFileType::ObjectFile))
    return "LLVM's x86 backend cannot emit an object file";
  codegen.run(**module);
  out.close();
  if (out.has_error())
    return "cannot write " + object + ": " + out.error().message();
  return "";
}
