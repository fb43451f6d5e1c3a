//===- Types.cpp ----------------------------------------------------------===//
#include "attnc/Frontend/Types.h"

using namespace attnc;

const char *attnc::dtypeName(DType t) {
  switch (t) {
  case DType::F32: return "f32";
  case DType::F16: return "f16";
  case DType::BF16: return "bf16";
  case DType::I32: return "i32";
  }
  return "?";
}

bool attnc::isFloat(DType t) { return t != DType::I32; }

std::string Dim::str() const {
  return isStatic() ? std::to_string(value) : sym;
}

// Wraps compound symbols in parentheses so that composition stays readable
// and unambiguous: (E/8)*8 rather than E/8*8.
static std::string operand(const Dim &d) {
  if (d.isStatic())
    return std::to_string(d.value);
  for (char c : d.sym)
    if (c == '*' || c == '/')
      return "(" + d.sym + ")";
  return d.sym;
}

Dim attnc::mulDims(const Dim &a, const Dim &b) {
  int64_t product;
  // A product too large to be a real size stays symbolic (checked at run
  // time) instead of overflowing.
  if (a.isStatic() && b.isStatic() &&
      !__builtin_mul_overflow(a.value, b.value, &product))
    return Dim::lit(product);
  // (X/b)·b = X: merge_heads undoing split_heads.
  std::string suffix = "/" + operand(b);
  if (!a.isStatic() && a.sym.size() > suffix.size() &&
      a.sym.compare(a.sym.size() - suffix.size(), suffix.size(), suffix) == 0) {
    std::string x = a.sym.substr(0, a.sym.size() - suffix.size());
    if (x.size() > 1 && x.front() == '(' && x.back() == ')')
      x = x.substr(1, x.size() - 2);
    return Dim::named(x);
  }
  return Dim::named(operand(b) + "*" + operand(a));
}

Dim attnc::divDims(const Dim &a, const Dim &b) {
  if (a.isStatic() && b.isStatic() && b.value != 0)
    return Dim::lit(a.value / b.value);
  return Dim::named(operand(a) + "/" + operand(b));
}

std::string TensorType::str() const {
  std::string s = dtypeName(dtype);
  s += "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + dims[i].str();
  return s + "]";
}

std::string ValueType::str() const {
  switch (kind) {
  case Invalid: return "<invalid>";
  case Tensor: return tensors[0].str();
  case Pair: return "(" + tensors[0].str() + ", " + tensors[1].str() + ")";
  case Int: return "int";
  case Float: return "float";
  case Bool: return "bool";
  }
  return "?";
}
