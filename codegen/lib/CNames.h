//===- CNames.h - internal: user names in generated C ---------------------===//
//
// A kernel's name becomes a C function that a user program links against;
// its parameters' names appear in the generated header. Kernel names cannot
// be mangled (users call them by name), so the unsafe ones are refused;
// parameter names can, so the header renames the unsafe ones.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_CODEGEN_LIB_CNAMES_H
#define ATTNC_CODEGEN_LIB_CNAMES_H

#include <optional>
#include <string>
#include <vector>

namespace attnc {
namespace codegen {

/// Why `name` cannot be the symbol of a generated C function (a C or C++
/// keyword, a reserved identifier, the runtime's or Halide's prefix, a
/// function of the C library or of this process), or nothing if it can.
std::optional<std::string> kernelNameProblem(const std::string &name);

/// The parameter names the header declares: each user name where it is a
/// safe, unique C and C++ identifier, else `argN` (made unique).
std::vector<std::string> headerParamNames(const std::vector<std::string> &names);

} // namespace codegen
} // namespace attnc

#endif
