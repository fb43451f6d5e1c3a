// RUN: attn-opt %s --attn-expand-reversible --split-input-file --verify-diagnostics | FileCheck %s

!t = tensor<?x?x64xf32>
!w = tensor<64x64xf32>
// The forward inlines F and G around two adds; the inverse kernel takes the
// same parameters with y1, y2 in x1's and x2's places and subtracts G(y1),
// then F(x2).
// CHECK-LABEL: func.func @layer
// CHECK-SAME: (%[[X1:[^:]*]]: {{[^%]*}}, %[[X2:[^:]*]]: {{[^%]*}}, %[[W:[^:]*]]: {{.*}})
// CHECK-NOT: attn.reversible_block
// CHECK: %[[F:.*]] = attn.linear %[[X2]], %[[W]]
// CHECK: %[[Y1:.*]] = attn.add %[[X1]], %[[F]]
// CHECK: %[[G:.*]] = attn.gelu %[[Y1]]
// CHECK: %[[Y2:.*]] = attn.add %[[X2]], %[[G]]
// CHECK: return %[[Y1]], %[[Y2]]
// CHECK-LABEL: func.func @layer_inverse
// CHECK-SAME: (%[[IY1:[^:]*]]: {{[^{]*}} {attn.dims = ["B", "L", "64"], attn.name = "y1"}, %[[IY2:[^:]*]]: {{[^{]*}} {attn.dims = ["B", "L", "64"], attn.name = "y2"}, %[[IW:[^:]*]]: {{[^{]*}} {attn.name = "w"})
// CHECK-SAME: -> ({{.*}} {attn.dims = ["B", "L", "64"]}, {{.*}} {attn.dims = ["B", "L", "64"]})
// CHECK: %[[IG:.*]] = attn.gelu %[[IY1]]
// CHECK: %[[IX2:.*]] = attn.sub %[[IY2]], %[[IG]]
// CHECK: %[[IF:.*]] = attn.linear %[[IX2]], %[[IW]]
// CHECK: %[[IX1:.*]] = attn.sub %[[IY1]], %[[IF]]
// CHECK: return %[[IX1]], %[[IX2]]
// The backward reconstructs x2 and x1 as the inverse does, then runs G's and
// F's gradient rules: dy1' = dy1 + G'(y1)ᵀ dy2, dx2 = dy2 + F'(x2)ᵀ dy1', and
// the weight's gradient from F (G reads none).
// CHECK-LABEL: func.func @layer_backward
// CHECK-SAME: (%[[BY1:[^:]*]]: {{[^{]*}} {{{.*}}attn.name = "y1"}, %[[BY2:[^:]*]]: {{[^{]*}} {{{.*}}attn.name = "y2"}, %[[BW:[^:]*]]: {{[^{]*}} {attn.name = "w"}, %[[DY1:[^:]*]]: {{[^{]*}} {{{.*}}attn.name = "d_y1"}, %[[DY2:[^:]*]]: {{[^{]*}} {{{.*}}attn.name = "d_y2"})
// CHECK-SAME: -> ({{[^{]*}} {{{.*}}attn.name = "x1"}, {{[^{]*}} {{{.*}}attn.name = "x2"}, {{[^{]*}} {{{.*}}attn.name = "d_x1"}, {{[^{]*}} {{{.*}}attn.name = "d_x2"}, {{[^{]*}} {attn.name = "d_w"})
// CHECK: %[[BG:.*]] = attn.gelu %[[BY1]]
// CHECK: %[[BX2:.*]] = attn.sub %[[BY2]], %[[BG]]
// CHECK: %[[BF:.*]] = attn.linear %[[BX2]], %[[BW]]
// CHECK: %[[BX1:.*]] = attn.sub %[[BY1]], %[[BF]]
// CHECK: %[[DG:.*]] = attn.gelu_grad %[[BY1]], %[[DY2]]
// CHECK: %[[DY1T:.*]] = attn.add %[[DY1]], %[[DG]]
// CHECK: %[[DF:.*]] = attn.linear_input_grad %[[DY1T]], %[[BW]]
// CHECK: %[[DW:.*]] = attn.linear_weight_grad %[[BX2]], %[[DY1T]]
// CHECK: %[[DX2:.*]] = attn.add %[[DY2]], %[[DF]]
// CHECK: return %[[BX1]], %[[BX2]], %[[DY1T]], %[[DX2]], %[[DW]]
func.func @layer(%x1: !t {attn.dims = ["B", "L", "64"], attn.name = "x1"},
                 %x2: !t {attn.dims = ["B", "L", "64"], attn.name = "x2"},
                 %w: !w {attn.name = "w"})
    -> (!t {attn.dims = ["B", "L", "64"]}, !t {attn.dims = ["B", "L", "64"]}) {
  %y1, %y2 = attn.reversible_block %x1, %x2 captures(%w : !w) : !t, !t -> !t, !t
    f {
    ^bb0(%x: !t, %wf: !w):
      %r = attn.linear %x, %wf : !t, !w -> !t
      attn.yield %r : !t
    } g {
    ^bb0(%x: !t, %wg: !w):
      %r = attn.gelu %x : !t
      attn.yield %r : !t
    }
  return %y1, %y2 : !t, !t
}

