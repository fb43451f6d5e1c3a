//===- Lsh.cpp - plain C++ reference of the LSH contract ------------------===//
#include "Lsh.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

using namespace attnc::ref;

IndexTensor::IndexTensor(std::vector<int64_t> s, int32_t fill)
    : shape(std::move(s)) {
  data.assign(size_t(elementCount(shape)), fill);
}

int32_t &IndexTensor::at(std::initializer_list<int64_t> idx) {
  return data[size_t(rowMajorOffset(shape, idx))];
}
int32_t IndexTensor::at(std::initializer_list<int64_t> idx) const {
  return data[size_t(rowMajorOffset(shape, idx))];
}

//===----------------------------------------------------------------------===//
// Rotation generator
//===----------------------------------------------------------------------===//

std::array<uint32_t, 4> attnc::ref::philox4x32(std::array<uint32_t, 4> c,
                                               std::array<uint32_t, 2> k) {
  const uint64_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += W0;
      k[1] += W1;
    }
    uint64_t p0 = M0 * uint64_t(c[0]), p1 = M1 * uint64_t(c[2]);
    uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }
  return c;
}

float attnc::ref::lshRotation(uint64_t seed, uint32_t h, uint32_t d,
                              uint32_t r, uint32_t n) {
  std::array<uint32_t, 4> x =
      philox4x32({n, r, d, h}, {uint32_t(seed), uint32_t(seed >> 32)});
  const double twoM32 = 1.0 / 4294967296.0; // 2^-32
  double u1 = (double(x[0]) + 0.5) * twoM32;
  double u2 = double(x[1]) * twoM32;
  const double pi = 3.14159265358979323846;
  double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * pi * u2);
  return float(z);
}

Tensor attnc::ref::lshRotations(uint64_t seed, int64_t H, int64_t D, int64_t R,
                                int64_t halfBuckets) {
  Tensor rot({H, D, R, halfBuckets});
  for (int64_t h = 0; h < H; ++h)
    for (int64_t d = 0; d < D; ++d)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t n = 0; n < halfBuckets; ++n)
          rot.at({h, d, r, n}) = lshRotation(seed, uint32_t(h), uint32_t(d),
                                             uint32_t(r), uint32_t(n));
  return rot;
}

//===----------------------------------------------------------------------===//
// hash_bucket, sort_chunk
//===----------------------------------------------------------------------===//

IndexTensor attnc::ref::hashBucket(const Tensor &qk, const Tensor &rot) {
  int64_t B = qk.shape[0], H = qk.shape[1], L = qk.shape[2], D = qk.shape[3];
  int64_t R = rot.shape[2], half = rot.shape[3];
  if (rot.shape[0] != H || rot.shape[1] != D)
    throw std::invalid_argument("hashBucket: rot must be [H, D, R, N/2]");
  IndexTensor buckets({B, H, R, L});
  std::vector<double> p(static_cast<size_t>(2 * half));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t t = 0; t < L; ++t) {
          for (int64_t n = 0; n < half; ++n) {
            double acc = 0;
            for (int64_t d = 0; d < D; ++d)
              acc += double(qk.at({b, h, t, d})) * double(rot.at({h, d, r, n}));
            p[size_t(n)] = acc;
            p[size_t(half + n)] = -acc;
          }
          int64_t best = 0; // first index wins ties: strict >
          for (int64_t n = 1; n < 2 * half; ++n)
            if (p[size_t(n)] > p[size_t(best)])
              best = n;
          buckets.at({b, h, r, t}) = int32_t(best);
        }
  return buckets;
}

