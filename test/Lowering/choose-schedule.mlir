// Every target is named: the schedule never depends on the compiling host.
// RUN: attn-opt %s --attn-choose-schedule='target=x86-64-v3' | FileCheck %s --check-prefix=AVX2
// RUN: attn-opt %s --attn-choose-schedule='target=x86-64-v4' | FileCheck %s --check-prefix=AVX512
// RUN: attn-opt %s --attn-choose-schedule='target=x86-64-v2' | FileCheck %s --check-prefix=SSE
// The printed attributes parse back (round trip through attn-opt).
// RUN: attn-opt %s --attn-choose-schedule='target=x86-64-v4' | attn-opt | FileCheck %s --check-prefix=AVX512
// Without the option the module's attn.target decides.
// RUN: sed 's/^module {/module attributes {attn.target = #attn.target<"x86-64-v4">} {/' %s | attn-opt --attn-choose-schedule | FileCheck %s --check-prefix=AVX512
// RUN: not attn-opt %s --attn-choose-schedule 2>&1 | FileCheck %s --check-prefix=NOTARGET
// RUN: not attn-opt %s --attn-choose-schedule='target=host' 2>&1 | FileCheck %s --check-prefix=HOST
// RUN: attn-opt %s --attn-choose-schedule='target=cuda:sm_90' | FileCheck %s --check-prefix=CUDA
// bf16 attends take vdpbf16ps where the target has AVX512-BF16 (only).
// RUN: attn-opt %s --attn-choose-schedule='target=x86-64-v4+avx512_bf16' | FileCheck %s --check-prefix=BF16
// RUN: attn-opt %s --attn-choose-schedule='target=x86-64-v4' | FileCheck %s --check-prefix=NOBF16

!t = tensor<?x?x?x64xf32>

// AVX2: module attributes {attn.target = #attn.target<"x86-64-v3">}
// AVX2-LABEL: func.func @schedules
// AVX2: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 16, value_tile = 16, value_rows = 6, key_chunk = 1024>}
// AVX2: attn.windowed_attend {{.*}}attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 64, register_rows = 4, key_tile = 16, value_tile = 16, value_rows = 4>
// A schedule written by hand is kept.
// AVX2: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 96, register_rows = 4, key_tile = 8, value_tile = 8, value_rows = 4>}
// AVX512: module attributes {attn.target = #attn.target<"x86-64-v4">}
// AVX512-LABEL: func.func @schedules
// AVX512: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 6, key_tile = 64, value_tile = 64, value_rows = 6, key_chunk = 1024>}
// AVX512: attn.windowed_attend {{.*}}attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 64, register_rows = 8, key_tile = 32, value_tile = 32, value_rows = 8>
// A band or block mask bounds each tile's keys already: no key chunks.
// AVX512: attn.attend {{.*}}attn.mask = #attn.mask<band, hi = 0>, attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 6, key_tile = 64, value_tile = 64, value_rows = 6>
// AVX512: attn.attend {{.*}}attn.mask = #attn.mask<block, size = 64>, attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 6, key_tile = 64, value_tile = 64, value_rows = 6>
// AVX512: attn.attend {{.*}}attn.mask = #attn.mask<elementwise>, attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 6, key_tile = 64, value_tile = 64, value_rows = 6, key_chunk = 1024>}
// SSE-LABEL: func.func @schedules
// SSE: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 4, tile_queries = 48, register_rows = 6, key_tile = 8, value_tile = 8, value_rows = 6, key_chunk = 1024>}
// NOTARGET: error: attn-choose-schedule needs a target: pass target=x86-64-v3 (or another) or set attn.target on the module
// HOST: error: attn-choose-schedule: target 'host' must be resolved to this CPU's features by the driver; name a level such as x86-64-v3
// CUDA: module attributes {attn.target = #attn.target<"cuda:sm_90">}
// CUDA-LABEL: func.func @schedules
// CUDA: attn.attend {{.*}}{attn.schedule = #attn.gpu_schedule<warps = 4, tile_queries = 64, key_tile = 64>}
// CUDA: attn.windowed_attend {{.*}}attn.schedule = #attn.gpu_schedule<warps = 4, tile_queries = 64, key_tile = 64>
// CUDA: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 96, register_rows = 4, key_tile = 8, value_tile = 8, value_rows = 4>}
// BF16: module attributes {attn.target = #attn.target<"x86-64-v4+avx512_bf16">}
// BF16-LABEL: func.func @schedules
// BF16: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 6, key_tile = 64, value_tile = 64, value_rows = 6, key_chunk = 1024>}
// BF16-LABEL: func.func @bf16
// BF16: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 6, key_tile = 64, value_tile = 64, value_rows = 6, bf16_dot = true, key_chunk = 1024>}
// BF16: attn.windowed_attend {{.*}}attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 64, register_rows = 8, key_tile = 32, value_tile = 32, value_rows = 8>
// NOBF16-LABEL: func.func @bf16
// NOBF16: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 6, key_tile = 64, value_tile = 64, value_rows = 6, key_chunk = 1024>}
module {
func.func @schedules(%q: !t) -> (!t, !t, !t) {
  %a = attn.attend %q, %q, %q : !t, !t, !t -> !t
  %w = attn.windowed_attend %q, %q, %q {left = 2 : i64, right = 2 : i64} : !t, !t, !t -> !t
  %c = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 96, register_rows = 4, key_tile = 8, value_tile = 8, value_rows = 4>} : !t, !t, !t -> !t
  %band = attn.attend %q, %q, %q {causal, attn.mask = #attn.mask<band, hi = 0>} : !t, !t, !t -> !t
  %block = attn.attend %q, %q, %q {attn.mask = #attn.mask<block, size = 64>} : !t, !t, !t -> !t
  %elem = attn.attend %q, %q, %q {attn.mask = #attn.mask<elementwise>} : !t, !t, !t -> !t
  return %a, %w, %c : !t, !t, !t
}
func.func @bf16(%q: tensor<?x?x?x64xbf16>) -> (tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>) {
  %a = attn.attend %q, %q, %q : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  %w = attn.windowed_attend %q, %q, %q {left = 2 : i64, right = 2 : i64} : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return %a, %w : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>
}
}
