"""`stalwart study` end to end: several models evaluated by `stalwart eval` (robustness) and
`stalwart transfer` (few-shot on scikit-learn's real digits) into one database; the study's
numbers must equal SciPy's (kendalltau τ-b, spearmanr, pearsonr) and NumPy's (least squares,
percentile bootstrap over transfer_oracle's resampling indices) computed from the database's
own values, within 1e-9. The HTML report's scatter plot must carry the same points and line.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import transfer_oracle as O
from digits import export_digits
from test_transfer_cli import REPO, feature_model, run

PHOTOS = REPO / "examples" / "data"


@pytest.fixture(scope="module")
def study_db(cli, tmp_path_factory):
    """Five small models: four with eval + transfer results, one with transfer only."""
    tmp = tmp_path_factory.mktemp("study")
    ids = [c["wnid"] for c in json.loads((REPO / "data/labelspaces/imagenet_1k.json").read_text())["classes"]]
    photos = tmp / "photos"
    for name, label in json.loads((PHOTOS / "labels.json").read_text()).items():
        (photos / ids[label]).mkdir(parents=True)
        shutil.copy(PHOTOS / name, photos / ids[label] / name)
    digits = export_digits(tmp / "digits", size=32, per_class=12)
    db = tmp / "results.sqlite"
    models = [feature_model(tmp / f"m{i}.onnx", seed=10 + i, width=8 + 4 * i) for i in range(5)]
    for i, m in enumerate(models):
        if i < 4:
            run(cli, "eval", "--model", m, "--data", photos, "--preset", "torchvision", "--resolutions", 32,
                "--corruptions", "gaussian_noise", "--severities", "1-5", "--db", db, "--quiet")
        run(cli, "transfer", m, digits, "--preset", "torchvision", "--resolution", 32, "--shots", "1,5",
            "--seeds", 3, "--db", db, "--task", "digits")
    return db, models


def db_values(db: Path, metric: str, shots: int):
    con = sqlite3.connect(db)
    rob = dict(con.execute(
        "SELECT m.sha256, a.value FROM aggregates a JOIN runs r ON r.id = a.run_id JOIN models m ON m.id = r.model_id "
        "WHERE a.metric = ? AND a.corruption = '' AND a.severity = 0", (metric,)).fetchall())
    acc: dict[str, list[float]] = {}
    for sha, a in con.execute(
            "SELECT m.sha256, t.accuracy FROM transfer_results t JOIN models m ON m.id = t.model_id "
            "WHERE t.task = 'digits' AND t.method = 'fewshot_lsr' AND t.shots = ? AND t.l2 = 1024", (shots,)):
        acc.setdefault(sha, []).append(a)
    con.close()
    return rob, acc


def test_listing_and_study_equal_scipy(cli, study_db, tmp_path):
    db, models = study_db
    p = run(cli, "study", "--db", db)
    assert "nll  (4)" in p.stdout and "digits:1  (5)" in p.stdout and "digits:5  (5)" in p.stdout
    assert "gaussian_noise:3" in p.stdout and "corrupted_top1" in p.stdout

    html, js = tmp_path / "study.html", tmp_path / "study.json"
    p = run(cli, "study", "--db", db, "--robustness", "nll", "--transfer", "digits:5", "--bootstrap", 300,
            "--seed", 7, "--report", html, "--json", js)
    out = json.loads(js.read_text())
    rob, acc = db_values(db, "nll", 5)
    common = sorted(set(rob) & set(acc))
    assert len(common) == 4 and len(acc) == 5
    pts = {q["sha256"]: q for q in out["points"]}
    assert sorted(pts) == common
    for sha in common:
        assert pts[sha]["robustness"] == pytest.approx(rob[sha], abs=1e-12)
        assert pts[sha]["transfer"] == pytest.approx(np.mean(acc[sha]), abs=1e-12)
        assert pts[sha]["transfer_std"] == pytest.approx(np.std(acc[sha]), abs=1e-12)
        assert pts[sha]["seeds"] == 3
    order = [q["sha256"] for q in out["points"]]
    x = np.array([rob[s] for s in order])
    y = np.array([np.mean(acc[s]) for s in order])
    ref = {
        "kendall": lambda a, b: stats.kendalltau(a, b).statistic,
        "spearman": lambda a, b: stats.spearmanr(a, b).statistic,
        "pearson": lambda a, b: stats.pearsonr(a, b).statistic,
    }
    idx = O.bootstrap_indices(len(x), 300, 7)
    for kind, f in ref.items():
        c = out["correlations"][kind]
        assert abs(c["value"] - f(x, y)) <= 1e-9, kind
        vals = []
        for r in idx:
            xs, ys = x[r], y[r]
            if np.ptp(xs) == 0 or np.ptp(ys) == 0:
                continue
            vals.append(f(xs, ys))
        lo, hi = np.percentile(vals, [2.5, 97.5])
        assert abs(c["low"] - lo) <= 1e-9 and abs(c["high"] - hi) <= 1e-9, kind
    slope, intercept = np.polyfit(x, y, 1)
    assert out["fit"]["slope"] == pytest.approx(slope, abs=1e-9)
    assert out["fit"]["intercept"] == pytest.approx(intercept, abs=1e-9)
    assert "left out (one side only): m4" in p.stdout

    # The report: one labelled point per model at the study's values, the fitted line.
    page = html.read_text()
    assert page.count('class="point"') == 4
    for q in out["points"]:
        assert f'data-label="{q["model"]}"' in page
        assert re.search(rf'data-label="{q["model"]}" data-x="([^"]+)" data-y="([^"]+)"', page)
        got = re.search(rf'data-label="{q["model"]}" data-x="([^"]+)" data-y="([^"]+)"', page)
        assert float(got.group(1)) == q["robustness"] and float(got.group(2)) == q["transfer"]
    m = re.search(r'class="fit" data-slope="([^"]+)" data-intercept="([^"]+)"', page)
    assert m and float(m.group(1)) == pytest.approx(slope, abs=1e-9) and float(m.group(2)) == pytest.approx(intercept, abs=1e-9)
    assert "Kendall τ-b" in page and "Spearman ρ" in page and "Pearson r" in page


def test_report_is_wellformed_xhtml(cli, study_db, tmp_path):
    """The page is well-formed XHTML (parsed by an XML parser) with one inline SVG."""
    import xml.etree.ElementTree as ET

    db, _ = study_db
    html = tmp_path / "s.html"
    run(cli, "study", "--db", db, "--robustness", "nll", "--transfer", "digits:1", "--report", html, "--bootstrap", 50)
    root = ET.fromstring(html.read_text())
    svgs = root.findall(".//{http://www.w3.org/2000/svg}svg")
    assert len(svgs) == 1
    circles = svgs[0].findall(".//{http://www.w3.org/2000/svg}circle")
    assert len(circles) == 4


def test_study_errors(cli, study_db, tmp_path):
    db, models = study_db
    p = run(cli, "study", "--db", db, "--robustness", "nope", "--transfer", "digits:5", ok=False)
    assert p.returncode == 1 and "no eval results for robustness metric 'nope'" in p.stderr and "nll" in p.stderr
    p = run(cli, "study", "--db", db, "--robustness", "nll", "--transfer", "digits:7", ok=False)
    assert p.returncode == 1 and "available: digits:1, digits:5" in p.stderr
    p = run(cli, "study", "--db", db, "--robustness", "nll", "--transfer", "digits", ok=False)
    assert p.returncode == 1 and "TASK:SHOTS" in p.stderr
    p = run(cli, "study", "--db", tmp_path / "missing.sqlite", "--robustness", "nll", "--transfer", "digits:5", ok=False)
    assert p.returncode == 1 and "no results database" in p.stderr
    p = run(cli, "study", "--db", db, "--robustness", "nll", ok=False)
    assert p.returncode == 1 and "both --robustness and --transfer" in p.stderr

    # Two models with both sides: a clear error, not a meaningless correlation.
    small = tmp_path / "two.sqlite"
    digits = export_digits(tmp_path / "d", size=32, per_class=6)
    for m in models[:2]:
        run(cli, "eval", "--model", m, "--data", Path(db).parent / "photos", "--preset", "torchvision",
            "--resolutions", 32, "--db", small, "--quiet")
        run(cli, "transfer", m, digits, "--preset", "torchvision", "--resolution", 32, "--shots", "1", "--seeds", 1,
            "--db", small, "--task", "digits")
    p = run(cli, "study", "--db", small, "--robustness", "nll", "--transfer", "digits:1", ok=False)
    assert p.returncode == 1 and "only 2 model(s)" in p.stderr and "at least 3" in p.stderr


def test_merge_carries_transfer_results(cli, study_db, tmp_path):
    db, _ = study_db
    merged = tmp_path / "merged.sqlite"
    run(cli, "merge", "--db", merged, db)
    q = "SELECT m.sha256, t.task, t.method, t.shots, t.seed, t.l2, t.accuracy FROM transfer_results t JOIN models m ON m.id = t.model_id ORDER BY 1, 2, 3, 4, 5, 6"
    a = sqlite3.connect(db).execute(q).fetchall()
    b = sqlite3.connect(merged).execute(q).fetchall()
    assert a == b and len(a) == 5 * 2 * 3
    run(cli, "merge", "--db", merged, db)  # idempotent
    assert sqlite3.connect(merged).execute(q).fetchall() == a


def test_bundled_efficientnets_study_end_to_end(cli, tmp_path):
    """The three EfficientNet-Lite scales: eval on the photos (clean + gaussian noise), 5-shot
    digits transfer, study. Real features transfer: 5-shot accuracy is far above chance (10%)."""
    from shared import efficientnet_path

    models = [(efficientnet_path(v), r) for v, r in (("lite0", 224), ("lite1", 240), ("lite2", 260))]
    ids = [c["wnid"] for c in json.loads((REPO / "data/labelspaces/imagenet_1k.json").read_text())["classes"]]
    photos = tmp_path / "photos"
    for name, label in json.loads((PHOTOS / "labels.json").read_text()).items():
        (photos / ids[label]).mkdir(parents=True)
        shutil.copy(PHOTOS / name, photos / ids[label] / name)
    digits = export_digits(tmp_path / "digits", size=32, per_class=10)
    db = tmp_path / "r.sqlite"
    for m, res in models:
        run(cli, "eval", "--model", m, "--data", photos, "--preset", "efficientnet-lite", "--resolutions", res,
            "--corruptions", "gaussian_noise", "--severities", "1-5", "--db", db, "--quiet")
        p = run(cli, "transfer", m, digits, "--preset", "efficientnet-lite", "--resolution", res, "--shots", "1,5",
                "--seeds", 3, "--db", db, "--task", "digits")
        assert "pool_flat" in p.stdout
    rob, acc = db_values(db, "nll", 5)
    assert len(acc) == 3 and all(np.mean(a) > 0.5 for a in acc.values()), acc
    js = tmp_path / "s.json"
    run(cli, "study", "--db", db, "--robustness", "nll", "--transfer", "digits:5", "--json", js, "--bootstrap", 100)
    out = json.loads(js.read_text())
    x = np.array([q["robustness"] for q in out["points"]])
    y = np.array([q["transfer"] for q in out["points"]])
    assert sorted(x) == sorted(rob.values())
    assert abs(out["correlations"]["pearson"]["value"] - stats.pearsonr(x, y).statistic) <= 1e-9
    assert abs(out["correlations"]["kendall"]["value"] - stats.kendalltau(x, y).statistic) <= 1e-9
