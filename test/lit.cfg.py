# lit configuration for attnc: FileCheck tests of every compiler stage.
import os

import lit.formats

config.name = "attnc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".attn", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.attnc_obj_root, "test")
# Inputs that are not tests by themselves.
config.excludes = ["lit.cfg.py", "unit", "fuzz", "numerics", "reference", "Inputs", "CMakeLists.txt"]

config.substitutions.append(("%examples", os.path.join(config.attnc_src_root, "examples")))

# attnc's own tools first, then FileCheck, not and split-file from LLVM 19.
for d in ("attnc", "attn-opt"):
    config.environment["PATH"] = os.pathsep.join(
        [os.path.join(config.attnc_tools_dir, d), config.environment.get("PATH", "")])
config.environment["PATH"] = os.pathsep.join(
    [config.environment["PATH"], config.llvm_tools_dir])
