// RUN: attn-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect
// One case per verifier message of the attn dialect.

// x of rank
func.func @f(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op expects x of rank 4 ([B, H, L, D]), got rank 3}}
  %b = attn.hash_bucket %x {buckets = 8 : i64, rounds = 2 : i64, seed = 1 : i64} : tensor<?x?x64xf32> -> tensor<?x?x2x?xi32>
  return
}

// -----

// buckets even
func.func @f(%x: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op buckets must be even (argmax over [x·R, −x·R]), got 7}}
  %b = attn.hash_bucket %x {buckets = 7 : i64, rounds = 2 : i64, seed = 1 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
  return
}

// -----

// buckets >= 2
func.func @f(%x: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op buckets must be at least 2, got 0}}
  %b = attn.hash_bucket %x {buckets = 0 : i64, rounds = 2 : i64, seed = 1 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
  return
}

// -----

// rounds >= 1
func.func @f(%x: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op rounds must be at least 1, got 0}}
  %b = attn.hash_bucket %x {buckets = 8 : i64, rounds = 0 : i64, seed = 1 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
  return
}

// -----

// seed and rotations
func.func @f(%x: tensor<?x?x?x64xf32>, %r: tensor<?x64x2x4xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op takes either 'seed' or a rotations operand, not both}}
  %b = attn.hash_bucket %x rotations(%r : tensor<?x64x2x4xf32>) {buckets = 8 : i64, rounds = 2 : i64, seed = 1 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
  return
}

// -----

// neither
func.func @f(%x: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op expects either a 'seed' attribute or a rotations operand}}
  %b = attn.hash_bucket %x {buckets = 8 : i64, rounds = 2 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
  return
}

// -----

// rotations shape
func.func @f(%x: tensor<?x?x?x64xf32>, %r: tensor<?x64x2x3xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op rotations dimension 3 is 3 but buckets / 2 is 4}}
  %b = attn.hash_bucket %x rotations(%r : tensor<?x64x2x3xf32>) {buckets = 8 : i64, rounds = 2 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
  return
}

// -----

// rotations D
func.func @f(%x: tensor<?x?x?x64xf32>, %r: tensor<?x32x2x4xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op rotations dimension 1 (D = 32) does not match x dimension 3 (D = 64)}}
  %b = attn.hash_bucket %x rotations(%r : tensor<?x32x2x4xf32>) {buckets = 8 : i64, rounds = 2 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x2x?xi32>
  return
}

// -----

// result rounds
func.func @f(%x: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.hash_bucket' op result dimension 2 is 3 but rounds is 2}}
  %b = attn.hash_bucket %x {buckets = 8 : i64, rounds = 2 : i64, seed = 1 : i64} : tensor<?x?x?x64xf32> -> tensor<?x?x3x?xi32>
  return
}

// -----

// chunk >= 1
func.func @f(%b: tensor<?x?x2x?xi32>) {
  // expected-error @+1 {{'attn.sort_chunk' op chunk length must be at least 1, got 0}}
  %o, %u = attn.sort_chunk %b {chunk = 0 : i64} : tensor<?x?x2x?xi32> -> tensor<?x?x2x?xi32>, tensor<?x?x2x?xi32>
  return
}

// -----

// order type
func.func @f(%b: tensor<?x?x2x?xi32>) {
  // expected-error @+1 {{'attn.sort_chunk' op order type 'tensor<?x?x3x?xi32>' does not match buckets type 'tensor<?x?x2x?xi32>'}}
  %o, %u = attn.sort_chunk %b {chunk = 4 : i64} : tensor<?x?x2x?xi32> -> tensor<?x?x3x?xi32>, tensor<?x?x2x?xi32>
  return
}

// -----

// sort rank
func.func @f(%b: tensor<?x?xi32>) {
  // expected-error @+1 {{'attn.sort_chunk' op expects buckets of rank 4 ([B, H, R, L]), got rank 2}}
  %o, %u = attn.sort_chunk %b {chunk = 4 : i64} : tensor<?x?xi32> -> tensor<?x?xi32>, tensor<?x?xi32>
  return
}

// -----

