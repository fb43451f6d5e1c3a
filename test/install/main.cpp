//===- main.cpp - kernels built through an installed attnc ----------------===//
//
// Links the libraries that attnc_add_kernels made with the installed
// attnc::runtime and compares every kernel, on ragged shapes, with the plain
// C++ reference. Exits non-zero on a failed call or max|err| > 1e-4.
//
//===----------------------------------------------------------------------===//
#include "cross.h"
#include "local.h"

#include "Reference.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>

using attnc::ref::Tensor;

namespace {

int failures = 0;
std::mt19937 rng(1234);

attn_tensor view(Tensor &t) {
  return attn_make_tensor(t.data.data(), ATTN_F32, int32_t(t.shape.size()),
                          t.shape.data());
}

Tensor random(std::vector<int64_t> shape) {
  Tensor t(std::move(shape));
  t.randomize(rng);
  return t;
}

std::string shapeText(const Tensor &t) {
  std::string s = "[";
  for (size_t i = 0; i < t.shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(t.shape[i]);
  return s + "]";
}

// Runs `call` on (q, k, v, out) and compares `out` with `expected`.
void check(const char *name, Tensor q, Tensor k, Tensor v,
           std::vector<int64_t> outShape,
           const std::function<int(const attn_tensor *, const attn_tensor *,
                                   const attn_tensor *, attn_tensor *)> &call,
           const Tensor &expected) {
  Tensor out(std::move(outShape), NAN);
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  int rc = call(&tq, &tk, &tv, &to);
  if (rc != 0) {
    std::printf("FAIL %-16s q%s: returned %d: %s\n", name, shapeText(q).c_str(),
                rc, attn_last_error());
    ++failures;
    return;
  }
  double err = attnc::ref::maxAbsDiff(out, expected);
  bool ok = err <= 1e-4;
  std::printf("%s %-16s q%s k%s v%s max|err| = %.3g\n", ok ? "ok  " : "FAIL",
              name, shapeText(q).c_str(), shapeText(k).c_str(),
              shapeText(v).c_str(), err);
  failures += !ok;
}

void cross(int64_t B, int64_t H, int64_t L, int64_t S, int64_t D, int64_t E) {
  Tensor q = random({B, H, L, D}), k = random({B, H, S, D}), v = random({B, H, S, E});
  check("cross_attention", q, k, v, {B, H, L, E}, cross_attention,
        attnc::ref::attend(q, k, v, 0.2));
}

void causal(int64_t B, int64_t H, int64_t L, int64_t D) {
  Tensor q = random({B, H, L, D}), k = random({B, H, L, D}), v = random({B, H, L, D});
  auto mask = [](int64_t, int64_t, int64_t i, int64_t j) { return j <= i; };
  check("causal_local", q, k, v, {B, H, L, D}, causal_local,
        attnc::ref::attend(q, k, v, 1.0 / std::sqrt(double(D)), mask));
}

void window(int64_t B, int64_t H, int64_t L, int64_t D) {
  Tensor q = random({B, H, L, D}), k = random({B, H, L, D}), v = random({B, H, L, D});
  check("window_local", q, k, v, {B, H, L, D}, window_local,
        attnc::ref::windowed(q, k, v, 4, 2, 2, {0}));
}

} // namespace

int main() {
  attn_set_num_threads(2);
  cross(2, 3, 37, 53, 24, 40);
  cross(1, 2, 1, 7, 5, 3);
  causal(2, 2, 45, 16);
  causal(1, 3, 9, 7);
  window(1, 2, 61, 12);
  window(2, 1, 5, 3);

  // A bad call must come back as an error with a message from the runtime.
  Tensor q = random({1, 1, 4, 8}), k = random({1, 1, 4, 6}), v = random({1, 1, 4, 8});
  Tensor out({1, 1, 4, 8});
  attn_tensor tq = view(q), tk = view(k), tv = view(v), to = view(out);
  int rc = cross_attention(&tq, &tk, &tv, &to);
  const char *msg = attn_last_error();
  if (rc != ATTN_ERR_SHAPE || !msg || !*msg) {
    std::printf("FAIL mismatched D: returned %d (want %d), message '%s'\n", rc,
                int(ATTN_ERR_SHAPE), msg ? msg : "(null)");
    ++failures;
  } else {
    std::printf("ok   mismatched D refused: %s\n", msg);
  }

  if (failures)
    std::printf("%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
