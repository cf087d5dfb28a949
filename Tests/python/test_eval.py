"""`stalwart eval` / `stalwart.evaluate`: end to end on the bundled model and photos.

Oracles: every stored aggregate is recomputed from the stored per-image rows by
Tests/python/eval_oracle.py (SQL + NumPy, no Stalwart code); the per-image predictions are
checked against ONNX Runtime on the same preprocessed input; on-disk ImageNet-C written by
`stalwart corrupt` must give the same rows as on-the-fly corruptions; a run killed with
SIGKILL at random points and resumed must equal an uninterrupted run row for row.
"""
from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import eval_oracle
import stalwart

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "efficientnet_lite0.onnx"
PHOTOS = REPO / "examples" / "data"
CORRUPTIONS = "fog,contrast,gaussian_noise"


def wnids() -> list[str]:
    return [c["wnid"] for c in json.loads((REPO / "data/labelspaces/imagenet_1k.json").read_text())["classes"]]


@pytest.fixture(scope="module")
def class_folders(tmp_path_factory) -> Path:
    """The three bundled photos as a WordNet-id class-folder dataset."""
    root = tmp_path_factory.mktemp("photos")
    labels = json.loads((PHOTOS / "labels.json").read_text())
    ids = wnids()
    for name, label in labels.items():
        (root / ids[label]).mkdir()
        shutil.copy(PHOTOS / name, root / ids[label] / name)
    return root


