func.func @w(%q: tensor<?x?x?x64xbf16> {attn.name = "q", attn.dims = ["B","H","L","64"]}) -> (tensor<?x?x?x64xbf16> {attn.dims = ["B","H","L","64"]}) {
  %y = attn.windowed_attend %q, %q, %q {left = 4611686018427387904 : i64, right = 9223372036854775807 : i64, dilation = 8 : i64} : tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16>, tensor<?x?x?x64xbf16> -> tensor<?x?x?x64xbf16>
  return %y : tensor<?x?x?x64xbf16>
}
