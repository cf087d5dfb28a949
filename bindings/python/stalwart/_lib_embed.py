"""Private ctypes table for include/stalwart_embed.h (merged into :data:`stalwart._lib.FUNCTIONS`)."""

from __future__ import annotations

from ctypes import POINTER, c_char_p, c_size_t

from ._lib import ModelPtr, OptionsPtr, stalwart_status, stalwart_tensor

FUNCTIONS: dict[str, tuple[object, list, bool]] = {
    "stalwart_options_keep_tensor": (stalwart_status, [OptionsPtr, c_char_p], True),
    "stalwart_model_layer_count": (stalwart_status, [ModelPtr, POINTER(c_size_t)], True),
    "stalwart_model_layer_name": (
        stalwart_status,
        [ModelPtr, c_size_t, c_char_p, c_size_t, POINTER(c_size_t)],
        True,
    ),
    "stalwart_model_prelogits_name": (
        stalwart_status,
        [ModelPtr, c_char_p, c_size_t, POINTER(c_size_t)],
        True,
    ),
    "stalwart_model_embed_shape": (
        stalwart_status,
        [ModelPtr, c_char_p, POINTER(stalwart_tensor), c_size_t, POINTER(stalwart_tensor)],
        True,
    ),
    "stalwart_model_embed": (
        stalwart_status,
        [ModelPtr, c_char_p, POINTER(stalwart_tensor), c_size_t, POINTER(stalwart_tensor)],
        True,
    ),
}
