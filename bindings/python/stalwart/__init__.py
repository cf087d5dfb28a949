"""Stalwart: run ONNX image classifiers on the CPU from Python.

    >>> import numpy as np, stalwart
    >>> with stalwart.Model("efficientnet_lite0.onnx", threads=2) as model:
    ...     logits = model(np.zeros((1, 3, 224, 224), np.float32))   # first output
    ...     outputs = model.run({"input": x})                          # dict name -> array

The bindings load ``libStalwart.so`` through ctypes (see :mod:`stalwart._lib` for where it is
looked for; ``STALWART_LIB`` overrides) and check its C API version at import.
"""

from __future__ import annotations

from . import _lib
from .errors import (
    BufferTooSmall,
    DecodeError,
    InternalError,
    InvalidArgument,
    ModelError,
    OutOfMemory,
    ShapeError,
    StalwartError,
    StalwartIOError,
    UnsupportedError,
)
from .image import PRESETS, Pipeline, decode_image, encode_image, load_image, preprocess, resize, save_image
from .model import Model, TensorInfo
from .shift import CORRUPTION_SUBSETS, corrupt, corruption_names
from . import metrics, siscore, transfer
from .evaluate import Results, evaluate, report

#: The C API version these bindings were written for (STALWART_API_VERSION).
API_VERSION = _lib.API_VERSION
#: Path of the loaded libStalwart.
library_path = str(_lib.path)


def version() -> str:
    """The loaded library's version string (``stalwart_version()``), e.g. ``"0.1.0"``."""
    raw = _lib.lib.stalwart_version()
    return raw.decode("utf-8", "replace") if raw else ""


def api_version() -> int:
    """The loaded library's C API version (``stalwart_api_version()``)."""
    return int(_lib.lib.stalwart_api_version())


#: The version of the loaded library (the bindings are versioned with it).
__version__ = version()

__all__ = [
    "evaluate",
    "report",
    "Results",
    "Model",
    "TensorInfo",
    "version",
    "api_version",
    "load_image",
    "decode_image",
    "encode_image",
    "save_image",
    "resize",
    "preprocess",
    "Pipeline",
    "PRESETS",
    "corrupt",
    "corruption_names",
    "CORRUPTION_SUBSETS",
    "metrics",
    "siscore",
    "transfer",
    "API_VERSION",
    "library_path",
    "__version__",
    "StalwartError",
    "InvalidArgument",
    "StalwartIOError",
    "ModelError",
    "UnsupportedError",
    "ShapeError",
    "OutOfMemory",
    "BufferTooSmall",
    "InternalError",
    "DecodeError",
]
