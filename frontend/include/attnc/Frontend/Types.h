//===- Types.h - what the checker infers for every .attn expression -------===//
//
// A dimension is either a literal (known at compile time) or symbolic (a name
// bound when the kernel is called, or an expression of names such as `E/8`
// after split_heads, `H*D` after merge_heads). Two dimensions agree when both
// literals are equal or both symbols are the same product and quotient of
// names (`H*D` and `D*H`); anything else is a conflict the user must fix.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_FRONTEND_TYPES_H
#define ATTNC_FRONTEND_TYPES_H

#include <cstdint>
#include <string>
#include <vector>

namespace attnc {

enum class DType { F32, F16, BF16, I32 };
const char *dtypeName(DType t);
bool isFloat(DType t);

struct Dim {
  static constexpr int64_t kSymbolic = -1;
  int64_t value = kSymbolic; // >= 0 when known at compile time
  std::string sym;           // the symbolic expression otherwise

  static Dim lit(int64_t v) { return Dim{v, ""}; }
  static Dim named(std::string s) { return Dim{kSymbolic, std::move(s)}; }
  bool isStatic() const { return value >= 0; }
  std::string str() const;
  /// Literals by value; symbols as products and quotients of names (H*D
  /// equals D*H, (E/H)*H is E).
  bool operator==(const Dim &o) const;
  bool operator!=(const Dim &o) const { return !(*this == o); }
};

/// a·b and a/b, folded when both are literals, otherwise simplified as a
/// monomial with exact division: (E/H)·H = E, (24/H)·H = 24, H·D spelled
/// with its factors in order of first appearance.
Dim mulDims(const Dim &a, const Dim &b);
Dim divDims(const Dim &a, const Dim &b);

struct TensorType {
  DType dtype = DType::F32;
  std::vector<Dim> dims;
  std::string str() const; // f32[B, H, L, 64]
  bool operator==(const TensorType &o) const {
    return dtype == o.dtype && dims == o.dims;
  }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
};

/// The type of an expression: a tensor, a pair of tensors (from the built-ins
/// that return two results), or a scalar inside a mask/score function.
struct ValueType {
  enum Kind { Invalid, Tensor, Pair, Int, Float, Bool } kind = Invalid;
  TensorType tensors[2];

  static ValueType tensor(TensorType t) {
    ValueType v;
    v.kind = Tensor;
    v.tensors[0] = std::move(t);
    return v;
  }
  static ValueType pair(TensorType a, TensorType b) {
    ValueType v;
    v.kind = Pair;
    v.tensors[0] = std::move(a);
    v.tensors[1] = std::move(b);
    return v;
  }
  static ValueType scalar(Kind k) {
    ValueType v;
    v.kind = k;
    return v;
  }
  bool isScalar() const { return kind == Int || kind == Float || kind == Bool; }
  std::string str() const;
};

} // namespace attnc

#endif
