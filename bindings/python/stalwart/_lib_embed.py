"""Private ctypes table for include/stalwart_embed.h (merged into :data:`stalwart._lib.FUNCTIONS`)."""

from __future__ import annotations

FUNCTIONS: dict[str, tuple[object, list, bool]] = {}
