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
