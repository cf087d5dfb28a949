"""elastic_transform in ``mode="hendrycks"`` against Hendrycks' ``make_imagenet_c.py``.

The reference is ``elastic_transform`` of hendrycks/robustness,
ImageNet-C/create_c/make_imagenet_c.py. That script is not on PyPI (nor importable: it builds a
dataset at import time), so its ~15 lines are restated in :func:`reference_elastic` below,
unchanged except for the imports, and run with the real libraries — ``cv2.getAffineTransform``,
``cv2.warpAffine``, ``skimage.filters.gaussian``, ``scipy.ndimage.map_coordinates`` — as the
independent check. Its result is taken as ``np.uint8(img)``, what the script saves (before its
JPEG re-encoding, which is not part of the corruption). The parameter table keeps the file's
literal 244 ("244 should have been 224, but ultimately nothing is incorrect").

Exact parity: NumPy's draws are recorded (corruption_oracle.recording) and replayed through
``stalwart.corrupt(..., replay=draws)``: the 3×2 affine jitter, then dx's and dy's uniform
fields. Photos: 224×224 centre crops of the fixtures (ImageNet-C's size) and chelsea as is
(300×451: the reference function runs unchanged at other sizes). Required per channel: max |Δ| ≤ 2
and mean |Δ| ≤ 0.1; measured (opencv-python-headless 5.0, AVX2): bit-exact, asserted as max |Δ|
≤ 1 on ≤ 1e-4 of the samples so that a build of OpenCV with other SIMD widths (float32 ulps in
warpAffine) does not fail it.
"""
from __future__ import annotations

import numpy as np
import pytest

import stalwart
from corruption_oracle import recording
from shared import fixtures_dir

cv2 = pytest.importorskip("cv2")
skfilters = pytest.importorskip("skimage.filters")
ndimage = pytest.importorskip("scipy.ndimage")


def reference_elastic(image, severity=1):
    """``elastic_transform`` of make_imagenet_c.py, restated (see the module docstring)."""
    gaussian, map_coordinates = skfilters.gaussian, ndimage.map_coordinates
    c = [(244 * 2, 244 * 0.7, 244 * 0.1),   # 244 should have been 224, but ultimately nothing is incorrect
         (244 * 2, 244 * 0.08, 244 * 0.2),
         (244 * 0.05, 244 * 0.01, 244 * 0.02),
         (244 * 0.07, 244 * 0.01, 244 * 0.02),
         (244 * 0.12, 244 * 0.01, 244 * 0.02)][severity - 1]

    image = np.array(image, dtype=np.float32) / 255.
    shape = image.shape
    shape_size = shape[:2]

    # random affine
    center_square = np.float32(shape_size) // 2
    square_size = min(shape_size) // 3
    pts1 = np.float32([center_square + square_size,
                       [center_square[0] + square_size, center_square[1] - square_size],
                       center_square - square_size])
    pts2 = pts1 + np.random.uniform(-c[2], c[2], size=pts1.shape).astype(np.float32)
    M = cv2.getAffineTransform(pts1, pts2)
    image = cv2.warpAffine(image, M, shape_size[::-1], borderMode=cv2.BORDER_REFLECT_101)

    dx = (gaussian(np.random.uniform(-1, 1, size=shape[:2]),
                   c[1], mode='reflect', truncate=3) * c[0]).astype(np.float32)
    dy = (gaussian(np.random.uniform(-1, 1, size=shape[:2]),
                   c[1], mode='reflect', truncate=3) * c[0]).astype(np.float32)
    dx, dy = dx[..., np.newaxis], dy[..., np.newaxis]

    x, y, z = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]), np.arange(shape[2]))
    indices = np.reshape(y + dy, (-1, 1)), np.reshape(x + dx, (-1, 1)), np.reshape(z, (-1, 1))
    return np.clip(map_coordinates(image, indices, order=1, mode='reflect').reshape(shape), 0, 1) * 255


def reference(img, severity, seed):
    """(uint8 result as make_imagenet_c.py saves it, the recorded draws as one float64 array)."""
    np.random.seed(seed)
    with recording() as sink:
        out = reference_elastic(img, severity)
    return np.uint8(out), np.concatenate(sink)


def _crop224(img):
    h, w = img.shape[:2]
    y, x = (h - 224) // 2, (w - 224) // 2
    return np.ascontiguousarray(img[y:y + 224, x:x + 224])


@pytest.fixture(scope="module")
def cases():
    base = fixtures_dir()
    if base is None:
        pytest.skip("shared fixtures not found")
    photos = {p.stem: np.asarray(stalwart.load_image(str(p))) for p in sorted((base / "images").glob("*.png"))}
    out = [(f"{k}224", _crop224(v)) for k, v in photos.items()]
    out.append(("chelsea_full", photos["chelsea"]))
    return out


def _diff(a, b):
    return np.abs(a.astype(np.int16) - b.astype(np.int16))


@pytest.mark.parametrize("severity", [1, 2, 3, 4, 5])
def test_exact_parity_with_replayed_draws(cases, severity):
    for label, img in cases:
        ref, draws = reference(img, severity, seed=200 + severity)
        h, w = img.shape[:2]
        assert draws.size == 6 + 2 * h * w
        out = stalwart.corrupt(img, "elastic_transform", severity, mode="hendrycks", replay=draws)
        assert out.shape == ref.shape and out.dtype == np.uint8
        d = _diff(out, ref)
        mean = d.reshape(-1, 3).mean(axis=0)
        assert d.max() <= 2 and (mean <= 0.1).all(), (label, int(d.max()), mean)
        assert d.max() <= 1 and (d > 0).mean() <= 1e-4, (label, int(d.max()), int((d > 0).sum()))


