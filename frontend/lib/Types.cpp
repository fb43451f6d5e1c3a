//===- Types.cpp ----------------------------------------------------------===//
#include "attnc/Frontend/Types.h"

#include <algorithm>
#include <cctype>
#include <numeric>
#include <optional>

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

// A symbolic dimension is a monomial: a coefficient num/den times names
// with integer exponents (negative ones divide), names in order of first
// appearance. Divisions are exact: split_heads requires its heads to divide
// the model width, and the runtime checks every division of a derived
// dimension. So (E/H)·H = E, (H·D)/H = D and (24/H)·H = 24 (a literal).
namespace {

struct Monomial {
  int64_t num = 1, den = 1;
  std::vector<std::pair<std::string, int>> factors; // name, exponent != 0

  void multiply(const std::string &name, int exponent) {
    for (auto it = factors.begin(); it != factors.end(); ++it)
      if (it->first == name) {
        if ((it->second += exponent) == 0)
          factors.erase(it);
        return;
      }
    factors.push_back({name, exponent});
  }
  /// this · o^sign; false when the coefficient overflows.
  bool combine(const Monomial &o, int sign) {
    int64_t n = sign > 0 ? o.num : o.den, d = sign > 0 ? o.den : o.num;
    if (d == 0 || __builtin_mul_overflow(num, n, &num) ||
        __builtin_mul_overflow(den, d, &den))
      return false;
    int64_t g = std::gcd(num, den);
    if (g > 1) {
      num /= g;
      den /= g;
    }
    for (const auto &[name, e] : o.factors)
      multiply(name, sign * e);
    return true;
  }
  bool isLiteral() const { return factors.empty() && den == 1; }
  std::string str() const {
    std::string s = num != 1 || nonePositive() ? std::to_string(num) : "";
    for (const auto &[name, e] : factors)
      for (int k = 0; k < e; ++k)
        s += (s.empty() ? "" : "*") + name;
    if (den != 1)
      s += "/" + std::to_string(den);
    for (const auto &[name, e] : factors)
      for (int k = 0; k < -e; ++k)
        s += "/" + name;
    return s;
  }
  /// The same monomial whatever the order of its factors.
  std::string key() const {
    std::vector<std::pair<std::string, int>> sorted = factors;
    std::sort(sorted.begin(), sorted.end());
    std::string s = std::to_string(num) + "/" + std::to_string(den);
    for (const auto &[name, e] : sorted)
      s += " " + name + "^" + std::to_string(e);
    return s;
  }

private:
  bool nonePositive() const {
    return std::none_of(factors.begin(), factors.end(),
                        [](const auto &f) { return f.second > 0; });
  }
};

/// Reads what str() writes (and parenthesised forms): names and integers
/// joined by * and /, left to right.
class MonomialParser {
public:
  explicit MonomialParser(const std::string &s) : s(s) {}
  std::optional<Monomial> parse() {
    std::optional<Monomial> m = product();
    if (!m || pos != s.size())
      return std::nullopt;
    return m;
  }

private:
  std::optional<Monomial> product() {
    std::optional<Monomial> m = atom();
    while (m && pos < s.size() && (s[pos] == '*' || s[pos] == '/')) {
      int sign = s[pos++] == '*' ? 1 : -1;
      std::optional<Monomial> rhs = atom();
      if (!rhs || !m->combine(*rhs, sign))
        return std::nullopt;
    }
    return m;
  }
  std::optional<Monomial> atom() {
    Monomial m;
    if (pos < s.size() && s[pos] == '(') {
      ++pos;
      std::optional<Monomial> inner = product();
      if (!inner || pos >= s.size() || s[pos] != ')')
        return std::nullopt;
      ++pos;
      return inner;
    }
    size_t start = pos;
    while (pos < s.size() && (std::isalnum((unsigned char)s[pos]) || s[pos] == '_'))
      ++pos;
    if (pos == start)
      return std::nullopt;
    std::string word = s.substr(start, pos - start);
    if (std::isdigit((unsigned char)word[0])) {
      if (word.size() > 18 ||
          !std::all_of(word.begin(), word.end(), ::isdigit))
        return std::nullopt;
      m.num = std::stoll(word);
      if (m.num == 0)
        return std::nullopt; // 0 in a monomial: leave such a symbol alone
    } else {
      m.factors.push_back({word, 1});
    }
    return m;
  }
  const std::string &s;
  size_t pos = 0;
};

std::optional<Monomial> monomial(const Dim &d) {
  if (d.isStatic()) {
    if (d.value == 0)
      return std::nullopt;
    Monomial m;
    m.num = d.value;
    return m;
  }
  return MonomialParser(d.sym).parse();
}

// Wraps compound symbols in parentheses: the fallback spelling of a product
// or quotient that is not a monomial (a coefficient that overflows).
std::string operand(const Dim &d) {
  if (d.isStatic())
    return std::to_string(d.value);
  for (char c : d.sym)
    if (c == '*' || c == '/')
      return "(" + d.sym + ")";
  return d.sym;
}

Dim combine(const Dim &a, const Dim &b, int sign) {
  std::optional<Monomial> ma = monomial(a), mb = monomial(b);
  if (ma && mb && ma->combine(*mb, sign)) {
    if (ma->isLiteral() && ma->num >= 0)
      return Dim::lit(ma->num);
    return Dim::named(ma->str());
  }
  return Dim::named(operand(a) + (sign > 0 ? "*" : "/") + operand(b));
}

} // namespace

bool Dim::operator==(const Dim &o) const {
  if (isStatic() || o.isStatic())
    return isStatic() == o.isStatic() && value == o.value;
  if (sym == o.sym)
    return true;
  std::optional<Monomial> a = MonomialParser(sym).parse(),
                          b = MonomialParser(o.sym).parse();
  return a && b && a->key() == b->key();
}

Dim attnc::mulDims(const Dim &a, const Dim &b) {
  int64_t product;
  // A product too large to be a real size stays symbolic (checked at run
  // time) instead of overflowing.
  if (a.isStatic() && b.isStatic())
    return __builtin_mul_overflow(a.value, b.value, &product)
               ? Dim::named(operand(a) + "*" + operand(b))
               : Dim::lit(product);
  return combine(a, b, 1);
}

Dim attnc::divDims(const Dim &a, const Dim &b) {
  // Two literals fold as C does (split_heads checks divisibility first).
  if (a.isStatic() && b.isStatic() && b.value != 0)
    return Dim::lit(a.value / b.value);
  return combine(a, b, -1);
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
