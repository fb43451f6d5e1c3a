// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s
// Every attn op parses, prints and parses again to the same IR.

!t4 = tensor<?x?x?x64xf32>
!i4 = tensor<?x?x2x?xi32>

// CHECK-LABEL: func.func @lsh_primitives
func.func @lsh_primitives(%qk: !t4, %v: !t4, %rot: tensor<?x64x2x4xf32>) -> !t4 {
  // CHECK: %[[B:.*]] = attn.hash_bucket %{{.*}} {buckets = 8 : i64, rounds = 2 : i64, seed = 7 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
  %b = attn.hash_bucket %qk {buckets = 8 : i64, rounds = 2 : i64, seed = 7 : i64} : !t4 -> !i4
  // CHECK: attn.hash_bucket %{{.*}} rotations(%{{.*}} : tensor<?x64x2x4xf32>) {buckets = 8 : i64, rounds = 2 : i64}
  %b2 = attn.hash_bucket %qk rotations(%rot : tensor<?x64x2x4xf32>) {buckets = 8 : i64, rounds = 2 : i64} : !t4 -> !i4
  // CHECK: %[[O:.*]], %{{.*}} = attn.sort_chunk %[[B]] {chunk = 32 : i64} : tensor<?x?x2x?xi32> -> tensor<?x?x2x?xi32>, tensor<?x?x2x?xi32>
  %order, %undo = attn.sort_chunk %b {chunk = 32 : i64} : !i4 -> !i4, !i4
  // CHECK: %[[OUT:.*]], %[[LSE:.*]] = attn.chunked_attend %{{.*}}, %{{.*}}, %{{.*}}, %[[O]] {after = 1 : i64, before = 2 : i64, causal = true, chunk = 32 : i64, normalize_keys = false, self_mask = false}
  %o, %lse = attn.chunked_attend %qk, %qk, %v, %order {chunk = 32 : i64, before = 2 : i64, after = 1 : i64, causal = true, self_mask = false, normalize_keys = false}
      : !t4, !t4, !t4, !i4 -> tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32>
  // CHECK: attn.combine_rounds %[[OUT]], %[[LSE]] : tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32> -> tensor<?x?x?x64xf32>
  %y = attn.combine_rounds %o, %lse : tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32> -> !t4
  return %y : !t4
}

// CHECK-LABEL: func.func @lsh_composite
func.func @lsh_composite(%qk: !t4, %v: !t4) -> !t4 {
  // CHECK: attn.lsh_attend %{{.*}}, %{{.*}} {buckets = 4 : i64, causal = true, chunk = 16 : i64, rounds = 1 : i64, seed = 3 : i64}
  %y = attn.lsh_attend %qk, %v {buckets = 4 : i64, rounds = 1 : i64, chunk = 16 : i64, causal = true, seed = 3 : i64} : !t4, !t4 -> !t4
  return %y : !t4
}

// CHECK-LABEL: func.func @windowed
func.func @windowed(%q: !t4, %k: !t4, %v: !t4) -> !t4 {
  // CHECK: attn.windowed_attend %{{.*}}, %{{.*}}, %{{.*}} {dilation = 2 : i64, global = array<i64: 0, 9>, left = 3 : i64, right = 0 : i64}
  %y = attn.windowed_attend %q, %k, %v {left = 3 : i64, right = 0 : i64, dilation = 2 : i64, global = array<i64: 0, 9>} : !t4, !t4, !t4 -> !t4
  return %y : !t4
}