// before >= 0
func.func @f(%q: tensor<?x?x?x64xf32>, %o: tensor<?x?x2x?xi32>) {
  // expected-error @+1 {{'attn.chunked_attend' op before must be at least 0, got -1}}
  %out, %lse = attn.chunked_attend %q, %q, %q, %o {chunk = 4 : i64, before = -1 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x2x?xi32> -> tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32>
  return
}

// -----

// after >= 0
func.func @f(%q: tensor<?x?x?x64xf32>, %o: tensor<?x?x2x?xi32>) {
  // expected-error @+1 {{'attn.chunked_attend' op after must be at least 0, got -2}}
  %out, %lse = attn.chunked_attend %q, %q, %q, %o {chunk = 4 : i64, after = -2 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x2x?xi32> -> tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32>
  return
}

// -----

// chunked out rank
func.func @f(%q: tensor<?x?x?x64xf32>, %o: tensor<?x?x2x?xi32>) {
  // expected-error @+1 {{'attn.chunked_attend' op expects out of rank 5 ([B, H, R, L, Dv]), got rank 4}}
  %out, %lse = attn.chunked_attend %q, %q, %q, %o {chunk = 4 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x2x?xi32> -> tensor<?x?x2x64xf32>, tensor<?x?x2x?xf32>
  return
}

// -----

// chunked rounds
func.func @f(%q: tensor<?x?x?x64xf32>, %o: tensor<?x?x2x?xi32>) {
  // expected-error @+1 {{'attn.chunked_attend' op lse dimension 2 (R = 3) does not match order dimension 2 (R = 2)}}
  %out, %lse = attn.chunked_attend %q, %q, %q, %o {chunk = 4 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x2x?xi32> -> tensor<?x?x2x?x64xf32>, tensor<?x?x3x?xf32>
  return
}

// -----

// chunked value width
func.func @f(%q: tensor<?x?x?x64xf32>, %o: tensor<?x?x2x?xi32>) {
  // expected-error @+1 {{'attn.chunked_attend' op out dimension 4 (Dv = 32) does not match v dimension 3 (Dv = 64)}}
  %out, %lse = attn.chunked_attend %q, %q, %q, %o {chunk = 4 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x2x?xi32> -> tensor<?x?x2x?x32xf32>, tensor<?x?x2x?xf32>
  return
}

// -----

// combine rounds
func.func @f(%o: tensor<?x?x2x?x64xf32>, %l: tensor<?x?x3x?xf32>) {
  // expected-error @+1 {{'attn.combine_rounds' op lse dimension 2 (R = 3) does not match out dimension 2 (R = 2)}}
  %y = attn.combine_rounds %o, %l : tensor<?x?x2x?x64xf32>, tensor<?x?x3x?xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// combine result
func.func @f(%o: tensor<?x?x2x?x64xf32>, %l: tensor<?x?x2x?xf32>) {
  // expected-error @+1 {{'attn.combine_rounds' op result dimension 3 (Dv = 16) does not match out dimension 4 (Dv = 64)}}
  %y = attn.combine_rounds %o, %l : tensor<?x?x2x?x64xf32>, tensor<?x?x2x?xf32> -> tensor<?x?x?x16xf32>
  return
}

// -----

// lsh chunk
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.lsh_attend' op chunk length must be at least 1, got 0}}
  %y = attn.lsh_attend %q, %q {buckets = 8 : i64, rounds = 1 : i64, chunk = 0 : i64, seed = 1 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// lsh seed
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.lsh_attend' op expects either a 'seed' attribute or a rotations operand}}
  %y = attn.lsh_attend %q, %q {buckets = 8 : i64, rounds = 1 : i64, chunk = 4 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// lsh v length
func.func @f(%q: tensor<?x?x8x64xf32>, %v: tensor<?x?x9x64xf32>) {
  // expected-error @+1 {{'attn.lsh_attend' op v dimension 2 (L = 9) does not match qk dimension 2 (L = 8)}}
  %y = attn.lsh_attend %q, %v {buckets = 8 : i64, rounds = 1 : i64, chunk = 4 : i64, seed = 1 : i64} : tensor<?x?x8x64xf32>, tensor<?x?x9x64xf32> -> tensor<?x?x8x64xf32>
  return
}

// -----

// left >= 0
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.windowed_attend' op left window extent must be at least 0, got -1}}
  %y = attn.windowed_attend %q, %q, %q {left = -1 : i64, right = 0 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// right >= 0
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.windowed_attend' op right window extent must be at least 0, got -3}}
  %y = attn.windowed_attend %q, %q, %q {left = 1 : i64, right = -3 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// dilation >= 1
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.windowed_attend' op dilation must be at least 1, got 0}}
  %y = attn.windowed_attend %q, %q, %q {left = 1 : i64, right = 1 : i64, dilation = 0 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// global negative
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.windowed_attend' op global position -1 is negative}}
  %y = attn.windowed_attend %q, %q, %q {left = 1 : i64, right = 1 : i64, global = array<i64: -1>} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// global twice
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.windowed_attend' op global position 3 is listed twice}}
  %y = attn.windowed_attend %q, %q, %q {left = 1 : i64, right = 1 : i64, global = array<i64: 3, 0, 3>} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// q rank
func.func @f(%q: tensor<?x?x64xf32>, %k: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op expects q of rank 4 ([B, H, L, D]), got rank 3}}
  %y = attn.attend %q, %k, %k : tensor<?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// head dim
func.func @f(%q: tensor<?x?x?x64xf32>, %k: tensor<?x?x?x32xf32>) {
  // expected-error @+1 {{'attn.attend' op k dimension 3 (D = 32) does not match q dimension 3 (D = 64)}}
  %y = attn.attend %q, %k, %k : tensor<?x?x?x64xf32>, tensor<?x?x?x32xf32>, tensor<?x?x?x32xf32> -> tensor<?x?x?x32xf32>
  return
}

// -----

// key length
func.func @f(%q: tensor<?x?x?x64xf32>, %k: tensor<?x?x5x64xf32>, %v: tensor<?x?x6x64xf32>) {
  // expected-error @+1 {{'attn.attend' op v dimension 2 (L = 6) does not match k dimension 2 (L = 5)}}
  %y = attn.attend %q, %k, %v : tensor<?x?x?x64xf32>, tensor<?x?x5x64xf32>, tensor<?x?x6x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// result length
func.func @f(%q: tensor<?x?x7x64xf32>, %k: tensor<?x?x5x64xf32>) {
  // expected-error @+1 {{'attn.attend' op result dimension 2 (L = 5) does not match q dimension 2 (L = 7)}}
  %y = attn.attend %q, %k, %k : tensor<?x?x7x64xf32>, tensor<?x?x5x64xf32>, tensor<?x?x5x64xf32> -> tensor<?x?x5x64xf32>
  return
}

// -----

// element type
func.func @f(%q: tensor<?x?x?x64xf32>, %k: tensor<?x?x?x64xf16>) {
  // expected-error @+1 {{'attn.attend' op k element type 'f16' does not match q element type 'f32'}}
  %y = attn.attend %q, %k, %q : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf16>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// scale
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op scale must be finite and non-zero, got 0}}
  %y = attn.attend %q, %q, %q {scale = 0.0 : f32} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return
}

// -----

// mask arity
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op mask region expects 4 arguments (b, h, i, j : index then 0 captures), got 2}}
  %y = attn.attend %q, %q, %q : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32> mask {
  ^bb0(%i: index, %j: index):
    %m = arith.cmpi sge, %i, %j : index
    attn.yield %m : i1
  }
  return
}

// -----

// mask arg type
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op mask region argument 2 has type 'i32', expected 'index'}}
  %y = attn.attend %q, %q, %q : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32> mask {
  ^bb0(%b: index, %h: index, %i: i32, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  }
  return
}

// -----

// capture arg type
func.func @f(%q: tensor<?x?x?x64xf32>, %l: tensor<4xi32>) {
  // expected-error @+1 {{'attn.attend' op mask region argument 4 has type 'tensor<5xi32>', expected the type of capture 0 ('tensor<4xi32>')}}
  %y = attn.attend %q, %q, %q captures(%l : tensor<4xi32>) : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32> mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index, %x: tensor<5xi32>):
    %t = arith.constant true
    attn.yield %t : i1
  }
  return
}

// -----

// mask yield type
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op mask region yields 'index', expected 'i1'}}
  %y = attn.attend %q, %q, %q : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32> mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    attn.yield %i : index
  }
  return
}

