#!/usr/bin/env python3
"""Classify a photo with an ONNX image classifier through Stalwart's Python bindings.

    python examples/python/classify.py MODEL.onnx IMAGE.png [--classes imagenet_classes.txt]

Preprocessing follows shared/fixtures/MODELS.md for EfficientNet-Lite: RGB; resize the shorter
side to int(256 * R / 224) with PIL bicubic (long side truncated like torchvision's Resize);
center crop R x R (torchvision rounding); (pixel - 127) / 128; NCHW float32. R is read from the
model's input shape (224 / 240 / 260 for Lite0 / 1 / 2).

Requires numpy and Pillow. The bindings are imported from the installed `stalwart` package, or
from this checkout's bindings/python if it is not installed; the library is found as described
in bindings/python/stalwart/_lib.py (set STALWART_LIB to override).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("stalwart") is None:
    sys.path.insert(0, str(REPO / "bindings" / "python"))
import stalwart  # noqa: E402


def preprocess(path: Path, res: int, mean: float = 127.0, std: float = 128.0) -> np.ndarray:
    """PNG/JPEG -> float32 [1, 3, res, res] as MODELS.md describes."""
    im = Image.open(path).convert("RGB")
    short = int(256 * res / 224)
    w, h = im.size
    if w <= h:
        nw, nh = short, int(short * h / w)
    else:
        nw, nh = int(short * w / h), short
    im = im.resize((nw, nh), Image.BICUBIC)
    left, top = int(round((nw - res) / 2.0)), int(round((nh - res) / 2.0))
    im = im.crop((left, top, left + res, top + res))
    x = (np.asarray(im, dtype=np.float32) - mean) / std
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def default_classes() -> Path | None:
    path = REPO.parent / "shared" / "fixtures" / "imagenet_classes.txt"
    return path if path.is_file() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="ONNX classifier, input [N, 3, R, R] float32")
    parser.add_argument("image", type=Path, nargs="+", help="one or more images (PNG, JPEG, ...)")
    parser.add_argument("--classes", type=Path, default=default_classes(),
                        help="class names, one per line (default: the shared ImageNet list)")
    parser.add_argument("--threads", type=int, default=None, help="0 = one per core")
    parser.add_argument("-k", "--top", type=int, default=5)
    args = parser.parse_args(argv)

    names = args.classes.read_text().splitlines() if args.classes else []
    try:
        model = stalwart.Model(args.model, threads=args.threads)
    except stalwart.StalwartError as e:
        print(f"classify: cannot load {args.model}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    with model:
        (inp,) = model.inputs
        res = inp.shape[-1]
        if res is None or inp.shape[-2] != res or len(inp.shape) != 4:
            print(f"classify: input {inp.name} {inp.shape} is not [N, 3, R, R]", file=sys.stderr)
            return 1
        print(f"libStalwart {stalwart.version()} ({stalwart.library_path})")
        print(f"model {args.model.name}: {inp.name} {list(inp.shape)} -> {model.outputs[0].name}")
        x = np.concatenate([preprocess(p, res) for p in args.image])
        probs = softmax(model(x).astype(np.float64))
    for path, p in zip(args.image, probs):
        print(f"{path.name}:")
        for rank, idx in enumerate(np.argsort(-p, kind="stable")[: args.top], 1):
            name = names[idx] if idx < len(names) else ""
            print(f"  {rank}  {idx:4d}  {p[idx]:.4f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
