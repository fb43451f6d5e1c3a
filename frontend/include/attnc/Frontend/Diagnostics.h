//===- Diagnostics.h - file:line:col errors for the .attn frontend --------===//
//
// The frontend stops at the first error (every later error would likely be a
// consequence of it) and reports it clang-style with the source line and a
// caret, so a user sees exactly where to look.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_FRONTEND_DIAGNOSTICS_H
#define ATTNC_FRONTEND_DIAGNOSTICS_H

#include <memory>
#include <string>

namespace attnc {

/// A position in a source buffer; line and column are 1-based.
struct SourceLoc {
  std::shared_ptr<std::string> file;
  int line = 0;
  int col = 0;
  const std::string &fileName() const;
};

class DiagnosticEngine {
public:
  DiagnosticEngine(std::string fileName, std::string source);

  /// Records an error; only the first one is kept.
  void error(const SourceLoc &loc, const std::string &message);
  bool hasError() const { return failed; }
  const std::string &message() const { return first; }
  /// `file:line:col: error: message`, the source line and a caret.
  std::string render() const;
  const std::shared_ptr<std::string> &file() const { return fileName; }
  const std::string &source() const { return text; }

private:
  std::shared_ptr<std::string> fileName;
  std::string text;
  bool failed = false;
  SourceLoc firstLoc;
  std::string first;
};

} // namespace attnc

#endif
