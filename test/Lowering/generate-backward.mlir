// RUN: attn-opt %s --attn-generate-backward --split-input-file --verify-diagnostics | FileCheck %s

!t = tensor<?x?x?x64xf32>
// The backward takes the forward's parameters, then d_out; it returns the
// gradient of every f32 parameter, named d_<parameter>, from one
// attend_grad with the forward's mask (nothing of the forward is kept: the
// recomputed attend is dead and erased).
// CHECK-LABEL: func.func @causal(
// CHECK: attn.attend
// CHECK-LABEL: func.func @causal_backward
// CHECK-SAME: (%[[Q:[^:]*]]: {{[^{]*}} {attn.dims = ["B", "H", "L", "64"], attn.name = "q"}, %[[K:[^:]*]]: {{[^{]*}} {{{.*}}attn.name = "k"}, %[[V:[^:]*]]: {{[^{]*}} {{{.*}}attn.name = "v"}, %[[DY:[^:]*]]: {{[^{]*}} {attn.dims = ["B", "H", "L", "64"], attn.name = "d_out"})
// CHECK-SAME: -> ({{[^{]*}} {attn.dims = ["B", "H", "L", "64"], attn.name = "d_q"}, {{[^{]*}} {{{.*}}attn.name = "d_k"}, {{[^{]*}} {{{.*}}attn.name = "d_v"})
// CHECK-NOT: attn.attend %
// CHECK: %[[DQ:[^,]*]], %[[DK:[^,]*]], %[[DV:[^ ]*]] = attn.attend_grad %[[Q]], %[[K]], %[[V]], %[[DY]] {causal}
// CHECK-NOT: score_grad
// CHECK: return %[[DQ]], %[[DK]], %[[DV]]
func.func @causal(%q: !t {attn.dims = ["B", "H", "L", "64"], attn.name = "q"},
                  %k: !t {attn.dims = ["B", "H", "L", "64"], attn.name = "k"},
                  %v: !t {attn.dims = ["B", "H", "L", "64"], attn.name = "v"})
    -> (!t {attn.dims = ["B", "H", "L", "64"]}) {
  %y = attn.attend %q, %k, %v {causal} : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// The score's derivative in s, written as ops by forward differentiation:
// d(30 tanh(s / 30)) = (1 − tanh²(s/30)) · (1/30) · 30. The mask region and
// its i32 capture are passed along unchanged.
// CHECK-LABEL: func.func @capped_backward
// CHECK: attn.attend_grad {{.*}} captures(%{{.*}} : tensor<?x?x?xi32>) {scale = 1.250000e-01 : f32}
// CHECK: mask {
// CHECK: tensor.extract
// CHECK: score {
// CHECK: math.tanh
// CHECK: score_grad {
// CHECK-NEXT: ^bb0(%[[S:[^:]*]]: f32,
// CHECK: %[[C30:.*]] = arith.constant 3.000000e+01 : f32
// CHECK: %[[X:.*]] = arith.divf %[[S]], %[[C30]]
// CHECK: %[[TH:.*]] = math.tanh %[[X]]
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[DX:.*]] = arith.divf %[[ONE]], %[[C30]]
// CHECK: %[[ONE2:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[SQ:.*]] = arith.mulf %[[TH]], %[[TH]]
// CHECK: %[[SLOPE:.*]] = arith.subf %[[ONE2]], %[[SQ]]
// CHECK: %[[DTH:.*]] = arith.mulf %[[SLOPE]], %[[DX]]
// CHECK-NEXT: %[[D:.*]] = arith.mulf %[[DTH]], %[[C30]]
// CHECK: attn.yield %[[D]] : f32
func.func @capped(%q: !t {attn.name = "q"}, %k: !t {attn.name = "k"},
                  %v: !t {attn.name = "v"}, %layout: tensor<?x?x?xi32> {attn.name = "layout"}) -> !t {
  %y = attn.attend %q, %k, %v captures(%layout : tensor<?x?x?xi32>) {scale = 0.125 : f32}
      : !t, !t, !t -> !t
    mask {
    ^bb0(%b: index, %h: index, %i: index, %j: index, %l: tensor<?x?x?xi32>):
      %x = tensor.extract %l[%h, %i, %j] : tensor<?x?x?xi32>
      %zero = arith.constant 0 : i32
      %m = arith.cmpi ne, %x, %zero : i32
      attn.yield %m : i1
    }
    score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %l: tensor<?x?x?xi32>):
      %c30 = arith.constant 30.0 : f32
      %x = arith.divf %s, %c30 : f32
      %t = math.tanh %x : f32
      %r = arith.mulf %t, %c30 : f32
      attn.yield %r : f32
    }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// One tensor as query, key and value: its gradient is the sum of the three.
