"""`stalwart embed` and `stalwart transfer` end to end on scikit-learn's real handwritten digits
(exported as upsampled RGB class folders), checked against independent oracles:

- features: Pillow preprocessing (torchvision preset: shorter side to ⌊256·r/224⌋ bilinear,
  centre crop, ImageNet mean/std) + ONNX Runtime on the same model, |Δ| ≤ 1e-4;
- few-shot accuracies recorded in the database: the NumPy big_vision fewshot_lsr protocol
  (transfer_oracle.py, float64 like the CLI's default precision) run on the features
  `stalwart embed` wrote — identical accuracies;
- probe: scikit-learn's LogisticRegression (same objective, C = 1/l2) on the same
  standardized features, at most 2 test examples apart.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

import transfer_oracle as O
from digits import export_digits

REPO = Path(__file__).resolve().parents[2]
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def run(cli, *args, ok=True):
    p = subprocess.run([cli, *map(str, args)], capture_output=True, text=True, timeout=600)
    if ok:
        assert p.returncode == 0, f"{args}: {p.stdout}\n{p.stderr}"
    return p


def feature_model(path: Path, seed: int, classes: int = 1000, width: int = 16) -> Path:
    """A small real-valued CNN: Conv(3→w, 3×3, stride 2) + BN + Relu, Conv(w→w) + Relu,
    GlobalAveragePool, Flatten ('feat'), Gemm → `classes` logits. Input [N, 3, 32, 32]."""
    rng = np.random.default_rng(seed)
    w = width

    def t(name, a, dt=np.float32):
        return numpy_helper.from_array(np.asarray(a, dt), name)

    inits = [
        t("w1", rng.normal(0, 0.4, (w, 3, 3, 3))), t("b1", rng.normal(0, 0.1, w)),
        t("s", rng.uniform(0.5, 1.5, w)), t("bb", rng.normal(0, 0.1, w)),
        t("m", rng.normal(0, 0.1, w)), t("v", rng.uniform(0.5, 1.5, w)),
        t("w2", rng.normal(0, 0.25, (w, w, 3, 3))),
        t("fc_w", rng.normal(0, 0.1, (classes, w))), t("fc_b", rng.normal(0, 0.1, classes)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "s", "bb", "m", "v"], ["n1"]),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["feat"]),
        helper.make_node("Gemm", ["feat", "fc_w", "fc_b"], ["logits"], transB=1),
    ]
    g = helper.make_graph(nodes, f"feature_model_{seed}",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 32, 32])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def torchvision_preprocess(path: Path, res: int) -> np.ndarray:
    im = Image.open(path).convert("RGB")
    short = 256 * res // 224
    w, h = im.size
    nw, nh = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
    im = im.resize((nw, nh), Image.BILINEAR)
    left, top = int(round((nw - res) / 2.0)), int(round((nh - res) / 2.0))
    x = np.asarray(im.crop((left, top, left + res, top + res)), np.float32) / 255.0
    return ((x - MEAN) / STD).transpose(2, 0, 1)[None].astype(np.float32)


@pytest.fixture(scope="module")
def digits_dir(tmp_path_factory) -> Path:
    """20 real digits per class (200 images), 32×32 RGB PNGs in class folders 0…9."""
    return export_digits(tmp_path_factory.mktemp("digits"), size=32, per_class=20)


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return feature_model(tmp_path_factory.mktemp("models") / "cnn.onnx", seed=3)


def test_embed_cli_matches_pillow_and_ort(cli, model, digits_dir, tmp_path):
    out, labels, keys = tmp_path / "f.npy", tmp_path / "l.npy", tmp_path / "k.txt"
    p = run(cli, "embed", model, digits_dir, "--out", out, "--labels-out", labels, "--keys-out", keys,
            "--preset", "torchvision", "--resolution", 32, "--batch", 7, "--threads", 2)
    assert "layer feat" in p.stdout and "200 × 16" in p.stdout
    feats, y = np.load(out), np.load(labels)
    names = keys.read_text().split()
    assert feats.shape == (200, 16) and feats.dtype == np.float32 and y.dtype == np.int64
    files = sorted(str(f.relative_to(digits_dir)) for f in digits_dir.rglob("*.png"))
    assert names == files
    assert list(y) == [int(n.split("/")[0]) for n in names]
    x = np.concatenate([torchvision_preprocess(digits_dir / n, 32) for n in names])
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    m = onnx.load(str(model))
    m.graph.output.append(helper.make_empty_tensor_value_info("feat"))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(["feat"], {"x": x})[0]
    assert np.abs(feats - want).max() <= 1e-4

    # A layer inside the fused Conv+BN+Relu chain: the CLI keeps it, so it is exact too.
    out2 = tmp_path / "n1.npy"
    run(cli, "embed", model, digits_dir, "--out", out2, "--layer", "n1", "--preset", "torchvision",
        "--resolution", 32, "--limit", 5)
    n1 = sess_outputs(model, "n1", x[:5])
    np.testing.assert_allclose(np.load(out2), n1.reshape(5, -1), rtol=0, atol=1e-4)


def sess_outputs(model: Path, name: str, x: np.ndarray) -> np.ndarray:
    m = onnx.load(str(model))
    m.graph.output.append(helper.make_empty_tensor_value_info(name))
    return ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run([name], {"x": x})[0]


def test_transfer_cli_records_what_the_oracle_computes(cli, model, digits_dir, tmp_path):
    feats_path = tmp_path / "f.npy"
    run(cli, "embed", model, digits_dir, "--out", feats_path, "--labels-out", tmp_path / "l.npy",
        "--preset", "torchvision", "--resolution", 32)
    feats, labels = np.load(feats_path), np.load(tmp_path / "l.npy")
    db, js = tmp_path / "r.sqlite", tmp_path / "t.json"
    p = run(cli, "transfer", model, digits_dir, "--preset", "torchvision", "--resolution", 32, "--shots", "1,5",
            "--seeds", 3, "--l2", "64,1024", "--probe", "--db", db, "--task", "digits", "--json", js)
    assert "1-shot" in p.stdout and "5-shot" in p.stdout and "probe" in p.stdout
    rows = sqlite3.connect(db).execute(
        "SELECT t.method, t.shots, t.seed, t.l2, t.accuracy, t.test_count, t.layer, t.resolution, m.sha256 "
        "FROM transfer_results t JOIN models m ON m.id = t.model_id WHERE t.task = 'digits'").fetchall()
    few = {(s, seed, l2): (acc, n) for meth, s, seed, l2, acc, n, *_ in rows if meth == "fewshot_lsr"}
    assert len(few) == 2 * 3 * 2 and all(r[6] == "feat" and r[7] == 32 for r in rows)
    import hashlib
    assert rows[0][8] == hashlib.sha256(model.read_bytes()).hexdigest()
    want = O.fewshot_protocol(feats, labels, [1, 5], 3, [64.0, 1024.0], dtype=np.float64)
    n_test = next(iter(few.values()))[1]
    assert n_test == 100  # half of each class held out
    for i, s in enumerate([1, 5]):
        for seed in range(3):
            for j, l2 in enumerate([64.0, 1024.0]):
                got = few[(s, seed, l2)][0]
                assert abs(got - want[i, seed, j]) <= 1e-12, (s, seed, l2, got, want[i, seed, j])
    # The printed mean ± std is the mean and population std over seeds of the recorded values.
    acc5 = [few[(5, seed, 1024.0)][0] for seed in range(3)]
    assert f"{np.mean(acc5) * 100:6.2f}% ± {np.std(acc5) * 100:.2f}" in p.stdout
    record = json.loads(js.read_text())
    assert record["layer"] == "feat" and len(record["results"]) == 13

    # Probe: scikit-learn's LogisticRegression on the same split and standardization.
    from sklearn.linear_model import LogisticRegression

    pools, test = O.holdout_split(labels, 0.5, 0)
    train = [r for p_ in pools for r in p_]
    mu, sd = feats[train].astype(np.float64).mean(0), feats[train].astype(np.float64).std(0) + 1e-5
    xs = lambda rows: (feats[rows].astype(np.float64) - mu) / sd  # noqa: E731
    clf = LogisticRegression(C=1.0, max_iter=5000, tol=1e-10).fit(xs(train), labels[train])
    sk = float((clf.predict(xs(test)) == labels[test]).mean())
    probe = [r for r in rows if r[0] == "linear_probe"]
    assert len(probe) == 1 and probe[0][5] == len(test)
    assert abs(probe[0][4] - sk) <= 2.0 / len(test) + 1e-12, (probe[0][4], sk)

    # Rerunning replaces rows (same identity), never duplicates them.
    run(cli, "transfer", model, digits_dir, "--preset", "torchvision", "--resolution", 32, "--shots", "1",
        "--seeds", 1, "--db", db, "--task", "digits")
    n = sqlite3.connect(db).execute("SELECT count(*) FROM transfer_results").fetchone()[0]
    assert n == 13


def test_transfer_with_a_test_folder(cli, model, digits_dir, tmp_path):
    test_dir = export_digits(tmp_path / "test", size=32, per_class=None)
    # Keep 5 classes only in the test folder: labels map by class name, not position.
    for c in range(5, 10):
        for f in (test_dir / str(c)).iterdir():
            f.unlink()
        (test_dir / str(c)).rmdir()
    for c in range(5):
        for f in sorted((test_dir / str(c)).iterdir())[10:]:
            f.unlink()
    p = run(cli, "transfer", model, digits_dir, "--test", test_dir, "--preset", "torchvision", "--resolution", 32,
            "--shots", "5", "--seeds", 2, "--json", tmp_path / "t.json")
    assert "test 50 images" in p.stdout
    # Oracle on embeddings of both folders.
    run(cli, "embed", model, digits_dir, "--out", tmp_path / "a.npy", "--labels-out", tmp_path / "al.npy",
        "--preset", "torchvision", "--resolution", 32)
    run(cli, "embed", model, test_dir, "--out", tmp_path / "b.npy", "--labels-out", tmp_path / "bl.npy",
        "--preset", "torchvision", "--resolution", 32)
    want = O.fewshot_protocol(np.load(tmp_path / "a.npy"), np.load(tmp_path / "al.npy"), [5], 2, [1024.0],
                              test_features=np.load(tmp_path / "b.npy"), test_labels=np.load(tmp_path / "bl.npy"),
                              dtype=np.float64)
    got = [r["accuracy"] for r in json.loads((tmp_path / "t.json").read_text())["results"]]
    assert np.abs(np.array(got) - want[0, :, 0]).max() <= 1e-12


def test_bad_inputs_fail_clearly(cli, model, digits_dir, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run(cli, "embed", model, empty, "--out", tmp_path / "x.npy", "--preset", "torchvision", ok=False)
    assert p.returncode == 1 and "no PNG or JPEG images" in p.stderr
    p = run(cli, "embed", model, tmp_path / "missing", "--out", tmp_path / "x.npy", "--preset", "torchvision", ok=False)
    assert p.returncode == 1 and "does not exist" in p.stderr
    p = run(cli, "embed", model, digits_dir, "--out", tmp_path / "x.npy", "--preset", "torchvision", "--layer", "nope", ok=False)
    assert p.returncode == 1 and "no layer named 'nope'" in p.stderr and "'feat'" in p.stderr
    p = run(cli, "embed", model, digits_dir, "--out", tmp_path / "x.npy", ok=False)
    assert p.returncode == 1 and "--preset" in p.stderr  # no metadata, no preset
    p = run(cli, "embed", model, digits_dir, "--out", tmp_path / "x.npy", "--preset", "torchvision", "--batch", 0, ok=False)
    assert p.returncode == 1 and "batch size" in p.stderr

    # Unlabelled folder → transfer refuses; embed works (labels −1).
    flat = tmp_path / "flat"
    flat.mkdir()
    for f in sorted((digits_dir / "3").iterdir())[:4]:
        (flat / f.name).write_bytes(f.read_bytes())
    p = run(cli, "transfer", model, flat, "--preset", "torchvision", ok=False)
    assert p.returncode == 1 and "no class subfolders" in p.stderr
    run(cli, "embed", model, flat, "--out", tmp_path / "flat.npy", "--labels-out", tmp_path / "fl.npy", "--preset", "torchvision")
    assert (np.load(tmp_path / "fl.npy") == -1).all() and np.load(tmp_path / "flat.npy").shape == (4, 16)

    # A corrupt image is skipped and named; too few images per class for the shots is an error.
    small = tmp_path / "small"
    for c in ("a", "b"):
        (small / c).mkdir(parents=True)
        for f in sorted((digits_dir / ("1" if c == "a" else "7")).iterdir())[:6]:
            (small / c / f.name).write_bytes(f.read_bytes())
    (small / "a" / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    p = run(cli, "embed", model, small, "--out", tmp_path / "s.npy", "--preset", "torchvision")
    assert "skipped a/zz_broken.png" in p.stderr and np.load(tmp_path / "s.npy").shape == (12, 16)
    p = run(cli, "transfer", model, small, "--preset", "torchvision", "--shots", "5", ok=False)
    assert p.returncode == 1 and "5 shots need 5 per class" in p.stderr
    p = run(cli, "transfer", model, small, "--preset", "torchvision", "--shots", "1", "--l2", "nan", ok=False)
    assert p.returncode == 1 and "ridge strength" in p.stderr
    p = run(cli, "transfer", model, small, "--preset", "torchvision", "--shots", "x", ok=False)
    assert p.returncode == 1 and "--shots" in p.stderr
    p = run(cli, "transfer", model, small, "--preset", "torchvision", "--task", "a:b", ok=False)
    assert p.returncode == 1 and "--task" in p.stderr
    # A test folder with a class the training folder lacks.
    other = tmp_path / "other"
    (other / "zebra").mkdir(parents=True)
    (other / "zebra" / "x.png").write_bytes((small / "b").iterdir().__next__().read_bytes())
    p = run(cli, "transfer", model, small, "--test", other, "--preset", "torchvision", "--shots", "1", ok=False)
    assert p.returncode == 1 and "'zebra'" in p.stderr
