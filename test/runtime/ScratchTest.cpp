//===- ScratchTest.cpp - the per-thread cache of Halide's scratch --------===//
#include "scratch.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace {

void *alloc(size_t n) { return attn_scratch_malloc(nullptr, n); }
void release(void *p) { attn_scratch_free(nullptr, p); }

TEST(Scratch, BlocksAreAlignedAndWritableWithSlack) {
  for (size_t n : {1u, 63u, 64u, 1000u, 123457u}) {
    auto *p = static_cast<unsigned char *>(alloc(n));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u) << n;
    std::memset(p, 0xab, n);
    // Halide may read 8 bytes on either side of a buffer.
    volatile unsigned char before = p[-8], after = p[n + 7];
    (void)before;
    (void)after;
    release(p);
  }
}

TEST(Scratch, AFreedBlockIsHandedBackToItsThread) {
  void *p = alloc(300000);
  release(p);
  size_t cached = attn_scratch_cached_bytes();
  EXPECT_GE(cached, 300000u);
  void *q = alloc(290000); // fits, wastes less than half
  EXPECT_EQ(q, p);
  EXPECT_EQ(attn_scratch_cached_bytes(), cached - 300032);
  release(q);
}

TEST(Scratch, ASmallRequestDoesNotPinALargeBlock) {
  void *big = alloc(1 << 20);
  release(big);
  void *small = alloc(1000);
  EXPECT_NE(small, big);
  EXPECT_GE(attn_scratch_cached_bytes(), size_t(1) << 20);
  release(small);
  EXPECT_EQ(alloc(1 << 20), big);
  release(big);
}

TEST(Scratch, CacheStaysWithinItsBudget) {
  std::vector<void *> blocks;
  for (int b = 0; b < 5; ++b)
    blocks.push_back(alloc(size_t(30) << 20));
  for (void *p : blocks)
    release(p);
  EXPECT_LE(attn_scratch_cached_bytes(), ATTN_SCRATCH_BYTES_PER_THREAD);
  EXPECT_GE(attn_scratch_cached_bytes(), size_t(30) << 20);
  // Over the budget alone: straight back to malloc.
  release(alloc(ATTN_SCRATCH_BYTES_PER_THREAD + 1));
  EXPECT_LE(attn_scratch_cached_bytes(), ATTN_SCRATCH_BYTES_PER_THREAD);
}

TEST(Scratch, ManySmallBlocksKeepAFewSlots) {
  std::vector<void *> blocks;
  for (int b = 0; b < 40; ++b)
    blocks.push_back(alloc(4096));
  size_t before = attn_scratch_cached_bytes();
  for (void *p : blocks)
    release(p);
  size_t kept = attn_scratch_cached_bytes() - before;
  EXPECT_GT(kept, 0u);
  EXPECT_LE(kept, 16u * 4096u);
}

TEST(Scratch, ThreadsKeepTheirOwnBlocks) {
  void *mine = alloc(50000);
  release(mine);
  void *theirs = nullptr;
  std::thread([&] {
    theirs = alloc(50000);
    release(theirs); // cached by that thread, freed when it exits
  }).join();
  EXPECT_NE(theirs, mine);
  EXPECT_EQ(alloc(50000), mine);
  release(mine);
}

TEST(Scratch, ImpossibleSizesFailCleanly) {
  EXPECT_EQ(alloc(SIZE_MAX), nullptr);
  EXPECT_EQ(alloc(SIZE_MAX - 100), nullptr);
  release(nullptr);
}

} // namespace
