"""The ImageNet-C oracle: `imagecorruptions` 1.1.2 (PyPI), patched to run on current NumPy and
scikit-image, with every random draw it makes recorded in call order so that Stalwart can
replay exactly the same numbers (`stalwart.corrupt(..., replay=values)`).

Patches (the reference breaks on NumPy 2 / scikit-image ≥ 0.19, as the issue notes, and on
setuptools ≥ 81):
- `np.float_` (removed in NumPy 2.0) is aliased to `np.float64` for glass_blur, gaussian_blur, fog;
- `skimage.filters.gaussian(..., multichannel=True)` (removed in 0.19) is mapped to
  `channel_axis=-1`;
- `pkg_resources` (no longer shipped by setuptools) gets a stand-in providing the one function
  the reference imports, `resource_filename(package, path)`, used to locate the frost textures.
Nothing else in the reference is changed.

Recording: while a corruption runs, `np.random.normal`, `uniform`, `poisson`, `randint` and the
Generator that `np.random.default_rng` returns (scikit-image's random_noise uses one) are
wrapped; each call's result is flattened (C order) to float64 and appended to `values`.
"""
from __future__ import annotations

import contextlib
import os

import numpy as np
import pytest


def _provide_pkg_resources():
    import importlib.util
    import sys
    import types

    if "pkg_resources" in sys.modules or importlib.util.find_spec("pkg_resources") is not None:
        return
    mod = types.ModuleType("pkg_resources")

    def resource_filename(package, path):
        spec = importlib.util.find_spec(package)
        return os.path.join(os.path.dirname(spec.origin), path)

    mod.resource_filename = resource_filename
    sys.modules["pkg_resources"] = mod


def load():
    """The patched `imagecorruptions` package (skips the test when it is not installed)."""
    if not hasattr(np, "float_"):
        np.float_ = np.float64
    _provide_pkg_resources()
    # Under CI the oracle must be there (scripts/setup.sh installs it): a missing oracle would
    # otherwise turn every parity test into a skip that cannot fail.
    if os.environ.get("CI"):
        import imagecorruptions as ic
    else:
        ic = pytest.importorskip("imagecorruptions")
    from imagecorruptions import corruptions as C
    import skimage.filters

    if not getattr(C, "_stalwart_patched", False):
        def gaussian(image, sigma=1, multichannel=None, **kwargs):
            if multichannel is not None:
                kwargs.setdefault("channel_axis", -1 if multichannel else None)
            return skimage.filters.gaussian(image, sigma=sigma, **kwargs)
        C.gaussian = gaussian
        C._stalwart_patched = True
    return ic


class _RecordingGenerator:
    """Wraps a numpy Generator, recording every array it returns."""

    def __init__(self, gen, sink):
        self._gen, self._sink = gen, sink

    def __getattr__(self, name):
        attr = getattr(self._gen, name)
        if not callable(attr):
            return attr

        def call(*a, **k):
            out = attr(*a, **k)
            self._sink.append(np.asarray(out, dtype=np.float64).ravel())
            return out
        return call


@contextlib.contextmanager
def recording():
    """Records NumPy's random draws in call order; yields a list of 1-D float64 arrays."""
    sink: list[np.ndarray] = []
    originals = {n: getattr(np.random, n) for n in ("normal", "uniform", "poisson", "randint", "default_rng")}

    def wrap(name):
        fn = originals[name]

        def call(*a, **k):
            out = fn(*a, **k)
            if name == "default_rng":
                return _RecordingGenerator(out, sink)
            sink.append(np.asarray(out, dtype=np.float64).ravel())
            return out
        return call

    for n in originals:
        setattr(np.random, n, wrap(n))
    try:
        yield sink
    finally:
        for n, fn in originals.items():
            setattr(np.random, n, fn)


def reference(img: np.ndarray, name: str, severity: int, seed: int = 0):
    """(uint8 output of `imagecorruptions.corrupt`, recorded draws as one float64 array)."""
    ic = load()
    np.random.seed(seed)
    with recording() as sink:
        out = ic.corrupt(img, corruption_name=name, severity=severity)
    values = np.concatenate(sink) if sink else np.zeros(0)
    return np.asarray(out), values