def run(cli, *args, check=True):
    res = subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=600)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def table(db, sql, args=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def assert_rows_equal(a, b, exact: int, what: str):
    """Rows equal: the first `exact` columns (keys, labels, predictions) exactly, the rest
    (probabilities) within 1e-5 relative — the engine's float sums depend on the batch size
    (different kernel tilings), so the same image in another batch differs in the last bits."""
    assert len(a) == len(b), what
    for x, y in zip(a, b):
        assert x[:exact] == y[:exact], (what, x, y)
        np.testing.assert_allclose(np.array(x[exact:], float), np.array(y[exact:], float), rtol=1e-5, atol=1e-7,
                                   err_msg=f"{what}: {x[:exact]}")


def assert_aggregates_match_rows(db):
    for (run_id,) in table(db, "SELECT id FROM runs"):
        want = eval_oracle.recompute(str(db), run_id)
        got = eval_oracle.stored(str(db), run_id)
        checked = 0
        for key, v in want.items():
            assert key in got, f"run {run_id}: aggregate {key} missing"
            assert got[key] == pytest.approx(v, rel=1e-9, abs=1e-12), (run_id, key)
            checked += 1
        assert checked >= 5


def test_on_disk_imagenet_c_end_to_end(cli, class_folders, tmp_path):
    out = tmp_path / "imagenet-c"
    run(cli, "corrupt", class_folders, out, "--corruptions", CORRUPTIONS, "--severities", "1-5", "--seed", "3")
    db = tmp_path / "r.sqlite"
    res = run(cli, "eval", "--model", MODEL, "--data", out, "--db", db, "--quiet")
    assert "database:" in res.stdout
    (suite, layout, mode), = table(db, "SELECT suite, layout, shift_mode FROM runs")
    assert (suite, layout, mode) == ("imagenet-c", "imagenet-c", "on-disk")
    n = table(db, "SELECT COUNT(*) FROM predictions")[0][0]
    assert n == 3 * 3 * 5
    assert_aggregates_match_rows(db)
    # Per-image predictions agree with ONNX Runtime on the same preprocessed input.
    ort = pytest.importorskip("onnxruntime")
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    pipe = stalwart.Pipeline("efficientnet-lite", 224)
    for sample, c, s, top5, conf in table(db, "SELECT sample, corruption, severity, top5, confidence FROM predictions"):
        x = pipe.load(out / c / str(s) / sample)
        logits = sess.run(None, {"input": x})[0][0].astype(np.float64)
        p = np.exp(logits - logits.max()); p /= p.sum()
        assert [int(v) for v in top5.split(",")][0] == int(np.argmax(logits)), (sample, c, s)
        assert conf == pytest.approx(p.max(), abs=2e-4)


def test_on_the_fly_equals_on_disk(cli, class_folders, tmp_path):
    out = tmp_path / "imagenet-c"
    run(cli, "corrupt", class_folders, out, "--corruptions", CORRUPTIONS, "--severities", "2,4", "--seed", "11")
    disk, fly = tmp_path / "disk.sqlite", tmp_path / "fly.sqlite"
    run(cli, "eval", "--model", MODEL, "--data", out, "--db", disk, "--quiet")
    run(cli, "eval", "--model", MODEL, "--data", class_folders, "--corruptions", CORRUPTIONS, "--severities", "2,4",
        "--seed", "11", "--corrupt-at", "native", "--db", fly, "--quiet")
    cols = "sample, corruption, severity, label, top1, top5, rank, confidence, p_label, sum_sq"
    a = table(disk, f"SELECT {cols} FROM predictions ORDER BY corruption, severity, sample")
    b = table(fly, f"SELECT {cols} FROM predictions WHERE corruption != '' ORDER BY corruption, severity, sample")
    assert len(a) == 3 * 3 * 2
    assert_rows_equal(a, b, exact=7, what="on-disk vs on-the-fly")
    assert len(table(fly, "SELECT * FROM predictions WHERE corruption = ''")) == 3
    assert_aggregates_match_rows(fly)


def test_resume_after_sigkill_equals_uninterrupted(cli, class_folders, tmp_path):
    args = ["eval", "--model", MODEL, "--data", class_folders, "--corruptions", "brightness,fog", "--severities", "1-5",
            "--resolutions", "160,192", "--batch", "2", "--quiet"]
    whole = tmp_path / "whole.sqlite"
    run(cli, *args, "--db", whole)
    db = tmp_path / "killed.sqlite"
    total = table(whole, "SELECT COUNT(*) FROM predictions")[0][0]
    # Five SIGKILLs at random points of progress (rows committed), each in a fresh process
    # that first resumes what the previous one left.
    targets = sorted(random.Random(5).sample(range(2, total - 2), 5))
    kills = 0

    def stored_rows():
        try:
            return table(db, "SELECT COUNT(*) FROM predictions")[0][0]
        except sqlite3.Error:   # not created yet
            return 0

    for target in targets:
        p = subprocess.Popen([cli, *map(str, args), "--db", str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while p.poll() is None and stored_rows() < target and time.time() < deadline:
            time.sleep(0.002)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
        assert table(db, "PRAGMA integrity_check") == [("ok",)]
        # Never a half batch: a run's rows are whole batches of 2, except its complete total
        # (33 items per resolution, the last batch holds 1). Duplicates cannot exist (primary key).
        per_run = total // 2
        for (n,) in table(db, "SELECT COUNT(*) FROM predictions GROUP BY run_id"):
            assert n % 2 == 0 or n == per_run, n
    assert kills >= 3, f"only {kills} of 5 kills landed before the run finished"
    res = run(cli, *args, "--db", db)
    assert "resumed from the database" in res.stdout, res.stdout
    cols = "r.resolution, p.sample, p.corruption, p.severity, p.label, p.top1, p.top5, p.rank, p.params, p.confidence, p.p_label, p.sum_sq"
    q = f"SELECT {cols} FROM predictions p JOIN runs r ON r.id = p.run_id ORDER BY 1, 3, 4, 2"
    assert_rows_equal(table(db, q), table(whole, q), exact=9, what="resumed vs uninterrupted")
    qa = "SELECT r.resolution, a.corruption, a.severity, a.metric, a.value, a.count FROM aggregates a JOIN runs r ON r.id = a.run_id ORDER BY 1, 2, 3, 4"
    ga, wa = table(db, qa), table(whole, qa)
    assert [g[:4] + g[5:] for g in ga] == [w[:4] + w[5:] for w in wa]
    np.testing.assert_allclose([g[4] for g in ga], [w[4] for w in wa], rtol=1e-5, atol=1e-7)
    assert_aggregates_match_rows(db)


def test_resolution_sweep_and_python_api(class_folders, tmp_path):
    db = tmp_path / "py.sqlite"
    seen = []
    res = stalwart.evaluate(MODEL, class_folders, db=db, corruptions=["contrast"], severities=[1, 5],
                            resolutions=[160, 224], batch=4, progress=lambda *a: seen.append(a))
    assert res.evaluated == 2 * 3 * 3 and res.resumed == 0 and res.skipped == 0
    assert seen and seen[-1][2] == seen[-1][3]
    runs = res.runs()
    assert [r["resolution"] for r in runs] == [160, 224]
    assert all(r["preprocess"].startswith("efficientnet-lite@") for r in runs)
    assert len(res.run_ids) == 2
    for rid in res.run_ids:
        assert len(res.predictions(rid)) == 9
    assert 0 <= res.metric("top1") <= 1
    assert res.metric("top1", "contrast", 5, run_id=res.run_ids[1]) <= 1
    assert_aggregates_match_rows(db)
    again = stalwart.evaluate(MODEL, class_folders, db=db, corruptions=["contrast"], severities=[1, 5],
                              resolutions=[160, 224], batch=4)
    assert again.evaluated == 0 and again.resumed == 18


def test_shards_merge_to_the_whole(cli, class_folders, tmp_path):
    common = ["eval", "--model", MODEL, "--data", class_folders, "--corruptions", "fog", "--severities", "1-5", "--quiet"]
    whole = tmp_path / "whole.sqlite"
    run(cli, *common, "--db", whole)
    parts = []
    for i in range(2):
        parts.append(tmp_path / f"s{i}.sqlite")
        run(cli, *common, "--shard", f"{i}/2", "--db", parts[-1])
    merged = tmp_path / "merged.sqlite"
    run(cli, "merge", "--db", merged, *parts)
    q = "SELECT sample, corruption, severity, top1, top5, confidence FROM predictions ORDER BY 2, 3, 1"
    assert_rows_equal(table(merged, q), table(whole, q), exact=5, what="merged shards vs whole")
    qa = "SELECT corruption, severity, metric, value FROM aggregates ORDER BY 1, 2, 3"
    m, w = table(merged, qa), table(whole, qa)
    assert [x[:3] for x in m] == [x[:3] for x in w]
    np.testing.assert_allclose([x[3] for x in m], [x[3] for x in w], rtol=1e-5, atol=1e-7)
    assert_aggregates_match_rows(merged)


def test_report_html_json_csv(cli, class_folders, tmp_path):
    db = tmp_path / "r.sqlite"
    run(cli, "eval", "--model", MODEL, "--data", class_folders, "--corruptions", "fog,contrast", "--severities", "1-5",
        "--resolutions", "160,224", "--db", db, "--quiet")
    html = tmp_path / "report.html"
    run(cli, "report", "--db", db, "--out", html)
    text = html.read_text()
    assert "<script" not in text, "the report must not need JavaScript"
    external = text.replace("http://www.w3.org/2000/svg", "").replace("http://www.w3.org/1999/xhtml", "")
    assert "http://" not in external and "https://" not in external, "the report must be self-contained"
    import xml.etree.ElementTree as ET
    import re
    svgs = re.findall(r"<svg\b.*?</svg>", text, flags=re.S)
    kinds = set()
    for s in svgs:
        el = ET.fromstring(s)
        kinds.add(el.get("data-plot"))
        assert len(list(el.iter())) > 10
    assert {"severity", "resolution", "reliability"} <= kinds, kinds
    data = json.loads((tmp_path / "report.json").read_text())
    keys = set().union(*[r["metrics"].keys() for r in data["runs"]])
    # robustness_metrics-style keys: on-the-fly corruptions of an ImageNet folder are ImageNet-C.
    assert {"imagenet/top1", "imagenet/accuracy", "imagenet_c/mce", "imagenet_c/fog/3/top1"} <= keys, sorted(keys)[:20]
    (run0,) = [r for r in data["runs"] if r["resolution"] == 224]
    (rid,), = table(db, "SELECT id FROM runs WHERE resolution = 224")
    (mce,), = table(db, "SELECT value FROM aggregates WHERE run_id = ? AND metric = 'mce'", (rid,))
    assert run0["metrics"]["imagenet_c/mce"] == pytest.approx(mce, rel=1e-12)
    csv = (tmp_path / "report.csv").read_text().splitlines()
    assert csv[0].startswith("model,top1,top5,img_size,crop_pct,interpolation,top1_diff")
    assert len(csv) == 3
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Chromium is not installed: checked the HTML and every SVG by parsing instead of rendering")
        return
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={shot}",
                    "--window-size=1200,2000", html.as_uri()], capture_output=True, timeout=120)
    img = stalwart.load_image(shot)
    assert img.std() > 5, "blank screenshot"


def test_bad_inputs(cli, class_folders, tmp_path):
    db = tmp_path / "r.sqlite"
    res = run(cli, "eval", "--model", MODEL, "--data", tmp_path / "missing", "--db", db, check=False)
    assert res.returncode == 1 and "missing" in res.stderr and "Traceback" not in res.stderr
    # A corrupt image inside the dataset is skipped, counted and reported; the run continues.
    data = tmp_path / "data"
    shutil.copytree(class_folders, data)
    victim = next(data.rglob("*.png"))
    (victim.parent / "broken.png").write_bytes(victim.read_bytes()[:200])
    res = run(cli, "eval", "--model", MODEL, "--data", data, "--db", db, "--quiet")
    assert "1 unreadable images skipped" in res.stdout, res.stdout
    assert table(db, "SELECT COUNT(*) FROM predictions")[0][0] == 3
    (reason,), = table(db, "SELECT reason FROM skipped")
    assert "PNG" in reason or "truncated" in reason.lower() or "corrupt" in reason.lower(), reason
    # A database from a newer schema is refused with a clear message.
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit(); con.close()
    res = run(cli, "eval", "--model", MODEL, "--data", class_folders, "--db", db, check=False)
    assert res.returncode == 1 and "schema" in res.stderr and "newer" in res.stderr, res.stderr
    # Unknown options.
    res = run(cli, "eval", "--model", MODEL, "--data", class_folders, "--db", tmp_path / "x.sqlite",
              "--corruptions", "sunburn", check=False)
    assert res.returncode == 1 and "sunburn" in res.stderr


def test_model_output_must_match_label_space(cli, tmp_path, class_folders):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    # A tiny model with 10 outputs on an ImageNet-A style layout (needs 1000 or 200 classes).
    w = helper.make_tensor("w", TensorProto.FLOAT, [10, 3], np.ones(30, np.float32).tolist())
    g = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["input"], ["p"]), helper.make_node("Flatten", ["p"], ["f"]),
         helper.make_node("Gemm", ["f", "w"], ["logits"], transB=1)],
        "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "tiny.onnx"
    onnx.save(m, path)
    res = run(cli, "eval", "--model", path, "--data", class_folders, "--preset", "torchvision", "--db",
              tmp_path / "r.sqlite", check=False)
    assert res.returncode == 1 and "10 classes" in res.stderr, res.stderr


