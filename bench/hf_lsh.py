#!/usr/bin/env python3
"""Times Hugging Face's LSHSelfAttention, the baseline for attnc's lsh_attend.

transformers' ``LSHSelfAttention`` (Reformer) in eval mode, float32, with
identity projections (query_key and value replaced by nn.Identity, so the
timing is the attention alone, hidden = H·D), on B = 1, H = 4, D = 64,
chunk C = 64, before = 1, after = 0, N_b = 64 buckets, R rounds in {1, 4, 8},
L in {4096, 16384, 65536}. For each shape: one warm-up forward, then the
median of --repeats forwards, in seconds, and GFLOP/s on useful work:
4·D FLOPs per scored pair, R·L·C·(before + 1 + after) pairs per head, times
B·H. With --rss, each shape also runs once in a fresh subprocess that
reports its peak RSS (ru_maxrss, or VmHWM where Linux carried a larger
ru_maxrss over from the forking process) minus the RSS after the inputs were
allocated, i.e. what the attention itself needed.

With --attnc-bench PATH (build/bench/attnc-bench) it first runs attnc's
rows attnc/lsh/R:<R>/L:<L>/threads:<--threads> for the same shapes, then
HF's, and prints HF time / attnc time per shape: both measured in the same
run of this script, on the same machine and thread count.

torch and transformers are not build or test dependencies of attnc:
    python3 -m venv /work/venv-hf
    /work/venv-hf/bin/pip install torch transformers numpy
    /work/venv-hf/bin/python bench/hf_lsh.py --rounds 4 --lengths 4096,16384
    /work/venv-hf/bin/python bench/hf_lsh.py --rss-only --rounds 4 --lengths 65536
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

B, H, D, C, BEFORE, AFTER, BUCKETS = 1, 4, 64, 64, 1, 0, 64


def useful_flops(R, L):
    pairs = R * L * C * (BEFORE + 1 + AFTER)
    return 4.0 * D * pairs * B * H


def build(R, L, threads):
    import torch
    from torch import nn
    from transformers import ReformerConfig
    from transformers.models.reformer.modeling_reformer import LSHSelfAttention

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = ReformerConfig(
        hidden_size=H * D, attention_head_size=D, num_attention_heads=H,
        num_hashes=R, num_buckets=BUCKETS, lsh_attn_chunk_length=C,
        lsh_num_chunks_before=BEFORE, lsh_num_chunks_after=AFTER,
        is_decoder=False, lsh_attention_probs_dropout_prob=0.0,
        attn_layers=["lsh"], max_position_embeddings=max(L, 4096))
    attn = LSHSelfAttention(config)
    attn.query_key = nn.Identity()
    attn.value = nn.Identity()
    attn = attn.float().eval()
    x = torch.randn(B, L, H * D, dtype=torch.float32)
    return attn, x


def forward(attn, x):
    import torch
    with torch.no_grad():
        return attn(hidden_states=x).hidden_states


def time_shape(R, L, threads, repeats):
    attn, x = build(R, L, threads)
    forward(attn, x)  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        forward(attn, x)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def proc_status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_kib():
    # ru_maxrss of this process, but Linux carries ru_maxrss over exec from
    # the forking parent (here: the timing process, which may have been
    # larger), so take VmHWM (the peak RSS of this address space, which
    # starts afresh at exec) when it is smaller.
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
    hwm = proc_status_kib("VmHWM")
    return min(maxrss, hwm) if hwm else maxrss


def rss_child(R, L, threads):
    """Runs in a fresh process: peak RSS of one forward beyond the inputs."""
    attn, x = build(R, L, threads)
    base = proc_status_kib("VmRSS")
    forward(attn, x)
    peak = peak_rss_kib()
    print(json.dumps({"base_kib": base, "peak_kib": peak}))


def rss_shape(R, L, threads):
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--_rss-child",
         "%d,%d" % (R, L), "--threads", str(threads)],
        check=True, capture_output=True, text=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    return (r["peak_kib"] - r["base_kib"]) / 1024.0, r["peak_kib"] / 1024.0


def attnc_times(path, rounds, lengths, threads):
    """attnc-bench's rows attnc/lsh/R:<R>/L:<L>/threads:<T>/... for the
    requested shapes, as {"attnc/lsh/R:<R>/L:<L>": seconds}."""
    pattern = "^attnc/lsh/R:(%s)/L:(%s)/threads:%d/" % (
        "|".join(map(str, rounds)), "|".join(map(str, lengths)), threads)
    out = subprocess.run(
        [path, "--benchmark_filter=" + pattern, "--benchmark_format=json"],
        check=True, capture_output=True, text=True)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    times = {}
    for b in json.loads(out.stdout)["benchmarks"]:
        if b.get("run_type", "iteration") != "iteration":
            continue
        name = "/".join(b["name"].split("/")[:4])
        times[name] = b["real_time"] * scale[b.get("time_unit", "ns")]
    return times


def ints(s):
    return [int(v) for v in s.split(",") if v]


def main():
    ap = argparse.ArgumentParser(
        description="Time Hugging Face's LSHSelfAttention (see the header).")
    ap.add_argument("--rounds", type=ints, default=[1, 4, 8],
                    help="comma-separated R values (default 1,4,8)")
    ap.add_argument("--lengths", type=ints, default=[4096, 16384, 65536],
                    help="comma-separated L values (default 4096,16384,65536)")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads (default 1)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="timed runs after one warm-up; the median is shown")
    ap.add_argument("--rss", action="store_true",
                    help="also measure peak RSS per shape in a subprocess")
    ap.add_argument("--rss-only", action="store_true",
                    help="measure only peak RSS, no timing")
    ap.add_argument("--attnc-bench", metavar="PATH",
                    help="attnc-bench binary to compare with")
    ap.add_argument("--_rss-child", dest="rss_child", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.rss_child:
        R, L = ints(args.rss_child)
        rss_child(R, L, args.threads)
        return 0

    attnc = (attnc_times(args.attnc_bench, args.rounds, args.lengths,
                         args.threads) if args.attnc_bench else {})
    print("HF LSHSelfAttention, float32, B=%d H=%d D=%d C=%d before=%d "
          "after=%d N_b=%d, %d thread(s)" % (B, H, D, C, BEFORE, AFTER,
                                             BUCKETS, args.threads))
    cols = "%3s %7s" % ("R", "L")
    if not args.rss_only:
        cols += " %10s %8s" % ("seconds", "GFLOP/s")
    if args.rss or args.rss_only:
        cols += " %12s %10s" % ("extra RSS MiB", "peak MiB")
    if attnc:
        cols += " %10s %9s" % ("attnc s", "HF/attnc")
    print(cols)
    for R in args.rounds:
        for L in args.lengths:
            line = "%3d %7d" % (R, L)
            t = None
            if not args.rss_only:
                t = time_shape(R, L, args.threads, args.repeats)
                line += " %10.4f %8.2f" % (t, useful_flops(R, L) / t / 1e9)
            if args.rss or args.rss_only:
                extra, peak = rss_shape(R, L, args.threads)
                line += " %12.1f %10.1f" % (extra, peak)
            if attnc:
                a = attnc.get("attnc/lsh/R:%d/L:%d" % (R, L))
                if a is None:
                    line += " %10s %9s" % ("-", "-")
                else:
                    line += " %10.4f %9s" % (
                        a, "%.2f" % (t / a) if t is not None else "-")
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
