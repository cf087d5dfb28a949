#!/usr/bin/env python3
"""Classify photos with an ONNX image classifier through Stalwart's Python bindings.

    python examples/python/classify.py MODEL.onnx IMAGE [IMAGE...] [--preset P] [--resolution R]
                                       [--classes names.txt] [--threads N] [-k 5]

Stalwart decodes the images (PNG/JPEG, as Pillow would) and preprocesses them with the
model's own pipeline when it carries one in its metadata (models/efficientnet_lite0.onnx does;
see `stalwart annotate`), else with --preset at --resolution (default: the model's input
size). Class names come from --classes or the model's metadata. Needs only numpy.

The bindings are imported from the installed `stalwart` package, or from this checkout's
bindings/python; the library is found as bindings/python/stalwart/_lib.py describes
(STALWART_LIB overrides).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("stalwart") is None:
    sys.path.insert(0, str(REPO / "bindings" / "python"))
import stalwart  # noqa: E402


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="ONNX classifier, input [N, 3, R, R] float32")
    parser.add_argument("image", type=Path, nargs="+", help="PNG or JPEG files")
    parser.add_argument("--preset", choices=stalwart.PRESETS, help="preprocessing (default: the model's)")
    parser.add_argument("--resolution", type=int, help="test resolution (default: the model's)")
    parser.add_argument("--classes", type=Path, help="class names, one per line (default: the model's)")
    parser.add_argument("--threads", type=int, default=None, help="0 = one per core")
    parser.add_argument("-k", "--top", type=int, default=5)
    args = parser.parse_args(argv)

    try:
        model = stalwart.Model(args.model, threads=args.threads)
    except stalwart.StalwartError as e:
        print(f"classify: cannot load {args.model}: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    with model:
        if args.preset:
            res = args.resolution or model.inputs[0].shape[-1]
            if res is None:
                print("classify: pass --resolution (the model's input size is dynamic)", file=sys.stderr)
                return 1
            pipeline = stalwart.Pipeline(args.preset, res)
        else:
            try:
                pipeline = model.pipeline(args.resolution)
            except stalwart.InvalidArgument as e:
                print(f"classify: {e}", file=sys.stderr)
                return 1
        names = args.classes.read_text().splitlines() if args.classes else (model.class_names or [])
        print(f"libStalwart {stalwart.version()} ({stalwart.library_path})")
        print(f"model {args.model.name}: {model.inputs[0].name} {list(model.inputs[0].shape)} -> {model.outputs[0].name}")
        try:
            x = np.concatenate([pipeline.load(p) for p in args.image])
        except (stalwart.DecodeError, stalwart.StalwartIOError) as e:
            print(f"classify: {e}", file=sys.stderr)
            return 1
        probs = softmax(model(x).astype(np.float64))
    for path, p in zip(args.image, probs):
        print(f"{path.name}:")
        for rank, idx in enumerate(np.argsort(-p, kind="stable")[: args.top], 1):
            name = names[idx] if idx < len(names) else ""
            print(f"  {rank}  {idx:4d}  {p[idx]:.4f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
