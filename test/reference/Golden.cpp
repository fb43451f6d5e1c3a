//===- Golden.cpp ---------------------------------------------------------===//
#include "Golden.h"

#include <algorithm>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <stdexcept>

using namespace attnc::ref;

#ifndef ATTNC_GOLDEN_DIR
#error "ATTNC_GOLDEN_DIR must name test/reference/golden"
#endif

std::string attnc::ref::goldenDir() { return ATTNC_GOLDEN_DIR; }

std::vector<std::string> attnc::ref::lshGoldenFiles() {
  std::string dir = goldenDir() + "/lsh";
  std::vector<std::string> files;
  if (DIR *d = opendir(dir.c_str())) {
    while (dirent *e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".bin") == 0)
        files.push_back(dir + "/" + n);
    }
    closedir(d);
  }
  std::sort(files.begin(), files.end());
  return files;
}

namespace {
struct Reader {
  std::ifstream in;
  std::string path;
  void bytes(void *p, size_t n) {
    in.read(static_cast<char *>(p), std::streamsize(n));
    if (!in)
      throw std::runtime_error(path + ": truncated golden file");
  }
  // The files are little-endian; so are the hosts attnc targets.
  template <typename T> std::vector<T> array(int64_t n) {
    std::vector<T> v(static_cast<size_t>(n));
    bytes(v.data(), v.size() * sizeof(T));
    return v;
  }
};
} // namespace

LshGolden attnc::ref::loadLshGolden(const std::string &path) {
  static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE types");
  Reader r{std::ifstream(path, std::ios::binary), path};
  if (!r.in)
    throw std::runtime_error(path + ": cannot open");
  char magic[8];
  r.bytes(magic, 8);
  if (std::memcmp(magic, "ATTNLSH1", 8) != 0)
    throw std::runtime_error(path + ": not an ATTNLSH1 golden file");
  std::vector<int64_t> h = r.array<int64_t>(12);
  LshGolden g;
  std::string base = path.substr(path.find_last_of('/') + 1);
  g.name = base.substr(0, base.size() - 4);
  g.B = h[0], g.H = h[1], g.L = h[2], g.D = h[3], g.R = h[4];
  g.buckets = h[5], g.chunk = h[6], g.before = h[7], g.after = h[8];
  g.causal = h[9] != 0;
  g.hasSeed = h[10] >= 0;
  g.seed = g.hasSeed ? uint64_t(h[10]) : 0;
  g.hfBits = int(h[11]);
  for (int i = 0; i < 9; ++i)
    if (h[size_t(i)] <= 0 && i < 7)
      throw std::runtime_error(path + ": bad shape in header");
  if (g.buckets % 2 != 0)
    throw std::runtime_error(path + ": odd bucket count");
  g.qk = Tensor({g.B, g.H, g.L, g.D});
  g.v = Tensor({g.B, g.H, g.L, g.D});
  g.rot = Tensor({g.H, g.D, g.R, g.buckets / 2});
  g.expected = Tensor({g.B, g.H, g.L, g.D});
  g.qk.data = r.array<float>(g.qk.size());
  g.v.data = r.array<float>(g.v.size());
  g.rot.data = r.array<float>(g.rot.size());
  g.expected64 = r.array<double>(g.expected.size());
  for (size_t i = 0; i < g.expected64.size(); ++i)
    g.expected.data[i] = float(g.expected64[i]);
  if (r.in.peek() != std::char_traits<char>::eof())
    throw std::runtime_error(path + ": trailing bytes");
  return g;
}
