//===- ResidentMemory.h - this process's resident memory ------------------===//
#ifndef ATTNC_BENCH_RESIDENTMEMORY_H
#define ATTNC_BENCH_RESIDENTMEMORY_H

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace attnc::bench {

/// VmRSS or VmHWM (the peak) of this process in MiB, from /proc/self/status.
inline double statusMiB(const char *field) {
  FILE *f = std::fopen("/proc/self/status", "r");
  if (!f)
    return 0;
  char line[256];
  double kib = 0;
  size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, field, n) == 0 && line[n] == ':')
      kib = std::atof(line + n + 1);
  std::fclose(f);
  return kib / 1024.0;
}

} // namespace attnc::bench

#endif