// -----

// yield count
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op score region must yield exactly one value, got 2}}
  %y = attn.attend %q, %q, %q : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32> score {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %s, %s : f32, f32
  }
  return
}

// -----

// score first arg
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op score region argument 0 has type 'index', expected 'f32'}}
  %y = attn.attend %q, %q, %q : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32> score {
  ^bb0(%s: index, %b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 1.0 : f32
    attn.yield %c : f32
  }
  return
}

// -----

// not yield
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op mask region must end in attn.yield}}
  %y = attn.attend %q, %q, %q : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32> mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    "test.terminator"() : () -> ()
  }
  return
}

// -----

// two blocks
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend' op region #0 ('mask') failed to verify constraint: region with at most 1 blocks}}
  %y = attn.attend %q, %q, %q : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32> mask {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  ^bb1:
    %u = arith.constant true
    attn.yield %u : i1
  }
  return
}

// -----

// yield parent
func.func @f(%x: i1) {
  // expected-error @+1 {{'attn.yield' op expects parent op to be one of 'attn.attend, attn.attend_grad, attn.reversible_block'}}
  attn.yield %x : i1
}

// -----

// y1 type
func.func @f(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{'attn.reversible_block' op y1 type 'tensor<4x9xf32>' does not match x1 type 'tensor<4x8xf32>'}}
  %y1, %y2 = attn.reversible_block %a, %b : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x9xf32>, tensor<4x8xf32> f {
  ^bb0(%x: tensor<4x8xf32>):
    attn.yield %x : tensor<4x8xf32>
  } g {
  ^bb0(%x: tensor<4x8xf32>):
    attn.yield %x : tensor<4x8xf32>
  }
  return
}

