"""Private ctypes table for include/stalwart_transfer.h (merged into :data:`stalwart._lib.FUNCTIONS`)."""

from __future__ import annotations

from ctypes import POINTER, c_double, c_float, c_int32, c_int64, c_size_t, c_uint64

from ._lib import stalwart_status

#: STALWART_PRECISION_*.
PRECISION_FLOAT32 = 0
PRECISION_FLOAT64 = 1
#: STALWART_CORRELATION_*.
CORRELATION_KENDALL = 0
CORRELATION_SPEARMAN = 1
CORRELATION_PEARSON = 2

_f = POINTER(c_float)
_l = POINTER(c_int64)
_z = POINTER(c_size_t)
_d = POINTER(c_double)

FUNCTIONS: dict[str, tuple[object, list, bool]] = {
    "stalwart_fewshot_lsr": (
        stalwart_status,
        [_f, _l, c_int64, c_int64, _f, _l, c_int64, _d, c_size_t, c_int32, c_int32, _d],
        True,
    ),
    "stalwart_fewshot_lsr_fit": (
        stalwart_status,
        [_f, _l, c_int64, c_int64, _f, c_int64, c_double, c_int32, c_int32, _d, c_size_t, _d, _d, _l, _z],
        True,
    ),
    "stalwart_fewshot_evaluate": (
        stalwart_status,
        [_f, _l, c_int64, c_int64, _f, _l, c_int64, _l, c_size_t, c_int32, _d, c_size_t, c_double, c_uint64,
         c_int32, _d, c_size_t],
        True,
    ),
    "stalwart_linear_probe": (
        stalwart_status,
        [_f, _l, c_int64, c_int64, _f, c_int64, c_double, c_int32, c_double, _l, _l, _d, _d, c_size_t, _z, _z, _l],
        True,
    ),
    "stalwart_correlation": (stalwart_status, [_d, _d, c_size_t, c_int32, _d], True),
    "stalwart_correlation_bootstrap": (
        stalwart_status,
        [_d, _d, c_size_t, c_int32, c_int64, c_double, c_uint64, _d, _d],
        True,
    ),
}
