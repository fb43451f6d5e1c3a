// RUN: attn-opt %s --attn-choose-schedule=vector-width=8 | FileCheck %s --check-prefix=AVX2
// RUN: attn-opt %s --attn-choose-schedule=vector-width=16 | FileCheck %s --check-prefix=AVX512

!t = tensor<?x?x?x64xf32>

// AVX2-LABEL: func.func @schedules
// AVX2: attn.attend {{.*}}{attn.register_rows = 6 : i64, attn.tile_queries = 48 : i64, attn.vector_width = 8 : i64}
// AVX2: attn.windowed_attend {{.*}}attn.tile_queries = 64 : i64, attn.vector_width = 8 : i64
// A schedule written by hand is kept.
// AVX2: attn.attend {{.*}}{attn.register_rows = 6 : i64, attn.tile_queries = 96 : i64, attn.vector_width = 8 : i64}
// AVX512-LABEL: func.func @schedules
// AVX512: attn.attend {{.*}}{attn.register_rows = 8 : i64, attn.tile_queries = 48 : i64, attn.vector_width = 16 : i64}
func.func @schedules(%q: !t) -> (!t, !t, !t) {
  %a = attn.attend %q, %q, %q : !t, !t, !t -> !t
  %w = attn.windowed_attend %q, %q, %q {left = 2 : i64, right = 2 : i64} : !t, !t, !t -> !t
  %c = attn.attend %q, %q, %q {attn.tile_queries = 96 : i64} : !t, !t, !t -> !t
  return %a, %w, %c : !t, !t, !t
}
