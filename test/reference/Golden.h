//===- Golden.h - golden files produced outside the project ---------------===//
//
// LSH goldens: Hugging Face's LSHSelfAttention (eval mode, identity
// projections) run on fixed inputs by scripts/lsh_goldens.py, written to
// test/reference/golden/lsh/<name>.bin. The folder comes from the compile
// definition ATTNC_GOLDEN_DIR (set by attnc-reference for its users).
//
// File format (little-endian, no padding):
//   char    magic[8]   "ATTNLSH1"
//   int64   header[12] B, H, L, D, R, N (buckets), C (chunk), before, after,
//                      causal (0/1), seed (the rotation generator's seed, or
//                      −1 when rot was not drawn from it), hfBits (64: HF ran
//                      in float64; 32: in float32)
//   float32 qk[B, H, L, D]      shared query/key, our layout
//   float32 v[B, H, L, D]       values
//   float32 rot[H, D, R, N/2]   the rotations HF was given (its layout)
//   float64 out[B, H, L, D]     HF's output, split into heads
// HF ran on the float32 inputs widened exactly to float64.
//
//===----------------------------------------------------------------------===//
#ifndef ATTNC_TEST_GOLDEN_H
#define ATTNC_TEST_GOLDEN_H

#include "Reference.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attnc::ref {

struct LshGolden {
  std::string name; // file name without .bin
  int64_t B = 0, H = 0, L = 0, D = 0, R = 0, buckets = 0, chunk = 0,
          before = 0, after = 0;
  bool causal = false;
  bool hasSeed = false; // rot == lshRotations(seed, H, D, R, buckets / 2)
  uint64_t seed = 0;
  int hfBits = 64;
  Tensor qk, v, rot;          // [B,H,L,D], [B,H,L,D], [H,D,R,N/2]
  Tensor expected;            // HF's output rounded to float, [B,H,L,D]
  std::vector<double> expected64; // the same, as HF computed it
};

/// The folder of the golden files: ATTNC_GOLDEN_DIR (compile definition).
std::string goldenDir();
/// Sorted paths of goldenDir()/lsh/*.bin (empty if there are none).
std::vector<std::string> lshGoldenFiles();
/// Reads one LSH golden file; throws std::runtime_error on a bad file.
LshGolden loadLshGolden(const std::string &path);

} // namespace attnc::ref

#endif
