"""scikit-learn's bundled handwritten digits (1,797 8×8 images, 10 classes, real data) as arrays
and as an upsampled RGB class-folder dataset, for the transfer tests and demos.

    >>> from digits import digits_arrays, export_digits
    >>> X, y = digits_arrays()                       # float32 (1797, 64) in [0, 16], int32 (1797,)
    >>> root = export_digits("/tmp/digits", size=64)  # /tmp/digits/0/0000.png ... /9/...

Run as a script: ``python Tests/python/digits.py OUT_DIR [--size 64] [--per-class N]``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: float32 features (1797, 64) with values 0..16 and int32 labels 0..9, in
    scikit-learn's order."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return d.data.astype(np.float32), d.target.astype(np.int32)


def digit_image(pixels8x8: np.ndarray, size: int = 64) -> np.ndarray:
    """One digit as uint8 RGB (size, size, 3): values 0..16 scaled to 0..255 (×255/16, rounded),
    upsampled by nearest neighbour (size must be a multiple of 8), white ink on black."""
    if size % 8 or size < 8:
        raise ValueError(f"size must be a positive multiple of 8, got {size}")
    a = np.rint(np.asarray(pixels8x8, np.float64).reshape(8, 8) * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)
    k = size // 8
    big = np.kron(a, np.ones((k, k), np.uint8))
    return np.repeat(big[:, :, None], 3, axis=2)


def export_digits(out_dir, size: int = 64, per_class: int | None = None) -> Path:
    """Writes class folders ``0`` … ``9`` of PNGs ``NNNN.png`` (NNNN = index in scikit-learn's
    order) under ``out_dir`` and returns it. ``per_class`` keeps the first N of each class.
    Existing files are overwritten; the output is deterministic."""
    from PIL import Image

    root = Path(out_dir)
    X, y = digits_arrays()
    counts = {c: 0 for c in range(10)}
    for i, (x, label) in enumerate(zip(X, y)):
        c = int(label)
        if per_class is not None and counts[c] >= per_class:
            continue
        counts[c] += 1
        folder = root / str(c)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(digit_image(x, size), "RGB").save(folder / f"{i:04d}.png")
    return root


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out_dir")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--per-class", type=int, default=None)
    args = ap.parse_args()
    print(export_digits(args.out_dir, args.size, args.per_class))
