"""The corruption API as a whole: names and subsets equal imagecorruptions', every corruption
runs at odd sizes and on gray input, replayed draws must be finite, model-level agreement."""
from __future__ import annotations

import numpy as np
import pytest

import stalwart
from corruption_oracle import load, reference
from shared import efficientnet_path, fixtures_dir


@pytest.mark.parametrize("subset", ["common", "validation", "all", "noise", "blur", "weather", "digital"])
def test_subsets_match_reference(subset):
    ic = load()
    assert stalwart.corruption_names(subset) == ic.get_corruption_names(subset)


def test_every_corruption_any_size_and_gray():
    rng = np.random.default_rng(0)
    for shape in [(32, 32, 3), (57, 203, 3), (90, 41)]:
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        for name in stalwart.corruption_names("all"):
            for sev in (1, 5):
                out = stalwart.corrupt(img, name, sev, seed=3, key=9)
                assert out.shape == shape[:2] + (3,) and out.dtype == np.uint8, (name, sev, shape)


def test_non_finite_replay_is_an_error_not_a_crash():
    img = np.zeros((40, 40, 3), np.uint8)
    for bad in ([np.nan] * 4, [np.inf], [-np.inf, 1.0]):
        with pytest.raises(stalwart.InvalidArgument, match="finite"):
            stalwart.corrupt(img, "motion_blur", 2, replay=bad)


def test_huge_replay_is_an_error_not_a_crash():
    """Replayed draws far outside anything NumPy produces for these corruptions (|v| > 2^24)
    are refused up front; below the bound every corruption completes (each in a subprocess, so
    a trap would show as a signal, not take pytest down)."""
    import subprocess, sys
    code = r"""
import re, sys, numpy as np
import stalwart
name, val, mode = sys.argv[1], float(sys.argv[2]), sys.argv[3]
img = (np.random.default_rng(0).random((40, 44, 3)) * 255).astype(np.uint8)
draws = []
for _ in range(60):
    try:
        stalwart.corrupt(img, name, 3, mode=mode, replay=np.array(draws, dtype=np.float64))
        print("ok"); break
    except stalwart.InvalidArgument as e:
        m = re.search(r"needs (\d+) values at position", str(e))
        if not m:
            print("refused" if "2^24" in str(e) else "error: " + str(e)); break
        draws += [val] * int(m.group(1))
"""
    cases = [(n, "imagecorruptions") for n in stalwart.corruption_names("all")] + [("elastic_transform", "hendrycks")]
    for name, mode in cases:
        for val, want in ((1e300, "refused"), (-3e7, "refused"), (1.6e7, None), (-1.6e7, None)):
            r = subprocess.run([sys.executable, "-c", code, name, repr(val), mode], capture_output=True, text=True,
                               env={**__import__("os").environ, "PYTHONPATH": str(__import__("pathlib").Path(stalwart.__file__).parents[1])})
            assert r.returncode == 0, (name, mode, val, r.returncode, r.stderr[-300:])
            out = r.stdout.strip()
            if want:
                assert out in ("refused", "ok"), (name, mode, val, out)   # "ok": the corruption draws nothing
            else:
                assert out == "ok" or out.startswith("error: "), (name, mode, val, out)


def test_model_level_agreement_with_reference():
    """EfficientNet-Lite0's top-1 on Stalwart's corrupted photos and on the reference's
    (same replayed draws) agree for ≥ 90% of (photo, corruption, severity) triples."""
    base = fixtures_dir()
    if base is None:
        pytest.skip("shared fixtures not found")
    photos = [stalwart.resize(stalwart.load_image(p), (224, 224), "bilinear") for p in sorted((base / "images").glob("*.png"))]
    names = [n for n in stalwart.corruption_names("all") if n != "glass_blur"] + ["glass_blur"]
    agree = total = 0
    with stalwart.Model(efficientnet_path("lite0"), threads=2) as m:
        pre = stalwart.Pipeline("efficientnet-lite", 224)
        for img in photos:
            for name in names:
                for sev in ((1, 3, 5) if name != "glass_blur" else (1,)):
                    want, draws = reference(img, name, sev, seed=sev)
                    got = stalwart.corrupt(img, name, sev, replay=draws)
                    a = int(np.argmax(m(pre(got))))
                    b = int(np.argmax(m(pre(want.astype(np.uint8)))))
                    agree += a == b
                    total += 1
    assert agree / total >= 0.9, f"{agree}/{total}"
    print(f"top-1 agreement {agree}/{total}")