// -----

// y2 type
func.func @f(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{'attn.reversible_block' op y2 type 'tensor<5x8xf32>' does not match x2 type 'tensor<4x8xf32>'}}
  %y1, %y2 = attn.reversible_block %a, %b : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>, tensor<5x8xf32> f {
  ^bb0(%x: tensor<4x8xf32>):
    attn.yield %x : tensor<4x8xf32>
  } g {
  ^bb0(%x: tensor<4x8xf32>):
    attn.yield %x : tensor<4x8xf32>
  }
  return
}

// -----

// f yields
func.func @f(%a: tensor<4x8xf32>, %b: tensor<4x6xf32>) {
  // expected-error @+1 {{'attn.reversible_block' op f region yields 'tensor<4x6xf32>', expected 'tensor<4x8xf32>'}}
  %y1, %y2 = attn.reversible_block %a, %b : tensor<4x8xf32>, tensor<4x6xf32> -> tensor<4x8xf32>, tensor<4x6xf32> f {
  ^bb0(%x: tensor<4x6xf32>):
    attn.yield %x : tensor<4x6xf32>
  } g {
  ^bb0(%x: tensor<4x8xf32>):
    attn.yield %x : tensor<4x8xf32>
  }
  return
}

// -----

// g arg
func.func @f(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{'attn.reversible_block' op g region argument 0 has type 'tensor<4x7xf32>', expected 'tensor<4x8xf32>'}}
  %y1, %y2 = attn.reversible_block %a, %b : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>, tensor<4x8xf32> f {
  ^bb0(%x: tensor<4x8xf32>):
    attn.yield %x : tensor<4x8xf32>
  } g {
  ^bb0(%x: tensor<4x7xf32>):
    %c = arith.constant dense<0.0> : tensor<4x8xf32>
    attn.yield %c : tensor<4x8xf32>
  }
  return
}

// -----

// f empty
func.func @f(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) {
  // expected-error @+1 {{'attn.reversible_block' op region #0 ('f') failed to verify constraint: region with 1 blocks}}
  %y1, %y2 = attn.reversible_block %a, %b : tensor<4x8xf32>, tensor<4x8xf32> -> tensor<4x8xf32>, tensor<4x8xf32> f {
  } g {
  ^bb0(%x: tensor<4x8xf32>):
    attn.yield %x : tensor<4x8xf32>
  }
  return
}

