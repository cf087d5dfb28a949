"""The C example ``examples/c/eval_loop.c``: a robustness evaluation loop over the public C API.

It is built with its Makefile (skipped without ``make`` or a C compiler) against the library the
bindings loaded, run on the bundled EfficientNet-Lite0 and photos, and its table is checked
against an independent oracle: the Python bindings (load, corrupt, preprocess, run) with the
metrics recomputed in NumPy — top-1/top-5 exactly, NLL and ECE within 1e-4. The corruption key
(FNV-1a 64 of the path relative to ``--root``, or of the path as given) is checked through fog,
whose noise depends on it: the oracle first asserts that a wrong key changes the numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import metrics_oracle

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO / "examples" / "c"
MODEL = REPO / "models" / "efficientnet_lite0.onnx"
DATA = REPO / "examples" / "data"
PHOTOS = ["chelsea.png", "coffee.png", "rocket.png"]
COLUMNS = ["top1", "top5", "nll", "ece"]


def fnv1a64(text: str) -> int:
    h = 0xCBF29CE484222325
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_fnv1a64_reference_values():
    # Published FNV-1a 64 test vectors: the oracle's key function itself is right.
    assert fnv1a64("") == 0xCBF29CE484222325
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C
    assert fnv1a64("foobar") == 0x85944171F73967E8


@pytest.fixture(scope="module")
def stalwart():
    try:
        import stalwart as module
    except ImportError as e:
        pytest.fail(f"cannot import the stalwart bindings: {e}", pytrace=False)
    return module


@pytest.fixture(scope="module")
def eval_loop(stalwart, tmp_path_factory) -> Path:
    """Builds eval_loop with `make -C examples/c O=<tmp> eval_loop` against the bindings' library."""
    cc = os.environ.get("CC") or next((c for c in ("cc", "gcc", "clang") if shutil.which(c)), None)
    if shutil.which("make") is None or cc is None or shutil.which(cc.split()[0]) is None:
        pytest.skip("make or a C compiler is not available")
    if not MODEL.is_file():
        pytest.skip(f"{MODEL} not found")
    out = tmp_path_factory.mktemp("eval_loop")
    cmd = ["make", "-C", str(EXAMPLE_DIR), f"O={out}", f"CC={cc}", "eval_loop"]
    lib = Path(stalwart.library_path)
    if lib.name == "libStalwart.so":  # link the library the oracle uses
        cmd.append(f"LIBDIR={lib.parent}")
    built = subprocess.run(cmd, capture_output=True, text=True)
    assert built.returncode == 0, f"building eval_loop failed:\n{built.stdout}\n{built.stderr}"
    return out / "eval_loop"


@pytest.fixture(scope="module")
def labels_txt(tmp_path_factory) -> Path:
    """LABELS.txt ("FILENAME LABEL" lines) from examples/data/labels.json, with a comment and a
    blank line the program must skip."""
    labels = json.loads((DATA / "labels.json").read_text())
    path = tmp_path_factory.mktemp("labels") / "labels.txt"
    path.write_text("# file label\n\n" + "".join(f"{name} {label}\n" for name, label in labels.items()))
    return path