void attnc::ref::sortChunk(const IndexTensor &buckets, IndexTensor &order,
                           IndexTensor &undo) {
  int64_t B = buckets.shape[0], H = buckets.shape[1], R = buckets.shape[2],
          L = buckets.shape[3];
  order = IndexTensor(buckets.shape);
  undo = IndexTensor(buckets.shape);
  std::vector<int32_t> pos(static_cast<size_t>(L));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t r = 0; r < R; ++r) {
        std::iota(pos.begin(), pos.end(), 0);
        auto bucket = [&](int32_t t) { return buckets.at({b, h, r, t}); };
        // By (bucket, position): the stable sort of the positions by bucket.
        std::sort(pos.begin(), pos.end(), [&](int32_t x, int32_t y) {
          return bucket(x) != bucket(y) ? bucket(x) < bucket(y) : x < y;
        });
        for (int64_t t = 0; t < L; ++t) {
          order.at({b, h, r, t}) = pos[size_t(t)];
          undo.at({b, h, r, pos[size_t(t)]}) = int32_t(t);
        }
      }
}

//===----------------------------------------------------------------------===//
// chunked_attend, combine_rounds, lsh_attend
//===----------------------------------------------------------------------===//

std::vector<double> attnc::ref::lshNormalizeKey(const float *x, int64_t D) {
  double ms = 0;
  for (int64_t d = 0; d < D; ++d)
    ms += double(x[d]) * double(x[d]);
  ms /= double(D);
  double s = 1.0 / std::sqrt(ms + 1e-6) / std::sqrt(double(D));
  std::vector<double> k(static_cast<size_t>(D));
  for (int64_t d = 0; d < D; ++d)
    k[size_t(d)] = double(x[d]) * s;
  return k;
}

static const double kCausalMask = -1e9, kSelfMask = -1e5;

/// Rounds kept in double between chunked_attend and combine_rounds inside
/// lshAttend, so that the composite is not limited by float lse/out.
struct RoundsD {
  int64_t B, H, R, L, E;
  std::vector<double> out, lse; // [B,H,R,L,E], [B,H,R,L]
  double &o(int64_t b, int64_t h, int64_t r, int64_t t, int64_t e) {
    return out[size_t((((b * H + h) * R + r) * L + t) * E + e)];
  }
  double &l(int64_t b, int64_t h, int64_t r, int64_t t) {
    return lse[size_t(((b * H + h) * R + r) * L + t)];
  }
};

static RoundsD chunkedAttendD(const Tensor &q, const Tensor &k,
                              const Tensor &v, const IndexTensor &order,
                              int64_t chunk, int64_t before, int64_t after,
                              bool causal, bool selfMask, bool normalizeKeys) {
  int64_t B = q.shape[0], H = q.shape[1], L = q.shape[2], D = q.shape[3];
  int64_t E = v.shape[3], R = order.shape[2];
  if (chunk <= 0 || before < 0 || after < 0)
    throw std::invalid_argument("chunkedAttend: bad chunk parameters");
  if (k.shape != q.shape || v.shape[2] != L || order.shape[3] != L)
    throw std::invalid_argument("chunkedAttend: shapes disagree");
  RoundsD res{B, H, R, L, E, {}, {}};
  res.out.assign(size_t(B * H * R * L * E), 0.0);
  res.lse.assign(size_t(B * H * R * L), 0.0);
  const int64_t total = R * L;
  const int64_t nChunks = (total + chunk - 1) / chunk;
  auto chunkSize = [&](int64_t c) {
    return std::min(chunk, total - c * chunk);
  };
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      // The sorted sequence: flat f = r·L + t -> original position.
      std::vector<int64_t> posOf(static_cast<size_t>(total));
      for (int64_t f = 0; f < total; ++f)
        posOf[size_t(f)] = order.at({b, h, f / L, f % L});
      // Keys per original position (the gather does not change them).
      std::vector<std::vector<double>> key(static_cast<size_t>(L));
      for (int64_t t = 0; t < L; ++t) {
        const float *row = &k.data[size_t(((b * H + h) * L + t) * D)];
        if (normalizeKeys) {
          key[size_t(t)] = lshNormalizeKey(row, D);
        } else {
          key[size_t(t)].assign(row, row + D);
        }
      }
      for (int64_t c = 0; c < nChunks; ++c) {
        // Key entries of chunk c: neighbours c − before … c + after, mod n.
        std::vector<int64_t> keys;
        for (int64_t o = -before; o <= after; ++o) {
          int64_t nc = ((c + o) % nChunks + nChunks) % nChunks;
          for (int64_t j = 0; j < chunkSize(nc); ++j)
            keys.push_back(posOf[size_t(nc * chunk + j)]);
        }
        std::vector<double> s(keys.size());
        for (int64_t i = 0; i < chunkSize(c); ++i) {
          int64_t f = c * chunk + i, r = f / L, qp = posOf[size_t(f)];
          double m = -std::numeric_limits<double>::infinity();
          for (size_t j = 0; j < keys.size(); ++j) {
            int64_t kp = keys[j];
            double dot = 0;
            for (int64_t d = 0; d < D; ++d)
              dot += double(q.at({b, h, qp, d})) * key[size_t(kp)][size_t(d)];
            if (causal && qp < kp)
              dot = kCausalMask;
            if (selfMask && qp == kp)
              dot = kSelfMask;
            s[j] = dot;
            m = std::max(m, dot);
          }
          double sum = 0;
          for (double x : s)
            sum += std::exp(x - m);
          res.l(b, h, r, qp) = m + std::log(sum);
          for (int64_t e = 0; e < E; ++e) {
            double acc = 0;
            for (size_t j = 0; j < keys.size(); ++j)
              acc += std::exp(s[j] - m) * double(v.at({b, h, keys[j], e}));
            res.o(b, h, r, qp, e) = acc / sum;
          }
        }
      }
    }
  return res;
}