// CHECK-LABEL: func.func @self_backward
// CHECK-SAME: (%[[X:[^:]*]]: {{[^{]*}} {attn.name = "x"}, %[[DY:[^:]*]]: {{[^{]*}} {attn.name = "d_out"})
// CHECK: %[[DQ:[^,]*]], %[[DK:[^,]*]], %[[DV:[^ ]*]] = attn.attend_grad %[[X]], %[[X]], %[[X]], %[[DY]]
// CHECK: %[[S:.*]] = attn.add %[[DQ]], %[[DK]]
// CHECK: %[[T:.*]] = attn.add %[[S]], %[[DV]]
// CHECK: return %[[T]]
func.func @self(%x: !t {attn.name = "x"}) -> !t {
  %y = attn.attend %x, %x, %x : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// Gradient names never clash with a parameter's: "d_" is prefixed again.
// CHECK-LABEL: func.func @clash_backward
// CHECK-SAME: {attn.name = "out"}, %{{[^:]*}}: {{[^{]*}} {attn.name = "d_out"}, %{{[^:]*}}: {{[^{]*}} {attn.name = "v"}, %{{[^:]*}}: {{[^{]*}} {attn.name = "d_d_out"})
// CHECK-SAME: -> ({{[^{]*}} {attn.name = "d_d_d_out"}, {{[^{]*}} {attn.name = "d_d_d_d_out"}, {{[^{]*}} {attn.name = "d_v"})
func.func @clash(%q: !t {attn.name = "out"}, %k: !t {attn.name = "d_out"},
                 %v: !t {attn.name = "v"}) -> !t {
  %y = attn.attend %q, %k, %v : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x64xf32>
// The dense helpers' rules: the forward values a rule reads (linear's output,
// for gelu's slope) are recomputed; a broadcast operand's gradient is summed
// over rows (sum_to), a subtrahend's negated; the bias gets both.
// CHECK-LABEL: func.func @mlp_backward
// CHECK-SAME: (%[[X:[^:]*]]: {{[^{]*}} {attn.name = "x"}, %[[W:[^:]*]]: {{[^{]*}} {attn.name = "w"}, %[[B:[^:]*]]: {{[^{]*}} {attn.name = "b"}, %[[DY:[^:]*]]: {{[^{]*}} {attn.name = "d_out"})
// CHECK: %[[Y:.*]] = attn.linear %[[X]], %[[W]], %[[B]]
// CHECK: %[[NEG:.*]] = attn.neg %[[DY]]
// CHECK: %[[DB1:.*]] = attn.sum_to %[[NEG]] : tensor<?x?x64xf32> -> tensor<64xf32>
// CHECK: %[[DG:.*]] = attn.gelu_grad %[[Y]], %[[DY]]
// CHECK: %[[DX:.*]] = attn.linear_input_grad %[[DG]], %[[W]]
// CHECK: %[[DW:.*]] = attn.linear_weight_grad %[[X]], %[[DG]]
// CHECK: %[[DB2:.*]] = attn.sum_to %[[DG]]
// CHECK: %[[DB:.*]] = attn.add %[[DB1]], %[[DB2]]
// CHECK: return %[[DX]], %[[DW]], %[[DB]]
func.func @mlp(%x: !t {attn.name = "x"}, %w: tensor<64x64xf32> {attn.name = "w"},
               %b: tensor<64xf32> {attn.name = "b"}) -> !t {
  %y = attn.linear %x, %w, %b : !t, tensor<64x64xf32>, tensor<64xf32> -> !t
  %g = attn.gelu %y : !t
  %z = attn.sub %g, %b : !t, tensor<64xf32> -> !t
  return %z : !t
}

// -----

!t = tensor<?x?x64xf32>
// A reversible kernel's backward is attn-expand-reversible's (it
// reconstructs the inputs); this pass leaves the kernel alone.
// CHECK-LABEL: func.func @rev
// CHECK-NOT: func.func @rev_backward
func.func @rev(%x1: !t, %x2: !t) -> (!t, !t) {
  %y1, %y2 = attn.reversible_block %x1, %x2 : !t, !t -> !t, !t
    f {
    ^bb0(%x: !t):
      %r = attn.gelu %x : !t
      attn.yield %r : !t
    } g {
    ^bb0(%x: !t):
      attn.yield %x : !t
    }
  return %y1, %y2 : !t, !t
}

// -----

!t = tensor<?x?x?x64xf32>
// windowed_attend: attend_grad with the window written as a mask (j − i in
// [−left·d, right·d], a multiple of d, or a global position).
// CHECK-LABEL: func.func @window_backward
// CHECK: attn.attend_grad
// CHECK: mask {
// CHECK-NEXT: ^bb0(%{{[^:]*}}: index, %{{[^:]*}}: index, %[[I:[^:]*]]: index, %[[J:[^:]*]]: index):
// CHECK: %[[OFF:.*]] = arith.subi %[[J]], %[[I]] : index
// CHECK: arith.cmpi sge, %[[OFF]], %{{.*}} : index
// CHECK: arith.cmpi sle, %[[OFF]], %{{.*}} : index
// CHECK: arith.remsi %[[OFF]]
// CHECK: arith.cmpi eq, %[[I]]
// CHECK: arith.cmpi eq, %[[J]]
// CHECK: attn.yield
func.func @window(%q: !t, %k: !t, %v: !t) -> !t {
  %y = attn.windowed_attend %q, %k, %v {left = 4 : i64, right = 0 : i64, dilation = 2 : i64, global = array<i64: 3>} : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// The LSH chain: combine_rounds_grad, then chunked_attend_grad with the
// forward's attributes; hashing and sorting carry no gradient, so the
// rotations' gradient is zeros.
// CHECK-LABEL: func.func @lsh_backward
// CHECK-SAME: (%[[QK:[^:]*]]: tensor<?x?x?x64xf32>, %[[V:[^:]*]]: tensor<?x?x?x64xf32>, %[[ROT:[^:]*]]: tensor<?x64x2x2xf32>, %[[DY:[^:]*]]: tensor<?x?x?x64xf32>
// CHECK: %[[B:.*]] = attn.hash_bucket %[[QK]] rotations(%[[ROT]]
// CHECK: %[[ORDER:.*]], %{{.*}} = attn.sort_chunk %[[B]]
// CHECK: %[[O:.*]], %[[L:.*]] = attn.chunked_attend %[[QK]], %[[QK]], %[[V]], %[[ORDER]]
// CHECK: %[[DO:.*]], %[[DL:.*]] = attn.combine_rounds_grad %[[O]], %[[L]], %[[DY]]
// CHECK: %[[DQ:.*]], %[[DK:.*]], %[[DV:.*]] = attn.chunked_attend_grad %[[QK]], %[[QK]], %[[V]], %[[ORDER]], %[[DO]], %[[DL]] {causal = true, chunk = 4 : i64}
// CHECK: %[[DQK:.*]] = attn.add %[[DQ]], %[[DK]]
// CHECK: %[[DROT:.*]] = attn.zeros_like %[[ROT]]
// CHECK: return %[[DQK]], %[[DV]], %[[DROT]]
func.func @lsh(%qk: !t, %v: !t, %rot: tensor<?x64x2x2xf32>) -> !t {
  %b = attn.hash_bucket %qk rotations(%rot : tensor<?x64x2x2xf32>) {buckets = 4 : i64, rounds = 2 : i64} : !t -> tensor<?x?x2x?xi32>
  %order, %undo = attn.sort_chunk %b {chunk = 4 : i64} : tensor<?x?x2x?xi32> -> tensor<?x?x2x?xi32>, tensor<?x?x2x?xi32>
  %o, %lse = attn.chunked_attend %qk, %qk, %v, %order {chunk = 4 : i64, causal = true} : !t, !t, !t, tensor<?x?x2x?xi32> -> tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32>
  %y = attn.combine_rounds %o, %lse : tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32> -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @composite(%qk: !t, %v: !t) -> !t {
  // expected-error @+1 {{attn.lsh_attend is differentiated through its expansion: run attn-expand-lsh before attn-generate-backward}}
  %y = attn.lsh_attend %qk, %v {buckets = 4 : i64, rounds = 2 : i64, chunk = 4 : i64, seed = 1 : i64} : !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// An f32 capture indexed by h: attend_grad returns its gradient too, and
// score_grad yields d/ds then d/d(slopes[h]) = -(i - j).
// CHECK-LABEL: func.func @alibi_backward
// CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %[[DSL:.*]] = attn.attend_grad
// CHECK-SAME: -> tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?xf32>
// CHECK: score_grad
// CHECK: %[[IJ:.*]] = arith.sitofp
// CHECK: %[[ONE:.*]] = arith.constant 1.0
// CHECK: %[[SCALED:.*]] = arith.mulf %{{.*}}, %[[IJ]]
// CHECK: %[[NEG:.*]] = arith.negf %[[SCALED]]
// CHECK: attn.yield %[[ONE]], %[[NEG]] : f32, f32
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %[[DSL]]
func.func @alibi(%q: !t, %k: !t, %v: !t, %slopes: tensor<?xf32>) -> !t {
  %y = attn.attend %q, %k, %v captures(%slopes : tensor<?xf32>) : !t, !t, !t -> !t
    score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %sl: tensor<?xf32>):
      %x = tensor.extract %sl[%h] : tensor<?xf32>
      %d = arith.subi %i, %j : index
      %di = arith.index_cast %d : index to i64
      %df = arith.sitofp %di : i64 to f32
      %p = arith.mulf %x, %df : f32
      %r = arith.subf %s, %p : f32
      attn.yield %r : f32
    }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @per_query_bias(%q: !t, %k: !t, %v: !t, %bias: tensor<?xf32>) -> !t {
  // expected-error @+1 {{the backward of a score function that reads an f32 capture at an index computed from i, j, s or data is not generated yet}}
  %y = attn.attend %q, %k, %v captures(%bias : tensor<?xf32>) : !t, !t, !t -> !t
    score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %bi: tensor<?xf32>):
      %x = tensor.extract %bi[%i] : tensor<?xf32>
      %r = arith.subf %s, %x : f32
      attn.yield %r : f32
    }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @rounded(%q: !t, %k: !t, %v: !t) -> !t {
  %y = attn.attend %q, %k, %v : !t, !t, !t -> !t
    score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      // expected-error @+1 {{cannot differentiate 'math.floor' in a score function}}
      %r = math.floor %s : f32
      attn.yield %r : f32
    }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// A parameter no gradient reaches gets zeros (every f32 input's gradient is
// written).
// CHECK-LABEL: func.func @unused_backward
// CHECK-SAME: %[[U:[^:]*]]: tensor<?x?x?x64xf32> {attn.name = "unused"}
// CHECK: %[[Z:.*]] = attn.zeros_like %[[U]]
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %[[Z]]
func.func @unused(%q: !t, %k: !t, %v: !t, %u: !t {attn.name = "unused"}) -> !t {
  %y = attn.attend %q, %k, %v : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// expected-error @+1 {{cannot generate 'taken_backward': the program already defines a kernel of that name}}
func.func @taken(%q: !t, %k: !t, %v: !t) -> !t {
  %y = attn.attend %q, %k, %v : !t, !t, !t -> !t
  return %y : !t
}
func.func @taken_backward(%q: !t) -> !t {
  return %q : !t
}