def run(exe: Path, *args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def parse_table(stdout: str) -> dict[tuple[str, int], dict[str, float]]:
    lines = [line.split() for line in stdout.strip().splitlines()]
    assert lines and lines[0] == ["corruption", "severity", "images", *COLUMNS], stdout
    table = {}
    for row in lines[1:]:
        assert len(row) == 7, stdout
        table[(row[0], int(row[1]))] = {"images": int(row[2]), **dict(zip(COLUMNS, map(float, row[3:])))}
    return table


class Oracle:
    """The evaluation redone with the bindings: corrupt → preprocess → run; metrics in NumPy."""

    def __init__(self, stalwart):
        self.st = stalwart
        self.model = stalwart.Model(MODEL)
        self.pipeline = stalwart.Pipeline.for_model(self.model)
        self.images = [stalwart.load_image(DATA / name) for name in PHOTOS]
        labels = json.loads((DATA / "labels.json").read_text())
        self.labels = np.array([labels[name] for name in PHOTOS], np.int64)

    def logits(self, corruption: str, severity: int, seed: int, keys: list[int]) -> np.ndarray:
        images = self.images if corruption == "clean" else [
            self.st.corrupt(img, corruption, severity, seed=seed, key=key)
            for img, key in zip(self.images, keys)]
        return np.asarray(self.model(self.pipeline.batch(images)), np.float64)

    def metrics(self, corruption: str, severity: int, seed: int, keys: list[int]) -> dict[str, float]:
        z = self.logits(corruption, severity, seed, keys)
        y = self.labels
        label_logit = z[np.arange(len(y)), y]
        probs = metrics_oracle.softmax(z)
        m = z.max(axis=1)
        lse = m + np.log(np.exp(z - m[:, None]).sum(axis=1))
        return {
            "images": len(y),
            "correct1": int((np.argmax(z, axis=1) == y).sum()),  # NumPy argmax: first max wins
            "correct5": int(((z > label_logit[:, None]).sum(axis=1) < 5).sum()),  # TF in_top_k
            "nll": float(np.mean(lse - label_logit)),
            "ece": float(metrics_oracle.ece(probs, y, bins=15)["ece"]),
        }


@pytest.fixture(scope="module")
def oracle(stalwart) -> Oracle:
    return Oracle(stalwart)


def check_table(table, oracle, groups, seed, keys):
    assert list(table) == groups
    for corruption, severity in groups:
        got, want = table[(corruption, severity)], oracle.metrics(corruption, severity, seed, keys)
        where = f"{corruption} severity {severity}: C {got}, oracle {want}"
        assert got["images"] == want["images"] == len(PHOTOS), where
        n = want["images"]
        assert round(got["top1"] * n) == want["correct1"] and abs(got["top1"] - want["correct1"] / n) < 1e-6, where
        assert round(got["top5"] * n) == want["correct5"] and abs(got["top5"] - want["correct5"] / n) < 1e-6, where
        assert abs(got["nll"] - want["nll"]) < 1e-4, where
        assert abs(got["ece"] - want["ece"]) < 1e-4, where


def test_keys_change_fog(oracle):
    # The key checks below rely on fog depending on the key: a wrong key must be detectable.
    keys = [fnv1a64(name) for name in PHOTOS]
    right = oracle.metrics("fog", 5, 0, keys)
    for wrong in ([0, 0, 0], [fnv1a64(str(DATA / name)) for name in PHOTOS]):
        assert abs(oracle.metrics("fog", 5, 0, wrong)["nll"] - right["nll"]) > 1e-3


def test_matches_bindings_with_root(eval_loop, labels_txt, oracle):
    images = [DATA / name for name in PHOTOS]
    res = run(eval_loop, "--corruptions", "fog,contrast", "--severities", "1,5", "--root", DATA,
              MODEL, labels_txt, *images)
    assert res.returncode == 0, res.stderr
    groups = [("clean", 0), ("fog", 1), ("fog", 5), ("contrast", 1), ("contrast", 5)]
    check_table(parse_table(res.stdout), oracle, groups, seed=0, keys=[fnv1a64(n) for n in PHOTOS])


def test_matches_bindings_path_as_given_seed_and_small_batches(eval_loop, labels_txt, oracle):
    # No --root: the key hashes the path exactly as given (here relative to the repository).
    rel = [f"examples/data/{name}" for name in PHOTOS]
    res = run(eval_loop, "--corruptions", "fog", "--severities", "4-5", "--seed", 7, "--batch", 2,
              MODEL, labels_txt, *rel, cwd=REPO)
    assert res.returncode == 0, res.stderr
    check_table(parse_table(res.stdout), oracle, [("clean", 0), ("fog", 4), ("fog", 5)], seed=7,
                keys=[fnv1a64(p) for p in rel])


@pytest.mark.parametrize("case", ["missing_image", "unlabelled_image", "bad_label_line",
                                  "missing_labels_file", "not_an_image", "unknown_corruption",
                                  "image_outside_root"])
def test_errors_exit_1_with_a_message(eval_loop, labels_txt, tmp_path, case):
    labels, image, extra = labels_txt, DATA / "chelsea.png", []
    if case == "missing_image":
        labels = tmp_path / "labels.txt"
        labels.write_text(labels_txt.read_text() + "missing.png 3\n")
        image, expect = tmp_path / "missing.png", ["stalwart_image_load", "missing.png"]
    elif case == "unlabelled_image":
        image = tmp_path / "unlabelled.png"
        shutil.copy(DATA / "chelsea.png", image)
        expect = ["no label for unlabelled.png"]
    elif case == "bad_label_line":
        labels = tmp_path / "labels.txt"
        labels.write_text("chelsea.png 281\ncoffee.png\n")
        expect = [f"{labels}:2", "FILENAME LABEL"]
    elif case == "missing_labels_file":
        labels, expect = tmp_path / "nothing.txt", ["nothing.txt"]
    elif case == "not_an_image":
        labels = tmp_path / "labels.txt"
        labels.write_text("text.png 1\n")
        image = tmp_path / "text.png"
        image.write_text("this is not a PNG\n")
        expect = ["stalwart_image_load", "text.png"]
    elif case == "unknown_corruption":
        extra, expect = ["--corruptions", "fog,sunshine"], ["unknown corruption 'sunshine'"]
    else:
        extra, expect = ["--root", tmp_path], ["not under --root"]
    res = run(eval_loop, *extra, MODEL, labels, image)
    assert res.returncode == 1, (res.returncode, res.stdout, res.stderr)
    assert res.stderr.startswith("eval_loop: "), res.stderr
    for text in expect:
        assert text in res.stderr, res.stderr
    assert "top1" not in res.stdout


def test_usage_errors_exit_2(eval_loop):
    assert run(eval_loop, MODEL).returncode == 2
    assert run(eval_loop, "--severities", "6", MODEL, "l.txt", "x.png").returncode == 2
    assert run(eval_loop, "--batch", "0", MODEL, "l.txt", "x.png").returncode == 2
