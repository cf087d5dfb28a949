"""A NumPy + Pillow re-implementation of google-research/si-score's ``dataset_generator.py``,
written from the issue's description, as the oracle of the SI-Score tests and benchmark.

Composite: background cropped to its top-left square and resized with ``Image.resize(BILINEAR)``;
the RGBA object resized (BILINEAR) to ``int(w·f)×int(h·f)`` with ``f = sqrt(area / (w·h / bg
area))``, rotated with ``Image.rotate(angle, BICUBIC, expand=True)``, centred at ``(int(x·W),
int(y·H))`` (top-left ``int(cx − w/2)``), pasted with ``paste(fg, box, mask=fg)``.
Metadata: ``itertools.product(coords, areas, angles, fg_bg_pairs)`` with sequential ids, rows
below ``min_pct_inside`` dropped, ``pct_inside_image`` rounded to 4 decimals, written with
``csv.writer``. Background pairing: SplitMix64 + Fisher–Yates (Stalwart's documented
replacement for ``np.random.choice(n, k, replace=False)``).
"""

from __future__ import annotations

import csv
import io
import itertools
import math
from pathlib import Path

import numpy as np
from PIL import Image

MASK64 = (1 << 64) - 1


def prepare_background(bg: Image.Image, resolution: int | None) -> Image.Image:
    bg = bg.convert("RGB")
    side = min(bg.width, bg.height)
    bg = bg.crop((0, 0, side, side))
    if resolution is not None and (bg.width != resolution or bg.height != resolution):
        bg = bg.resize((resolution, resolution), Image.BILINEAR)
    return bg


def resize_fg(fg: Image.Image, bg_w: int, bg_h: int, area: float) -> Image.Image:
    ratio = (fg.width * fg.height) / (bg_w * bg_h)
    f = np.sqrt(area / ratio)
    return fg.resize((int(fg.width * f), int(fg.height * f)), Image.BILINEAR)


def placement(fg_w: int, fg_h: int, bg_w: int, bg_h: int, x: float, y: float) -> tuple[int, int, float]:
    cx, cy = int(x * bg_w), int(y * bg_h)
    x0, y0 = int(cx - fg_w * 0.5), int(cy - fg_h * 0.5)
    inside = (min(x0 + fg_w, bg_w) - max(x0, 0)) * (min(y0 + fg_h, bg_h) - max(y0, 0))
    return x0, y0, inside / (fg_w * fg_h)


def composite(fg: Image.Image, bg: Image.Image, area: float, x: float, y: float, angle: float) -> tuple[np.ndarray, float]:
    """``bg`` already prepared (RGB). Returns (uint8 HWC, pct_inside_image unrounded)."""
    fg = fg.convert("RGBA")
    fg = resize_fg(fg, bg.width, bg.height, area)
    fg = fg.rotate(angle, resample=Image.BICUBIC, expand=True)
    x0, y0, pct = placement(fg.width, fg.height, bg.width, bg.height, x, y)
    out = bg.copy()
    out.paste(fg, box=(x0, y0), mask=fg)
    return np.asarray(out), pct


def rotated_size(w: int, h: int, angle: float) -> tuple[int, int]:
    return Image.new("L", (w, h)).rotate(angle, expand=True).size


class SplitMix64:
    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def draw(self, k: int, n: int) -> list[int]:
        perm = list(range(n))
        for i in range(min(k, n)):
            j = i + self.next() % (n - i)
            perm[i], perm[j] = perm[j], perm[i]
        return perm[:k]


def image_files(folder: Path) -> list[str]:
    return sorted((p.name for p in folder.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in (".png", ".jpg", ".jpeg")),
                  key=lambda s: s.encode())


class Generator:
    """The sweep over ``samples/foregrounds/<class>/*`` and ``samples/backgrounds/*``."""

    def __init__(self, fg_dir: Path, bg_dir: Path, coords, areas, angles, resolution: int, k: int = 2,
                 min_pct: float = 0.95, seed: int = 0):
        self.classes = sorted((p.name for p in fg_dir.iterdir() if p.is_dir() and image_files(p)), key=lambda s: s.encode())
        self.fg_files = [image_files(fg_dir / c) for c in self.classes]
        self.fgs = [[Image.open(fg_dir / c / f).convert("RGBA") for f in files] for c, files in zip(self.classes, self.fg_files)]
        self.bg_files = image_files(bg_dir)
        self.bgs = [prepare_background(Image.open(bg_dir / f), resolution) for f in self.bg_files]
        self.resolution = resolution
        rng = SplitMix64(seed)
        pairs = []
        for c, row in enumerate(self.fgs):
            for i in range(len(row)):
                pairs += [((c, i), b) for b in rng.draw(k, len(self.bgs))]
        self.rows = []
        for image_id, (coord, area, angle, ((c, i), b)) in enumerate(itertools.product(coords, areas, angles, pairs)):
            fg = self.fgs[c][i]
            ratio = (fg.width * fg.height) / (resolution * resolution)
            f = np.sqrt(area / ratio)
            rw, rh = rotated_size(int(fg.width * f), int(fg.height * f), angle)
            _, _, pct = placement(rw, rh, resolution, resolution, coord[0], coord[1])
            if pct < min_pct:
                continue
            self.rows.append(dict(id=image_id, x=coord[0], y=coord[1], area=area, angle=angle, c=c, i=i, b=b, pct=pct))

    def render(self, row: dict) -> np.ndarray:
        img, _ = composite(self.fgs[row["c"]][row["i"]], self.bgs[row["b"]], row["area"], row["x"], row["y"], row["angle"])
        return img

    def metadata_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["image_id", "x_coord", "y_coord", "area", "rotation", "foreground_class", "foreground_instance",
                    "background", "bg_resolution_width", "bg_resolution_height", "pct_inside_image"])
        for r in self.rows:
            w.writerow([r["id"], r["x"], r["y"], r["area"], r["angle"], r["c"], r["i"], r["b"], self.resolution,
                        self.resolution, round(r["pct"], 4)])
        return buf.getvalue()


def group_scores(rows: list[tuple[dict, bool, bool]]) -> dict:
    """robustness_metrics' synthetic metric from (factors, correct1, correct5) rows: accuracy
    per area / rotation / "%.2f,%.2f" location group and unweighted averages over groups;
    factors with a single value are left out."""
    out = {}
    keys = {
        "size": lambda f: f.get("area"),
        "rotation": lambda f: f.get("rotation"),
        "location": lambda f: None if "x_coord" not in f else "%.2f,%.2f" % (f["x_coord"], f["y_coord"]),
    }
    for name, key in keys.items():
        groups: dict = {}
        for f, c1, c5 in rows:
            k = key(f)
            if k is not None:
                groups.setdefault(k, []).append((c1, c5))
        if len(groups) < 2:
            continue
        per = {k: (float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v])), len(v)) for k, v in groups.items()}
        out[name] = per
        out[name + "_average"] = float(np.mean([v[0] for v in per.values()]))
        out[name + "_average_top5"] = float(np.mean([v[1] for v in per.values()]))
    return out


def angle_cases() -> list[float]:
    return [0.0, 90.0, 180.0, 270.0, -30.0, 45.0, 360.0 + 15.0, math.pi]
