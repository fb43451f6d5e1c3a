//===- Frontend.h - .attn text to a checked AST in one call ---------------===//
#ifndef ATTNC_FRONTEND_FRONTEND_H
#define ATTNC_FRONTEND_FRONTEND_H

#include "attnc/Frontend/AST.h"
#include "attnc/Frontend/Sema.h"

#include <optional>

namespace attnc {

/// Lexes, parses and checks the buffer held by `diags`. On failure the first
/// error is in `diags` (render() gives file:line:col: error: ...).
std::optional<Module> parseAndCheck(DiagnosticEngine &diags,
                                    std::vector<KernelInfo> &infos);

} // namespace attnc

#endif
