"""Stalwart vs ONNX Runtime, side by side in one process, interleaved rounds.

For each model × batch × threads row: both engines are loaded, warmed up, then run
alternately for --rounds rounds (Stalwart, ORT, Stalwart, ORT, ...); the medians give
ms/image and the ratio Stalwart / ORT (< 1 means Stalwart is faster). Only ratios from one
interleaved run are meaningful on a machine whose speed drifts.

    python benchmarks/bench_vs_ort.py [--rounds 10] [--models lite0,resnet50] [--out results.md]
Needs the release library (scripts/setup.sh) and requirements-dev.txt.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
sys.path.insert(0, HERE)
import stalwart  # noqa: E402
from models import resnet50  # noqa: E402


def model_paths(names, tmp):
    shared = os.environ.get("STALWART_SHARED", os.path.join(REPO, "..", "shared"))
    out = {}
    for n in names:
        if n == "resnet50":
            out[n] = (resnet50(os.path.join(tmp, "resnet50.onnx")), 224)
        elif n.startswith("lite"):
            res = {"lite0": 224, "lite1": 240, "lite2": 260}[n]
            p = os.path.join(shared, "fixtures", "models", f"efficientnet_{n.replace('lite', 'lite')}.onnx")
            if n == "lite0" and not os.path.exists(p):
                p = os.path.join(REPO, "models", "efficientnet_lite0.onnx")
            out[n] = (p, res)
    return out


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--models", default="lite0,resnet50")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out")
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (path, res) in model_paths(a.models.split(","), tmp).items():
            for threads in map(int, a.threads.split(",")):
                load_s = timed(lambda: stalwart.Model(path, threads=threads).close())
                so = ort.SessionOptions()
                so.intra_op_num_threads = threads
                so.inter_op_num_threads = 1
                load_o = timed(lambda: ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]))
                sm = stalwart.Model(path, threads=threads)
                om = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
                iname = om.get_inputs()[0].name
                for batch in map(int, a.batches.split(",")):
                    x = np.random.default_rng(0).standard_normal((batch, 3, res, res)).astype(np.float32)
                    ys, yo = sm(x), om.run(None, {iname: x})[0]
                    err = float(np.abs(ys - yo).max())
                    ts, to = [], []
                    for _ in range(a.rounds):
                        ts.append(timed(lambda: sm(x)))
                        to.append(timed(lambda: om.run(None, {iname: x})))
                    ms_s, ms_o = np.median(ts) * 1000 / batch, np.median(to) * 1000 / batch
                    rows.append((name, batch, threads, ms_s, ms_o, ms_s / ms_o, err, load_s, load_o))
                    print(f"{name:9s} b={batch} t={threads}  stalwart {ms_s:8.2f} ms/img  ort {ms_o:8.2f} ms/img  "
                          f"ratio {ms_s / ms_o:5.2f}  max|Δ| {err:.1e}", flush=True)
                sm.close()
    lines = ["| model | batch | threads | Stalwart ms/img | ORT ms/img | ratio | max abs diff | load s (S / ORT) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.1e} | {r[7]:.3f} / {r[8]:.3f} |")
    table = "\n".join(lines)
    print()
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
