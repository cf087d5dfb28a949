"""Images: decoding, encoding, resizing and model preprocessing on NumPy arrays.

Arrays are uint8 ``(H, W, 3)`` (RGB), ``(H, W, 4)`` (RGBA) or ``(H, W)`` (gray), as
``np.asarray(PIL.Image)`` gives them; float images for :func:`resize` are ``(H, W[, C])``
float32. Everything crosses into libStalwart through ``include/stalwart.h``.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _lib
from .errors import InvalidArgument

__all__ = ["load_image", "decode_image", "encode_image", "save_image", "resize", "Pipeline",
           "preprocess", "PRESETS"]

#: Preset names accepted by :class:`Pipeline` and :func:`preprocess`.
PRESETS = ("torchvision", "timm", "inception", "bit", "efficientnet-lite")

_MODES = {"L": 1, "RGB": 3, "RGBA": 4}


class _Image:
    """Owns one ``stalwart_image``."""

    __slots__ = ("ptr",)

    def __init__(self, ptr: _lib.ImagePtr):
        self.ptr = ptr

    @classmethod
    def from_array(cls, img: np.ndarray) -> "_Image":
        arr = np.asarray(img)
        if arr.dtype != np.uint8:
            raise InvalidArgument(f"images must be uint8 arrays, got {arr.dtype}")
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
            raise InvalidArgument(f"images must be (H, W), (H, W, 3) or (H, W, 4), got shape {np.asarray(img).shape}")
        arr = np.ascontiguousarray(arr)
        h, w, c = arr.shape
        ptr = _lib.ImagePtr()
        _lib.lib.stalwart_image_create(w, h, c, arr.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8)), ctypes.byref(ptr))
        return cls(ptr)

    def to_array(self) -> np.ndarray:
        lib = _lib.lib
        h, w, c = lib.stalwart_image_height(self.ptr), lib.stalwart_image_width(self.ptr), lib.stalwart_image_channels(self.ptr)
        data = lib.stalwart_image_pixels(self.ptr)
        out = np.ctypeslib.as_array(data, shape=(h * w * c,)).reshape(h, w, c).copy()
        return out[:, :, 0] if c == 1 else out

    def __del__(self):
        ptr, self.ptr = getattr(self, "ptr", None), None
        if ptr:
            _lib.lib.stalwart_image_free(ptr)


def _mode(mode: str) -> int:
    try:
        return _MODES[mode]
    except KeyError:
        raise InvalidArgument(f"mode must be one of {sorted(_MODES)}, got {mode!r}") from None


def _decode(source: Any, mode: str, exif_orientation: bool, max_pixels: int | None) -> _Image:
    flags = _lib.DECODE_EXIF_ORIENTATION if exif_orientation else 0
    limit = 0 if max_pixels is None else int(max_pixels)
    if limit < 0:
        raise InvalidArgument("max_pixels must be positive")
    ptr = _lib.ImagePtr()
    if isinstance(source, (bytes, bytearray, memoryview)):
        buf = np.frombuffer(source, dtype=np.uint8)
        _lib.lib.stalwart_image_decode(buf.ctypes.data_as(ctypes.c_void_p), buf.size, _mode(mode), flags, limit, ctypes.byref(ptr))
    else:
        _lib.lib.stalwart_image_load(os.fsencode(source), _mode(mode), flags, limit, ctypes.byref(ptr))
    return _Image(ptr)


def load_image(source: str | os.PathLike | bytes, mode: str = "RGB", *, exif_orientation: bool = False,
               max_pixels: int | None = None) -> np.ndarray:
    """Decodes a PNG or JPEG file path, or its bytes, to a uint8 array.

    ``mode`` is ``"RGB"`` (H, W, 3), ``"RGBA"`` (H, W, 4) or ``"L"`` (H, W), converted as
    Pillow's ``convert`` does. EXIF orientation is ignored unless ``exif_orientation`` (like
    Pillow). Images above ``max_pixels`` (default: Pillow's 89,478,485) are refused.
    """
    return _decode(source, mode, exif_orientation, max_pixels).to_array()


decode_image = load_image


def encode_image(img: np.ndarray, format: str = "png", quality: int = 95) -> bytes:
    """Encodes a uint8 image as PNG or JPEG bytes (``quality`` 1–100 for JPEG)."""
    fmt = {"png": _lib.FORMAT_PNG, "jpeg": _lib.FORMAT_JPEG, "jpg": _lib.FORMAT_JPEG}.get(format.lower())
    if fmt is None:
        raise InvalidArgument(f"format must be 'png' or 'jpeg', got {format!r}")
    im = _Image.from_array(img)
    data, size = ctypes.POINTER(ctypes.c_uint8)(), ctypes.c_size_t()
    _lib.lib.stalwart_image_encode(im.ptr, fmt, int(quality), ctypes.byref(data), ctypes.byref(size))
    try:
        return ctypes.string_at(data, size.value)
    finally:
        _lib.lib.stalwart_free(data)


def save_image(path: str | os.PathLike, img: np.ndarray, quality: int = 95) -> None:
    """Writes a uint8 image as PNG or JPEG, chosen by the file extension."""
    im = _Image.from_array(img)   # keep the image alive for the duration of the call
    _lib.lib.stalwart_image_save(im.ptr, os.fsencode(path), int(quality))


def _filter(name: str) -> int:
    try:
        return _lib.FILTERS[name]
    except KeyError:
        raise InvalidArgument(f"filter must be one of {sorted(_lib.FILTERS)}, got {name!r}") from None


def resize(img: np.ndarray, size: Sequence[int], filter: str = "bilinear", antialias: bool = True) -> np.ndarray:
    """Resizes to ``size = (height, width)``.

    uint8 images use Pillow's algorithm (antialiased on downscale; ``antialias=False`` is not
    available for uint8 — convert to float32 first). float32 images use Pillow's mode "F"
    arithmetic with ``antialias=True``, or unscaled kernels at half-pixel centres (TF,
    torchvision ``antialias=False``) with ``antialias=False``.
    """
    h, w = (int(size[0]), int(size[1]))
    arr = np.asarray(img)
    if arr.dtype == np.uint8:
        if not antialias:
            raise InvalidArgument("uint8 images are resized as Pillow does (always antialiased); pass a float32 image for antialias=False")
        src, out = _Image.from_array(arr), _lib.ImagePtr()   # `src` must outlive the call
        _lib.lib.stalwart_image_resize(src.ptr, w, h, _filter(filter), ctypes.byref(out))
        return _Image(out).to_array()
    if arr.dtype != np.float32:
        raise InvalidArgument(f"resize takes uint8 or float32 images, got {arr.dtype}")
    squeeze = arr.ndim == 2
    src = np.ascontiguousarray(arr[:, :, None] if squeeze else arr)
    if src.ndim != 3:
        raise InvalidArgument(f"float images must be (H, W) or (H, W, C), got shape {arr.shape}")
    dst = np.empty((h, w, src.shape[2]), np.float32)
    fp = ctypes.POINTER(ctypes.c_float)
    _lib.lib.stalwart_resize_f32(src.ctypes.data_as(fp), src.shape[1], src.shape[0], src.shape[2],
                                 dst.ctypes.data_as(fp), dst.size, w, h, _filter(filter), bool(antialias))
    return dst[:, :, 0] if squeeze else dst


class Pipeline:
    """Image → float32 tensor preprocessing from a preset at a test resolution.

    ``Pipeline("torchvision", 224)``; presets: torchvision, timm, inception, bit,
    efficientnet-lite (see the README for their exact definitions). ``layout`` is ``"NCHW"``
    or ``"NHWC"``; ``filter``, ``mean``/``std``/``scale`` override the preset. Calling it on an
    image returns a ``(1, C, H, W)`` (or NHWC) array; :meth:`batch` stacks several. Thread-safe
    once built.
    """

    def __init__(self, preset: str, resolution: int, *, layout: str = "NCHW", filter: str | None = None,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None, scale: float | None = None,
                 _ptr: _lib.PipelinePtr | None = None):
        self._ptr = _ptr
        if self._ptr is None:
            ptr = _lib.PipelinePtr()
            _lib.lib.stalwart_pipeline_create(str(preset).encode(), int(resolution), ctypes.byref(ptr))
            self._ptr = ptr
        self._configure(layout, filter, mean, std, scale)

    @classmethod
    def for_model(cls, model, resolution: int | None = None, **overrides) -> "Pipeline":
        """The preprocessing a model's metadata describes (``stalwart.preprocess`` etc.)."""
        ptr = _lib.PipelinePtr()
        _lib.lib.stalwart_pipeline_create_for_model(model._handle, int(resolution or 0), ctypes.byref(ptr))
        return cls("", 0, _ptr=ptr, **overrides)

    def _configure(self, layout, filter, mean, std, scale):
        lay = {"NCHW": _lib.LAYOUT_NCHW, "NHWC": _lib.LAYOUT_NHWC}.get(str(layout).upper())
        if lay is None:
            raise InvalidArgument(f"layout must be 'NCHW' or 'NHWC', got {layout!r}")
        self.layout = str(layout).upper()
        _lib.lib.stalwart_pipeline_set_layout(self._ptr, lay)
        if filter is not None:
            _lib.lib.stalwart_pipeline_set_filter(self._ptr, _filter(filter))
        if mean is not None or std is not None or scale is not None:
            if mean is None or std is None:
                raise InvalidArgument("mean and std must be given together")
            m, s = np.asarray(mean, np.float32), np.asarray(std, np.float32)
            if m.shape != s.shape or m.ndim != 1:
                raise InvalidArgument("mean and std must be 1-D and of equal length")
            fp = ctypes.POINTER(ctypes.c_float)
            _lib.lib.stalwart_pipeline_set_normalization(self._ptr, float(1 / 255 if scale is None else scale),
                                                         m.ctypes.data_as(fp), s.ctypes.data_as(fp), m.size)

    @property
    def channels(self) -> int:
        """Channels of the output (3, or 1 with a gray normalization)."""
        shape = self.output_shape(64, 64)
        return shape[0] if self.layout == "NCHW" else shape[2]

    def output_shape(self, width: int, height: int) -> tuple[int, int, int]:
        """Shape of one preprocessed image of ``width``×``height`` pixels (without the batch)."""
        shape = (ctypes.c_int64 * 3)()
        _lib.lib.stalwart_pipeline_output_shape(self._ptr, int(width), int(height), shape)
        return tuple(int(d) for d in shape)

    def _write(self, img, out: np.ndarray) -> None:
        im = img if isinstance(img, _Image) else _Image.from_array(img)
        _lib.lib.stalwart_pipeline_apply(self._ptr, im.ptr, out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), out.size)

    def load(self, source, *, exif_orientation: bool = False) -> np.ndarray:
        """Decodes a PNG/JPEG path or bytes and preprocesses it in one step (the pixels never
        pass through NumPy): ``(1, C, H, W)`` float32."""
        im = _decode(source, "RGB" if self.channels == 3 else "L", exif_orientation, None)
        lib = _lib.lib
        out = np.empty((1, *self.output_shape(lib.stalwart_image_width(im.ptr), lib.stalwart_image_height(im.ptr))), np.float32)
        self._write(im, out)
        return out

    def __call__(self, img: np.ndarray) -> np.ndarray:
        arr = np.asarray(img)
        out = np.empty((1, *self.output_shape(arr.shape[1], arr.shape[0])), np.float32)
        self._write(arr, out)
        return out

    def batch(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Preprocesses images (which must come out at one size) into one ``(N, ...)`` array."""
        if not images:
            raise InvalidArgument("batch needs at least one image")
        first = np.asarray(images[0])
        out = np.empty((len(images), *self.output_shape(first.shape[1], first.shape[0])), np.float32)
        for i, img in enumerate(images):
            arr = np.asarray(img)
            if self.output_shape(arr.shape[1], arr.shape[0]) != out.shape[1:]:
                raise InvalidArgument(f"image {i} preprocesses to a different size; use a preset with a crop")
            self._write(arr, out[i])
        return out

    def close(self) -> None:
        ptr, self._ptr = getattr(self, "_ptr", None), None
        if ptr:
            _lib.lib.stalwart_pipeline_free(ptr)

    __del__ = close


def preprocess(img: np.ndarray, preset: str, resolution: int, **kwargs) -> np.ndarray:
    """One image → ``(1, C, H, W)`` float32 with a preset (see :class:`Pipeline`)."""
    return Pipeline(preset, resolution, **kwargs)(img)
