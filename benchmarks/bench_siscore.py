"""SI-Score composites per second: Stalwart (``stalwart.siscore.composite`` through the C API,
and ``stalwart siscore generate`` for whole sweeps) vs the NumPy + Pillow reference
(Tests/python/siscore_oracle.py, the original generator's Pillow calls).

Per-image: both sides composite the same random parameter sets (bundled objects, areas
0.05–0.8, any angle, any centre) onto a prepared 512×512 background, in alternating rounds of
--images composites; medians of --rounds rounds are reported with the ratio. The reference is
single-threaded (Pillow); Stalwart spreads the rows of one composite's resize and rotation over
its thread pool (one thread per core; ``SIScoreCompositor.pool``), as the corruptions benchmark
does — the load average printed says how much of the machine it had.
A second row pins a child process to one CPU, so both sides are single-threaded.
Sweep: the rotation and location presets on the bundled samples, written as JPEG files —
Stalwart's generator (CLI, all cores, each transformed object reused for its backgrounds and
centres) vs the reference loop (Pillow, one process) — first --sweep-limit images each. Two
rates per sweep: composites per second once the samples are loaded (Stalwart: the time of the
N-image run minus that of a 1-image run, over N − 1 images; reference: its render-and-save
loop), and the whole run including loading the samples (PNG/JPEG decoding, the same libraries
on both sides). Wall and CPU time are both reported.

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
    ap.add_argument("--one-thread", action="store_true",
                    help="only the per-image rows, this process pinned to one CPU (Stalwart's pool then has one thread)")
    a = ap.parse_args()
    if a.one_thread:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

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
    cpus = len(os.sched_getaffinity(0))
    how = ("both pinned to one CPU" if a.one_thread else
           f"Stalwart on its pool of {cpus} threads, reference single-threaded")
    print(f"composite (512x512, {a.images} random sets x {a.rounds} rounds; {how}):")
    print(f"  Stalwart {s:8.1f} /s   NumPy+Pillow {r:8.1f} /s   ratio {s / r:5.2f}x")
    print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs while measuring)")
    if a.one_thread:
        return
    if cpus > 1:
        subprocess.run([sys.executable, os.path.abspath(__file__), "--one-thread", "--rounds", str(a.rounds),
                        "--images", str(a.images)], check=True)

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
    def cli_run(preset, out, limit):
        t0, u0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([cli, "siscore", "generate", "--preset", preset, "--samples", SAMPLES, "--out", out,
                        "--limit", str(limit), "--quiet"], check=True, capture_output=True)
        u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter() - t0, u1.ru_utime + u1.ru_stime - u0.ru_utime - u0.ru_stime

    with tempfile.TemporaryDirectory() as tmp:
        for preset, (coords, areas, angles, res, min_pct) in sweeps.items():
            sw, sc, sw1, sc1, rw, rc, rw0, rc0 = [], [], [], [], [], [], [], []
            for k in range(max(1, a.rounds // 2)):
                w1, c1 = cli_run(preset, os.path.join(tmp, f"{preset}-one{k}"), 1)
                w, c = cli_run(preset, os.path.join(tmp, f"{preset}-s{k}"), n)
                sw.append(w); sc.append(c); sw1.append(w1); sc1.append(c1)
                c0, t0 = time.process_time(), time.perf_counter()
                g = oracle.Generator(fg_dir, bg_dir, coords, areas, angles, res, 2, min_pct, 0)
                c_init, t_init = time.process_time(), time.perf_counter()
                for row in g.rows[:n]:
                    d = os.path.join(tmp, f"{preset}-r{k}", g.classes[row["c"]])
                    os.makedirs(d, exist_ok=True)
                    Image.fromarray(g.render(row)).save(os.path.join(d, f"{row['id']}.jpg"))
                rw.append(time.perf_counter() - t0); rc.append(time.process_time() - c0)
                rw0.append(time.perf_counter() - t_init); rc0.append(time.process_time() - c_init)
            med = statistics.median
            steady_w = (n - 1) / max(1e-9, med(sw) - med(sw1))
            steady_c = (n - 1) / max(1e-9, med(sc) - med(sc1))
            ref_w, ref_c = n / med(rw0), n / med(rc0)
            print(f"{preset} sweep, first {n} images to JPEG (Stalwart: CLI, all cores, transformed objects "
                  f"reused; reference: one process):")
            print(f"  composites/s once loaded, wall: Stalwart {steady_w:8.1f}   NumPy+Pillow {ref_w:8.1f}   "
                  f"ratio {steady_w / ref_w:5.2f}x")
            print(f"  composites/s once loaded, CPU:  Stalwart {steady_c:8.1f}   NumPy+Pillow {ref_c:8.1f}   "
                  f"ratio {steady_c / ref_c:5.2f}x")
            print(f"  whole run incl. loading the samples, wall: Stalwart {med(sw):6.3f} s   NumPy+Pillow "
                  f"{med(rw):6.3f} s   ratio {med(rw) / med(sw):5.2f}x  (loading alone: Stalwart {med(sw1):.3f} s, "
                  f"NumPy+Pillow {med(rw) - med(rw0):.3f} s)")
            print(f"  whole run incl. loading the samples, CPU:  Stalwart {med(sc):6.3f} s   NumPy+Pillow "
                  f"{med(rc):6.3f} s   ratio {med(rc) / med(sc):5.2f}x")
            print(f"  (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
