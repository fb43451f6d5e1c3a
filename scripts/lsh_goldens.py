#!/usr/bin/env python3
"""Golden files for attnc's LSH attention, from Hugging Face's LSHSelfAttention.

Runs transformers' ``LSHSelfAttention`` (Reformer) in eval mode, in float64,
on fixed float32 inputs with fixed rotations, and writes one small file per
configuration to test/reference/golden/lsh/<name>.bin. The C++ reference
(test/reference/Lsh.cpp) and kernel tests read them through
test/reference/Golden.h. torch and transformers are needed only to
regenerate the files, never to build or test attnc:

    python3 -m venv /work/venv-hf
    /work/venv-hf/bin/pip install torch transformers numpy
    /work/venv-hf/bin/python scripts/lsh_goldens.py [--out DIR] [--check]

``--check`` regenerates in memory and compares with the committed files
instead of writing them.

How HF is driven:
- hidden_size = 2·H·D and the input is [qk | v] ([B, L, 2·H·D], each half in
  HF's [B, L, H·D] head layout); the query_key and value projections are
  replaced by modules taking the first and second half (exact identity
  projections, with independent qk and v).
- The rotation draw (torch.randn in _hash_vectors) is patched to return our
  rot f32[H, D, R, N/2], which is HF's own layout. Rotations come from the
  documented generator (Philox-4x32-10 + Box-Muller, implemented below in
  plain Python and checked against the Random123 known-answer vectors).
- Output [B, L, H·D] is split into heads -> [B, H, L, D].

File format (little-endian, no padding):
    char    magic[8]   b"ATTNLSH1"
    int64   header[12] B, H, L, D, R, N, C, before, after, causal, seed (-1 if
                       rot is not from the generator), hf_bits (64 = HF in
                       float64)
    float32 qk[B, H, L, D], v[B, H, L, D], rot[H, D, R, N/2]
    float64 out[B, H, L, D]
"""
import argparse
import math
import os
import struct
import sys

import numpy as np

MASK32 = 0xFFFFFFFF


# --------------------------------------------------------------------------
# The rotation generator (the contract of LANGUAGE.md; mirrors Lsh.cpp).
# --------------------------------------------------------------------------
def philox4x32(counter, key):
    """Philox-4x32-10 of a 4-word counter under a 2-word key."""
    M0, M1 = 0xD2511F53, 0xCD9E8D57
    W0, W1 = 0x9E3779B9, 0xBB67AE85
    c0, c1, c2, c3 = counter
    k0, k1 = key
    for rnd in range(10):
        if rnd > 0:
            k0 = (k0 + W0) & MASK32
            k1 = (k1 + W1) & MASK32
        p0 = M0 * c0
        p1 = M1 * c2
        hi0, lo0 = p0 >> 32, p0 & MASK32
        hi1, lo1 = p1 >> 32, p1 & MASK32
        c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return (c0, c1, c2, c3)


