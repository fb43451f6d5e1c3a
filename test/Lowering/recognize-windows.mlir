// RUN: attn-opt %s --attn-recognize-windows --split-input-file | FileCheck %s

!t = tensor<?x?x?x64xf32>
// Longformer as a mask: |i - j| <= 256, i - j even, position 0 global as a
// query and as a key: windowed_attend with 128 taps each side, dilation 2
// (q and k are declared with the same length symbol L).
// CHECK-LABEL: func.func @longformer
// CHECK-SAME: (%[[Q:[^:]*]]: {{.*}}, %[[K:[^:]*]]: {{.*}}, %[[V:[^:]*]]: {{.*}})
// CHECK: %[[W:.*]] = attn.windowed_attend %[[Q]], %[[K]], %[[V]] {dilation = 2 : i64, global = array<i64: 0>, left = 128 : i64, right = 128 : i64}
// CHECK-NOT: attn.attend
// CHECK: return %[[W]]
func.func @longformer(%q: !t {attn.dims = ["B", "H", "L", "D"]},
                      %k: !t {attn.dims = ["B", "H", "L", "D"]},
                      %v: !t {attn.dims = ["B", "H", "L", "D"]}) -> !t {
  %y = attn.attend %q, %k, %v : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c256 = arith.constant 256 : index
    %d = arith.subi %i, %j : index
    %a = math.absi %d : index
    %near = arith.cmpi sle, %a, %c256 : index
    %r = arith.remsi %d, %c2 : index
    %even = arith.cmpi eq, %r, %c0 : index
    %w = arith.andi %near, %even : i1
    %gi = arith.cmpi eq, %i, %c0 : index
    %gj = arith.cmpi eq, %j, %c0 : index
    %m1 = arith.ori %w, %gi : i1
    %m = arith.ori %m1, %gj : i1
    attn.yield %m : i1
  }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// An asymmetric band without dilation or globals: j - i in [-6, 3].
// CHECK-LABEL: func.func @band
// CHECK: attn.windowed_attend {{.*}} {left = 6 : i64, right = 3 : i64}
func.func @band(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c6 = arith.constant 6 : index
    %c3 = arith.constant 3 : index
    %lo = arith.subi %i, %c6 : index
    %hi = arith.addi %i, %c3 : index
    %a = arith.cmpi sle, %lo, %j : index
    %z = arith.cmpi sle, %j, %hi : index
    %m = arith.andi %a, %z : i1
    attn.yield %m : i1
  }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// A global only as a query (i == 5 without j == 5) is not windowed_attend's
// global: left alone.
// CHECK-LABEL: func.func @query_only_global
// CHECK: attn.attend
// CHECK-NOT: attn.windowed_attend
func.func @query_only_global(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c5 = arith.constant 5 : index
    %c8 = arith.constant 8 : index
    %d = arith.subi %j, %i : index
    %a = math.absi %d : index
    %near = arith.cmpi sle, %a, %c8 : index
    %g = arith.cmpi eq, %i, %c5 : index
    %m = arith.ori %near, %g : i1
    attn.yield %m : i1
  }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// Causal, a scale, or q and k of lengths not known to be equal (no
// dimension symbols): left alone.
// CHECK-LABEL: func.func @not_windows
// CHECK-COUNT-3: attn.attend
// CHECK-NOT: attn.windowed_attend
func.func @not_windows(%q: !t, %k: !t) -> (!t, !t, !t) {
  %y0 = attn.attend %q, %q, %q {causal} : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c8 = arith.constant 8 : index
    %d = arith.subi %j, %i : index
    %a = math.absi %d : index
    %m = arith.cmpi sle, %a, %c8 : index
    attn.yield %m : i1
  }
  %y1 = attn.attend %q, %q, %q {scale = 0.5 : f32} : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c8 = arith.constant 8 : index
    %d = arith.subi %j, %i : index
    %a = math.absi %d : index
    %m = arith.cmpi sle, %a, %c8 : index
    attn.yield %m : i1
  }
  %y2 = attn.attend %q, %k, %k : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c8 = arith.constant 8 : index
    %d = arith.subi %j, %i : index
    %a = math.absi %d : index
    %m = arith.cmpi sle, %a, %c8 : index
    attn.yield %m : i1
  }
  return %y0, %y1, %y2 : !t, !t, !t
}

// -----

!t = tensor<?x?x?x64xf32>
// A dilation that does not divide the band's ends: left alone.
// CHECK-LABEL: func.func @uneven_dilation
// CHECK: attn.attend
// CHECK-NOT: attn.windowed_attend
func.func @uneven_dilation(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    %c3 = arith.constant 3 : index
    %c8 = arith.constant 8 : index
    %d = arith.subi %j, %i : index
    %a = math.absi %d : index
    %near = arith.cmpi sle, %a, %c8 : index
    %r = arith.remsi %d, %c3 : index
    %k = arith.cmpi eq, %r, %c0 : index
    %m = arith.andi %near, %k : i1
    attn.yield %m : i1
  }
  return %y : !t
}
