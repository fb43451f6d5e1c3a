//===- Sema.h - name resolution, dimension binding and type inference -----===//
#ifndef ATTNC_FRONTEND_SEMA_H
#define ATTNC_FRONTEND_SEMA_H

#include "attnc/Frontend/AST.h"

#include <map>
#include <string>

namespace attnc {

/// Where a symbolic dimension is first bound: parameter and axis. Equal names
/// elsewhere must agree with it at run time.
struct DimBinding {
  std::string param;
  int axis = 0;
};

/// Per-kernel facts the checker derives and MLIRGen and the manifest use.
struct KernelInfo {
  std::map<std::string, DimBinding> dims;
};

/// Checks a parsed module: resolves every name, binds symbolic dimensions
/// across parameters, infers every expression's type and shape (stored on the
/// AST), and checks declared result types. Reports the first error to
/// `diags` and returns false; on success fills one KernelInfo per kernel.
bool checkModule(Module &module, DiagnosticEngine &diags,
                 std::vector<KernelInfo> *infos = nullptr);

} // namespace attnc

#endif
