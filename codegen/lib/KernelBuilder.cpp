//===- KernelBuilder.cpp - one func.func as one Halide pipeline -----------===//
#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace attnc;
using namespace attnc::codegen;
namespace H = Halide;

namespace {

std::string dtypeName(Type t) {
  if (t.isF16()) return "f16";
  if (t.isBF16()) return "bf16";
  if (t.isInteger(32)) return "i32";
  return "f32";
}

std::vector<std::string> dimsOf(ArrayAttr attr, RankedTensorType type) {
  std::vector<std::string> dims;
  for (int64_t k = 0; k < type.getRank(); ++k) {
    auto s = attr && k < int64_t(attr.size())
                 ? dyn_cast<StringAttr>(attr[k])
                 : StringAttr();
    if (s)
      dims.push_back(s.str());
    else if (!type.isDynamicDim(k))
      dims.push_back(std::to_string(type.getDimSize(k)));
    else
      dims.push_back("?" + std::to_string(k)); // from hand-written IR
  }
  return dims;
}

} // namespace

FailureOr<BuiltKernel> attnc::codegen::buildKernel(func::FuncOp fn) {
  BuiltKernel k;
  k.name = fn.getName().str();
  ValueTable values;
  Block &entry = fn.getBody().front();
  for (auto [idx, arg] : llvm::enumerate(entry.getArguments())) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type)
      return fn.emitError("codegen needs ranked tensor arguments");
    auto nameAttr = fn.getArgAttrOfType<StringAttr>(idx, "attn.name");
    std::string name = nameAttr ? nameAttr.str() : "arg" + std::to_string(idx);
    H::ImageParam ip(halideType(type.getElementType()), int(type.getRank()),
                     name);
    TensorValue tv{H::Func(ip), {}, ip.type()};
    for (int64_t d = 0; d < type.getRank(); ++d)
      tv.shape.push_back(ip.dim(int(type.getRank() - 1 - d)).extent());
    values.tensors[arg] = tv;
    k.inputs.push_back(ip);
    k.args.push_back({name, dtypeName(type.getElementType()),
                      dimsOf(fn.getArgAttrOfType<ArrayAttr>(idx, "attn.dims"),
                             type),
                      false});
  }

  std::vector<H::Func> outputs;
  for (Operation &op : entry) {
    if (auto c = dyn_cast<arith::ConstantIndexOp>(op)) {
      values.scalars[c] = H::Expr(int32_t(c.value()));
      continue;
    }
    if (auto d = dyn_cast<tensor::DimOp>(op)) {
      auto idx = d.getConstantIndex();
      if (!idx)
        return d.emitError("codegen needs a constant dimension index");
      values.scalars[d] = values.tensors.lookup(d.getSource()).shape[*idx];
      continue;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      auto resultTypes = fn.getFunctionType().getResults();
      for (auto [r, v] : llvm::enumerate(ret.getOperands())) {
        TensorValue tv = values.tensors.lookup(v);
        bool reused = isa<BlockArgument>(v) ||
                      llvm::any_of(outputs, [&](H::Func f) {
                        return f.name() == tv.func.name();
                      });
        H::Func out = tv.func;
        if (reused) { // an output must be a Func of its own
          out = H::Func(k.name + "_out" + std::to_string(r));
          std::vector<H::Var> vars(tv.rank());
          out(vars) = tv.func(std::vector<H::Expr>(vars.begin(), vars.end()));
        }
        outputs.push_back(out);
        auto type = cast<RankedTensorType>(resultTypes[r]);
        std::string name = resultTypes.size() == 1
                               ? "out"
                               : "out" + std::to_string(r);
        k.args.push_back({name, dtypeName(type.getElementType()),
                          dimsOf(fn.getResultAttrOfType<ArrayAttr>(
                                     r, "attn.dims"),
                                 type),
                          true});
      }
      break;
    }
    FailureOr<TensorValue> result = failure();
    if (auto a = dyn_cast<attn::AttendOp>(op))
      result = buildAttend(a, values);
    else if (auto w = dyn_cast<attn::WindowedAttendOp>(op))
      result = buildWindowed(w, values);
    else if (isa<attn::LinearOp, attn::LayerNormOp, attn::GeluOp, attn::ReluOp,
                 attn::AddOp, attn::SubOp, attn::MulOp, attn::SplitHeadsOp,
                 attn::MergeHeadsOp>(op))
      result = buildDense(&op, values);
    else
      return op.emitError() << "codegen does not support '" << op.getName()
                            << "' yet";
    if (failed(result))
      return failure();
    values.tensors[op.getResult(0)] = *result;
  }
  k.pipeline = H::Pipeline(outputs);
  return k;
}
