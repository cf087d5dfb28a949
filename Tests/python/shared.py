"""Locating the shared fixtures (models, photos, class names) and preprocessing photos."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path | None:
    """``$STALWART_SHARED`` or ``<repo>/../shared``, if it exists."""
    env = os.environ.get("STALWART_SHARED")
    path = Path(env) if env else REPO.parent / "shared"
    return path if path.is_dir() else None


def fixtures_dir() -> Path | None:
    base = shared_dir()
    if base is None:
        return None
    path = base / "fixtures"
    return path if path.is_dir() else None


def efficientnet_path(variant: str) -> Path:
    """Path of ``efficientnet_<variant>.onnx``; skips when it is absent."""
    base = fixtures_dir()
    path = base / "models" / f"efficientnet_{variant}.onnx" if base else None
    if path is None or not path.is_file():
        pytest.skip(f"fixture model efficientnet_{variant}.onnx not found")
    return path


def preprocess(path: Path, res: int) -> np.ndarray:
    """RGB PNG -> float32 [1, 3, res, res]: shorter side to int(256*res/224) with PIL bicubic
    (long side truncated like torchvision Resize), torchvision-style center crop, then
    (pixel - 127) / 128, NCHW."""
    Image = pytest.importorskip("PIL.Image")
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
    x = np.asarray(im, dtype=np.float32)
    x = (x - 127.0) / 128.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])
