// RUN: not attnc -x mlir %s --target=x86-64-v4 -o %t 2>&1 | FileCheck %s
// A hand-written schedule that asks for bf16 dot products on a target
// without AVX512-BF16 is refused by codegen, at the op.
// CHECK: bf16-dot-target.mlir:[[@LINE+3]]:8: error: the schedule's bf16 dot products need AVX512-BF16, which target 'x86-64-v4' lacks (add +avx512_bf16)
!t = tensor<?x?x?x64xbf16>
func.func @k(%q: !t) -> !t {
  %a = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, bf16_dot = true>} : !t, !t, !t -> !t
  return %a : !t
}
