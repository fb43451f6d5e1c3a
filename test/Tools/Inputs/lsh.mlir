func.func @lsh(%qk: tensor<?x?x?x64xf32>) -> tensor<?x?x?x64xf32> {
  %y = attn.lsh_attend %qk, %qk {buckets = 4 : i64, rounds = 1 : i64, chunk = 8 : i64, seed = 1 : i64} : tensor<?x?x?x64xf32>, tensor<?x?x?x64xf32> -> tensor<?x?x?x64xf32>
  return %y : tensor<?x?x?x64xf32>
}