// CHECK-LABEL: func.func @attend_regions
func.func @attend_regions(%q: tensor<2x3x7x16xf32>, %k: tensor<2x3x9x16xf32>, %v: tensor<2x3x9x8xf32>, %l: tensor<3x1x1xi32>) -> tensor<2x3x7x8xf32> {
  // CHECK: attn.attend %{{.*}}, %{{.*}}, %{{.*}} captures(%{{.*}} : tensor<3x1x1xi32>) {causal, scale = 2.500000e-01 : f32}
  // CHECK: mask {
  // CHECK: attn.yield %{{.*}} : i1
  // CHECK: } score {
  // CHECK: attn.yield %{{.*}} : f32
  %y = attn.attend %q, %k, %v captures(%l : tensor<3x1x1xi32>) {causal, scale = 0.25 : f32}
      : tensor<2x3x7x16xf32>, tensor<2x3x9x16xf32>, tensor<2x3x9x8xf32> -> tensor<2x3x7x8xf32>
    mask {
    ^bb0(%b: index, %h: index, %i: index, %j: index, %lay: tensor<3x1x1xi32>):
      %c0 = arith.constant 0 : index
      %x = tensor.extract %lay[%h, %c0, %c0] : tensor<3x1x1xi32>
      %z = arith.constant 0 : i32
      %m = arith.cmpi ne, %x, %z : i32
      attn.yield %m : i1
    } score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %lay: tensor<3x1x1xi32>):
      %t = math.tanh %s : f32
      attn.yield %t : f32
    }
  return %y : tensor<2x3x7x8xf32>
}

// CHECK-LABEL: func.func @attend_plain
func.func @attend_plain(%q: !t4) -> !t4 {
  // CHECK: attn.attend %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  // CHECK-NOT: mask
  %y = attn.attend %q, %q, %q : !t4, !t4, !t4 -> !t4
  return %y : !t4
}

