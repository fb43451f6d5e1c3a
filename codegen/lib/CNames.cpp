//===- CNames.cpp - user names in generated C -----------------------------===//
#include "CNames.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"

#include <algorithm>
#include <dlfcn.h>

using namespace attnc::codegen;

namespace {

/// C17 and C++17 keywords, alternative tokens, and the names runtime.h and
/// <stdint.h> declare as types or macros.
const llvm::StringSet<> &unsafeIdentifiers() {
  static const llvm::StringSet<> set = {
      // C17
      "auto", "break", "case", "char", "const", "continue", "default", "do",
      "double", "else", "enum", "extern", "float", "for", "goto", "if",
      "inline", "int", "long", "register", "restrict", "return", "short",
      "signed", "sizeof", "static", "struct", "switch", "typedef", "union",
      "unsigned", "void", "volatile", "while", "_Alignas", "_Alignof",
      "_Atomic", "_Bool", "_Complex", "_Generic", "_Imaginary", "_Noreturn",
      "_Static_assert", "_Thread_local",
      // C++17 (and what C headers define as macros)
      "alignas", "alignof", "asm", "bool", "catch", "char16_t", "char32_t",
      "char8_t", "class", "concept", "const_cast", "constexpr", "decltype",
      "delete", "dynamic_cast", "explicit", "export", "false", "friend",
      "mutable", "namespace", "new", "noexcept", "nullptr", "operator",
      "private", "protected", "public", "reinterpret_cast", "requires",
      "static_assert", "static_cast", "template", "this", "thread_local",
      "throw", "true", "try", "typeid", "typename", "using", "virtual",
      "wchar_t", "co_await", "co_return", "co_yield", "consteval",
      "constinit", "and", "and_eq", "bitand", "bitor", "compl", "not",
      "not_eq", "or", "or_eq", "xor", "xor_eq", "NULL", "main",
      // <stdint.h> types
      "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t",
      "uint32_t", "uint64_t", "intptr_t", "uintptr_t", "intmax_t",
      "uintmax_t", "size_t", "ptrdiff_t", "wint_t"};
  return set;
}

bool isIdentifier(llvm::StringRef s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  return llvm::all_of(s, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

/// Reserved for the implementation in C and C++ (_X, __x, x__y), or the
/// namespaces of this project's runtime, Halide and generated symbols, or
/// a macro-like all-caps name from <stdint.h> (INT32_MAX, UINT64_C).
std::optional<std::string> reserved(llvm::StringRef s) {
  if (s.starts_with("_") && s.size() > 1 &&
      (s[1] == '_' || std::isupper(static_cast<unsigned char>(s[1]))))
    return "is reserved in C (it starts with '_' and a capital or '_')";
  if (s.contains("__"))
    return "is reserved in C++ (it contains '__')";
  for (llvm::StringRef prefix : {"attn_", "ATTN_", "halide_", "Halide",
                                 "HALIDE_"})
    if (s.starts_with(prefix))
      return "uses the prefix '" + prefix.str() + "' of the runtime";
  if ((s.starts_with("INT") || s.starts_with("UINT") ||
       s.starts_with("SIZE") || s.starts_with("PTRDIFF")) &&
      (s.ends_with("_MAX") || s.ends_with("_MIN") || s.ends_with("_C")))
    return "is a macro of <stdint.h>";
  return std::nullopt;
}

} // namespace

std::optional<std::string>
attnc::codegen::kernelNameProblem(const std::string &name) {
  if (!isIdentifier(name))
    return "is not a C identifier";
  if (unsafeIdentifiers().contains(name))
    return "is a C or C++ keyword or a standard name";
  if (auto why = reserved(name))
    return why;
  // A function of the C library (or of anything this process loaded: libm,
  // libpthread, libstdc++) would be replaced in every program that links
  // the kernel: `kernel malloc` must not define malloc.
  if (dlsym(RTLD_DEFAULT, name.c_str()))
    return "is a function of the C library or another system library; a "
           "kernel of that name would replace it in programs that link it";
  return std::nullopt;
}

std::vector<std::string>
attnc::codegen::headerParamNames(const std::vector<std::string> &names) {
  llvm::StringSet<> used;
  std::vector<std::string> out;
  auto safe = [&](const std::string &n) {
    return isIdentifier(n) && !unsafeIdentifiers().contains(n) &&
           !reserved(n) && !used.contains(n);
  };
  for (size_t i = 0; i < names.size(); ++i) {
    std::string n = names[i];
    if (!safe(n) || std::count(names.begin(), names.end(), n) > 1) {
      n = "arg" + std::to_string(i);
      while (used.contains(n) ||
             std::find(names.begin(), names.end(), n) != names.end())
        n += "_";
    }
    used.insert(n);
    out.push_back(n);
  }
  return out;
}
