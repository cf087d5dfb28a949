"""Private ctypes layer: finds libStalwart, checks its ABI and declares every C function.

This module mirrors ``include/stalwart.h`` one to one; the public classes live in
:mod:`stalwart.model`. Nothing here is stable API.

Finding the library (first match wins; see :func:`candidate_paths`):

1. ``$STALWART_LIB`` -- an explicit path. When set, it is the *only* candidate: a broken
   override is an error, never silently replaced by another copy.
2. ``libStalwart.so`` packaged next to this module (a wheel or an installed copy).
3. In a source checkout (``<repo>/bindings/python/stalwart``, repo = three levels up):
   ``<repo>/.build/release/libStalwart.so`` then ``<repo>/.build/debug/libStalwart.so``.

If nothing loads, ImportError names every path tried and why each failed. After loading,
``stalwart_api_version()`` must equal :data:`API_VERSION` (the header version these bindings
were written for), else ImportError.

Every status-returning function gets an ``errcheck`` that turns a non-zero status into the
matching :mod:`stalwart.errors` exception carrying ``stalwart_last_error()``. ctypes
(``CDLL``, not ``PyDLL``) releases the GIL for the duration of every call.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import POINTER, c_char_p, c_float, c_int32, c_int64, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p
from pathlib import Path

from . import errors

#: STALWART_API_VERSION of the include/stalwart.h these bindings implement.
API_VERSION = 5
#: STALWART_MAX_RANK: the largest tensor rank that crosses the C boundary.
MAX_RANK = 8

_LIB_NAME = "libStalwart.dylib" if sys.platform == "darwin" else "libStalwart.so"

# ---------------------------------------------------------------------------------------------
# Types of the header.
# ---------------------------------------------------------------------------------------------

stalwart_status = c_int32
stalwart_dtype = c_int32

# Element types (ONNX TensorProto.DataType numbers).
DTYPE_FLOAT32 = 1
DTYPE_UINT8 = 2
DTYPE_INT8 = 3
DTYPE_INT32 = 6
DTYPE_INT64 = 7
DTYPE_BOOL = 9
DTYPE_FLOAT64 = 11


class stalwart_options(ctypes.Structure):
    """Opaque ``stalwart_options`` (only ever used through a pointer)."""


class stalwart_model(ctypes.Structure):
    """Opaque ``stalwart_model`` (only ever used through a pointer)."""


OptionsPtr = POINTER(stalwart_options)
ModelPtr = POINTER(stalwart_model)


class stalwart_tensor(ctypes.Structure):
    """``stalwart_tensor``: one tensor crossing the boundary (see the header for ownership).

    Layout (x86-64 / aarch64 LP64): 4 + 4 + 8 + 8 + 8 + 8 + 8*8 = 104 bytes, no padding.
    """

    _fields_ = [
        ("struct_size", c_uint32),
        ("dtype", stalwart_dtype),
        ("name", c_char_p),
        ("data", c_void_p),
        ("capacity_bytes", c_size_t),
        ("rank", c_size_t),
        ("shape", c_int64 * MAX_RANK),
    ]


TensorPtr = POINTER(stalwart_tensor)


class stalwart_image(ctypes.Structure):
    """Opaque ``stalwart_image``."""


class stalwart_pipeline(ctypes.Structure):
    """Opaque ``stalwart_pipeline``."""


class stalwart_metric(ctypes.Structure):
    """Opaque ``stalwart_metric``."""


ImagePtr = POINTER(stalwart_image)
PipelinePtr = POINTER(stalwart_pipeline)
MetricPtr = POINTER(stalwart_metric)


class stalwart_eval_options(ctypes.Structure):
    """Opaque ``stalwart_eval_options``."""


EvalOptionsPtr = POINTER(stalwart_eval_options)

#: ``int32_t (*)(void *user, int32_t run, int32_t runs, int64_t done, int64_t total, double ips)``.
EVAL_PROGRESS = ctypes.CFUNCTYPE(c_int32, c_void_p, c_int32, c_int32, c_int64, c_int64, ctypes.c_double)

SCORES_LOGITS = 0
SCORES_PROBABILITIES = 1

DECODE_EXIF_ORIENTATION = 1
FORMAT_PNG = 1
FORMAT_JPEG = 2
FILTERS = {"nearest": 0, "bilinear": 1, "bicubic": 2, "box": 3, "lanczos": 4, "hamming": 5}
LAYOUT_NCHW = 0
LAYOUT_NHWC = 1

# ---------------------------------------------------------------------------------------------
# Every function of the header: name -> (restype, argtypes, returns a status?).
# test_boundary.py checks this table against include/stalwart.h.
# ---------------------------------------------------------------------------------------------

FUNCTIONS: dict[str, tuple[object, list, bool]] = {
    # Library information and errors.
    "stalwart_api_version": (c_uint32, [], False),
    "stalwart_version": (c_char_p, [], False),
    "stalwart_last_error": (c_char_p, [], False),
    "stalwart_status_string": (c_char_p, [stalwart_status], False),
    # Options.
    "stalwart_options_create": (stalwart_status, [POINTER(OptionsPtr)], True),
    "stalwart_options_free": (None, [OptionsPtr], False),
    "stalwart_options_set_threads": (stalwart_status, [OptionsPtr, c_int32], True),
    # Models.
    "stalwart_model_load": (stalwart_status, [c_char_p, OptionsPtr, POINTER(ModelPtr)], True),
    "stalwart_model_load_from_memory": (
        stalwart_status,
        [c_void_p, c_size_t, OptionsPtr, POINTER(ModelPtr)],
        True,
    ),
    "stalwart_model_free": (None, [ModelPtr], False),
    "stalwart_model_input_count": (stalwart_status, [ModelPtr, POINTER(c_size_t)], True),
    "stalwart_model_output_count": (stalwart_status, [ModelPtr, POINTER(c_size_t)], True),
    "stalwart_model_input_name": (
        stalwart_status,
        [ModelPtr, c_size_t, POINTER(c_char_p)],
        True,
    ),
    "stalwart_model_output_name": (
        stalwart_status,
        [ModelPtr, c_size_t, POINTER(c_char_p)],
        True,
    ),
    "stalwart_model_input_info": (
        stalwart_status,
        [ModelPtr, c_size_t, POINTER(stalwart_dtype), POINTER(c_int64), c_size_t,
         POINTER(c_size_t)],
        True,
    ),
    "stalwart_model_output_info": (
        stalwart_status,
        [ModelPtr, c_size_t, POINTER(stalwart_dtype), POINTER(c_int64), c_size_t,
         POINTER(c_size_t)],
        True,
    ),
    # Running.
    "stalwart_model_output_shapes": (
        stalwart_status,
        [ModelPtr, TensorPtr, c_size_t, TensorPtr, c_size_t],
        True,
    ),
    "stalwart_model_run": (
        stalwart_status,
        [ModelPtr, TensorPtr, c_size_t, TensorPtr, c_size_t],
        True,
    ),
    # Model metadata (API 2).
    "stalwart_model_metadata_count": (stalwart_status, [ModelPtr, POINTER(c_size_t)], True),
    "stalwart_model_metadata_entry": (
        stalwart_status, [ModelPtr, c_size_t, POINTER(c_char_p), POINTER(c_char_p)], True),
    "stalwart_model_metadata_get": (stalwart_status, [ModelPtr, c_char_p, POINTER(c_char_p)], True),
    # Images (API 2).
    "stalwart_image_decode": (
        stalwart_status, [c_void_p, c_size_t, c_int32, c_uint32, c_uint64, POINTER(ImagePtr)], True),
    "stalwart_image_load": (
        stalwart_status, [c_char_p, c_int32, c_uint32, c_uint64, POINTER(ImagePtr)], True),
    "stalwart_image_create": (
        stalwart_status, [c_int32, c_int32, c_int32, POINTER(c_uint8), POINTER(ImagePtr)], True),
    "stalwart_image_free": (None, [ImagePtr], False),
    "stalwart_image_width": (c_int32, [ImagePtr], False),
    "stalwart_image_height": (c_int32, [ImagePtr], False),
    "stalwart_image_channels": (c_int32, [ImagePtr], False),
    "stalwart_image_pixels": (POINTER(c_uint8), [ImagePtr], False),
    "stalwart_image_resize": (
        stalwart_status, [ImagePtr, c_int32, c_int32, c_int32, POINTER(ImagePtr)], True),
    "stalwart_resize_f32": (
        stalwart_status,
        [POINTER(c_float), c_int32, c_int32, c_int32, POINTER(c_float), c_size_t, c_int32, c_int32,
         c_int32, ctypes.c_bool],
        True),
    "stalwart_image_encode": (
        stalwart_status, [ImagePtr, c_int32, c_int32, POINTER(POINTER(c_uint8)), POINTER(c_size_t)], True),
    "stalwart_image_save": (stalwart_status, [ImagePtr, c_char_p, c_int32], True),
    "stalwart_free": (None, [c_void_p], False),
    # Preprocessing pipelines (API 2).
    "stalwart_pipeline_create": (stalwart_status, [c_char_p, c_int32, POINTER(PipelinePtr)], True),
    "stalwart_pipeline_create_for_model": (
        stalwart_status, [ModelPtr, c_int32, POINTER(PipelinePtr)], True),
    "stalwart_pipeline_free": (None, [PipelinePtr], False),
    "stalwart_pipeline_set_layout": (stalwart_status, [PipelinePtr, c_int32], True),
    "stalwart_pipeline_set_normalization": (
        stalwart_status, [PipelinePtr, c_float, POINTER(c_float), POINTER(c_float), c_size_t], True),
    "stalwart_pipeline_set_filter": (stalwart_status, [PipelinePtr, c_int32], True),
    "stalwart_pipeline_output_shape": (
        stalwart_status, [PipelinePtr, c_int32, c_int32, POINTER(c_int64)], True),
    "stalwart_pipeline_apply": (
        stalwart_status, [PipelinePtr, ImagePtr, POINTER(c_float), c_size_t], True),
    # Corruptions (API 2).
    "stalwart_corruption_count": (c_size_t, [], False),
    "stalwart_corruption_name": (c_char_p, [c_size_t], False),
    "stalwart_corrupt": (
        stalwart_status,
        [POINTER(c_uint8), c_int32, c_int32, c_int32, c_char_p, c_int32, c_uint64, c_uint64, c_int32,
         POINTER(c_uint8), c_size_t],
        True),
    "stalwart_corrupt_replay": (
        stalwart_status,
        [POINTER(c_uint8), c_int32, c_int32, c_int32, c_char_p, c_int32, c_int32, POINTER(ctypes.c_double),
         c_size_t, POINTER(c_uint8), c_size_t],
        True),
    # Robustness metrics (API 3).
    "stalwart_metric_create": (stalwart_status, [c_char_p, POINTER(MetricPtr)], True),
    "stalwart_metric_add": (
        stalwart_status, [MetricPtr, POINTER(c_float), c_int64, c_int64, POINTER(c_int64), c_int32], True),
    "stalwart_metric_add_all": (
        stalwart_status, [POINTER(MetricPtr), c_size_t, POINTER(c_float), c_int64, c_int64, POINTER(c_int64), c_int32],
        True),
    "stalwart_metric_merge": (stalwart_status, [MetricPtr, MetricPtr], True),
    "stalwart_metric_serialize": (stalwart_status, [MetricPtr, POINTER(POINTER(c_uint8)), POINTER(c_size_t)], True),
    "stalwart_metric_deserialize": (stalwart_status, [POINTER(c_uint8), c_size_t, POINTER(MetricPtr)], True),
    "stalwart_metric_result": (stalwart_status, [MetricPtr, POINTER(ctypes.c_double), c_size_t, POINTER(c_size_t)], True),
    "stalwart_metric_result_name": (c_char_p, [MetricPtr, c_size_t], False),
    "stalwart_metric_free": (None, [MetricPtr], False),
    "stalwart_temperature_fit": (
        stalwart_status, [POINTER(c_float), c_int64, c_int64, POINTER(c_int64), POINTER(ctypes.c_double)], True),
    "stalwart_mce": (
        stalwart_status,
        [POINTER(c_char_p), POINTER(ctypes.c_double), c_size_t, ctypes.c_double, POINTER(ctypes.c_double),
         ctypes.c_double, POINTER(ctypes.c_double), POINTER(ctypes.c_double), POINTER(ctypes.c_double),
         POINTER(ctypes.c_double)],
        True),
    "stalwart_pm_k": (
        stalwart_status,
        [POINTER(c_uint8), c_size_t, POINTER(c_int64), POINTER(c_int64), POINTER(c_uint8), c_size_t, c_int64,
         POINTER(ctypes.c_double)],
        True),
    "stalwart_factor_accuracy": (
        stalwart_status,
        [POINTER(ctypes.c_double), POINTER(c_uint8), c_size_t, POINTER(ctypes.c_double), POINTER(ctypes.c_double),
         POINTER(c_int64), c_size_t, POINTER(c_size_t), POINTER(ctypes.c_double)],
        True),
    "stalwart_effective_robustness": (
        stalwart_status,
        [POINTER(ctypes.c_double), POINTER(ctypes.c_double), c_size_t, ctypes.c_double, ctypes.c_double,
         POINTER(ctypes.c_double), POINTER(ctypes.c_double), POINTER(ctypes.c_double)],
        True),
    # Label spaces (API 3).
    "stalwart_labelspace_count": (c_size_t, [], False),
    "stalwart_labelspace_name": (c_char_p, [c_size_t], False),
    "stalwart_labelspace_classes": (stalwart_status, [c_char_p, POINTER(c_size_t)], True),
    "stalwart_labelspace_class_name": (stalwart_status, [c_char_p, c_size_t, POINTER(c_char_p)], True),
    "stalwart_labelspace_members": (
        stalwart_status, [c_char_p, c_size_t, POINTER(c_int64), c_size_t, POINTER(c_size_t)], True),
    "stalwart_labelspace_project": (
        stalwart_status, [c_char_p, POINTER(c_float), c_int64, c_int64, c_int32, c_int32, c_float, POINTER(c_float), c_size_t],
        True),
    "stalwart_labelspace_predict": (
        stalwart_status, [c_char_p, POINTER(c_float), c_int64, c_int64, POINTER(c_int64), c_size_t], True),
    # Evaluation runs (API 4).
    "stalwart_eval_options_create": (stalwart_status, [POINTER(EvalOptionsPtr)], True),
    "stalwart_eval_options_free": (None, [EvalOptionsPtr], False),
    "stalwart_eval_options_set": (stalwart_status, [EvalOptionsPtr, c_char_p, c_char_p], True),
    "stalwart_evaluate": (
        stalwart_status,
        [c_char_p, c_char_p, c_char_p, EvalOptionsPtr, EVAL_PROGRESS, c_void_p, POINTER(c_int64), POINTER(c_int64),
         POINTER(c_int64)],
        True),
    "stalwart_report_write": (stalwart_status, [c_char_p, c_char_p, c_char_p, c_char_p, c_char_p], True),
}


def _add_parts() -> None:
    """The parts of the API declared in their own headers (include/stalwart_<part>.h) keep
    their tables in ``_lib_<part>.py``; they import the types above, so they load here."""
    from . import _lib_embed, _lib_siscore, _lib_transfer

    for part in (_lib_embed, _lib_siscore, _lib_transfer):
        clash = set(part.FUNCTIONS) & set(FUNCTIONS)
        assert not clash, clash
        FUNCTIONS.update(part.FUNCTIONS)


_add_parts()

# ---------------------------------------------------------------------------------------------
# Finding and loading the library.
# ---------------------------------------------------------------------------------------------

_PACKAGE_DIR = Path(__file__).resolve().parent
#: The source checkout this package sits in, if any (<repo>/bindings/python/stalwart).
REPO_ROOT = _PACKAGE_DIR.parents[2]


def candidate_paths() -> list[Path]:
    """The paths tried, in order. ``$STALWART_LIB`` (if set and non-empty) is the only one."""
    override = os.environ.get("STALWART_LIB")
    if override:
        return [Path(override)]
    return [
        _PACKAGE_DIR / _LIB_NAME,
        REPO_ROOT / ".build" / "release" / _LIB_NAME,
        REPO_ROOT / ".build" / "debug" / _LIB_NAME,
    ]


def _open() -> tuple[ctypes.CDLL, Path]:
    tried: list[str] = []
    for path in candidate_paths():
        if not path.is_file():
            tried.append(f"  {path}: not found")
            continue
        try:
            return ctypes.CDLL(str(path)), path
        except OSError as e:
            tried.append(f"  {path}: {e}")
    hint = (
        "set STALWART_LIB to the library's path, or build it with "
        "`swift build -c release --product Stalwart` in the repository root"
    )
    raise ImportError(
        f"cannot load {_LIB_NAME}; tried, in order:\n" + "\n".join(tried) + f"\n({hint})"
    )


def _declare(lib: ctypes.CDLL, path: Path) -> None:
    missing = [name for name in FUNCTIONS if not hasattr(lib, name)]
    if missing:
        raise ImportError(
            f"{path} does not export {', '.join(missing)}: it does not implement "
            f"stalwart.h API version {API_VERSION}"
        )
    for name, (restype, argtypes, returns_status) in FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
        if returns_status:
            fn.errcheck = _check_status


def last_error() -> str:
    """``stalwart_last_error()`` of the calling thread, decoded."""
    raw = lib.stalwart_last_error()
    return raw.decode("utf-8", "replace") if raw else ""


def status_string(status: int) -> str:
    """``stalwart_status_string(status)``, decoded."""
    raw = lib.stalwart_status_string(status)
    return raw.decode("utf-8", "replace") if raw else ""


def _check_status(result, func, args):
    """ctypes errcheck: raise the typed exception for a non-OK status.

    Runs on the calling thread right after the C call, so ``stalwart_last_error()`` (which is
    thread-local) still holds this call's message.
    """
    if result == errors.OK:
        return result
    message = last_error() or (
        f"{func.__name__} failed: {status_string(result)} (status {result}, no message)"
    )
    raise errors.error_for_status(result, message)


lib, path = _open()
_declare(lib, path)

_found_api = lib.stalwart_api_version()
if _found_api < API_VERSION:  # the ABI is append-only: a newer library serves older bindings
    raise ImportError(
        f"{path} implements Stalwart C API version {_found_api}, but these bindings require "
        f"version {API_VERSION}; rebuild the library or reinstall the bindings so they match"
    )
del _found_api
