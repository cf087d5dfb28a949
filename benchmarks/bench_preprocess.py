"""Decode + resize + centre crop + normalize, per core: Stalwart vs Pillow + NumPy.

For each preset and input (the bundled PNG photos, and the same photos as quality-90 JPEGs),
both pipelines run alternately for --rounds rounds on one thread; medians give ms/image and
the speed-up Pillow+NumPy time / Stalwart time (the issue's target: at least 2×).

    python benchmarks/bench_preprocess.py [--rounds 20]
"""
import argparse
import io
import math
import os
import sys
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "bindings", "python"))
import stalwart  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def pillow_pipeline(data, size, r, resample, norm):
    im = Image.open(io.BytesIO(data)).convert("RGB")
    w, h = im.size
    nw, nh = (size, int(size * h / w)) if w <= h else (int(size * w / h), size)
    im = im.resize((nw, nh), resample)
    left, top = int(round((nw - r) / 2.0)), int(round((nh - r) / 2.0))
    x = np.asarray(im.crop((left, top, left + r, top + r)), np.float32)
    return norm(x).transpose(2, 0, 1)[None]


PRESETS = {
    "torchvision": (lambda r: int(256 * r / 224), Image.BILINEAR, lambda x: (x / 255 - MEAN) / STD),
    "efficientnet-lite": (lambda r: int(r / 0.875), Image.BICUBIC, lambda x: (x - 127) / 128),
    "timm": (lambda r: math.floor(r / 0.875), Image.BICUBIC, lambda x: (x / 255 - MEAN) / STD),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--resolution", type=int, default=224)
    a = ap.parse_args()
    photos = [os.path.join(REPO, "examples", "data", f) for f in ("chelsea.png", "coffee.png", "rocket.png")]
    inputs = {"png": [open(p, "rb").read() for p in photos]}
    jpgs = []
    for p in photos:
        b = io.BytesIO()
        Image.open(p).convert("RGB").save(b, "JPEG", quality=90)
        jpgs.append(b.getvalue())
    inputs["jpeg"] = jpgs
    r = a.resolution
    print(f"{'preset':18s} {'input':5s} {'Stalwart ms':>12s} {'Pillow+NumPy ms':>16s} {'speed-up':>9s}")
    for name, (size, resample, norm) in PRESETS.items():
        pipe = stalwart.Pipeline(name, r)
        for kind, datas in inputs.items():
            ts, tp = [], []
            for _ in range(a.rounds):
                for d in datas:
                    t = time.perf_counter(); y1 = pipe.load(d); ts.append(time.perf_counter() - t)
                    t = time.perf_counter(); y2 = pillow_pipeline(d, size(r), r, resample, norm); tp.append(time.perf_counter() - t)
            assert np.abs(y1 - y2).max() < 1e-2
            ms_s, ms_p = np.median(ts) * 1000, np.median(tp) * 1000
            print(f"{name:18s} {kind:5s} {ms_s:12.2f} {ms_p:16.2f} {ms_p / ms_s:8.2f}×")


if __name__ == "__main__":
    main()
