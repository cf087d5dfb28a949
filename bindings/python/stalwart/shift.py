"""ImageNet-C corruptions on NumPy images (see include/stalwart.h, stalwart_corrupt)."""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import numpy as np

from . import _lib
from .errors import InvalidArgument

__all__ = ["corrupt", "corruption_names", "CORRUPTION_SUBSETS"]

_SUBSETS = {
    "common": slice(0, 15), "validation": slice(15, 19), "all": slice(0, 19),
    "noise": slice(0, 3), "blur": slice(3, 7), "weather": slice(7, 11), "digital": slice(11, 15),
}
#: Subset names accepted by :func:`corruption_names` (those of ``imagecorruptions``).
CORRUPTION_SUBSETS = tuple(_SUBSETS)
_MODES = {"imagecorruptions": 0, "hendrycks": 1}


def corruption_names(subset: str = "all") -> list[str]:
    """The corruption names of a subset: common (the 15 of ImageNet-C), validation (the 4
    extra), all, noise, blur, weather or digital — as ``imagecorruptions.get_corruption_names``."""
    try:
        sl = _SUBSETS[subset]
    except KeyError:
        raise InvalidArgument(f"subset must be one of {CORRUPTION_SUBSETS}, got {subset!r}") from None
    n = _lib.lib.stalwart_corruption_count()
    return [_lib.lib.stalwart_corruption_name(i).decode() for i in range(n)][sl]


def corrupt(img: np.ndarray, name: str, severity: int, seed: int = 0, key: int = 0, *,
            mode: str = "imagecorruptions", replay: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """Applies corruption ``name`` at ``severity`` (1–5) to a uint8 ``(H, W, 3)`` or ``(H, W)``
    image of at least 32×32; returns uint8 ``(H, W, 3)``.

    The result is a pure function of (image, name, severity, seed, key, mode): ``key`` names the
    image within a dataset so every image gets its own random stream. ``mode="hendrycks"``
    follows ``make_imagenet_c.py`` where it differs from ``imagecorruptions``. ``replay`` feeds
    the random numbers NumPy produced while ``imagecorruptions`` ran (see
    Tests/python/corruption_oracle.py) instead of Stalwart's generator, to reproduce the
    reference exactly.
    """
    arr = np.asarray(img)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3):
        raise InvalidArgument(f"images must be uint8 (H, W) or (H, W, 3), got {arr.dtype} {arr.shape}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    src = np.ascontiguousarray(arr)
    h, w, c = src.shape
    out = np.empty((h, w, 3), np.uint8)
    u8 = ctypes.POINTER(ctypes.c_uint8)
    m = _MODES.get(mode)
    if m is None:
        raise InvalidArgument(f"mode must be one of {tuple(_MODES)}, got {mode!r}")
    if not 0 <= int(seed) < 2**64 or not 0 <= int(key) < 2**64:
        raise InvalidArgument("seed and key must be in [0, 2**64)")
    if replay is None:
        _lib.lib.stalwart_corrupt(src.ctypes.data_as(u8), w, h, c, name.encode(), int(severity), int(seed), int(key), m,
                                  out.ctypes.data_as(u8), out.size)
    else:
        draws = np.ascontiguousarray(replay, dtype=np.float64)
        _lib.lib.stalwart_corrupt_replay(src.ctypes.data_as(u8), w, h, c, name.encode(), int(severity), m,
                                         draws.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), draws.size,
                                         out.ctypes.data_as(u8), out.size)
    return out
