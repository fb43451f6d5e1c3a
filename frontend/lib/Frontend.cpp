//===- Frontend.cpp -------------------------------------------------------===//
#include "attnc/Frontend/Frontend.h"
#include "attnc/Frontend/Parser.h"

using namespace attnc;

std::optional<Module> attnc::parseAndCheck(DiagnosticEngine &diags,
                                           std::vector<KernelInfo> &infos) {
  std::optional<Module> m = parseModule(diags);
  if (!m || !checkModule(*m, diags, &infos))
    return std::nullopt;
  return m;
}
