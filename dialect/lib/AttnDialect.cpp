//===- AttnDialect.cpp - the attn dialect ---------------------------------===//
#include "attnc/Dialect/Attn/AttnDialect.h"
#include "attnc/Dialect/Attn/AttnAttrs.h"
#include "attnc/Dialect/Attn/AttnOps.h"

using namespace mlir;
using namespace attnc::attn;

#include "attnc/Dialect/Attn/AttnDialect.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attnc/Dialect/Attn/AttnOps.cpp.inc"
      >();
  registerAttributes();
}

void attnc::registerAllAttnDialects(DialectRegistry &registry) {
  registry.insert<AttnDialect, func::FuncDialect, arith::ArithDialect,
                  math::MathDialect, tensor::TensorDialect>();
}

mlir::StringAttr attnc::attn::dimensionSymbol(mlir::func::FuncOp fn,
                                              mlir::Value v, unsigned dim) {
  auto arg = mlir::dyn_cast<mlir::BlockArgument>(v);
  if (!fn || !arg || arg.getOwner() != &fn.getBody().front())
    return {};
  auto dims = fn.getArgAttrOfType<mlir::ArrayAttr>(arg.getArgNumber(),
                                                   "attn.dims");
  return dims && dim < dims.size() ? mlir::dyn_cast<mlir::StringAttr>(dims[dim])
                                   : mlir::StringAttr();
}
