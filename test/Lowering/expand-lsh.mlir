// RUN: attn-opt %s --attn-expand-lsh | FileCheck %s
// RUN: attn-opt %s --pass-pipeline='builtin.module(func.func(attn-expand-lsh))' | FileCheck %s

// CHECK-LABEL: func.func @seeded
// CHECK-SAME: (%[[QK:.*]]: tensor<?x?x?x64xf32>, %[[V:.*]]: tensor<?x?x?x32xf32>)
func.func @seeded(%qk: tensor<?x?x?x64xf32>, %v: tensor<?x?x?x32xf32>) -> tensor<?x?x?x32xf32> {
  // CHECK-NOT: attn.lsh_attend
  // CHECK: %[[B:.*]] = attn.hash_bucket %[[QK]] {buckets = 8 : i64, rounds = 3 : i64, seed = 5 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x3x?xi32>
  // CHECK: %[[ORDER:.*]], %{{.*}} = attn.sort_chunk %[[B]] {chunk = 16 : i64} : tensor<?x?x3x?xi32> -> tensor<?x?x3x?xi32>, tensor<?x?x3x?xi32>
  // Shared QK: the same value is query and key.
  // CHECK: %[[OUT:.*]], %[[LSE:.*]] = attn.chunked_attend %[[QK]], %[[QK]], %[[V]], %[[ORDER]] {after = 1 : i64, before = 2 : i64, causal = true, chunk = 16 : i64, full_if_short = true}
  // CHECK-SAME: -> tensor<?x?x3x?x32xf32>, tensor<?x?x3x?xf32>
  // CHECK: %[[R:.*]] = attn.combine_rounds %[[OUT]], %[[LSE]] : tensor<?x?x3x?x32xf32>, tensor<?x?x3x?xf32> -> tensor<?x?x?x32xf32>
  // CHECK: return %[[R]]
  %y = attn.lsh_attend %qk, %v {buckets = 8 : i64, rounds = 3 : i64, chunk = 16 : i64, before = 2 : i64, after = 1 : i64, causal = true, seed = 5 : i64}
      : tensor<?x?x?x64xf32>, tensor<?x?x?x32xf32> -> tensor<?x?x?x32xf32>
  return %y : tensor<?x?x?x32xf32>
}

// CHECK-LABEL: func.func @rotations
func.func @rotations(%qk: tensor<2x4x128x64xf32>, %rot: tensor<4x64x1x2xf32>) -> tensor<2x4x128x64xf32> {
  // CHECK: %[[B:.*]] = attn.hash_bucket %{{.*}} rotations(%{{.*}} : tensor<4x64x1x2xf32>) {buckets = 4 : i64, rounds = 1 : i64} : tensor<2x4x128x64xf32> -> tensor<2x4x1x128xi32>
  // CHECK: attn.chunked_attend {{.*}} -> tensor<2x4x1x128x64xf32>, tensor<2x4x1x128xf32>
  // CHECK: attn.combine_rounds
  %y = attn.lsh_attend %qk, %qk rotations(%rot : tensor<4x64x1x2xf32>) {buckets = 4 : i64, rounds = 1 : i64, chunk = 32 : i64}
      : tensor<2x4x128x64xf32>, tensor<2x4x128x64xf32> -> tensor<2x4x128x64xf32>
  return %y : tensor<2x4x128x64xf32>
}

// Ops other than lsh_attend are left alone.
// CHECK-LABEL: func.func @untouched
// CHECK: attn.windowed_attend
func.func @untouched(%q: tensor<?x?x?x64xf32>) -> tensor<?x?x?x64xf32> {
  %y = attn.windowed_attend %q, %q, %q {left = 2 : i64, right = 2 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return %y : tensor<?x?x?x64xf32>
}
