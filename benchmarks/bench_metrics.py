"""Scoring throughput: top-1, top-5, ECE (15 bins), NLL and Brier over N × 1000 logits,
Stalwart's accumulators vs the same metrics in NumPy (float64 softmax, as the reference code of
robustness_metrics / Hendrycks computes them), in chunks, one process, alternating.

    python benchmarks/bench_metrics.py [--rows 1000000] [--chunk 20000] [--rounds 3]

Reports seconds for the whole pass and the ratio NumPy / Stalwart (> 1: Stalwart faster), and
checks that both give the same numbers (within 1e-9).
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "bindings", "python"))
from stalwart import metrics  # noqa: E402

SPECS = ["accuracy:k=5", "ece:bins=15", "nll", "brier"]


def numpy_pass(chunks):
    n = 0
    top1 = top5 = 0
    nll = brier = 0.0
    bins = 15
    conf_sum = np.zeros(bins); acc_sum = np.zeros(bins); count = np.zeros(bins)
    for z, y in chunks:
        z = z.astype(np.float64)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        p = e / s
        rows = np.arange(len(y))
        pred = np.argmax(p, axis=1)
        top1 += int((pred == y).sum())
        above = (z > z[rows, y][:, None]).sum(axis=1)
        top5 += int((above < 5).sum())
        nll += float(-(z[rows, y] - np.log(s[:, 0])).sum())
        brier += float(((p ** 2).sum(axis=1) - 2 * p[rows, y] + 1).sum())
        conf = p.max(axis=1)
        b = np.minimum((conf * bins).astype(int), bins - 1)
        np.add.at(conf_sum, b, conf); np.add.at(acc_sum, b, pred == y); np.add.at(count, b, 1)
        n += len(y)
    ece = float(np.sum(np.abs(acc_sum - conf_sum)) / n)
    return {"top1": top1 / n, "top5": top5 / n, "ece": ece, "nll": nll / n, "brier": brier / n}


def stalwart_pass(chunks):
    accs = [metrics.Accumulator(s) for s in SPECS]
    for z, y in chunks:
        metrics.add_all(accs, z, y)
    r = {}
    for a in accs:
        r.update(a.result())
    return {k: r[k] for k in ("top1", "top5", "ece", "nll", "brier")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    # One chunk of realistic logits reused (generating 4 GB of random numbers would dominate).
    z = (rng.normal(0, 1, (a.chunk, 1000)) * 2).astype(np.float32)
    y = rng.integers(0, 1000, a.chunk)
    z[np.arange(a.chunk), y] += 4
    chunks = [(z, y)] * (a.rows // a.chunk)
    times = {"numpy": [], "stalwart": []}
    results = {}
    for _ in range(a.rounds):
        for name, fn in (("numpy", numpy_pass), ("stalwart", stalwart_pass)):
            t = time.perf_counter()
            results[name] = fn(chunks)
            times[name].append(time.perf_counter() - t)
    for key in results["numpy"]:
        assert abs(results["numpy"][key] - results["stalwart"][key]) < 1e-9, (key, results)
    tn, ts = min(times["numpy"]), min(times["stalwart"])
    print(f"{a.rows} x 1000 logits, top-1/top-5/ECE/NLL/Brier, chunks of {a.chunk}")
    print(f"  NumPy    {tn:8.2f} s")
    print(f"  Stalwart {ts:8.2f} s   ({len(os.sched_getaffinity(0))} cores; NumPy / Stalwart = {tn / ts:.1f}x)")
    print("  results agree within 1e-9:", {k: round(v, 6) for k, v in results["stalwart"].items()})


if __name__ == "__main__":
    main()