// CHECK-LABEL: func.func @reversible
func.func @reversible(%x1: tensor<?x?x64xf32>, %x2: tensor<?x?x64xf32>, %w: tensor<64x64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  // CHECK: attn.reversible_block %{{.*}}, %{{.*}} captures(%{{.*}} : tensor<64x64xf32>) : {{.*}} f {
  // CHECK: attn.linear
  // CHECK: } g {
  // CHECK: attn.relu
  %y1, %y2 = attn.reversible_block %x1, %x2 captures(%w : tensor<64x64xf32>)
      : tensor<?x?x64xf32>, tensor<?x?x64xf32> -> tensor<?x?x64xf32>, tensor<?x?x64xf32>
    f {
    ^bb0(%x: tensor<?x?x64xf32>, %wf: tensor<64x64xf32>):
      %r = attn.linear %x, %wf : tensor<?x?x64xf32>, tensor<64x64xf32> -> tensor<?x?x64xf32>
      attn.yield %r : tensor<?x?x64xf32>
    } g {
    ^bb0(%x: tensor<?x?x64xf32>, %wg: tensor<64x64xf32>):
      %r = attn.relu %x : tensor<?x?x64xf32>
      attn.yield %r : tensor<?x?x64xf32>
    }
  return %y1, %y2 : tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// CHECK-LABEL: func.func @dense_helpers
func.func @dense_helpers(%x: tensor<?x?x512xf32>, %w: tensor<512x256xf32>, %b: tensor<256xf32>, %g: tensor<512xf32>) -> tensor<?x?x512xf32> {
  // CHECK: attn.linear %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x512xf32>, tensor<512x256xf32>, tensor<256xf32> -> tensor<?x?x256xf32>
  %l = attn.linear %x, %w, %b : tensor<?x?x512xf32>, tensor<512x256xf32>, tensor<256xf32> -> tensor<?x?x256xf32>
  // CHECK: attn.linear %{{.*}}, %{{.*}} : tensor<?x?x512xf32>, tensor<512x256xf32> -> tensor<?x?x256xf32>
  %l2 = attn.linear %x, %w : tensor<?x?x512xf32>, tensor<512x256xf32> -> tensor<?x?x256xf32>
  // CHECK: attn.layer_norm %{{.*}}, %{{.*}}, %{{.*}} {eps = 9.99999997E-7 : f32}
  %n = attn.layer_norm %x, %g, %g {eps = 1.0e-6 : f32} : tensor<?x?x512xf32>, tensor<512xf32>, tensor<512xf32> -> tensor<?x?x512xf32>
  // CHECK: attn.layer_norm %{{.*}} : tensor<?x?x512xf32> -> tensor<?x?x512xf32>
  %n2 = attn.layer_norm %x : tensor<?x?x512xf32> -> tensor<?x?x512xf32>
  // CHECK: attn.gelu %{{.*}} : tensor<?x?x512xf32>
  %ge = attn.gelu %n : tensor<?x?x512xf32>
  // CHECK: attn.relu %{{.*}} : tensor<?x?x512xf32>
  %r = attn.relu %ge : tensor<?x?x512xf32>
  // CHECK: attn.add %{{.*}}, %{{.*}} : tensor<?x?x512xf32>, tensor<512xf32> -> tensor<?x?x512xf32>
  %a = attn.add %r, %g : tensor<?x?x512xf32>, tensor<512xf32> -> tensor<?x?x512xf32>
  // CHECK: attn.sub %{{.*}}, %{{.*}} : tensor<?x?x512xf32>, tensor<?x?x512xf32> -> tensor<?x?x512xf32>
  %s = attn.sub %a, %n2 : tensor<?x?x512xf32>, tensor<?x?x512xf32> -> tensor<?x?x512xf32>
  // CHECK: attn.mul %{{.*}}, %{{.*}} : tensor<512xf32>, tensor<?x?x512xf32> -> tensor<?x?x512xf32>
  %m = attn.mul %g, %s : tensor<512xf32>, tensor<?x?x512xf32> -> tensor<?x?x512xf32>
  // CHECK: %[[C8:.*]] = arith.constant 8 : index
  // CHECK: attn.split_heads %{{.*}}, %[[C8]] : tensor<?x?x512xf32> -> tensor<?x8x?x64xf32>
  %c8 = arith.constant 8 : index
  %sh = attn.split_heads %m, %c8 : tensor<?x?x512xf32> -> tensor<?x8x?x64xf32>
  // CHECK: attn.merge_heads %{{.*}} : tensor<?x8x?x64xf32> -> tensor<?x?x512xf32>
  %mh = attn.merge_heads %sh : tensor<?x8x?x64xf32> -> tensor<?x?x512xf32>
  return %mh : tensor<?x?x512xf32>
}

// The typed attributes the passes hand to codegen round-trip too.
// CHECK-LABEL: func.func @typed_attributes
func.func @typed_attributes(%q: !t4) -> (!t4, !t4, !t4) {
  // CHECK: attn.attend {{.*}}{attn.mask = #attn.mask<band, lo = -128, hi = 0>, attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 32, value_rows = 8>, causal}
  %a = attn.attend %q, %q, %q {causal, attn.mask = #attn.mask<band, lo = -128, hi = 0>, attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 32, value_rows = 8>} : !t4, !t4, !t4 -> !t4
  // CHECK: attn.attend {{.*}}{attn.mask = #attn.mask<block, size = 64>, attn.schedule = #attn.gpu_schedule<warps = 4, tile_queries = 64, key_tile = 64>}
  %b = attn.attend %q, %q, %q {attn.mask = #attn.mask<block, size = 64>, attn.schedule = #attn.gpu_schedule<warps = 4, tile_queries = 64, key_tile = 64>} : !t4, !t4, !t4 -> !t4
  // CHECK: attn.windowed_attend {{.*}}attn.schedule = #attn.schedule<vector_width = 4, tile_queries = 64, register_rows = 4, key_tile = 8, value_tile = 8, value_rows = 4>
  %w = attn.windowed_attend %q, %q, %q {left = 2 : i64, right = 0 : i64, attn.schedule = #attn.schedule<vector_width = 4, tile_queries = 64, register_rows = 4, key_tile = 8, value_tile = 8, value_rows = 4>} : !t4, !t4, !t4 -> !t4
  return %a, %b, %w : !t4, !t4, !t4
}

// bf16_dot is printed only when true (false is its default), key_chunk
// only when not 0.
// CHECK-LABEL: func.func @bf16_dot_schedule
func.func @bf16_dot_schedule(%q: tensor<?x?x?x64xbf16>) -> tensor<?x?x?x64xbf16> {
  // CHECK: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, bf16_dot = true>}
  %a = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, bf16_dot = true>} : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  // CHECK: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6>}
  %b = attn.attend %a, %a, %a {attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, bf16_dot = false>} : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  // CHECK: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, key_chunk = 1024>}
  %c = attn.attend %b, %b, %b {attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, key_chunk = 1024>} : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  // CHECK: attn.attend {{.*}}{attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6>}
  %d = attn.attend %c, %c, %c {attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, key_chunk = 0>} : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return %d : tensor<?x?x?x64xbf16>
}

// The backward of attend (what attn-generate-backward writes): the forward's
// regions and their derivative in s.
// CHECK-LABEL: func.func @attend_grad
func.func @attend_grad(%q: !t4, %dy: !t4, %l: tensor<?xi32>) -> (!t4, !t4, !t4) {
  // CHECK: attn.attend_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} captures(%{{.*}} : tensor<?xi32>) {attn.mask = #attn.mask<elementwise>, causal, scale = 5.000000e-01 : f32} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> mask {
  // CHECK: } score {
  // CHECK: } score_grad {
  // CHECK: math.tanh
  %dq, %dk, %dv = attn.attend_grad %q, %q, %q, %dy captures(%l : tensor<?xi32>)
      {causal, scale = 0.5 : f32, attn.mask = #attn.mask<elementwise>}
      : !t4, !t4, !t4, !t4 -> !t4, !t4, !t4
    mask {
    ^bb0(%b: index, %h: index, %i: index, %j: index, %lay: tensor<?xi32>):
      %x = tensor.extract %lay[%j] : tensor<?xi32>
      %z = arith.constant 0 : i32
      %m = arith.cmpi ne, %x, %z : i32
      attn.yield %m : i1
    }
    score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %lay: tensor<?xi32>):
      %t = math.tanh %s : f32
      attn.yield %t : f32
    }
    score_grad {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %lay: tensor<?xi32>):
      %one = arith.constant 1.0 : f32
      %t = math.tanh %s : f32
      %t2 = arith.mulf %t, %t : f32
      %d = arith.subf %one, %t2 : f32
      attn.yield %d : f32
    }
  return %dq, %dk, %dv : !t4, !t4, !t4
}

// The dense helpers' gradients.
// CHECK-LABEL: func.func @dense_grads
func.func @dense_grads(%x: tensor<?x?x512xf32>, %dy: tensor<?x?x256xf32>,
                       %w: tensor<512x256xf32>, %g: tensor<512xf32>)
    -> (tensor<?x?x512xf32>, tensor<512x256xf32>, tensor<256xf32>, tensor<?x?x512xf32>) {
  // CHECK: attn.linear_input_grad %{{.*}}, %{{.*}} : tensor<?x?x256xf32>, tensor<512x256xf32> -> tensor<?x?x512xf32>
  %dx = attn.linear_input_grad %dy, %w : tensor<?x?x256xf32>, tensor<512x256xf32> -> tensor<?x?x512xf32>
  // CHECK: attn.linear_weight_grad %{{.*}}, %{{.*}} : tensor<?x?x512xf32>, tensor<?x?x256xf32> -> tensor<512x256xf32>
  %dw = attn.linear_weight_grad %x, %dy : tensor<?x?x512xf32>, tensor<?x?x256xf32> -> tensor<512x256xf32>
  // CHECK: attn.sum_to %{{.*}} : tensor<?x?x256xf32> -> tensor<256xf32>
  %db = attn.sum_to %dy : tensor<?x?x256xf32> -> tensor<256xf32>
  // CHECK: attn.gelu_grad %{{.*}}, %{{.*}} : tensor<?x?x512xf32>
  %a = attn.gelu_grad %x, %dx : tensor<?x?x512xf32>
  // CHECK: attn.relu_grad %{{.*}}, %{{.*}} : tensor<?x?x512xf32>
  %r = attn.relu_grad %x, %a : tensor<?x?x512xf32>
  // CHECK: attn.neg %{{.*}} : tensor<?x?x512xf32>
  %n = attn.neg %r : tensor<?x?x512xf32>
  // CHECK: attn.layer_norm_grad %{{.*}}, %{{.*}}, %{{.*}} {eps = 1.000000e-03 : f32} : tensor<?x?x512xf32>, tensor<?x?x512xf32>, tensor<512xf32> -> tensor<?x?x512xf32>
  %l = attn.layer_norm_grad %x, %n, %g {eps = 1.0e-03 : f32} : tensor<?x?x512xf32>, tensor<?x?x512xf32>, tensor<512xf32> -> tensor<?x?x512xf32>
  return %dx, %dw, %db, %l : tensor<?x?x512xf32>, tensor<512x256xf32>, tensor<256xf32>, tensor<?x?x512xf32>
}