// -----

// linear M
func.func @f(%x: tensor<?x?x64xf32>, %w: tensor<32x16xf32>) {
  // expected-error @+1 {{'attn.linear' op x dimension 2 (M = 64) does not match w dimension 0 (M = 32)}}
  %y = attn.linear %x, %w : tensor<?x?x64xf32>, tensor<32x16xf32> -> tensor<?x?x16xf32>
  return
}

// -----

// linear w rank
func.func @f(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'attn.linear' op expects w of rank 2 ([M, N]), got rank 1}}
  %y = attn.linear %x, %w : tensor<?x?x64xf32>, tensor<64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

// linear bias
func.func @f(%x: tensor<?x64xf32>, %w: tensor<64x16xf32>, %b: tensor<15xf32>) {
  // expected-error @+1 {{'attn.linear' op bias dimension 0 (N = 15) does not match w dimension 1 (N = 16)}}
  %y = attn.linear %x, %w, %b : tensor<?x64xf32>, tensor<64x16xf32>, tensor<15xf32> -> tensor<?x16xf32>
  return
}

// -----

// linear rank 0
func.func @f(%x: tensor<f32>, %w: tensor<64x16xf32>) {
  // expected-error @+1 {{'attn.linear' op expects x of rank at least 1, got rank 0}}
  %y = attn.linear %x, %w : tensor<f32>, tensor<64x16xf32> -> tensor<16xf32>
  return
}

// -----

// layer_norm affine
func.func @f(%x: tensor<?x64xf32>, %g: tensor<64xf32>) {
  // expected-error @+1 {{'attn.layer_norm' op expects both gamma and beta or neither, got 1 affine operand(s)}}
  %y = attn.layer_norm %x, %g : tensor<?x64xf32>, tensor<64xf32> -> tensor<?x64xf32>
  return
}

// -----

// layer_norm eps
func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'attn.layer_norm' op eps must be positive, got 0}}
  %y = attn.layer_norm %x {eps = 0.0 : f32} : tensor<?x64xf32> -> tensor<?x64xf32>
  return
}

// -----

// layer_norm gamma
func.func @f(%x: tensor<?x64xf32>, %g: tensor<32xf32>) {
  // expected-error @+1 {{'attn.layer_norm' op gamma dimension 0 (N = 32) does not match x dimension 1 (N = 64)}}
  %y = attn.layer_norm %x, %g, %g : tensor<?x64xf32>, tensor<32xf32>, tensor<32xf32> -> tensor<?x64xf32>
  return
}

// -----

// layer_norm result
func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'attn.layer_norm' op result type 'tensor<?x32xf32>' does not match x type 'tensor<?x64xf32>'}}
  %y = attn.layer_norm %x : tensor<?x64xf32> -> tensor<?x32xf32>
  return
}

// -----

// broadcast
func.func @f(%x: tensor<?x64xf32>, %b: tensor<32xf32>) {
  // expected-error @+1 {{'attn.add' op rhs dimension 0 (trailing = 32) does not match lhs dimension 1 (trailing = 64)}}
  %y = attn.add %x, %b : tensor<?x64xf32>, tensor<32xf32> -> tensor<?x64xf32>
  return
}

// -----

// binary element
func.func @f(%x: tensor<?x64xf32>, %b: tensor<64xf16>) {
  // expected-error @+1 {{'attn.mul' op rhs element type 'f16' does not match lhs element type 'f32'}}
  %y = attn.mul %x, %b : tensor<?x64xf32>, tensor<64xf16> -> tensor<?x64xf32>
  return
}

// -----