def fnv1a64(s: str) -> int:
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_corrupt_at_input_is_imagenet_c_protocol(class_folders, tmp_path):
    """Default on-the-fly mode: resize + crop (Pillow), corrupt the 224×224 crop, normalize.
    Oracle: the same steps with Pillow, `stalwart.corrupt` and NumPy, run by ONNX Runtime."""
    from PIL import Image
    ort = pytest.importorskip("onnxruntime")
    db = tmp_path / "in.sqlite"
    res = stalwart.evaluate(MODEL, class_folders, db=db, corruptions=["fog", "pixelate"], severities=[3], seed=4)
    (mode,), = {(r["shift_mode"],) for r in res.runs()}
    assert mode == "on-the-fly input imagecorruptions"
    sess = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    pipe = stalwart.Pipeline("efficientnet-lite", 224)
    rows = {(r["sample"], r["corruption"]): r for r in res.predictions()}
    for path in sorted(class_folders.rglob("*.png")):
        rel = path.relative_to(class_folders).as_posix()
        im = Image.open(path).convert("RGB")
        w, h = im.size
        s = int(224 / 0.875)   # efficientnet-lite: shorter side to ⌊224/0.875⌋, bicubic, centre crop
        size = (s, int(h * s / w)) if w <= h else (int(w * s / h), s)
        im = im.resize(size, Image.BICUBIC)
        left, top = int(round((size[0] - 224) / 2.0)), int(round((size[1] - 224) / 2.0))
        crop = np.asarray(im.crop((left, top, left + 224, top + 224)))
        clean = ((crop.astype(np.float32) - 127) / 128).transpose(2, 0, 1)[None]
        np.testing.assert_allclose(clean, pipe.load(path), atol=1e-6)   # the Pillow restatement holds
        for name in ("", "fog", "pixelate"):
            img = crop if not name else stalwart.corrupt(crop, name, 3, seed=4, key=fnv1a64(rel))
            x = ((img.astype(np.float32) - 127) / 128).transpose(2, 0, 1)[None]
            logits = sess.run(None, {"input": x})[0][0].astype(np.float64)
            p = np.exp(logits - logits.max()); p /= p.sum()
            r = rows[(rel, name)]
            assert r["top1"] == int(np.argmax(logits)), (rel, name)
            assert r["confidence"] == pytest.approx(p.max(), abs=2e-4), (rel, name)


