"""ImageNet-C corruptions: images per second, Stalwart vs imagecorruptions 1.1.2.

Stalwart spreads one image over its thread pool (one thread per core this process may use);
the reference is single-threaded NumPy/SciPy (OpenCV may use threads inside cv2 calls).
`--one-core` pins the whole process to one core first, for a per-core comparison (what counts
when a dataset is corrupted image-parallel, as `stalwart corrupt` does).

For each corruption (severity 3) and size (224×224, 640×480 from the bundled coffee photo),
both run alternately for at least --seconds each (the reference's glass_blur takes seconds per
image, so it gets fewer repetitions); reported as images/s and the speed-up. The reference runs
with the same patches as the tests (Tests/python/corruption_oracle.py: np.float_ and
skimage's multichannel=).

    python benchmarks/bench_corruptions.py [--seconds 1.0] [--only glass_blur,fog] [--one-core]
"""
import argparse
import os
import sys
import time

# The reference is single-threaded NumPy; idle OpenBLAS worker threads spinning after a BLAS
# call would otherwise steal a core from whichever side runs next.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
sys.path.insert(0, os.path.join(REPO, "Tests", "python"))
import stalwart  # noqa: E402
from corruption_oracle import load  # noqa: E402


def rate(fn, seconds, min_runs=1):
    fn()  # warm-up
    n, t0 = 0, time.perf_counter()
    while n < min_runs or time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--severity", type=int, default=3)
    ap.add_argument("--only")
    ap.add_argument("--one-core", action="store_true", help="pin the process to one core (per-core comparison)")
    a = ap.parse_args()
    if a.one_core:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    ic = load()
    photo = stalwart.load_image(os.path.join(REPO, "examples", "data", "coffee.png"))
    sizes = {"224x224": stalwart.resize(photo, (224, 224), "bilinear"), "640x480": stalwart.resize(photo, (480, 640), "bilinear")}
    names = a.only.split(",") if a.only else stalwart.corruption_names("all")
    print(f"{'corruption':18s} {'size':8s} {'Stalwart img/s':>15s} {'reference img/s':>16s} {'speed-up':>9s}")
    for name in names:
        for label, img in sizes.items():
            s = rate(lambda: stalwart.corrupt(img, name, a.severity, seed=1), a.seconds, 3)
            r = rate(lambda: ic.corrupt(img, corruption_name=name, severity=a.severity), a.seconds)
            print(f"{name:18s} {label:8s} {s:15.1f} {r:16.2f} {s / r:8.1f}×", flush=True)


if __name__ == "__main__":
    main()
