"""Stalwart vs ONNX Runtime, side by side in one run, interleaved rounds, separate processes.

Each engine runs in its own worker process (both engines keep threads that spin-wait after a
run; in one process each would steal the other's cores). For each model × threads, both
workers load the model; then for every batch size the parent alternates rounds — Stalwart
runs `--per-round` times, a 50 ms pause lets spinning threads park, ORT runs `--per-round`
times, pause — for `--rounds` rounds. Medians of the per-run times give ms/image and the ratio
Stalwart / ORT (< 1 means Stalwart is faster). Only ratios from one interleaved run are
meaningful on a machine whose speed drifts.

    python benchmarks/bench_vs_ort.py [--rounds 10] [--models lite0,resnet50] [--out results.md]
Needs the release library (scripts/setup.sh) and requirements-dev.txt.
"""
import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
sys.path.insert(0, HERE)
from models import resnet50  # noqa: E402


def worker(conn, engine, path, threads):
    """Loads `path` in one engine and serves ("run", x, n) requests with per-run seconds."""
    t0 = time.perf_counter()
    if engine == "stalwart":
        import stalwart
        m = stalwart.Model(path, threads=threads)
        run = m
    else:
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        run = lambda x: sess.run(None, {name: x})[0]  # noqa: E731
    conn.send(time.perf_counter() - t0)
    while True:
        msg = conn.recv()
        if msg[0] == "stop":
            return
        _, x, n = msg
        y = run(x)  # warm-up for this shape
        times = []
        for _ in range(n):
            t = time.perf_counter()
            y = run(x)
            times.append(time.perf_counter() - t)
        conn.send((times, np.asarray(y)))


def model_paths(names, tmp):
    shared = os.environ.get("STALWART_SHARED", os.path.join(REPO, "..", "shared"))
    out = {}
    for n in names:
        if n == "resnet50":
            out[n] = (resnet50(os.path.join(tmp, "resnet50.onnx")), 224)
        elif n.startswith("lite"):
            res = {"lite0": 224, "lite1": 240, "lite2": 260}[n]
            p = os.path.join(shared, "fixtures", "models", f"efficientnet_{n}.onnx")
            if n == "lite0" and not os.path.exists(p):
                p = os.path.join(REPO, "models", "efficientnet_lite0.onnx")
            out[n] = (p, res)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--per-round", type=int, default=3)
    ap.add_argument("--models", default="lite0,resnet50")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out")
    a = ap.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (path, res) in model_paths(a.models.split(","), tmp).items():
            for threads in map(int, a.threads.split(",")):
                conns, procs, load = {}, [], {}
                for engine in ("stalwart", "ort"):
                    parent, child = ctx.Pipe()
                    p = ctx.Process(target=worker, args=(child, engine, path, threads), daemon=True)
                    p.start()
                    procs.append(p)
                    conns[engine] = parent
                    load[engine] = parent.recv()  # loads one after the other, never overlapping
                for batch in map(int, a.batches.split(",")):
                    x = np.random.default_rng(0).standard_normal((batch, 3, res, res)).astype(np.float32)
                    times = {"stalwart": [], "ort": []}
                    outs = {}
                    for _ in range(a.rounds):
                        for engine in ("stalwart", "ort"):
                            conns[engine].send(("run", x, a.per_round))
                            t, outs[engine] = conns[engine].recv()
                            times[engine] += t
                            time.sleep(0.05)
                    err = float(np.abs(outs["stalwart"] - outs["ort"]).max())
                    rel = err / float(np.abs(outs["ort"]).max())
                    ms_s = np.median(times["stalwart"]) * 1000 / batch
                    ms_o = np.median(times["ort"]) * 1000 / batch
                    rows.append((name, batch, threads, ms_s, ms_o, ms_s / ms_o, err, rel, load["stalwart"], load["ort"]))
                    print(f"{name:9s} b={batch} t={threads}  stalwart {ms_s:8.2f} ms/img  ort {ms_o:8.2f} ms/img  "
                          f"ratio {ms_s / ms_o:5.2f}  max|Δ| {err:.1e} (rel {rel:.1e})", flush=True)
                for c in conns.values():
                    c.send(("stop",))
                for p in procs:
                    p.join(timeout=10)
    lines = ["| model | batch | threads | Stalwart ms/img | ORT ms/img | ratio | max abs diff (rel. to max logit) | load s (Stalwart / ORT) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.1e} ({r[7]:.0e}) | {r[8]:.3f} / {r[9]:.3f} |")
    table = "\n".join(lines)
    print()
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
