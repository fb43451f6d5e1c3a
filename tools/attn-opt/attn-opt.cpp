//===- attn-opt.cpp - run attn passes on .mlir, like mlir-opt -------------===//
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Lowering/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  attnc::registerAllAttnDialects(registry);
  attnc::registerAttnPasses();
  // The generic cleanups a user reaches for between attn passes.
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "attn-opt: runs attn dialect passes on MLIR\n", registry));
}
