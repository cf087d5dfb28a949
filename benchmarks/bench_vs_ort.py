"""Stalwart vs ONNX Runtime, side by side in one run, interleaved rounds, separate processes.

Each engine runs in its own worker process (both engines keep threads that spin-wait after a
run; in one process each would steal the other's cores). For each model × threads, both
workers load the model; then for every batch size the parent alternates rounds — Stalwart
runs `--per-round` times, a 50 ms pause lets spinning threads park, ORT runs `--per-round`
times, pause — for `--rounds` rounds. Medians of the per-run times give ms/image and the ratio
Stalwart / ORT (< 1 means Stalwart is faster). Only ratios from one interleaved run are
meaningful on a machine whose speed drifts.

    python benchmarks/bench_vs_ort.py [--rounds 10] [--models lite0,lite1,lite2,resnet50,resnet50tf] [--out results.md]

Models: `lite0..2` (EfficientNet-Lite, ../shared fixtures; lite0 is also bundled), `resnet50`
(torchvision topology, BatchNormalization nodes), `resnet50tf` (the same network as tf2onnx
writes an unfused Keras model: NHWC input + Transpose, Sub/Mul/Add chains after each Conv).
Also reported per row: GFLOP/s (the model's multiply-adds ×2 from ONNX shape inference,
`models.gflops`, so Winograd layers count as their direct FLOPs)
and the fraction of this machine's measured FP32 peak at the same thread count: the FMA
throughput of register-only multiply-add chains (`fma_peak.c`, compiled with the system C
compiler; `fma_peak`), or, without a compiler, the best ORT/MLAS SGEMM on a 1536³ MatMul
(`measured_peak`, also printed); peak resident memory of each worker process
(VmHWM, which includes the Python interpreter and the engine's own library) and its growth over
the RSS before loading the model;
load time (file → ready to run); and the range over the row's rounds of the core-to-core round
trip (`core_rtt.c`, measured before each round), which shows in which of this machine's two
phases a two-thread row ran (≈ 100 ns: nearby cores; ≈ 400 ns: distant ones, where both engines
and Stalwart more slow down at two threads).
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
from models import gflops, resnet50  # noqa: E402


def rss_mb():
    """Current resident set size of this process in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb():
    """This process's peak resident set size (VmHWM; unlike ru_maxrss it is not inherited
    from the parent through fork + exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measured_peak(threads):
    """The machine's measured FP32 peak for `threads` threads: the best of ONNX Runtime's
    (MLAS) SGEMM on a 1536³ MatMul, in GFLOP/s — what a tuned kernel reaches here, including
    AVX-512 turbo clocks that a nominal-frequency formula does not know."""
    import onnxruntime as ort
    from onnx import TensorProto, helper
    n = 1536
    g = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "mm",
                          [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n]),
                           helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])],
                          [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    sess = ort.InferenceSession(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString(),
                                so, providers=["CPUExecutionProvider"])
    a = np.random.default_rng(1).standard_normal((n, n)).astype(np.float32)
    sess.run(None, {"a": a, "b": a})
    best = min(_timed(lambda: sess.run(None, {"a": a, "b": a})) for _ in range(8))
    return 2 * n ** 3 / best / 1e9


def _build_c(name, tmp):
    """Builds benchmarks/<name>.c once into `tmp` with the system C compiler; its path, or None."""
    import shutil
    import subprocess
    exe = os.path.join(tmp, name)
    if not os.path.exists(exe):
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), name + ".c")
        cc = next((c for c in (os.environ.get("CC"), "cc", "gcc", "clang") if c and shutil.which(c)), None)
        if cc is None or subprocess.run([cc, "-O2", "-pthread", src, "-o", exe]).returncode != 0:
            return None
    return exe


def _run_number(args):
    """The float a helper program prints, or None."""
    import subprocess
    out = subprocess.run(args, capture_output=True, text=True)
    try:
        return float(out.stdout.strip())
    except ValueError:
        return None


def fma_peak(threads, tmp):
    """GFLOP/s of `threads` threads running register-only FMA chains with the widest vectors the
    CPU has (benchmarks/fma_peak.c), or None when no C compiler can build it."""
    exe = _build_c("fma_peak", tmp)
    value = _run_number([exe, str(threads)]) if exe else None
    return value if value and value > 0 else None


def core_rtt(tmp):
    """Median core-to-core round trip in ns (benchmarks/core_rtt.c), or None without a C
    compiler. Tells this machine's two-thread phases apart (≈ 100 ns vs ≈ 400 ns)."""
    exe = _build_c("core_rtt", tmp)
    return _run_number([exe]) if exe else None


def _timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def worker(conn, engine, path, threads):
    """Loads `path` in one engine and serves ("run", x, n) requests with per-run seconds and
    the peak RSS so far (MB)."""
    if engine == "stalwart":
        import stalwart
    else:
        import onnxruntime as ort
    before = rss_mb()
    t0 = time.perf_counter()
    if engine == "stalwart":
        m = stalwart.Model(path, threads=threads)
        run = m
    else:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        run = lambda x: sess.run(None, {name: x})[0]  # noqa: E731
    conn.send((time.perf_counter() - t0, before))
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
        conn.send((times, np.asarray(y), peak_rss_mb()))