// -----

!t = tensor<?x?x64xf32>
// A block whose results are used further has no inverse kernel (a warning);
// its forward is still expanded.
// CHECK-LABEL: func.func @used
// CHECK: attn.add
// CHECK: attn.add
// CHECK: attn.mul
// CHECK-NOT: func.func @used_inverse
func.func @used(%x1: !t, %x2: !t) -> !t {
  // expected-warning @+1 {{no used_inverse kernel: the kernel does not return (y1, y2) of the block}}
  %y1, %y2 = attn.reversible_block %x1, %x2 : !t, !t -> !t, !t
    f {
    ^bb0(%x: !t):
      %r = attn.gelu %x : !t
      attn.yield %r : !t
    } g {
    ^bb0(%x: !t):
      %r = attn.relu %x : !t
      attn.yield %r : !t
    }
  %z = attn.mul %y1, %y2 : !t, !t -> !t
  return %z : !t
}

// -----

!t = tensor<?x?x64xf32>
func.func @taken(%x1: !t, %x2: !t) -> (!t, !t) {
  // expected-error @+1 {{cannot generate 'taken_inverse': the program already defines a kernel of that name}}
  %y1, %y2 = attn.reversible_block %x1, %x2 : !t, !t -> !t, !t
    f {
    ^bb0(%x: !t):
      attn.yield %x : !t
    } g {
    ^bb0(%x: !t):
      attn.yield %x : !t
    }
  return %y1, %y2 : !t, !t
}
func.func @taken_inverse(%x: !t) -> !t {
  return %x : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// F without a gradient rule (a score reading an f32 capture at a query's
// index): the inverse is written, the backward is not (a warning), and the
// forward still compiles.
// CHECK-LABEL: func.func @biased_inverse
// CHECK-NOT: func.func @biased_backward
func.func @biased(%x1: !t, %x2: !t, %bias: tensor<?xf32>) -> (!t, !t) {
  // expected-warning @+1 {{no biased_backward kernel: the backward of a score function that reads an f32 capture at an index computed from i, j, s or data is not generated yet}}
  %y1, %y2 = attn.reversible_block %x1, %x2 captures(%bias : tensor<?xf32>) : !t, !t -> !t, !t
    f {
    ^bb0(%x: !t, %bf: tensor<?xf32>):
      %r = attn.attend %x, %x, %x captures(%bf : tensor<?xf32>) : !t, !t, !t -> !t
        score {
        ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index, %c: tensor<?xf32>):
          %e = tensor.extract %c[%i] : tensor<?xf32>
          %t = arith.addf %s, %e : f32
          attn.yield %t : f32
        }
      attn.yield %r : !t
    } g {
    ^bb0(%x: !t, %bg: tensor<?xf32>):
      attn.yield %x : !t
    }
  return %y1, %y2 : !t, !t
}

// -----

!t = tensor<?x?x64xf32>
func.func @named(%x1: !t, %x2: !t) -> (!t, !t) {
  // expected-error @+1 {{cannot generate 'named_backward': the program already defines a kernel of that name}}
  %y1, %y2 = attn.reversible_block %x1, %x2 : !t, !t -> !t, !t
    f {
    ^bb0(%x: !t):
      attn.yield %x : !t
    } g {
    ^bb0(%x: !t):
      attn.yield %x : !t
    }
  return %y1, %y2 : !t, !t
}
func.func @named_backward(%x: !t) -> !t {
  return %x : !t
}
