func.func @bad(%b: tensor<?x?x2x?xi32>) {
  %o, %u = attn.sort_chunk %b {chunk = 0 : i64} : tensor<?x?x2x?xi32> -> tensor<?x?x2x?xi32>, tensor<?x?x2x?xi32>
  return
}
