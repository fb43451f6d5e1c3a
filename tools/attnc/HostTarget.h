//===- HostTarget.h - what `--target=host` means --------------------------===//
#ifndef ATTNC_TOOLS_ATTNC_HOSTTARGET_H
#define ATTNC_TOOLS_ATTNC_HOSTTARGET_H

#include "attnc/Target/TargetInfo.h"

#include <string>

namespace attnc {

/// This CPU's features as a target, from CPUID — the only place attnc
/// reads it. The environment variable ATTNC_HOST_TARGET (a target such as
/// x86-64-v4) stands in for CPUID, so that a test run can play an AVX-512
/// host on an AVX2 machine; an invalid value is an error.
std::optional<TargetInfo> hostTarget(std::string &error);

} // namespace attnc

#endif
