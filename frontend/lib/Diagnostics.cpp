//===- Diagnostics.cpp ----------------------------------------------------===//
#include "attnc/Frontend/Diagnostics.h"

#include <sstream>

using namespace attnc;

const std::string &SourceLoc::fileName() const {
  static const std::string unknown = "<unknown>";
  return file ? *file : unknown;
}

DiagnosticEngine::DiagnosticEngine(std::string name, std::string source)
    : fileName(std::make_shared<std::string>(std::move(name))),
      text(std::move(source)) {}

void DiagnosticEngine::error(const SourceLoc &loc, const std::string &msg) {
  if (failed)
    return;
  failed = true;
  firstLoc = loc;
  first = msg;
}

std::string DiagnosticEngine::render() const {
  if (!failed)
    return "";
  std::ostringstream os;
  os << *fileName << ":" << firstLoc.line << ":" << firstLoc.col
     << ": error: " << first << "\n";
  // Echo the offending line with a caret under the column.
  int line = 1;
  size_t start = 0;
  while (line < firstLoc.line && start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      start = text.size();
      break;
    }
    start = nl + 1;
    ++line;
  }
  if (line == firstLoc.line && start <= text.size()) {
    size_t end = text.find('\n', start);
    std::string src = text.substr(start, end == std::string::npos
                                             ? std::string::npos
                                             : end - start);
    std::string caret;
    for (int i = 1; i < firstLoc.col && size_t(i - 1) < src.size(); ++i)
      caret += src[i - 1] == '\t' ? '\t' : ' ';
    os << src << "\n" << caret << "^\n";
  }
  return os.str();
}
