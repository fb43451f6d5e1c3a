//===- Parser.h - recursive-descent parser for .attn ----------------------===//
#ifndef ATTNC_FRONTEND_PARSER_H
#define ATTNC_FRONTEND_PARSER_H

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Lexer.h"

#include <optional>

namespace attnc {

/// Parses a whole file. Returns nullopt after reporting the first syntax
/// error to `diags`.
std::optional<Module> parseModule(DiagnosticEngine &diags);

} // namespace attnc

#endif
