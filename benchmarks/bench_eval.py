"""`stalwart eval` throughput with on-the-fly corruptions vs pure inference (EfficientNet-Lite0).

Pure inference: `stalwart.Model` on batches of preprocessed images (batch 16, all cores), no
decoding. Evaluation: `stalwart.evaluate` on a class-folder copy of the bundled photos (each
repeated --copies times) with all 19 corruptions × 5 severities + clean at 224 px, batch 16 —
decoding, resizing, corrupting and preprocessing on the worker threads while the model runs;
its rate is the runner's own (images committed per second after start-up, model loading and
hashing excluded). Every measurement runs in a fresh process (both the engine's and the
evaluator's threads spin after work; two pools in one process steal each other's cores).
Rounds alternate; medians and the median of the per-round ratios evaluation / inference are
printed (this machine's speed drifts between runs),
for corruptions at the input resolution (`corrupt_at="input"`, the default: ImageNet-C's
protocol) and at the photos' own size (`"native"`).

    python benchmarks/bench_eval.py [--rounds 3] [--copies 4]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
import numpy as np  # noqa: E402
import stalwart  # noqa: E402

MODEL = os.path.join(REPO, "models", "efficientnet_lite0.onnx")
PHOTOS = os.path.join(REPO, "examples", "data")


def make_dataset(root, copies):
    labels = json.load(open(os.path.join(PHOTOS, "labels.json")))
    wnids = [c["wnid"] for c in json.load(open(os.path.join(REPO, "data", "labelspaces", "imagenet_1k.json")))["classes"]]
    for name, label in labels.items():
        d = os.path.join(root, wnids[label])
        os.makedirs(d, exist_ok=True)
        for i in range(copies):
            shutil.copy(os.path.join(PHOTOS, name), os.path.join(d, f"{i}_{name}"))
    return len(labels) * copies


def inference_rate(model, batch, images):
    x = np.concatenate([batch] * (16 // len(batch) + 1))[:16]
    model(x)
    done, t0 = 0, time.perf_counter()
    while done < images:
        model(x)
        done += 16
    return done / (time.perf_counter() - t0)


def eval_rate(data, db, at):
    if os.path.exists(db):
        os.remove(db)
    rates = []
    res = stalwart.evaluate(MODEL, data, db=db, corruptions="all", severities="1-5", batch=16, corrupt_at=at,
                            progress=lambda run, runs, done, total, ips: rates.append(ips))
    return rates[-1], res.evaluated


def worker(kind, data):
    """One measurement in this (fresh) process; prints images/s."""
    n = sum(len(fs) for _, _, fs in os.walk(data))
    if kind == "inference":
        pipe = stalwart.Pipeline("efficientnet-lite", 224)
        batch = np.concatenate([pipe.load(os.path.join(PHOTOS, f)) for f in ("chelsea.png", "coffee.png", "rocket.png")])
        print(inference_rate(stalwart.Model(MODEL), batch, n * 96))
    else:
        db = os.path.join(tempfile.mkdtemp(), "r.sqlite")
        rate, count = eval_rate(data, db, kind)
        assert count == n * 96, (count, n)
        print(rate)


def measure(kind, data):
    import subprocess
    out = subprocess.run([sys.executable, __file__, "--worker", kind, "--data", data],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--worker")
    ap.add_argument("--data")
    a = ap.parse_args()
    if a.worker:
        worker(a.worker, a.data)
        return
    tmp = tempfile.mkdtemp()
    try:
        data = os.path.join(tmp, "photos")
        n = make_dataset(data, a.copies)
        items = n * 96
        inf, ev = [], {"input": [], "native": []}
        for _ in range(a.rounds):
            inf.append(measure("inference", data))
            for at in ev:
                ev[at].append(measure(at, data))
        m = statistics.median(inf)
        print(f"images per run: {items} ({n} photos × (19 corruptions × 5 severities + clean)), 224 px, batch 16, "
              f"{os.cpu_count()} cores, {a.rounds} interleaved rounds (fresh process each), medians")
        print(f"{'':28s} {'img/s':>8s} {'vs inference':>13s}  per-round ratios")
        print(f"{'pure inference':28s} {m:8.1f} {'1.00':>13s}  " + " ".join(f"{v:.1f}" for v in inf))
        for at, r in ev.items():
            ratios = [e / i for e, i in zip(r, inf)]
            print(f"{'eval, corrupt at ' + at:28s} {statistics.median(r):8.1f} {statistics.median(ratios):13.2f}  "
                  + " ".join(f"{v:.2f}" for v in ratios))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
