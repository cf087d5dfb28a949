"""SI-Score composites per second: Stalwart (``stalwart.siscore.composite`` through the C API,
and ``stalwart siscore generate`` for whole sweeps) vs the NumPy + Pillow reference
(Tests/python/siscore_oracle.py, the original generator's Pillow calls).

Per-image: both sides composite the same random parameter sets (bundled objects, areas
0.05–0.8, any angle, any centre) onto a prepared 512×512 background, single-threaded, in
alternating rounds of --images composites; medians of --rounds rounds are reported with the ratio.
Sweep: the rotation preset on the bundled samples (1296 candidates), written as JPEG files —
Stalwart's generator (all cores) vs the reference loop (Pillow, one process) — first --sweep-limit
images each.

    python benchmarks/bench_siscore.py [--rounds 5] [--images 40] [--sweep-limit 200]
"""
import argparse
import io
import resource
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
sys.path.insert(0, os.path.join(REPO, "Tests", "python"))
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import siscore_oracle as oracle  # noqa: E402
import stalwart  # noqa: E402

SAMPLES = os.path.join(REPO, "examples", "data", "siscore")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--sweep-limit", type=int, default=200)
    a = ap.parse_args()

    fg_paths = sorted(p for p in (os.path.join(SAMPLES, "foregrounds", c, f)
                                  for c in sorted(os.listdir(os.path.join(SAMPLES, "foregrounds")))
                                  for f in sorted(os.listdir(os.path.join(SAMPLES, "foregrounds", c)))))
    fgs_pil = [Image.open(p).convert("RGBA") for p in fg_paths]
    fgs_np = [np.asarray(im) for im in fgs_pil]
    bg_pil = oracle.prepare_background(Image.open(os.path.join(SAMPLES, "backgrounds", "field1.jpg")), 512)
    bg_np = np.asarray(bg_pil)
    rng = np.random.default_rng(0)
    params = [(int(rng.integers(len(fgs_np))), float(rng.uniform(0.05, 0.8)), float(rng.uniform(0, 1)),
               float(rng.uniform(0, 1)), float(rng.uniform(0, 360))) for _ in range(a.images)]

    def run_stalwart():
        for i, area, x, y, ang in params:
            stalwart.siscore.composite(fgs_np[i], bg_np, area, x, y, ang)

    def run_pillow():
        for i, area, x, y, ang in params:
            oracle.composite(fgs_pil[i], bg_pil, area, x, y, ang)

    run_stalwart(); run_pillow()  # warm-up
    ts, tr = [], []
    for _ in range(a.rounds):
        t0 = time.perf_counter(); run_stalwart(); ts.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); run_pillow(); tr.append(time.perf_counter() - t0)
    s, r = a.images / statistics.median(ts), a.images / statistics.median(tr)
    print(f"composite (one thread, 512x512, {a.images} random sets x {a.rounds} rounds):")
    print(f"  Stalwart {s:8.1f} /s   NumPy+Pillow {r:8.1f} /s   ratio {s / r:5.2f}x")
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring)")

    # Whole sweep to JPEG files.
    cli = os.environ.get("STALWART_CLI") or os.path.join(REPO, ".build", "release", "stalwart")
    if not os.path.isfile(cli):
        print(f"(no CLI at {cli}: sweep benchmark skipped)")
        return
    n = a.sweep_limit
    steps = [float(v) for v in np.arange(0, 1.05, 0.05)]
    sweeps = {
        "rotation": ([(0.5, 0.5)], [0.2, 0.5, 0.8, 1.0], [int(v) for v in np.arange(1, 361, 20)], 512, 0.95),
        "location": ([(x, y) for x in steps for y in steps], [0.2], [0], 500, 0.0),
    }
    fg_dir, bg_dir = Path(SAMPLES, "foregrounds"), Path(SAMPLES, "backgrounds")
    with tempfile.TemporaryDirectory() as tmp:
        for preset, (coords, areas, angles, res, min_pct) in sweeps.items():
            ss, rs, scpu, rcpu = [], [], [], []
            for k in range(max(1, a.rounds // 2)):
                out = os.path.join(tmp, f"{preset}-s{k}")
                t0, u0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
                subprocess.run([cli, "siscore", "generate", "--preset", preset, "--samples", SAMPLES, "--out", out,
                                "--limit", str(n), "--quiet"], check=True, capture_output=True)
                ss.append(time.perf_counter() - t0)
                u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                scpu.append(u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime)
                c0 = time.process_time()
                t0 = time.perf_counter()
                g = oracle.Generator(fg_dir, bg_dir, coords, areas, angles, res, 2, min_pct, 0)
                for row in g.rows[:n]:
                    d = os.path.join(tmp, f"{preset}-r{k}", g.classes[row["c"]])
                    os.makedirs(d, exist_ok=True)
                    Image.fromarray(g.render(row)).save(os.path.join(d, f"{row['id']}.jpg"))
                rs.append(time.perf_counter() - t0)
                rcpu.append(time.process_time() - c0)
            s, r = n / statistics.median(ss), n / statistics.median(rs)
            sc, rc = n / statistics.median(scpu), n / statistics.median(rcpu)
            print(f"{preset} sweep, first {n} images to JPEG (incl. loading the samples; Stalwart: CLI, all cores, "
                  f"transformed objects reused; reference: one process):")
            print(f"  wall: Stalwart {s:8.1f} img/s   NumPy+Pillow {r:8.1f} img/s   ratio {s / r:5.2f}x")
            print(f"  CPU:  Stalwart {sc:8.1f} img/CPU-s   NumPy+Pillow {rc:8.1f} img/CPU-s   ratio {sc / rc:5.2f}x")


if __name__ == "__main__":
    main()