// binary result rank
func.func @f(%x: tensor<?x64xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'attn.sub' op expects result of rank 2 (the longer operand's rank), got rank 1}}
  %y = attn.sub %b, %x : tensor<64xf32>, tensor<?x64xf32> -> tensor<64xf32>
  return
}

// -----

// split divide
func.func @f(%x: tensor<?x?x64xf32>) {
  %c3 = arith.constant 3 : index
  // expected-error @+1 {{'attn.split_heads' op heads 3 does not divide the model dimension 64}}
  %y = attn.split_heads %x, %c3 : tensor<?x?x64xf32> -> tensor<?x3x?x21xf32>
  return
}

// -----

// split heads result
func.func @f(%x: tensor<?x?x64xf32>) {
  %c8 = arith.constant 8 : index
  // expected-error @+1 {{'attn.split_heads' op result dimension 1 is 4 but heads is 8}}
  %y = attn.split_heads %x, %c8 : tensor<?x?x64xf32> -> tensor<?x4x?x8xf32>
  return
}

// -----

// split heads >= 1
func.func @f(%x: tensor<?x?x64xf32>) {
  %c0 = arith.constant 0 : index
  // expected-error @+1 {{'attn.split_heads' op heads must be at least 1, got 0}}
  %y = attn.split_heads %x, %c0 : tensor<?x?x64xf32> -> tensor<?x?x?x?xf32>
  return
}

// -----

// split head dim
func.func @f(%x: tensor<?x?x64xf32>) {
  %c8 = arith.constant 8 : index
  // expected-error @+1 {{'attn.split_heads' op result dimension 3 is 16 but model dimension / heads is 8}}
  %y = attn.split_heads %x, %c8 : tensor<?x?x64xf32> -> tensor<?x8x?x16xf32>
  return
}

// -----

// merge
func.func @f(%x: tensor<?x8x?x64xf32>) {
  // expected-error @+1 {{'attn.merge_heads' op result dimension 2 is 500 but H·D is 512}}
  %y = attn.merge_heads %x : tensor<?x8x?x64xf32> -> tensor<?x?x500xf32>
  return
}

// -----

// merge rank
func.func @f(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.merge_heads' op expects x of rank 4 ([B, H, L, D]), got rank 3}}
  %y = attn.merge_heads %x : tensor<?x?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

// dtype constraint
func.func @f(%x: tensor<?x?x?x64xf64>) {
  // expected-error @+1 {{'attn.gelu' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<?x?x?x64xf64>'}}
  %y = attn.gelu %x : tensor<?x?x?x64xf64>
  return
}

//===----------------------------------------------------------------------===//
// Typed attributes: #attn.schedule, #attn.mask, #attn.target
//===----------------------------------------------------------------------===//

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{vector width 7 is not 4 (SSE), 8 (AVX2) or 16 (AVX-512) f32 lanes}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 7, tile_queries = 48, register_rows = 6, key_tile = 14, value_tile = 14, value_rows = 6>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{tile of 0 queries is outside [1, 4096]}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 0, register_rows = 6, key_tile = 16, value_tile = 16, value_rows = 6>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{key register tile of 0 rows is outside [1, 16]}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 0, key_tile = 16, value_tile = 16, value_rows = 6>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{key tile 12 is not a multiple of the vector width 8}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 12, value_tile = 12, value_rows = 6>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{key register tile of 4 vectors x 12 rows needs more than 32 vector registers}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 12, key_tile = 32, value_tile = 16, value_rows = 6>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{value tile 20 is not a multiple of the vector width 8}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 16, value_tile = 20, value_rows = 6>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xbf16>
func.func @f(%q: !t) {
  // expected-error @+1 {{bf16 dot products need the vector width 16 (AVX-512), not 8}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 16, value_tile = 16, value_rows = 6, bf16_dot = true>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{key chunk 1000 is not 0 or an even multiple of the key tile 16 up to 2^20}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 16, value_tile = 16, value_rows = 6, key_chunk = 1000>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{'attn.schedule' with bf16_dot needs bf16 q and k, not 'f32' and 'f32'}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 48, register_rows = 8, key_tile = 32, value_tile = 64, value_rows = 6, bf16_dot = true>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xbf16>
func.func @f(%q: !t) {
  // expected-error @+1 {{'attn.schedule' with bf16_dot belongs on attn.attend}}
  %y = attn.windowed_attend %q, %q, %q {left = 2 : i64, right = 0 : i64, attn.schedule = #attn.schedule<vector_width = 16, tile_queries = 64, register_rows = 4, key_tile = 32, value_tile = 32, value_rows = 4, bf16_dot = true>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{value register tile of 8 vectors x 6 rows needs more than 32 vector registers}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 16, value_tile = 64, value_rows = 6>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{value register tile of 0 rows is outside [1, 16]}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 16, value_tile = 16, value_rows = 0>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{'attn.schedule' must be an #attn.schedule or #attn.gpu_schedule attribute}}
  %y = attn.attend %q, %q, %q {attn.schedule = 8 : i64} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{'attn.schedule' belongs on attn.attend, attn.attend_grad, attn.windowed_attend, attn.chunked_attend, attn.chunked_attend_grad or attn.hash_bucket}}
  %y = attn.relu %q {attn.schedule = #attn.schedule<vector_width = 8, tile_queries = 48, register_rows = 6, key_tile = 16, value_tile = 16, value_rows = 6>} : !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{band lo 3 exceeds hi 1: the mask allows no key}}
  %y = attn.attend %q, %q, %q {attn.mask = #attn.mask<band, lo = 3, hi = 1>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{a band mask needs lo, hi or both}}
  %y = attn.attend %q, %q, %q {attn.mask = #attn.mask<band>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{a block mask needs a block size >= 1}}
  %y = attn.attend %q, %q, %q {attn.mask = #attn.mask<block, size = 0>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{a 'none' mask takes no parameters}}
  %y = attn.attend %q, %q, %q {attn.mask = #attn.mask<none, hi = 0>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{unknown mask kind 'diagonal'; expected none, band, block or elementwise}}
  %y = attn.attend %q, %q, %q {attn.mask = #attn.mask<diagonal>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{unknown mask parameter 'width'; expected lo, hi or size}}
  %y = attn.attend %q, %q, %q {attn.mask = #attn.mask<band, width = 3>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xf32>
func.func @f(%q: !t) {
  // expected-error @+1 {{'attn.mask' belongs on attn.attend or attn.attend_grad}}
  %y = attn.windowed_attend %q, %q, %q {left = 1 : i64, right = 1 : i64, attn.mask = #attn.mask<none>} : !t, !t, !t -> !t
  return
}

// -----

// expected-error @+1 {{unknown target 'x86-64-v9'}}
module attributes {attn.target = #attn.target<"x86-64-v9">} {
}

// -----

// expected-error @+1 {{target 'x86-64-v3+avx2' is not canonical; write 'x86-64-v3'}}
module attributes {attn.target = #attn.target<"x86-64-v3+avx2">} {
}

// -----

func.func @f() {
  // expected-error @+1 {{'attn.target' belongs on a module}}
  "test.op"() {attn.target = #attn.target<"x86-64-v3">} : () -> ()
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{unknown attn attribute 'attn.tile'}}
  "test.op"() {attn.tile = 3 : i64} : () -> ()
  return
}

// -----

!t = tensor<?x?x?x64xbf16>
func.func @f(%q: !t) {
  // expected-error @+1 {{tile of 32 queries is not 16 x 4 warps (one mma.sync row block per warp)}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.gpu_schedule<warps = 4, tile_queries = 32, key_tile = 64>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xbf16>
func.func @f(%q: !t) {
  // expected-error @+1 {{gpu schedule of 3 warps is not 1, 2, 4 or 8}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.gpu_schedule<warps = 3, tile_queries = 48, key_tile = 64>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xbf16>
func.func @f(%q: !t) {
  // expected-error @+1 {{key tile 48 is not 32, 64 or 128}}
  %y = attn.attend %q, %q, %q {attn.schedule = #attn.gpu_schedule<warps = 4, tile_queries = 64, key_tile = 48>} : !t, !t, !t -> !t
  return
}

// -----

!t = tensor<?x?x?x64xbf16>
func.func @f(%q: !t) {
  // expected-error @+1 {{'attn.schedule' #attn.gpu_schedule belongs on attn.attend or attn.windowed_attend}}
  %y = attn.relu %q {attn.schedule = #attn.gpu_schedule<warps = 4, tile_queries = 64, key_tile = 64>} : !t
  return
}

// -----

func.func @f() {
  // expected-error @+1 {{'attn.tile_rows' belongs on a gpu.func}}
  return {attn.tile_rows = 64 : i64}
}

// -----

func.func @f() {
  // expected-error @+1 {{'attn.grid_arg' must be an integer of at least 0}}
  return {attn.grid_arg = -1 : i64}
}

// -----

// attend_grad: a gradient of another type than its input
func.func @f(%q: tensor<?x?x?x64xf32>, %dy: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend_grad' op dk type 'tensor<?x?x?x32xf32>' does not match k type 'tensor<?x?x?x64xf32>'}}
  %dq, %dk, %dv = attn.attend_grad %q, %q, %q, %dy
      : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
      -> tensor<?x?x?x64xf32>, tensor<?x?x?x32xf32>, tensor<?x?x?x64xf32>
  return
}

// -----

// attend_grad: dout of another length than q
func.func @f(%q: tensor<?x?x5x64xf32>, %dy: tensor<?x?x6x64xf32>) {
  // expected-error @+1 {{'attn.attend_grad' op result dimension 2 (L = 6) does not match q dimension 2 (L = 5)}}
  %dq, %dk, %dv = attn.attend_grad %q, %q, %q, %dy
      : tensor<?x?x5x64xf32>, tensor<?x?x5x64xf32>, tensor<?x?x5x64xf32>, tensor<?x?x6x64xf32>
      -> tensor<?x?x5x64xf32>, tensor<?x?x5x64xf32>, tensor<?x?x5x64xf32>
  return
}

// -----

// attend_grad: a score without its derivative
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend_grad' op score region without its score_grad region}}
  %dq, %dk, %dv = attn.attend_grad %q, %q, %q, %q
      : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
      -> tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
    score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      attn.yield %s : f32
    }
  return
}

// -----

// attend_grad: a derivative region of the wrong signature
func.func @f(%q: tensor<?x?x?x64xf32>) {
  // expected-error @+1 {{'attn.attend_grad' op score_grad region expects 5 arguments (s : f32, b, h, i, j : index then 0 captures), got 1}}
  %dq, %dk, %dv = attn.attend_grad %q, %q, %q, %q
      : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
      -> tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32>
    score {
    ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
      attn.yield %s : f32
    }
    score_grad {
    ^bb0(%s: f32):
      attn.yield %s : f32
    }
  return
}

// -----

func.func @f(%x: tensor<?x?x64xf32>) {
  // expected-error @+1 {{'attn.sum_to' op result dimension 0 (trailing = 32) does not match x dimension 2 (trailing = 64)}}
  %r = attn.sum_to %x : tensor<?x?x64xf32> -> tensor<32xf32>
  return
}

// -----

func.func @f(%x: tensor<?x64xf32>) {
  // expected-error @+1 {{'attn.sum_to' op result rank 3 exceeds x rank 2}}
  %r = attn.sum_to %x : tensor<?x64xf32> -> tensor<?x?x64xf32>
  return
}

// -----

func.func @f(%dy: tensor<?x?x64xf32>, %w: tensor<32x48xf32>) {
  // expected-error @+1 {{'attn.linear_input_grad' op dy dimension 2 (N = 64) does not match w dimension 1 (N = 48)}}
  %r = attn.linear_input_grad %dy, %w : tensor<?x?x64xf32>, tensor<32x48xf32> -> tensor<?x?x32xf32>
  return
}

// -----

func.func @f(%x: tensor<?x5x32xf32>, %dy: tensor<?x6x64xf32>) {
  // expected-error @+1 {{'attn.linear_weight_grad' op dy dimension 1 (leading = 6) does not match x dimension 1 (leading = 5)}}
  %r = attn.linear_weight_grad %x, %dy : tensor<?x5x32xf32>, tensor<?x6x64xf32> -> tensor<32x64xf32>
  return
}

// -----

func.func @f(%x: tensor<?x?x64xf32>, %dy: tensor<?x?x32xf32>) {
  // expected-error @+1 {{'attn.layer_norm_grad' op dy type 'tensor<?x?x32xf32>' does not match x type 'tensor<?x?x64xf32>'}}
  %r = attn.layer_norm_grad %x, %dy : tensor<?x?x64xf32>, tensor<?x?x32xf32> -> tensor<?x?x64xf32>
  return
}
