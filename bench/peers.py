#!/usr/bin/env python3
"""Times attnc's dense and windowed kernels against PyTorch in one run.

The shapes are attnc-bench's: [B, H, L, D] = [1, 8, L, 64], float32; full
and causal attention at --lengths, a window of 128 keys on each side at
--window-lengths, each at every thread count of --threads. For each case:

  attnc     attnc-bench's row attnc/<case>/L:<L>/threads:<t> (run first, as
            a subprocess, JSON output): its time, GFLOP/s on useful work
            and % of the FMA peak it measured in the same run;
  sdpa      torch.nn.functional.scaled_dot_product_attention (PyTorch picks
            its CPU flash kernel for full and causal); the window as a
            dense boolean mask, which is what SDPA offers for it;
  flex      with --flex, FlexAttention under torch.compile for the causal
            and windowed cases (a block mask skips dead key blocks), if
            this torch can compile it here (else the reason is printed).

With --bf16, also full and causal attention on bfloat16 q, k, v (attnc's
rows attnc/bf16/<case>/...: vdpbf16ps where the CPU has AVX512-BF16; SDPA
on bfloat16 tensors, AMX where the CPU has it). Their %peak is of the f32
FMA peak, so it can exceed 100.

Each PyTorch time is the median of --repeats calls after two warm-ups.
The ratio columns are PyTorch time / attnc time (> 1: attnc is faster).
The CPU model (from /proc/cpuinfo) heads the table: figures carry over to
no other machine.

torch is not a build or test dependency of attnc:
    python3 -m venv /work/venv-hf && /work/venv-hf/bin/pip install torch
    /work/venv-hf/bin/python bench/peers.py --attnc-bench build/bench/attnc-bench
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

BH, D, WINDOW = 8, 64, 128


def useful_flops(case, L):
    case = case.removeprefix("bf16/")
    if case == "window":
        return 4.0 * BH * L * (2 * WINDOW + 1) * D
    full = 4.0 * BH * L * L * D
    return full / 2 if case == "causal" else full


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def attnc_rows(path, cases, threads):
    """{(case, L, threads): (seconds, GFLOP/s, %peak)} and the peak row."""
    names = "|".join(cases)
    ts = "|".join(str(t) for t in threads)
    filt = f"^(fma_peak|attnc/({names})/L:[0-9]+/threads:({ts})/)"
    out = subprocess.run(
        [path, f"--benchmark_filter={filt}", "--benchmark_format=json"],
        check=True, capture_output=True, text=True).stdout
    rows, peak = {}, None
    for b in json.loads(out)["benchmarks"]:
        name = b["name"]
        if name.startswith("fma_peak"):
            peak = b.get("GFLOP/s")
            continue
        # attnc/<case>/L:<L>/threads:<t>/..., <case> "full" or "bf16/full"
        head, rest = name.split("/L:", 1)
        case = head.removeprefix("attnc/")
        parts = rest.split("/")
        L, t = int(parts[0]), int(parts[1].split(":")[1])
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        rows[(case, L, t)] = (b["real_time"] * scale, b.get("GFLOP/s"),
                              b.get("%peak"))
    return rows, peak


def median_seconds(fn, repeats):
    fn()
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def window_mask(torch, L):
    i = torch.arange(L).unsqueeze(1)
    j = torch.arange(L).unsqueeze(0)
    return (j - i).abs() <= WINDOW


def sdpa_seconds(torch, case, L, repeats):
    import torch.nn.functional as F
    dtype = torch.bfloat16 if case.startswith("bf16/") else torch.float32
    case = case.removeprefix("bf16/")
    q, k, v = ((torch.rand(1, BH, L, D) * 2 - 1).to(dtype) for _ in range(3))
    if case == "window":
        mask = window_mask(torch, L)
        return median_seconds(
            lambda: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
            repeats)
    causal = case == "causal"
    return median_seconds(
        lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
        repeats)


def flex_seconds(torch, case, L, repeats):
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention
    if case.startswith("bf16/"):
        return None
    if case == "causal":
        def keep(b, h, q_idx, kv_idx):
            return kv_idx <= q_idx
    elif case == "window":
        def keep(b, h, q_idx, kv_idx):
            return (kv_idx - q_idx <= WINDOW) & (q_idx - kv_idx <= WINDOW)
    else:
        return None
    q, k, v = (torch.rand(1, BH, L, D) * 2 - 1 for _ in range(3))
    block_mask = create_block_mask(keep, None, None, L, L, device="cpu")
    compiled = torch.compile(flex_attention)
    return median_seconds(lambda: compiled(q, k, v, block_mask=block_mask),
                          repeats)


def ints(s):
    return [int(x) for x in s.split(",") if x]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--attnc-bench", required=True,
                    help="path of attnc-bench (build/bench/attnc-bench)")
    ap.add_argument("--lengths", type=ints, default=[1024, 2048, 4096])
    ap.add_argument("--window-lengths", type=ints, default=[4096, 16384])
    ap.add_argument("--threads", type=ints, default=[1, 2])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--flex", action="store_true",
                    help="also FlexAttention under torch.compile")
    ap.add_argument("--bf16", action="store_true",
                    help="also full and causal attention in bfloat16")
    args = ap.parse_args()

    import torch

    cases = [(c, L) for c in ("full", "causal") for L in args.lengths]
    cases += [("window", L) for L in args.window_lengths]
    if args.bf16:
        cases += [(f"bf16/{c}", L) for c in ("full", "causal")
                  for L in args.lengths]
    rows, peak = attnc_rows(args.attnc_bench,
                            sorted({c for c, _ in cases}), args.threads)
    print(f"{cpu_model()}; widest-FMA peak {peak:.1f} GFLOP/s per core "
          f"(attnc-bench fma_peak, same run); torch {torch.__version__}")
    print(f"[B, H, L, D] = [1, {BH}, L, {D}], float32, window {WINDOW} + "
          f"{WINDOW}; ratio = PyTorch time / attnc time")
    header = (f"{'case':11} {'L':>6} {'thr':>3} {'attnc ms':>9} "
              f"{'GFLOP/s':>8} {'%peak':>6} {'sdpa ms':>9} {'sdpa/attnc':>10}")
    if args.flex:
        header += f" {'flex ms':>9} {'flex/attnc':>10}"
    print(header)
    for threads in args.threads:
        torch.set_num_threads(threads)
        for case, L in cases:
            key = (case, L, threads)
            if key not in rows:
                print(f"{case:11} {L:6d} {threads:3d}  (no attnc-bench row)")
                continue
            t, gflops, pct = rows[key]
            s = sdpa_seconds(torch, case, L, args.repeats)
            line = (f"{case:11} {L:6d} {threads:3d} {t * 1e3:9.2f} "
                    f"{gflops:8.1f} {pct:6.1f} {s * 1e3:9.2f} {s / t:10.2f}")
            if args.flex:
                try:
                    fs = flex_seconds(torch, case, L, args.repeats)
                    line += (f" {fs * 1e3:9.2f} {fs / t:10.2f}" if fs
                             else f" {'-':>9} {'-':>10}")
                except Exception as e:  # a peer that cannot run here
                    line += f"  flex n/a ({type(e).__name__}: {str(e)[:60]})"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
