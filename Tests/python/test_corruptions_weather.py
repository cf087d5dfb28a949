"""snow, frost, fog, spatter and elastic_transform against imagecorruptions 1.1.2.

Exact parity (replayed NumPy draws, see corruption_oracle.py): every corruption × severity 1–5
on the fixture photos, 224×224 centre crops and chelsea as is (300×451). Required per channel:
max |Δ| ≤ 2 and mean |Δ| ≤ 0.1 (the issue's bound), and tighter per-corruption bounds that state
what is measured:
- fog, snow, elastic_transform: bit-exact (max |Δ| = 0).
- frost: max |Δ| ≤ 1 on ≤ 1e-4 of the samples: OpenCV 5's INTER_CUBIC resize of the texture
  is reproduced in float, and samples within ~1e-5 of a .5 rounding tie can land on the other
  side (measured: 0–2 samples per image).
- spatter: max |Δ| ≤ 1 on ≤ 1e-4 of the samples (the Canny / distance-transform / equalizeHist
  pipeline of severities 1–3; measured: 0–2 samples per image, one case of 2 in 405,900).
Statistical parity (Stalwart's own generator vs NumPy, independent streams): mean and std over
all pixels and seeds of (corrupted − clean) per channel agree within max(5 % of the reference,
3 standard errors of the difference of the per-seed means, 0.5 grey levels).
"""
from __future__ import annotations


import numpy as np
import pytest

import stalwart
from shared import fixtures_dir

NAMES = ["snow", "frost", "fog", "spatter", "elastic_transform"]
EXACT = {"snow", "fog", "elastic_transform"}


from corruption_oracle import reference  # noqa: E402


def _photos():
    base = fixtures_dir()
    if base is None:
        pytest.skip("shared fixtures not found")
    return {p.stem: np.asarray(stalwart.load_image(str(p))) for p in sorted((base / "images").glob("*.png"))}


def _crop224(img):
    h, w = img.shape[:2]
    y, x = (h - 224) // 2, (w - 224) // 2
    return np.ascontiguousarray(img[y:y + 224, x:x + 224])


def _cases():
    photos = _photos()
    cases = [(f"{k}224", _crop224(v)) for k, v in photos.items()]
    cases.append(("chelsea_full", photos["chelsea"]))
    return cases


@pytest.fixture(scope="module")
def cases():
    return _cases()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_exact_parity_with_replayed_draws(cases, name, severity):
    for label, img in cases:
        ref, draws = reference(img, name, severity, seed=100 + severity)
        out = stalwart.corrupt(img, name, severity, replay=draws)
        assert out.shape == ref.shape and out.dtype == np.uint8
        d = np.abs(out.astype(np.int16) - ref.astype(np.int16))
        assert d.max() <= 2, (label, d.max())
        assert (d.reshape(-1, 3).mean(axis=0) <= 0.1).all(), (label, d.reshape(-1, 3).mean(axis=0))
        if name in EXACT:
            assert d.max() == 0, (label, int(d.max()), int((d > 0).sum()))
        else:
            assert d.max() <= 1 and (d > 0).mean() <= 1e-4, (label, int(d.max()), int((d > 0).sum()))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("severity", [1, 3, 5])
def test_statistical_parity(cases, name, severity):
    img = dict(cases)["chelsea224"]
    seeds = 120 if name in ("fog", "frost") else 20   # few discrete choices (texture, crop): more seeds
    ref = np.stack([reference(img, name, severity, seed=s)[0].astype(np.float64) - img for s in range(seeds)])
    ours = np.stack([stalwart.corrupt(img, name, severity, seed=s, key=11).astype(np.float64) - img
                     for s in range(seeds)])
    for stat in ("mean", "std"):
        r = getattr(ref.reshape(seeds, -1, 3), stat)(axis=1)   # per seed, per channel
        o = getattr(ours.reshape(seeds, -1, 3), stat)(axis=1)
        R = getattr(ref.reshape(-1, 3), stat)(axis=0)
        O = getattr(ours.reshape(-1, 3), stat)(axis=0)
        se = np.sqrt(r.var(axis=0, ddof=1) / seeds + o.var(axis=0, ddof=1) / seeds)
        tol = np.maximum(np.maximum(0.05 * np.abs(R), 3 * se), 0.5)
        assert (np.abs(O - R) <= tol).all(), (stat, R, O, tol)


@pytest.mark.parametrize("name", NAMES)
def test_determinism(cases, name):
    img = dict(cases)["coffee224"]
    a = stalwart.corrupt(img, name, 3, seed=5, key=9)
    assert np.array_equal(a, stalwart.corrupt(img, name, 3, seed=5, key=9))
    assert not np.array_equal(a, stalwart.corrupt(img, name, 3, seed=6, key=9))
    assert not np.array_equal(a, stalwart.corrupt(img, name, 3, seed=5, key=10))


@pytest.mark.parametrize("name", NAMES)
def test_small_and_odd_sizes(name):
    rng = np.random.default_rng(0)
    for h, w in [(32, 32), (33, 97), (130, 41)]:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        out = stalwart.corrupt(img, name, 5, seed=1)
        assert out.shape == (h, w, 3)
        ref, draws = reference(img, name, 5, seed=1)
        d = np.abs(stalwart.corrupt(img, name, 5, replay=draws).astype(int) - ref)
        assert d.max() <= 1, (h, w, d.max())