def model_paths(names, tmp):
    shared = os.environ.get("STALWART_SHARED", os.path.join(REPO, "..", "shared"))
    out = {}
    for n in names:
        if n == "resnet50":
            out[n] = (resnet50(os.path.join(tmp, "resnet50.onnx")), 224)
        elif n == "resnet50tf":
            out[n] = (resnet50(os.path.join(tmp, "resnet50tf.onnx"), tf_style=True), 224)
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
    ap.add_argument("--models", default="lite0,resnet50,resnet50tf")
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--out")
    a = ap.parse_args()
    ctx = mp.get_context("spawn")
    rows, peaks, sgemm = [], {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (path, res) in model_paths(a.models.split(","), tmp).items():
            for threads in map(int, a.threads.split(",")):
                conns, procs, load, base = {}, [], {}, {}
                work = gflops(path)
                if threads not in peaks:
                    sgemm[threads] = measured_peak(threads)
                    peaks[threads] = fma_peak(threads, tmp) or sgemm[threads]
                peak = peaks[threads]
                for engine in ("stalwart", "ort"):
                    parent, child = ctx.Pipe()
                    p = ctx.Process(target=worker, args=(child, engine, path, threads), daemon=True)
                    p.start()
                    procs.append(p)
                    conns[engine] = parent
                    load[engine], base[engine] = parent.recv()  # loads one after the other, never overlapping
                for batch in map(int, a.batches.split(",")):
                    shape = (batch, res, res, 3) if name.endswith("tf") else (batch, 3, res, res)
                    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
                    times = {"stalwart": [], "ort": []}
                    outs, rss, rtts = {}, {}, []
                    for _ in range(a.rounds):
                        rtt = core_rtt(tmp)
                        if rtt is not None:
                            rtts.append(rtt)
                        for engine in ("stalwart", "ort"):
                            conns[engine].send(("run", x, a.per_round))
                            t, outs[engine], rss[engine] = conns[engine].recv()
                            times[engine] += t
                            time.sleep(0.05)
                    err = float(np.abs(outs["stalwart"] - outs["ort"]).max())
                    rel = err / float(np.abs(outs["ort"]).max())
                    ms_s = np.median(times["stalwart"]) * 1000 / batch
                    ms_o = np.median(times["ort"]) * 1000 / batch
                    gf_s, gf_o = work / (ms_s / 1000), work / (ms_o / 1000)
                    rtt_text = f"{min(rtts):.0f}–{max(rtts):.0f}" if rtts else "n/a"
                    rows.append((name, batch, threads, ms_s, ms_o, ms_s / ms_o, err, rel, load["stalwart"], load["ort"],
                                 gf_s, gf_o, gf_s / peak, gf_o / peak, rss["stalwart"], rss["ort"],
                                 rss["stalwart"] - base["stalwart"], rss["ort"] - base["ort"], rtt_text))
                    print(f"{name:10s} b={batch} t={threads}  stalwart {ms_s:8.2f} ms/img  ort {ms_o:8.2f} ms/img  "
                          f"ratio {ms_s / ms_o:5.2f}  GFLOP/s {gf_s:6.1f} / {gf_o:6.1f} ({gf_s / peak:.0%} / {gf_o / peak:.0%} of peak)  "
                          f"peak RSS {rss['stalwart']:.0f} / {rss['ort']:.0f} MB  max|Δ| {err:.1e} (rel {rel:.1e})  core RTT {rtt_text} ns", flush=True)
                for c in conns.values():
                    c.send(("stop",))
                for p in procs:
                    p.join(timeout=10)
    lines = ["measured FP32 peak (\"of peak\"; FMA chains, benchmarks/fma_peak.c): " +
             ", ".join(f"{t} thread(s) {p:.0f} GFLOP/s" for t, p in sorted(peaks.items())) +
             "; ORT/MLAS SGEMM 1536³ (best of 8): " +
             ", ".join(f"{t} thread(s) {p:.0f} GFLOP/s" for t, p in sorted(sgemm.items())), "",
             "| model | batch | threads | Stalwart ms/img | ORT ms/img | ratio | GFLOP/s (Stalwart / ORT) | of peak | "
             "peak RSS MB (Stalwart / ORT) | RSS growth MB | max abs diff (rel.) | load s (Stalwart / ORT) | core RTT ns |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.2f} | {r[10]:.1f} / {r[11]:.1f} | "
                     f"{r[12]:.0%} / {r[13]:.0%} | {r[14]:.0f} / {r[15]:.0f} | {r[16]:.0f} / {r[17]:.0f} | "
                     f"{r[6]:.1e} ({r[7]:.0e}) | {r[8]:.3f} / {r[9]:.3f} | {r[18]} |")
    table = "\n".join(lines)
    print()
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
