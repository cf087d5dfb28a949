"""`stalwart corrupt IN_DIR OUT_DIR`: ImageNet-C layout, same bytes as the Python API with the
path-derived key, independent of threads, resumable, never a half-written file."""
from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import stalwart
from shared import fixtures_dir


def fnv1a64(s: str) -> int:
    h = 0xCBF29CE484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def test_corrupt_folder(cli, tmp_path):
    base = fixtures_dir()
    if base is None:
        pytest.skip("shared fixtures not found")
    src = tmp_path / "in"
    (src / "cats").mkdir(parents=True)
    shutil.copy(base / "images" / "chelsea.png", src / "cats" / "chelsea.png")
    shutil.copy(base / "images" / "coffee.png", src / "coffee.png")
    args = ["--corruptions", "brightness,gaussian_noise", "--severities", "1,3", "--seed", "7"]
    out1, out2 = tmp_path / "a", tmp_path / "b"
    subprocess.run([cli, "corrupt", str(src), str(out1), *args, "--threads", "2"], check=True, capture_output=True)
    subprocess.run([cli, "corrupt", str(src), str(out2), *args, "--threads", "1"], check=True, capture_output=True)
    files = sorted(p.relative_to(out1).as_posix() for p in out1.rglob("*") if p.is_file())
    assert files == sorted(f"{c}/{s}/{rel}" for c in ("brightness", "gaussian_noise") for s in (1, 3)
                           for rel in ("cats/chelsea.png", "coffee.png"))
    for f in files:   # thread count does not matter
        assert (out1 / f).read_bytes() == (out2 / f).read_bytes(), f
    # Same pixels as the Python API with key = FNV-1a(relative path).
    img = stalwart.load_image(src / "cats" / "chelsea.png")
    want = stalwart.corrupt(img, "gaussian_noise", 3, seed=7, key=fnv1a64("cats/chelsea.png"))
    np.testing.assert_array_equal(stalwart.load_image(out1 / "gaussian_noise/3/cats/chelsea.png"), want)
    # Resumable: only the missing output is written again, identical; no temporary files left.
    victim = out1 / "brightness/3/coffee.png"
    before = victim.read_bytes()
    victim.unlink()
    res = subprocess.run([cli, "corrupt", str(src), str(out1), *args], check=True, capture_output=True, text=True)
    assert "7 already done, 1 to write" in res.stderr, res.stderr
    assert victim.read_bytes() == before
    assert not [p for p in out1.rglob(".tmp-*")]


def test_corrupt_cli_errors(cli, tmp_path):
    (tmp_path / "in").mkdir()
    res = subprocess.run([cli, "corrupt", str(tmp_path / "in"), str(tmp_path / "out")], capture_output=True, text=True)
    assert res.returncode != 0 and "no PNG or JPEG" in res.stderr
    res = subprocess.run([cli, "corrupt", str(tmp_path / "in"), str(tmp_path / "out"), "--severities", "0-9"],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "severities" in res.stderr
    res = subprocess.run([cli, "corrupt", str(tmp_path / "in"), str(tmp_path / "out"), "--corruptions", "rain"],
                         capture_output=True, text=True)
    assert res.returncode != 0 and "unknown corruption 'rain'" in res.stderr
