"""`stalwart eval` on the robustness-dataset layouts, built from the bundled photos: label
spaces (ImageNet-R's 200 classes, Vid-Robust's 30 with max-merged logits, SI-Score's 61), pm-k
and SI-Score factor aggregates. Oracle: ONNX Runtime logits projected with NumPy from the
label-space JSON files, and pm-k / factor accuracy recomputed from the stored rows."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import stalwart

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "efficientnet_lite0.onnx"
PHOTOS = REPO / "examples" / "data"


def space(name):
    return json.loads((REPO / "data" / "labelspaces" / f"{name}.json").read_text())["classes"]


@pytest.fixture(scope="module")
def ort_logits():
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    pipe = stalwart.Pipeline("efficientnet-lite", 224)
    return {n: sess.run(None, {"input": pipe.load(PHOTOS / n)})[0][0] for n in ("chelsea.png", "coffee.png", "rocket.png")}


def projected_argmax(logits, classes):
    return int(np.argmax([max(logits[i] for i in c["imagenet_indices"]) if c["imagenet_indices"] else -1e4 for c in classes]))


def test_imagenet_r_label_space(tmp_path, ort_logits):
    classes = space("imagenet_r")
    wnids = [c["wnid"] for c in space("imagenet_1k")]
    root = tmp_path / "imagenet-r"
    labels = json.loads((PHOTOS / "labels.json").read_text())
    for name, label in labels.items():
        (root / wnids[label]).mkdir(parents=True)
        shutil.copy(PHOTOS / name, root / wnids[label] / name)
    res = stalwart.evaluate(MODEL, root, db=tmp_path / "r.sqlite")
    (run,) = res.runs()
    assert run["suite"] == "imagenet-r" and run["label_space"] == "imagenet_r"
    rows = {r["sample"].split("/")[-1]: r for r in res.predictions()}
    for name, label in labels.items():
        want_label = next(i for i, c in enumerate(classes) if label in c["imagenet_indices"])
        assert rows[name]["label"] == want_label
        assert rows[name]["top1"] == projected_argmax(ort_logits[name], classes), name
    assert res.metric("top1") == pytest.approx(np.mean([rows[n]["correct1"] for n in labels]))


def test_vid_robust_pm_k(tmp_path, ort_logits):
    classes = space("imagenet_vid_robust")
    cat = next(i for i, c in enumerate(classes) if 281 in c["imagenet_indices"])
    root = tmp_path / "vid"
    # Two pm-sets: chelsea frames (a cat), and a set whose frames alternate chelsea / coffee.
    sets = {
        "val/A/000010.JPEG": {"val/A/000005.JPEG": "chelsea.png", "val/A/000015.JPEG": "chelsea.png", "val/A/000030.JPEG": "coffee.png"},
        "val/B/000100.JPEG": {"val/B/000095.JPEG": "coffee.png", "val/B/000104.JPEG": "chelsea.png"},
    }
    anchors = {"val/A/000010.JPEG": "chelsea.png", "val/B/000100.JPEG": "chelsea.png"}
    files = {**anchors, **{k: v for s in sets.values() for k, v in s.items()}}
    for key, photo in files.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PHOTOS / photo, root / key)
    (root / "pmsets.json").write_text(json.dumps({a: sorted(s) for a, s in sets.items()}))
    (root / "labels.json").write_text(json.dumps({k: [cat] for k in files}))
    res = stalwart.evaluate(MODEL, root, db=tmp_path / "v.sqlite")
    (run,) = res.runs()
    assert run["suite"] == "imagenet-vid-robust"
    rows = {r["sample"]: r for r in res.predictions()}
    assert set(rows) == set(files)
    for key, photo in files.items():
        assert rows[key]["top1"] == projected_argmax(ort_logits[photo], classes), key
    correct = {k: bool(rows[k]["correct1"]) for k in files}
    frame = lambda k: int(k.split("/")[-1].split(".")[0])

    def pm(k):
        ok = [correct[a] and all(correct[n] for n in s if abs(frame(n) - frame(a)) <= k) for a, s in sets.items()]
        return float(np.mean(ok))

    assert res.metric("pm0", "*", -1) == pytest.approx(pm(0))
    assert res.metric("pm10", "*", -1) == pytest.approx(pm(10))


def test_si_score_factors(tmp_path, ort_logits):
    classes = space("si_score")
    missile = next(i for i, c in enumerate(classes) if 657 in c["imagenet_indices"])
    root = tmp_path / "si"
    folder = root / classes[missile]["name"]
    folder.mkdir(parents=True)
    meta = ["image_id,label,area,rotation"]
    photos = [("rocket.png", 0.1, 0), ("chelsea.png", 0.1, 90), ("rocket.png", 0.5, 0), ("coffee.png", 0.5, 90)]
    for i, (p, area, rot) in enumerate(photos):
        shutil.copy(PHOTOS / p, folder / f"{i}.png")
        meta.append(f"{i}.png,{missile},{area},{rot}")
    (root / "metadata.csv").write_text("\n".join(meta) + "\n")
    res = stalwart.evaluate(MODEL, root, db=tmp_path / "s.sqlite")
    (run,) = res.runs()
    assert run["suite"] == "si-score" and run["label_space"] == "si_score"
    rows = {r["sample"].split("/")[-1]: r for r in res.predictions()}
    correct = []
    for i, (p, area, rot) in enumerate(photos):
        r = rows[f"{i}.png"]
        assert r["top1"] == projected_argmax(ort_logits[p], classes)
        correct.append((area, rot, bool(r["correct1"])))
    for j, name in ((0, "area"), (1, "rotation")):
        by = {}
        for c in correct:
            by.setdefault(c[j], []).append(c[2])
        assert res.metric(f"factor:{name}", "*", -1) == pytest.approx(np.mean([np.mean(v) for v in by.values()])), name
