"""SI-Score: objects pasted onto backgrounds while one factor (size, location, rotation) is
swept (Djolonga et al., CVPR 2021; google-research/si-score ``dataset_generator.py``).

    >>> img, pct = stalwart.siscore.composite(fg_rgba, bg_rgb, area=0.3, x=0.5, y=0.5, angle=45, resolution=512)
    >>> stalwart.siscore.generate("out/size", preset="size", limit=100)      # released layout on disk
    >>> res = stalwart.siscore.evaluate("models/efficientnet_lite0.onnx", preset="size", areas=[0.1, 0.3, 0.6])
    >>> stalwart.siscore.scores(res)["size"]                                  # [(area, top1, top5, n), ...]

Compositing reproduces the original generator with Pillow 13's algorithms (bilinear resize of
premultiplied RGBA, ``rotate(angle, BICUBIC, expand=True)``, ``paste`` with the alpha mask).
Foregrounds without alpha are pasted opaque. Generated images are JPEGs of quality 75 (4:2:0).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from . import _lib
from .errors import BufferTooSmall, InvalidArgument

__all__ = ["composite", "generate", "metadata", "evaluate", "scores", "PRESETS", "DEFAULT_SAMPLES"]

#: Sweep presets (the paper's configurations).
PRESETS = ("size", "rotation", "location")
#: The bundled samples: si-score's own 9 objects and 8 backgrounds (with ATTRIBUTIONS.md).
DEFAULT_SAMPLES = _lib.REPO_ROOT / "examples" / "data" / "siscore"

_u8 = ctypes.POINTER(ctypes.c_uint8)


def _image(a, name: str, channels: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3):
        raise InvalidArgument(f"{name} must be a uint8 (H, W) or (H, W, C) array, got {arr.dtype} {arr.shape}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.shape[2] not in channels:
        raise InvalidArgument(f"{name} must have {' or '.join(map(str, channels))} channels, got {arr.shape[2]}")
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise InvalidArgument(f"{name} is empty: {arr.shape}")
    return np.ascontiguousarray(arr)


def composite(fg_rgba: np.ndarray, bg_rgb: np.ndarray, area: float, x: float, y: float, angle: float = 0.0,
              resolution: int | None = None) -> tuple[np.ndarray, float]:
    """One SI-Score composite. ``fg_rgba``: uint8 (H, W, 4) object with its alpha mask
    (3-channel and gray objects are pasted opaque). ``bg_rgb``: uint8 (H, W, 3) (gray and RGBA
    are converted), cropped to its largest top-left square and resized (bilinear) to
    ``resolution`` × ``resolution`` (kept at the square's size when None). The object is
    resized so its bounding box covers ``area`` ∈ (0, 1] of the background, rotated ``angle``
    degrees counter-clockwise (bicubic, expanded) and centred at ``(int(x·S), int(y·S))`` with
    x, y ∈ [0, 1]. Returns ``(image, pct_inside_image)``: uint8 (S, S, 3) and the fraction of the
    rotated bounding box inside the canvas (unrounded)."""
    fg = _image(fg_rgba, "fg_rgba", (1, 3, 4))
    bg = _image(bg_rgb, "bg_rgb", (1, 3, 4))
    res = 0 if resolution is None else int(resolution)
    side = ctypes.c_int64()
    _lib.lib.stalwart_siscore_composite_side(bg.shape[1], bg.shape[0], res, ctypes.byref(side))
    out = np.empty((side.value, side.value, 3), np.uint8)
    pct = ctypes.c_double()
    _lib.lib.stalwart_siscore_composite(fg.ctypes.data_as(_u8), fg.shape[1], fg.shape[0], fg.shape[2],
                                        bg.ctypes.data_as(_u8), bg.shape[1], bg.shape[0], bg.shape[2],
                                        float(area), float(x), float(y), float(angle), res,
                                        out.ctypes.data_as(_u8), out.size, ctypes.byref(pct))
    return out, pct.value


def _list(v) -> str:
    if isinstance(v, str):
        return v
    return ",".join(repr(float(x)) for x in v)


def _overrides(areas=None, angles=None, centres=None, grid=None, resolution=None, backgrounds=None,
               min_pct_inside=None, seed=None) -> list[tuple[str, str]]:
    out = []
    if areas is not None:
        out.append(("areas", _list(areas)))
    if angles is not None:
        out.append(("angles", _list(angles)))
    if centres is not None:
        out.append(("centres", centres if isinstance(centres, str) else
                    ",".join(f"{float(a)!r}:{float(b)!r}" for a, b in centres)))
    if grid is not None:
        out.append(("grid", str(int(grid))))
    if resolution is not None:
        out.append(("resolution", str(int(resolution))))
    if backgrounds is not None:
        out.append(("backgrounds", str(int(backgrounds))))
    if min_pct_inside is not None:
        out.append(("min_pct_inside", repr(float(min_pct_inside))))
    if seed is not None:
        out.append(("seed", str(int(seed))))
    return out


def _kv(pairs: list[tuple[str, str]]):
    n = len(pairs)
    keys = (ctypes.c_char_p * max(n, 1))(*[k.encode() for k, _ in pairs])
    values = (ctypes.c_char_p * max(n, 1))(*[v.encode() for _, v in pairs])
    return keys, values, n


def _dirs(samples, foregrounds, backgrounds_dir) -> tuple[str, str]:
    base = Path(samples) if samples is not None else DEFAULT_SAMPLES
    fg = Path(foregrounds) if foregrounds is not None else base / "foregrounds"
    bg = Path(backgrounds_dir) if backgrounds_dir is not None else base / "backgrounds"
    return os.fspath(fg), os.fspath(bg)


def generate(out_dir: str | os.PathLike, *, preset: str = "size", samples: str | os.PathLike | None = None,
             foregrounds: str | os.PathLike | None = None, backgrounds_dir: str | os.PathLike | None = None,
             areas: Sequence[float] | None = None, angles: Sequence[float] | None = None,
             centres: Sequence[tuple[float, float]] | None = None, grid: int | None = None,
             resolution: int | None = None, backgrounds: int | None = None, min_pct_inside: float | None = None,
             seed: int | None = None, limit: int | None = None, threads: int = 0) -> dict:
    """Writes an SI-Score sweep in the released layout (``{class}/{image_id}.jpg``,
    ``metadata.csv`` and the class/background CSVs) into ``out_dir``. Objects come from
    ``foregrounds`` (``<class>/<object>.png``) and backgrounds from ``backgrounds_dir``; both
    default to ``samples`` (default :data:`DEFAULT_SAMPLES`) ``/foregrounds`` and ``/backgrounds``.
    ``preset`` is one of :data:`PRESETS`; the other arguments override it (``backgrounds`` = per
    object). ``limit`` keeps the first images (id order). Returns ``{"written", "skipped"}``."""
    fg, bg = _dirs(samples, foregrounds, backgrounds_dir)
    keys, values, n = _kv(_overrides(areas, angles, centres, grid, resolution, backgrounds, min_pct_inside, seed))
    w, s = ctypes.c_int64(), ctypes.c_int64()
    _lib.lib.stalwart_siscore_generate(preset.encode(), keys, values, n, os.fsencode(fg), os.fsencode(bg),
                                       os.fsencode(out_dir), int(limit or 0), int(threads), ctypes.byref(w), ctypes.byref(s))
    return {"written": w.value, "skipped": s.value}


def metadata(*, preset: str = "size", samples: str | os.PathLike | None = None,
             foregrounds: str | os.PathLike | None = None, backgrounds_dir: str | os.PathLike | None = None,
             areas=None, angles=None, centres=None, grid=None, resolution=None, backgrounds=None, min_pct_inside=None,
             seed=None, limit: int | None = None) -> str:
    """The ``metadata.csv`` text :func:`generate` would write (same arguments), without
    rendering any image."""
    fg, bg = _dirs(samples, foregrounds, backgrounds_dir)
    keys, values, n = _kv(_overrides(areas, angles, centres, grid, resolution, backgrounds, min_pct_inside, seed))
    size = ctypes.c_size_t()
    args = (preset.encode(), keys, values, n, os.fsencode(fg), os.fsencode(bg), int(limit or 0))
    try:
        _lib.lib.stalwart_siscore_metadata(*args, None, 0, ctypes.byref(size))
    except BufferTooSmall:
        pass
    buf = (ctypes.c_uint8 * max(size.value, 1))()
    _lib.lib.stalwart_siscore_metadata(*args, buf, size.value, ctypes.byref(size))
    return bytes(buf[: size.value]).decode("utf-8")


def evaluate(model: str | os.PathLike, *, preset: str = "size", samples: str | os.PathLike | None = None,
             db: str | os.PathLike = "results.sqlite", areas=None, angles=None, centres=None, grid=None,
             resolution: int | None = None, backgrounds: int | None = None, min_pct_inside: float | None = None,
             seed: int | None = None, jpeg: bool = True, model_preset: str | None = None,
             test_resolution: int | None = None, batch: int = 16, threads: int = 0, workers: int = 0,
             limit: int | None = None, progress=None):
    """Scores ``model`` on an SI-Score sweep generated in memory from ``samples`` (a folder with
    ``foregrounds/`` and ``backgrounds/``; default :data:`DEFAULT_SAMPLES`) — no files are
    written. Images go through the model's own preprocessing (its metadata; ``model_preset`` /
    ``test_resolution`` override), JPEG round-tripped like the written dataset unless
    ``jpeg=False``. Labels are ImageNet-1k indices, scored 1000-way. Results (per image, and the
    per-factor aggregates read by :func:`scores`) go to the SQLite ``db``; returns
    :class:`stalwart.evaluate.Results`."""
    from .evaluate import _run, file_sha256

    data = Path(samples) if samples is not None else DEFAULT_SAMPLES
    opts: list[tuple[str, str]] = [("siscore", preset)]
    opts += [("siscore_" + k, v) for k, v in _overrides(areas, angles, centres, grid, resolution, backgrounds,
                                                        min_pct_inside, seed)]
    opts.append(("siscore_jpeg", "1" if jpeg else "0"))
    if model_preset is not None:
        opts.append(("preset", model_preset))
    if test_resolution is not None:
        opts.append(("resolutions", str(int(test_resolution))))
    opts += [("batch", str(int(batch))), ("threads", str(int(threads))), ("workers", str(int(workers)))]
    if limit is not None:
        opts.append(("limit", str(int(limit))))
    res = _run(model, data, db, opts, progress)
    # The runs of this sweep: data_root is "<samples>#siscore-<digest of the sweep>"; the most
    # recently finished one per resolution belongs to this call.
    rows = res._query("SELECT runs.id, runs.data_root, runs.finished FROM runs JOIN models ON models.id = runs.model_id "
                      "WHERE runs.data_root LIKE ? AND models.sha256 = ? ORDER BY runs.id",
                      (os.fspath(data).replace("%", "\\%") + "#siscore-%", file_sha256(model)))
    if rows:
        latest = max(rows, key=lambda r: (r["finished"] or "", r["id"]))["data_root"]
        res.run_ids = [r["id"] for r in rows if r["data_root"] == latest]
    return res


def scores(results, run_id: int | None = None) -> dict:
    """Per-factor accuracies of an SI-Score run (robustness_metrics' ``synthetic`` metric):
    ``{"size": [(area, top1, top5, n), ...], "rotation": [(angle, ...)], "location":
    [(x, y, top1, top5, n), ...], "averages": {"size_average": ..., "size_average_top5": ...}}``
    for the factors that vary. ``results`` is a :class:`stalwart.evaluate.Results`."""
    rid = run_id if run_id is not None else results.run_ids[0]
    rows = results.aggregates(rid)
    per: dict[tuple[str, str], dict] = {}
    out: dict = {"size": [], "rotation": [], "location": [], "averages": {}}
    for r in rows:
        if r["corruption"] == "*" and r["metric"].startswith("siscore:"):
            out["averages"][r["metric"][len("siscore:"):]] = r["value"]
        elif r["corruption"] == "si-score" and r["severity"] == -2:
            head, kind = r["metric"].rsplit(":", 1)
            factor, value = head.split("=", 1)
            d = per.setdefault((factor, value), {"n": r["count"]})
            d[kind] = r["value"]
    for (factor, value), d in per.items():
        if factor == "location":
            x, y = (float(v) for v in value.split(","))
            out["location"].append((x, y, d.get("top1"), d.get("top5"), d["n"]))
        else:
            out[factor].append((float(value), d.get("top1"), d.get("top5"), d["n"]))
    for k in ("size", "rotation", "location"):
        out[k].sort()
    return out
