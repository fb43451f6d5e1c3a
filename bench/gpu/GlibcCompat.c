/*===- GlibcCompat.c - keep attnc-gpu-bench loadable on glibc 2.35 --------===*
 *
 * attnc-gpu-bench links libstdc++ statically so that it runs on a GPU
 * machine that has nothing but glibc and the NVIDIA driver. The static
 * libstdc++ of GCC 12 and later always drags in std::random_device's object
 * (through std::logic_error), which calls arc4random; linked against glibc
 * 2.36 or later that reference binds to arc4random@GLIBC_2.36 and the
 * binary no longer starts on glibc 2.35 (Ubuntu 22.04). Defining it here
 * binds the reference inside the executable instead. Nothing in the
 * benchmark uses std::random_device; this is a correct arc4random anyway
 * (getrandom(2), the kernel's CSPRNG).
 *
 *===----------------------------------------------------------------------===*/
#define _GNU_SOURCE 1 /* clock_gettime, getrandom under -std=c11 */
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

uint32_t arc4random(void);

uint32_t arc4random(void) {
  uint32_t value = 0;
  if (getrandom(&value, sizeof value, 0) == (ssize_t)sizeof value)
    return value;
  /* getrandom unavailable (kernel < 3.17): not cryptographic, never used. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t x = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
  x ^= x >> 31;
  return (uint32_t)(x ^ (x >> 32));
}
