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
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[C30:.*]] = arith.constant 3.000000e+01 : f32
// CHECK: %[[X:.*]] = arith.divf %[[S]], %[[C30]]
// CHECK: %[[DX:.*]] = arith.divf %[[ONE]], %[[C30]]
// CHECK: %[[TH:.*]] = math.tanh %[[X]]
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
func.func @window(%q: !t, %k: !t, %v: !t) -> !t {
  // expected-error @+1 {{no gradient rule for 'attn.windowed_attend' yet: --grad differentiates attn.attend}}
  %y = attn.windowed_attend %q, %k, %v {left = 4 : i64, right = 0 : i64} : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @alibi(%q: !t, %k: !t, %v: !t, %slopes: tensor<?xf32>) -> !t {
  // expected-error @+1 {{the backward of a score function that reads an f32 capture (capture 0) is not generated yet}}
  %y = attn.attend %q, %k, %v captures(%slopes : tensor<?xf32>) : !t, !t, !t -> !t
    score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %sl: tensor<?xf32>):
      %x = tensor.extract %sl[%h] : tensor<?xf32>
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
// expected-error @+1 {{parameter 'unused' does not reach an output}}
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
