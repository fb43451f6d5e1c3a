// RUN: attn-opt %s --attn-analyze-masks --split-input-file | FileCheck %s

!t = tensor<?x?x?x64xf32>

// CHECK-LABEL: func.func @none
// CHECK: attn.attend {{.*}}{attn.mask = #attn.mask<none>}
func.func @none(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// Causal: j - i <= 0, no lower bound.
// CHECK-LABEL: func.func @causal
// CHECK: attn.attend {{.*}}{attn.mask = #attn.mask<band, hi = 0>, causal}
func.func @causal(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q {causal} : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// A sliding window written as two inequalities: i - 4 <= j && j < i + 3.
// CHECK-LABEL: func.func @window
// CHECK: attn.mask = #attn.mask<band, lo = -4, hi = 2>
func.func @window(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c4 = arith.constant 4 : index
    %c3 = arith.constant 3 : index
    %lo = arith.subi %i, %c4 : index
    %hi = arith.addi %i, %c3 : index
    %a = arith.cmpi sle, %lo, %j : index
    %z = arith.cmpi slt, %j, %hi : index
    %m = arith.andi %a, %z : i1
    attn.yield %m : i1
  }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// |i - j| <= 8 intersected with causal.
// CHECK-LABEL: func.func @abs_band_causal
// CHECK: attn.mask = #attn.mask<band, lo = -8, hi = 0>
func.func @abs_band_causal(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q {causal} : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %a = math.absi %d : index
    %c8 = arith.constant 8 : index
    %m = arith.cmpi sle, %a, %c8 : index
    attn.yield %m : i1
  }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// BigBird: the mask reads i and j only as i / 64 and j / 64.
// CHECK-LABEL: func.func @block
// CHECK: attn.mask = #attn.mask<block, size = 64>
func.func @block(%q: !t, %l: tensor<?x?x?xi32>) -> !t {
  %y = attn.attend %q, %q, %q captures(%l : tensor<?x?x?xi32>) : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %lay: tensor<?x?x?xi32>):
    %c64 = arith.constant 64 : index
    %ib = arith.divsi %i, %c64 : index
    %jb = arith.divsi %j, %c64 : index
    %x = tensor.extract %lay[%h, %ib, %jb] : tensor<?x?x?xi32>
    %z = arith.constant 0 : i32
    %m = arith.cmpi ne, %x, %z : i32
    attn.yield %m : i1
  }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// Different block sizes for i and j, and a disjunction: elementwise.
// CHECK-LABEL: func.func @elementwise
// CHECK: attn.attend {{.*}}attn.mask = #attn.mask<elementwise>
// CHECK-NOT: band
// CHECK-LABEL: func.func @global_tokens
// CHECK: attn.mask = #attn.mask<elementwise>
func.func @elementwise(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    %ib = arith.divsi %i, %c2 : index
    %jb = arith.divsi %j, %c4 : index
    %m = arith.cmpi eq, %ib, %jb : index
    attn.yield %m : i1
  }
  return %y : !t
}
func.func @global_tokens(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    %a = arith.cmpi sle, %j, %i : index
    %g = arith.cmpi eq, %j, %c0 : index
    %m = arith.ori %a, %g : i1
    attn.yield %m : i1
  }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// A band and a further condition (a dilated window): the band bounds the
// allowed pairs, and codegen still evaluates the whole mask inside it.
// CHECK-LABEL: func.func @dilated
// CHECK: attn.attend {{.*}}{attn.mask = #attn.mask<band, lo = -6, hi = 0>}
func.func @dilated(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c6 = arith.constant -6 : index
    %d = arith.subi %j, %i : index
    %lo = arith.cmpi sge, %d, %c6 : index
    %hi = arith.cmpi sle, %d, %c0 : index
    %r = arith.remsi %d, %c2 : index
    %even = arith.cmpi eq, %r, %c0 : index
    %w = arith.andi %lo, %hi : i1
    %m = arith.andi %even, %w : i1
    attn.yield %m : i1
  }
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// A stale attribute from an earlier run (or written by hand) is replaced
// wholesale: keeping its `lo` would make codegen skip live keys.
// CHECK-LABEL: func.func @stale
// CHECK: attn.attend {{.*}}{attn.mask = #attn.mask<band, hi = 0>, causal}
func.func @stale(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q {causal, attn.mask = #attn.mask<band, lo = -2, hi = 0>} : !t, !t, !t -> !t
  return %y : !t
}

// -----

!t = tensor<?x?x?x64xf32>
// A bound no position reaches constrains nothing; an empty band is
// evaluated per element (zero rows), never turned into inverted bounds.
// CHECK-LABEL: func.func @unbounded
// CHECK: attn.attend {{.*}}{attn.mask = #attn.mask<none>}
// CHECK-LABEL: func.func @empty_band
// CHECK: attn.attend {{.*}}{attn.mask = #attn.mask<elementwise>, causal}
func.func @unbounded(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %m = arith.constant true
    attn.yield %m : i1
  }
  return %y : !t
}
func.func @empty_band(%q: !t) -> !t {
  %y = attn.attend %q, %q, %q {causal} : !t, !t, !t -> !t mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c1 = arith.constant 1 : index
    %lo = arith.addi %i, %c1 : index
    %m = arith.cmpi sge, %j, %lo : index
    attn.yield %m : i1
  }
  return %y : !t
}
