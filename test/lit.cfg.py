# lit configuration for attnc: FileCheck tests of every compiler stage.
import os

import lit.formats

config.name = "attnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".attn", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attnc_obj_root, "test")
# Inputs that are not tests by themselves (install/: a CMake project run by
# the ctest install-prefix).
config.excludes = ["lit.cfg.py", "unit", "fuzz", "numerics", "reference", "install", "threads", "random", "cuda", "Inputs", "CMakeLists.txt"]

# The driver by full path, for RUN lines that empty PATH to show that attnc
# needs no C compiler or archiver.
config.substitutions.append(("%attnc_exe", os.path.join(config.attnc_tools_dir, "attnc", "attnc")))
# What a user program compiles against (runtime.h), for header tests.
config.substitutions.append(("%runtime_include", os.path.join(config.attnc_src_root, "runtime", "include")))
config.substitutions.append(("%examples", os.path.join(config.attnc_src_root, "examples")))

# attnc's own tools first, then FileCheck, not and split-file from LLVM 19.
for d in ("attnc", "attn-opt"):
    config.environment["PATH"] = os.pathsep.join(
        [os.path.join(config.attnc_tools_dir, d), config.environment.get("PATH", "")])
config.environment["PATH"] = os.pathsep.join(
    [config.environment["PATH"], config.llvm_tools_dir])

# lit passes only a fixed list of variables to RUN lines: hand on the host
# override that the ctest lit-as-avx512-host sets (attnc reads it in place of
# CPUID for --target=host).
if "ATTNC_HOST_TARGET" in os.environ:
    config.environment["ATTNC_HOST_TARGET"] = os.environ["ATTNC_HOST_TARGET"]
    # Tests that pin their targets need not run again under an override.
    config.available_features.add("host-override")