void attnc::ref::chunkedAttend(const Tensor &q, const Tensor &k,
                               const Tensor &v, const IndexTensor &order,
                               int64_t chunk, int64_t before, int64_t after,
                               bool causal, bool selfMask, bool normalizeKeys,
                               Tensor &out, Tensor &lse) {
  RoundsD d = chunkedAttendD(q, k, v, order, chunk, before, after, causal,
                             selfMask, normalizeKeys);
  out = Tensor({d.B, d.H, d.R, d.L, d.E});
  lse = Tensor({d.B, d.H, d.R, d.L});
  for (size_t i = 0; i < d.out.size(); ++i)
    out.data[i] = float(d.out[i]);
  for (size_t i = 0; i < d.lse.size(); ++i)
    lse.data[i] = float(d.lse[i]);
}

std::vector<double> attnc::ref::chunkedAttendExact(
    const Tensor &q, const Tensor &k, const Tensor &v, const IndexTensor &order,
    int64_t chunk, int64_t before, int64_t after, bool causal, bool selfMask,
    bool normalizeKeys) {
  RoundsD d = chunkedAttendD(q, k, v, order, chunk, before, after, causal,
                             selfMask, normalizeKeys);
  std::vector<double> both = std::move(d.out);
  both.insert(both.end(), d.lse.begin(), d.lse.end());
  return both;
}

static std::vector<double> combineRoundsD(RoundsD &d) {
  int64_t B = d.B, H = d.H, R = d.R, L = d.L, E = d.E;
  std::vector<double> res(size_t(B * H * L * E));
  std::vector<double> w(static_cast<size_t>(R));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < L; ++t) {
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t r = 0; r < R; ++r)
          m = std::max(m, d.l(b, h, r, t));
        double sum = 0;
        for (int64_t r = 0; r < R; ++r)
          sum += (w[size_t(r)] = std::exp(d.l(b, h, r, t) - m));
        for (int64_t e = 0; e < E; ++e) {
          double acc = 0;
          for (int64_t r = 0; r < R; ++r)
            acc += w[size_t(r)] / sum * d.o(b, h, r, t, e);
          res[size_t(((b * H + h) * L + t) * E + e)] = acc;
        }
      }
  return res;
}