def test_c_api_rejects_bad_options(tmp_path):
    import ctypes
    from stalwart import _lib
    h = _lib.EvalOptionsPtr()
    _lib.lib.stalwart_eval_options_create(ctypes.byref(h))
    try:
        for key, value in [(b"colour", b"1"), (b"batch", b"0"), (b"severities", b"0-9"), (b"shard", b"3/2"),
                           (b"corruptions", b"sunburn"), (b"resolutions", b"224,abc"), (b"corrupt_at", b"middle")]:
            with pytest.raises(stalwart.InvalidArgument):
                _lib.lib.stalwart_eval_options_set(h, key, value)
        with pytest.raises(stalwart.InvalidArgument):
            _lib.lib.stalwart_evaluate(None, b"x", b"y", h, _lib.EVAL_PROGRESS(0), None, None, None, None)
        with pytest.raises(stalwart.StalwartError):
            _lib.lib.stalwart_evaluate(str(MODEL).encode(), str(tmp_path / "nope").encode(), str(tmp_path / "r.sqlite").encode(),
                                       h, _lib.EVAL_PROGRESS(0), None, None, None, None)
        with pytest.raises(stalwart.StalwartError):
            _lib.lib.stalwart_report_write(str(tmp_path / "missing.sqlite").encode(), str(tmp_path / "r.html").encode(),
                                           None, None, None)
    finally:
        _lib.lib.stalwart_eval_options_free(h)
    _lib.lib.stalwart_eval_options_free(None)