def test_the_affine_step_is_there(cases):
    """The hendrycks mode is not the imagecorruptions one: the affine jitter moves the image.
    With zero jitter and zero fields the result is the image itself (up to float32 /255·255
    truncation), with a shifted point it is not."""
    img = dict(cases)["coffee224"]
    h, w = img.shape[:2]
    still = np.zeros(6 + 2 * h * w)
    same = stalwart.corrupt(img, "elastic_transform", 3, mode="hendrycks", replay=still)
    assert _diff(same, img).max() <= 1
    moved = still.copy()
    moved[:6] = [4.0, -3.0, 2.5, 4.5, -4.0, 1.0]
    ref = np.uint8(_replayed_reference(img, 3, moved))
    out = stalwart.corrupt(img, "elastic_transform", 3, mode="hendrycks", replay=moved)
    assert _diff(out, ref).max() <= 1
    assert _diff(out, img).mean() > 5


def _replayed_reference(img, severity, values):
    """The restated reference with np.random.uniform returning `values` in order."""
    values = list(np.asarray(values, dtype=np.float64))
    original = np.random.uniform

    def uniform(low=0.0, high=1.0, size=None):
        n = int(np.prod(size))
        taken, values[:n] = values[:n], []
        return np.asarray(taken).reshape(size)
    np.random.uniform = uniform
    try:
        return reference_elastic(img, severity)
    finally:
        np.random.uniform = original


def test_replayed_draws_must_line_up(cases):
    img = dict(cases)["rocket224"]
    _, draws = reference(img, 2, seed=3)
    with pytest.raises(stalwart.InvalidArgument, match="not consumed"):
        stalwart.corrupt(img, "elastic_transform", 2, mode="hendrycks", replay=np.append(draws, 0.5))
    with pytest.raises(stalwart.InvalidArgument, match="ran out"):
        stalwart.corrupt(img, "elastic_transform", 2, mode="hendrycks", replay=draws[:-1])


def test_absurd_replayed_draws_do_not_crash(cases):
    img = dict(cases)["chelsea224"]
    n = 6 + 2 * 224 * 224
    for v in (1e300, -1e300, 1e30):          # beyond any NumPy draw: refused up front
        with pytest.raises(stalwart.InvalidArgument, match="2\\^24"):
            stalwart.corrupt(img, "elastic_transform", 1, mode="hendrycks", replay=np.full(n, v))
    for v in (1.6e7, -1.6e7, 0.0):           # extreme but allowed: clamped coordinates, no crash
        out = stalwart.corrupt(img, "elastic_transform", 1, mode="hendrycks", replay=np.full(n, v))
        assert out.shape == img.shape
    # Collinear destination points (the middle one moved onto the diagonal): a singular affine.
    degenerate = np.zeros(n)
    degenerate[:6] = [0.0, 0.0, -74.0, 74.0, 0.0, 0.0]
    out = stalwart.corrupt(img, "elastic_transform", 2, mode="hendrycks", replay=degenerate)
    assert out.shape == img.shape


@pytest.mark.parametrize("severity", [1, 3, 5])
def test_statistical_parity(cases, severity):
    """Stalwart's own generator vs NumPy (independent streams): per-channel mean and std over
    all pixels and seeds of (corrupted − clean) agree within max(5 % of the reference, 3 standard
    errors of the difference of the per-seed means, 0.5 grey levels) — as the weather tests."""
    img = dict(cases)["chelsea224"]
    seeds = 20
    ref = np.stack([reference(img, severity, seed=s)[0].astype(np.float64) - img for s in range(seeds)])
    ours = np.stack([stalwart.corrupt(img, "elastic_transform", severity, seed=s, key=11, mode="hendrycks")
                     .astype(np.float64) - img for s in range(seeds)])
    for stat in ("mean", "std"):
        r = getattr(ref.reshape(seeds, -1, 3), stat)(axis=1)
        o = getattr(ours.reshape(seeds, -1, 3), stat)(axis=1)
        R = getattr(ref.reshape(-1, 3), stat)(axis=0)
        O = getattr(ours.reshape(-1, 3), stat)(axis=0)
        se = np.sqrt(r.var(axis=0, ddof=1) / seeds + o.var(axis=0, ddof=1) / seeds)
        tol = np.maximum(np.maximum(0.05 * np.abs(R), 3 * se), 0.5)
        assert (np.abs(O - R) <= tol).all(), (stat, R, O, tol)


def test_determinism_per_seed(cases):
    img = dict(cases)["coffee224"]
    a = stalwart.corrupt(img, "elastic_transform", 3, seed=5, key=9, mode="hendrycks")
    assert np.array_equal(a, stalwart.corrupt(img, "elastic_transform", 3, seed=5, key=9, mode="hendrycks"))
    assert not np.array_equal(a, stalwart.corrupt(img, "elastic_transform", 3, seed=6, key=9, mode="hendrycks"))
    assert not np.array_equal(a, stalwart.corrupt(img, "elastic_transform", 3, seed=5, key=10, mode="hendrycks"))
    assert not np.array_equal(a, stalwart.corrupt(img, "elastic_transform", 3, seed=5, key=9))


@pytest.mark.parametrize("shape", [(32, 32), (33, 97), (130, 41)])
def test_small_and_odd_sizes(shape):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (*shape, 3), dtype=np.uint8)
    out = stalwart.corrupt(img, "elastic_transform", 5, seed=1, mode="hendrycks")
    assert out.shape == (*shape, 3)
    ref, draws = reference(img, 5, seed=1)
    d = _diff(stalwart.corrupt(img, "elastic_transform", 5, mode="hendrycks", replay=draws), ref)
    assert d.max() <= 1, (shape, int(d.max()))