static Tensor rounded(std::vector<int64_t> shape, const std::vector<double> &x) {
  Tensor t(std::move(shape));
  for (size_t i = 0; i < x.size(); ++i)
    t.data[i] = float(x[i]);
  return t;
}

static RoundsD roundsOf(const Tensor &out, const Tensor &lse) {
  if (out.shape.size() != 5 || lse.shape.size() != 4)
    throw std::invalid_argument("combineRounds: out [B,H,R,L,E], lse [B,H,R,L]");
  RoundsD d{out.shape[0], out.shape[1], out.shape[2], out.shape[3],
            out.shape[4], {}, {}};
  d.out.assign(out.data.begin(), out.data.end());
  d.lse.assign(lse.data.begin(), lse.data.end());
  return d;
}

Tensor attnc::ref::combineRounds(const Tensor &out, const Tensor &lse) {
  RoundsD d = roundsOf(out, lse);
  return rounded({d.B, d.H, d.L, d.E}, combineRoundsD(d));
}

std::vector<double> attnc::ref::combineRoundsExact(const Tensor &out,
                                                   const Tensor &lse) {
  RoundsD d = roundsOf(out, lse);
  return combineRoundsD(d);
}

/// One full attention over the sequence (the L <= chunk case).
static std::vector<double> fullPass(const Tensor &qk, const Tensor &v,
                                    bool causal) {
  int64_t B = qk.shape[0], H = qk.shape[1], L = qk.shape[2], D = qk.shape[3];
  int64_t E = v.shape[3];
  std::vector<double> res(size_t(B * H * L * E));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      std::vector<std::vector<double>> key(static_cast<size_t>(L));
      for (int64_t t = 0; t < L; ++t)
        key[size_t(t)] =
            lshNormalizeKey(&qk.data[size_t(((b * H + h) * L + t) * D)], D);
      std::vector<double> s(static_cast<size_t>(L));
      for (int64_t i = 0; i < L; ++i) {
        double m = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < L; ++j) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += double(qk.at({b, h, i, d})) * key[size_t(j)][size_t(d)];
          if (causal && i < j)
            dot = kCausalMask;
          if (i == j)
            dot = kSelfMask;
          s[size_t(j)] = dot;
          m = std::max(m, dot);
        }
        double sum = 0;
        for (double x : s)
          sum += std::exp(x - m);
        for (int64_t e = 0; e < E; ++e) {
          double acc = 0;
          for (int64_t j = 0; j < L; ++j)
            acc += std::exp(s[size_t(j)] - m) * double(v.at({b, h, j, e}));
          res[size_t(((b * H + h) * L + i) * E + e)] = acc / sum;
        }
      }
    }
  return res;
}

std::vector<double> attnc::ref::lshChainExact(const Tensor &qk,
                                              const Tensor &v,
                                              const Tensor &rot, int64_t chunk,
                                              int64_t before, int64_t after,
                                              bool causal) {
  IndexTensor order, undo;
  sortChunk(hashBucket(qk, rot), order, undo);
  RoundsD d = chunkedAttendD(qk, qk, v, order, chunk, before, after, causal,
                             /*selfMask=*/true, /*normalizeKeys=*/true);
  return combineRoundsD(d);
}

std::vector<double> attnc::ref::lshAttendExact(const Tensor &qk,
                                               const Tensor &v,
                                               const Tensor &rot, int64_t chunk,
                                               int64_t before, int64_t after,
                                               bool causal) {
  if (qk.shape[2] <= chunk)
    return fullPass(qk, v, causal);
  return lshChainExact(qk, v, rot, chunk, before, after, causal);
}

Tensor attnc::ref::lshAttend(const Tensor &qk, const Tensor &v,
                             const Tensor &rot, int64_t chunk, int64_t before,
                             int64_t after, bool causal) {
  return rounded({qk.shape[0], qk.shape[1], qk.shape[2], v.shape[3]},
                 lshAttendExact(qk, v, rot, chunk, before, after, causal));
}