PHILOX_KAT = [  # Random123 kat_vectors, philox4x32 10 rounds
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((MASK32,) * 4, (MASK32,) * 2,
     (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
     (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


def lsh_rotation(seed, h, d, r, n):
    """rot[h, d, r, n] for seed, as a float32 (numpy)."""
    x = philox4x32((n, r, d, h), (seed & MASK32, (seed >> 32) & MASK32))
    u1 = (x[0] + 0.5) * 2.0 ** -32
    u2 = x[1] * 2.0 ** -32
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return np.float32(z)


def lsh_rotations(seed, H, D, R, half):
    rot = np.empty((H, D, R, half), dtype=np.float32)
    for idx in np.ndindex(H, D, R, half):
        rot[idx] = lsh_rotation(seed, *idx)
    return rot


def check_generator():
    for ctr, key, want in PHILOX_KAT:
        got = philox4x32(ctr, key)
        assert got == want, (ctr, key, [hex(g) for g in got])
    # The values quoted in LANGUAGE.md / LshReferenceTest.cpp.
    first = lsh_rotations(42, 1, 2, 1, 2).reshape(-1)
    return first


# --------------------------------------------------------------------------
# Hugging Face
# --------------------------------------------------------------------------
def run_hf(qk, v, rot, C, before, after, causal, dtype):
    """qk, v float32 [B,H,L,D]; rot float32 [H,D,R,N/2] -> float64 [B,H,L,D]."""
    import torch
    from torch import nn
    from transformers import ReformerConfig
    from transformers.models.reformer import modeling_reformer as mr

    B, H, L, D = qk.shape
    R, half = rot.shape[2], rot.shape[3]
    config = ReformerConfig(
        hidden_size=2 * H * D, attention_head_size=D, num_attention_heads=H,
        num_hashes=R, num_buckets=2 * half, lsh_attn_chunk_length=C,
        lsh_num_chunks_before=before, lsh_num_chunks_after=after,
        is_decoder=causal, lsh_attention_probs_dropout_prob=0.0,
        attn_layers=["lsh"], hash_seed=None)

    class Take(nn.Module):
        def __init__(self, lo, hi):
            super().__init__()
            self.lo, self.hi = lo, hi

        def forward(self, x):
            return x[..., self.lo:self.hi]

    attn = mr.LSHSelfAttention(config)
    attn.query_key = Take(0, H * D)
    attn.value = Take(H * D, 2 * H * D)
    attn = attn.to(dtype).eval()

    def merge(x):  # [B,H,L,D] -> [B,L,H·D]
        return np.ascontiguousarray(x.transpose(0, 2, 1, 3)).reshape(B, L, H * D)

    hidden = np.concatenate([merge(qk), merge(v)], axis=-1)
    hidden = torch.tensor(hidden.astype(np.float64), dtype=dtype)
    rot_t = torch.tensor(rot.astype(np.float64), dtype=dtype)
    calls = []
    real_randn = torch.randn

    def fixed_randn(*shape, **kw):
        shape = tuple(shape[0]) if len(shape) == 1 and not isinstance(
            shape[0], int) else tuple(shape)
        assert shape == tuple(rot.shape), (shape, rot.shape)
        calls.append(shape)
        return rot_t.to(kw.get("dtype", dtype)).clone()

    torch.randn = fixed_randn
    try:
        with torch.no_grad():
            out = attn(hidden_states=hidden).hidden_states
    finally:
        torch.randn = real_randn
    if L > C:
        assert len(calls) == 1, "rotations were not drawn exactly once"
    out = out.to(torch.float64).numpy().reshape(B, L, H, D)
    return out.transpose(0, 2, 1, 3).copy()


# name, B, H, L, D, R, N, C, before, after, causal, input kind
CONFIGS = [
    ("r1_n4_c4_b1a0", 2, 2, 16, 4, 1, 4, 4, 1, 0, False, "normal"),
    ("r2_n8_c8_b2a1_causal", 2, 2, 32, 8, 2, 8, 8, 2, 1, True, "normal"),
    ("r4_n2_c4_b0a1", 2, 2, 16, 4, 4, 2, 4, 0, 1, False, "normal"),
    ("r2_n4_c8_b1a0_causal", 2, 2, 24, 8, 2, 4, 8, 1, 0, True, "normal"),
    ("r4_n8_c4_b2a1", 2, 2, 8, 8, 4, 8, 4, 2, 1, False, "normal"),
    ("r4_n8_c8_b1a0_causal", 2, 2, 32, 4, 4, 8, 8, 1, 0, True, "normal"),
    ("repeat_r1_n4_c4_b2a1", 2, 2, 8, 4, 1, 4, 4, 2, 1, False, "normal"),
    ("repeat_r1_n2_c4_b2a1_causal", 2, 2, 8, 8, 1, 2, 4, 2, 1, True,
     "normal"),
    ("full_r2_l8_c8", 2, 2, 8, 4, 2, 4, 8, 1, 0, False, "normal"),
    ("full_r1_l6_c8_causal", 2, 2, 6, 8, 1, 4, 8, 1, 0, True, "normal"),
    ("ties_r2_n4_c4_b1a0", 2, 2, 16, 4, 2, 4, 4, 1, 0, False, "ties"),
    ("ties_r4_n4_c4_b2a1_causal", 2, 2, 16, 4, 4, 4, 4, 2, 1, True, "ties"),
    ("ties_r1_n8_c4_b0a1", 2, 2, 16, 8, 1, 8, 4, 0, 1, False, "ties"),
]


def inputs(i, B, H, L, D, kind):
    rng = np.random.default_rng(1000 + i)
    qk = rng.standard_normal((B, H, L, D)).astype(np.float32)
    v = rng.standard_normal((B, H, L, D)).astype(np.float32)
    if kind == "ties":
        # All-zero rows (bucket 0 in every round) and duplicated rows (equal
        # buckets, equal scores) at fixed positions.
        qk[:, :, 0] = 0
        qk[:, :, L // 2] = 0
        qk[:, :, 3] = qk[:, :, 1]
        qk[:, :, L - 1] = qk[:, :, 1]
        qk[0, 1, 5:9] = qk[0, 1, 4]
    return qk, v


def encode(cfg, seed, qk, v, rot, out, bits):
    _, B, H, L, D, R, N, C, before, after, causal, _ = cfg
    head = struct.pack("<8s12q", b"ATTNLSH1", B, H, L, D, R, N, C, before,
                       after, int(causal), seed, bits)
    return (head + qk.astype("<f4").tobytes() + v.astype("<f4").tobytes() +
            rot.astype("<f4").tobytes() + out.astype("<f8").tobytes())


def main():
    import torch
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(
        here, "..", "test", "reference", "golden", "lsh"))
    ap.add_argument("--check", action="store_true",
                    help="compare with the existing files, write nothing")
    args = ap.parse_args()

    first = check_generator()
    print("philox4x32-10 KAT: ok")
    print("rot(seed 42, H1 D2 R1 N/2 2) = " +
          ", ".join("%.9g" % x for x in first))
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    bad = 0
    for i, cfg in enumerate(CONFIGS):
        name, B, H, L, D, R, N, C, before, after, causal, kind = cfg
        seed = 20260 + i
        qk, v = inputs(i, B, H, L, D, kind)
        rot = lsh_rotations(seed, H, D, R, N // 2)
        out = run_hf(qk, v, rot, C, before, after, causal, torch.float64)
        assert np.all(np.isfinite(out))
        blob = encode(cfg, seed, qk, v, rot, out, 64)
        path = os.path.join(args.out, name + ".bin")
        if args.check:
            with open(path, "rb") as f:
                same = f.read() == blob
            print("%-32s %s" % (name, "same" if same else "DIFFERS"))
            bad += not same
        else:
            with open(path, "wb") as f:
                f.write(blob)
            print("%-32s %6d bytes" % (name, len(blob)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
