#!/usr/bin/env python3
"""Evaluate a classifier's robustness through Stalwart's Python bindings.

    python examples/python/evaluate.py MODEL.onnx DATA_DIR [--corruptions common] [--severities 1-5]
                                       [--resolutions 160,224,288] [--db results.sqlite] [--report report.html]

DATA_DIR is any dataset layout `stalwart eval` reads (class folders, ImageNet-C, -A, -R, -V2,
ObjectNet, the pm-k video sets, SI-Score; detected from the folder). Corruptions are generated
in memory; results go to the SQLite database (run the same command again to resume an
interrupted evaluation) and the report is written next to it. Prints clean top-1, mean
corrupted top-1 and mCE per test resolution, then the worst corruption at severity 5.
Without arguments it evaluates the bundled EfficientNet-Lite0 on the bundled photos.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if importlib.util.find_spec("stalwart") is None:
    sys.path.insert(0, str(REPO / "bindings" / "python"))
import stalwart  # noqa: E402


def bundled_photos(root: Path) -> Path:
    """The bundled photos as WordNet-id class folders (the layout of an ImageNet subset)."""
    wnids = [c["wnid"] for c in json.loads((REPO / "data/labelspaces/imagenet_1k.json").read_text())["classes"]]
    for name, label in json.loads((REPO / "examples/data/labels.json").read_text()).items():
        (root / wnids[label]).mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "examples/data" / name, root / wnids[label] / name)
    return root


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default=str(REPO / "models/efficientnet_lite0.onnx"))
    ap.add_argument("data", nargs="?")
    ap.add_argument("--corruptions", default="common")
    ap.add_argument("--severities", default="1-5")
    ap.add_argument("--resolutions", default="160,224,288")
    ap.add_argument("--db", default="results.sqlite")
    ap.add_argument("--report", default="report.html")
    a = ap.parse_args()
    data = a.data or str(bundled_photos(Path(tempfile.mkdtemp()) / "photos"))

    def progress(run, runs, done, total, ips):
        print(f"\rrun {run + 1}/{runs}: {done}/{total} images, {ips:.1f} img/s", end="", file=sys.stderr, flush=True)

    try:
        res = stalwart.evaluate(a.model, data, db=a.db, corruptions=a.corruptions, severities=a.severities,
                                resolutions=[int(r) for r in a.resolutions.split(",")], progress=progress)
    except stalwart.StalwartError as e:
        print(f"\nevaluate: {e}", file=sys.stderr)
        return 1
    print(file=sys.stderr)
    print(f"{res.evaluated} images evaluated, {res.resumed} resumed, {res.skipped} skipped -> {res.db}")
    for run in res.runs():
        if run["id"] not in res.run_ids:
            continue
        line = f"{run['model']} @{run['resolution']}px: top-1 {res.metric('top1', run_id=run['id']):.3f}"
        try:
            line += (f", corrupted top-1 {res.metric('corrupted_top1', '*', -1, run_id=run['id']):.3f}"
                     f", mCE {res.metric('mce', '*', -1, run_id=run['id']):.3f}")
        except KeyError:
            pass
        print(line)
    last = res.run_ids[-1]
    sev5 = [r for r in res.aggregates(last) if r["severity"] == 5 and r["metric"] == "top1"]
    if sev5:
        worst = min(sev5, key=lambda r: r["value"])
        print(f"worst at severity 5: {worst['corruption']} (top-1 {worst['value']:.3f})")
    res.report(a.report)
    print(f"report: {a.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