def test_model_hash_is_sha256(class_folders, tmp_path):
    import hashlib
    res = stalwart.evaluate(MODEL, class_folders, db=tmp_path / "h.sqlite", limit=1)
    (digest,), = {(r["model_sha256"],) for r in res.runs()}
    assert digest == hashlib.sha256(MODEL.read_bytes()).hexdigest()


def test_ctrl_c_stops_and_resume_completes(class_folders, tmp_path):
    db = tmp_path / "stop.sqlite"
    calls = []

    def stop(run, runs, done, total, ips):
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stalwart.evaluate(MODEL, class_folders, db=db, corruptions=["brightness"], batch=2, progress=stop)
    kept = table(db, "SELECT COUNT(*) FROM predictions")[0][0]
    assert kept == 4, kept      # two committed batches of 2
    res = stalwart.evaluate(MODEL, class_folders, db=db, corruptions=["brightness"], batch=2)
    assert res.resumed == 4 and res.evaluated == 3 * 6 - 4
    assert_aggregates_match_rows(db)


def test_python_example_runs(tmp_path):
    """examples/python/evaluate.py on the bundled default: the numbers it prints are the
    database's."""
    import sys
    script = REPO / "examples" / "python" / "evaluate.py"
    db, html = tmp_path / "e.sqlite", tmp_path / "e.html"
    proc = subprocess.run([sys.executable, str(script), "--corruptions", "fog,contrast", "--resolutions", "160,224",
                           "--db", str(db), "--report", str(html)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert html.exists() and (tmp_path / "e.json").exists()
    lines = [l for l in proc.stdout.splitlines() if "px: top-1" in l]
    assert len(lines) == 2
    for line, (rid,) in zip(lines, table(db, "SELECT id FROM runs ORDER BY id")):
        (top1,), = table(db, "SELECT value FROM aggregates WHERE run_id = ? AND corruption = '' AND metric = 'top1'", (rid,))
        assert f"top-1 {top1:.3f}" in line, line
