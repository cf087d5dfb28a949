"""Private ctypes table for include/stalwart_siscore.h (merged into :data:`stalwart._lib.FUNCTIONS`)."""

from __future__ import annotations

from ctypes import POINTER, c_char_p, c_double, c_int32, c_int64, c_size_t, c_uint8

from ._lib import stalwart_status

FUNCTIONS: dict[str, tuple[object, list, bool]] = {
    "stalwart_siscore_composite_side": (stalwart_status, [c_int32, c_int32, c_int32, POINTER(c_int64)], True),
    "stalwart_siscore_composite": (
        stalwart_status,
        [POINTER(c_uint8), c_int32, c_int32, c_int32, POINTER(c_uint8), c_int32, c_int32, c_int32,
         c_double, c_double, c_double, c_double, c_int32, POINTER(c_uint8), c_size_t, POINTER(c_double)],
        True),
    "stalwart_siscore_generate": (
        stalwart_status,
        [c_char_p, POINTER(c_char_p), POINTER(c_char_p), c_size_t, c_char_p, c_char_p, c_char_p, c_int64, c_int32,
         POINTER(c_int64), POINTER(c_int64)],
        True),
    "stalwart_siscore_metadata": (
        stalwart_status,
        [c_char_p, POINTER(c_char_p), POINTER(c_char_p), c_size_t, c_char_p, c_char_p, c_int64, POINTER(c_uint8),
         c_size_t, POINTER(c_size_t)],
        True),
}
