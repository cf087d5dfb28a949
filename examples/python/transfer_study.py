"""Robustness vs transferability across models — the paper's central question, on your models.

For each model: `stalwart eval` measures robustness (clean + on-the-fly ImageNet-C corruptions
of the bundled photos), `stalwart transfer` measures few-shot transfer on scikit-learn's real
handwritten digits (exported as an upsampled RGB class-folder dataset), both into one SQLite
database; `stalwart study` then correlates the two across models (Kendall τ-b, Spearman ρ,
Pearson r with bootstrap intervals) and writes an HTML report with the scatter plot.

    python examples/python/transfer_study.py [OUT_DIR] [--models a.onnx b.onnx c.onnx ...]
        [--per-class 60] [--corruptions gaussian_noise,contrast,...]

Defaults: the bundled EfficientNet-Lite0/1/2 (models/, else ../shared/fixtures/models), 60
digits per class, 5 corruptions × 5 severities. Needs the CLI (`STALWART_CLI` or
.build/release/stalwart), scikit-learn and Pillow. It also shows `Model.embed` from Python.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bindings" / "python"))
sys.path.insert(0, str(REPO / "Tests" / "python"))

import stalwart  # noqa: E402
from digits import export_digits  # noqa: E402

# The EfficientNet-Lite family: preprocessing (x − 127) / 128 at each model's own resolution.
RESOLUTIONS = {"efficientnet_lite0": 224, "efficientnet_lite1": 240, "efficientnet_lite2": 260}


def default_models() -> list[Path]:
    shared = Path(os.environ.get("STALWART_SHARED", REPO.parent / "shared")) / "fixtures" / "models"
    out = []
    for name in RESOLUTIONS:
        for base in (REPO / "models", shared):
            if (base / f"{name}.onnx").is_file():
                out.append(base / f"{name}.onnx")
                break
    return out


def cli(*args) -> str:
    exe = os.environ.get("STALWART_CLI", str(REPO / ".build" / "release" / "stalwart"))
    p = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"stalwart {args[0]} failed:\n{p.stderr}")
    return p.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", default="transfer-study")
    ap.add_argument("--models", nargs="*", type=Path)
    ap.add_argument("--per-class", type=int, default=60)
    ap.add_argument("--corruptions", default="gaussian_noise,defocus_blur,fog,contrast,jpeg_compression")
    args = ap.parse_args()
    models = args.models or default_models()
    if len(models) < 3:
        sys.exit("a study needs at least 3 models (pass --models)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "results.sqlite"

    # Data: the digits as class folders; the photos as WordNet-id class folders.
    digits = export_digits(out / "digits", size=64, per_class=args.per_class)
    wnids = [c["wnid"] for c in json.loads((REPO / "data/labelspaces/imagenet_1k.json").read_text())["classes"]]
    photos = out / "photos"
    for name, label in json.loads((REPO / "examples/data/labels.json").read_text()).items():
        (photos / wnids[label]).mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "examples/data" / name, photos / wnids[label] / name)

    for m in models:
        res = RESOLUTIONS.get(m.stem)
        prep = ["--preset", "efficientnet-lite"] if res else []
        print(f"== {m.name}")
        cli("eval", "--model", m, "--data", photos, *prep, *(["--resolutions", res] if res else []),
            "--corruptions", args.corruptions, "--db", db, "--quiet")
        print(cli("transfer", m, digits, *prep, *(["--resolution", res] if res else []), "--db", db,
                  "--task", "digits"), end="")

    # The same features from Python: Model.embed on preprocessed images.
    with stalwart.Model(models[0], threads=2) as model:
        pipe = stalwart.Pipeline("efficientnet-lite", RESOLUTIONS.get(models[0].stem, 224))
        files = sorted(digits.rglob("*.png"))[:8]
        x = np.concatenate([pipe.load(str(f)) for f in files])
        feats = model.embed(x)
        print(f"Model.embed: {model.prelogits} {feats.shape} (first image, first 4 values {feats[0, :4]})")

    # `stalwart study --db DB` alone lists every robustness and transfer metric it can pair.
    print(cli("study", "--db", db, "--robustness", "corrupted_top1", "--transfer", "digits:10",
              "--report", out / "study.html", "--json", out / "study.json"), end="")


if __name__ == "__main__":
    main()
