"""Exceptions raised by the Stalwart bindings: one class per ``stalwart_status`` code.

Every class derives from :class:`StalwartError`, which carries the numeric ``status`` and the
library's message (``stalwart_last_error()`` of the failing call). Where a builtin exception
means the same thing, the class derives from it too, so callers can catch either:

===============================  =========================  ==============================
status (include/stalwart.h)      class                      also a
===============================  =========================  ==============================
STALWART_ERROR_INVALID_ARGUMENT  :class:`InvalidArgument`   :class:`ValueError`
STALWART_ERROR_IO                :class:`StalwartIOError`   :class:`OSError`
STALWART_ERROR_INVALID_MODEL     :class:`ModelError`
STALWART_ERROR_UNSUPPORTED       :class:`UnsupportedError`
STALWART_ERROR_SHAPE_MISMATCH    :class:`ShapeError`        :class:`ValueError`
STALWART_ERROR_OUT_OF_MEMORY     :class:`OutOfMemory`       :class:`MemoryError`
STALWART_ERROR_BUFFER_TOO_SMALL  :class:`BufferTooSmall`
STALWART_ERROR_INTERNAL          :class:`InternalError`
STALWART_ERROR_DECODE            :class:`DecodeError`       :class:`ValueError`
===============================  =========================  ==============================

A status code this module does not know (the ABI is append-only, so a newer library may
return one) becomes a plain :class:`StalwartError`.
"""

from __future__ import annotations

__all__ = [
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
    "error_for_status",
]

# Status values of include/stalwart.h (stable; append-only).
OK = 0
ERROR_INVALID_ARGUMENT = 1
ERROR_IO = 2
ERROR_INVALID_MODEL = 3
ERROR_UNSUPPORTED = 4
ERROR_SHAPE_MISMATCH = 5
ERROR_OUT_OF_MEMORY = 6
ERROR_BUFFER_TOO_SMALL = 7
ERROR_INTERNAL = 8
ERROR_DECODE = 9


class StalwartError(Exception):
    """Base class of every error reported by libStalwart.

    Attributes:
        status: the ``stalwart_status`` code (an ``int``), or ``None`` for errors detected by
            the Python layer before calling the library.
        message: the human-readable message.
    """

    #: The status code this class stands for (``None`` on the base class).
    code: int | None = None

    def __init__(self, message: str, status: int | None = None):
        # Exception.__init__ with a single argument keeps str(e) == message, also for the
        # OSError / MemoryError subclasses below.
        super().__init__(message)
        self.message = message
        self.status = status if status is not None else self.code

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable across processes (multiprocessing, pytest-xdist)
        return (type(self), (self.message, self.status))


class InvalidArgument(StalwartError, ValueError):
    """A pointer was NULL, an index out of range, a size or option invalid; also raised for
    calls on a closed :class:`stalwart.Model`."""

    code = ERROR_INVALID_ARGUMENT


class StalwartIOError(StalwartError, OSError):
    """A file could not be opened, mapped or read."""

    code = ERROR_IO


class ModelError(StalwartError):
    """The bytes are not a valid ONNX model (truncated, corrupt, inconsistent graph)."""

    code = ERROR_INVALID_MODEL


class UnsupportedError(StalwartError):
    """Valid ONNX that uses an operator, attribute, opset or type Stalwart lacks."""

    code = ERROR_UNSUPPORTED


class ShapeError(StalwartError, ValueError):
    """Inputs do not match the model (count, name, dtype or shape)."""

    code = ERROR_SHAPE_MISMATCH


class OutOfMemory(StalwartError, MemoryError):
    """An allocation failed or a size computation overflowed."""

    code = ERROR_OUT_OF_MEMORY


class BufferTooSmall(StalwartError):
    """A caller-provided buffer is smaller than the data that must be written into it."""

    code = ERROR_BUFFER_TOO_SMALL


class InternalError(StalwartError):
    """A failure inside Stalwart that is not the caller's fault (please report it)."""

    code = ERROR_INTERNAL


class DecodeError(StalwartError, ValueError):
    """Image bytes are corrupt, truncated, not PNG/JPEG, or above the pixel limit."""

    code = ERROR_DECODE


_BY_STATUS: dict[int, type[StalwartError]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        StalwartIOError,
        ModelError,
        UnsupportedError,
        ShapeError,
        OutOfMemory,
        BufferTooSmall,
        InternalError,
        DecodeError,
    )
}


def error_for_status(status: int, message: str) -> StalwartError:
    """The exception instance for a non-OK ``status`` with ``message``."""
    cls = _BY_STATUS.get(status, StalwartError)
    if not message:
        message = f"Stalwart call failed with status {status} (no message)"
    return cls(message, status)
