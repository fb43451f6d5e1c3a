//===- StandaloneReplay.cpp - run a fuzz target over files ----------------===//
//
// A main() for FrontendFuzzer.cpp or MlirFuzzer.cpp without libFuzzer, so
// that every kept corpus input and past finding is replayed by ctest on any
// compiler. `--split-input-file` makes every later file count as several
// inputs, split at lines `// -----` as attn-opt --split-input-file does: the
// dialect and lowering tests serve as the MLIR fuzzer's seeds that way.
//
//===----------------------------------------------------------------------===//
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

std::vector<std::string> splitAtMarkers(const std::string &text) {
  std::vector<std::string> parts(1);
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("// -----", 0) == 0) {
      parts.emplace_back();
      continue;
    }
    parts.back() += line + "\n";
  }
  return parts;
}

} // namespace

int main(int argc, char **argv) {
  int replayed = 0;
  bool split = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--split-input-file") == 0) {
      split = true;
      continue;
    }
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "replay: cannot read %s\n", argv[i]);
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::vector<std::string> inputs =
        split ? splitAtMarkers(ss.str()) : std::vector<std::string>{ss.str()};
    for (const std::string &bytes : inputs) {
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()),
                             bytes.size());
      ++replayed;
    }
  }
  std::printf("replayed %d input(s) without a crash\n", replayed);
  return 0;
}
