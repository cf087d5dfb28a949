"""The public :class:`Model` class: load an ONNX model, inspect it, run it on NumPy arrays."""

from __future__ import annotations

import ctypes
import operator
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from . import _lib
from .errors import InternalError, InvalidArgument, ShapeError

__all__ = ["Model", "TensorInfo"]

# stalwart_dtype code <-> NumPy dtype (native byte order).
_DTYPE_OF_CODE: dict[int, np.dtype] = {
    _lib.DTYPE_FLOAT32: np.dtype(np.float32),
    _lib.DTYPE_UINT8: np.dtype(np.uint8),
    _lib.DTYPE_INT8: np.dtype(np.int8),
    _lib.DTYPE_INT32: np.dtype(np.int32),
    _lib.DTYPE_INT64: np.dtype(np.int64),
    _lib.DTYPE_BOOL: np.dtype(np.bool_),
    _lib.DTYPE_FLOAT64: np.dtype(np.float64),
}
_CODE_OF_DTYPE: dict[np.dtype, int] = {v: k for k, v in _DTYPE_OF_CODE.items()}


def _point_at(t: "_lib.stalwart_tensor", a: np.ndarray) -> None:
    """Points the input entry `t` at the C-contiguous array `a` (data, size, rank, shape)."""
    t.data = a.ctypes.data
    t.capacity_bytes = a.nbytes
    t.rank = a.ndim
    for d, n in enumerate(a.shape):
        t.shape[d] = n


def _numpy_dtype(code: int) -> np.dtype:
    try:
        return _DTYPE_OF_CODE[code]
    except KeyError:
        raise InternalError(
            f"libStalwart reported element type {code}, which these bindings do not know; "
            "update the Python bindings"
        ) from None


class TensorInfo(NamedTuple):
    """Declared name, shape and element type of a model input or output.

    ``shape`` is a tuple with ``None`` for dimensions that are symbolic or unknown until run
    time (such as the batch); ``dtype`` is a :class:`numpy.dtype`.
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: np.dtype


class Model:
    """A loaded, validated and prepared ONNX model.

    ``Model(path_or_bytes, threads=None)``:

    * ``path_or_bytes``: a file path (``str`` or :class:`os.PathLike`; external-data tensors
      are read next to it) or the model's bytes (``bytes``, ``bytearray``, ``memoryview`` or
      any contiguous buffer; only read during the constructor).
    * ``threads``: ``None`` for the library default (one per core), ``0`` for one per core,
      ``1`` to run on the calling thread only, or any count up to 1024.
    * ``keep``: names of intermediate tensors that graph preparation must keep computable, so
      :meth:`embed` can read them (a BatchNormalization output folded into its Conv, a Conv
      output whose activation runs in its epilogue, ...); asking :meth:`embed` for a tensor that
      was folded away raises :class:`InvalidArgument` naming what replaced it.

    A model is immutable once loaded. :meth:`run` may be called from many Python threads at
    once (ctypes releases the GIL during the C call; each call uses its own scratch memory).
    :meth:`close` waits for nothing: it frees the model immediately if no call is running,
    else when the last running call returns; later calls raise :class:`InvalidArgument`.

    Raises (from the constructor): :class:`StalwartIOError` (file unreadable),
    :class:`ModelError` (not valid ONNX), :class:`UnsupportedError` (an operator, attribute,
    opset or type Stalwart lacks), :class:`InvalidArgument` (bad ``threads``).
    """

    def __init__(self, path_or_bytes: str | os.PathLike | bytes, threads: int | None = None,
                 keep: Sequence[str] | None = None):
        self._handle: Any = None  # set first so __del__ works if loading fails
        self._lock = threading.Lock()
        self._per_thread = threading.local()  # reused tensor structs (see _call_one_array)
        self._output_of_shape: dict[tuple[int, ...], tuple[tuple[int, ...], np.dtype]] = {}
        self._active = 0
        self._closing = False
        self._source = "<bytes>"

        options = None
        try:
            if threads is not None:
                if isinstance(threads, bool):
                    raise TypeError("threads must be an int or None, not bool")
                threads = operator.index(threads)  # int, numpy integers; TypeError otherwise
                if not -(2**31) <= threads < 2**31:
                    raise InvalidArgument(f"threads must be between 0 and 1024, got {threads}")
                options = _lib.OptionsPtr()
                _lib.lib.stalwart_options_create(ctypes.byref(options))
                _lib.lib.stalwart_options_set_threads(options, threads)
            if keep is not None:
                if isinstance(keep, (str, bytes)):
                    raise TypeError("keep must be a sequence of tensor names, not a single string")
                names = [str(k) if isinstance(k, str) else None for k in keep]
                if any(n is None for n in names):
                    raise TypeError("keep must contain only str tensor names")
                if options is None:
                    options = _lib.OptionsPtr()
                    _lib.lib.stalwart_options_create(ctypes.byref(options))
                for n in names:
                    if not n or "\0" in n:
                        raise InvalidArgument(f"keep: invalid tensor name {n!r}")
                    _lib.lib.stalwart_options_keep_tensor(options, n.encode("utf-8"))

            handle = _lib.ModelPtr()
            if isinstance(path_or_bytes, (str, os.PathLike)):
                path = os.fspath(path_or_bytes)
                if isinstance(path, str):
                    self._source = path
                    encoded = os.fsencode(path)
                else:
                    self._source = os.fsdecode(path)
                    encoded = path
                if b"\0" in encoded:
                    raise InvalidArgument(f"model path contains a NUL character: {path!r}")
                _lib.lib.stalwart_model_load(encoded, options, ctypes.byref(handle))
            else:
                try:
                    buf = np.frombuffer(path_or_bytes, dtype=np.uint8)
                except (TypeError, ValueError, BufferError):
                    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
                        buf = np.frombuffer(bytes(path_or_bytes), dtype=np.uint8)
                    else:
                        raise TypeError(
                            "Model() takes a path (str or os.PathLike) or the model's bytes, "
                            f"not {type(path_or_bytes).__name__}"
                        ) from None
                # `buf` stays referenced until the call returns (the library only reads it
                # during the call).
                if buf.size == 0:  # a valid pointer to zero bytes, not NULL
                    buf = np.zeros(1, dtype=np.uint8)[:0]
                _lib.lib.stalwart_model_load_from_memory(
                    buf.ctypes.data,
                    buf.nbytes,
                    options,
                    ctypes.byref(handle),
                )
            self._handle = handle
        finally:
            if options is not None:
                _lib.lib.stalwart_options_free(options)

        try:
            self._inputs = self._query(
                _lib.lib.stalwart_model_input_count,
                _lib.lib.stalwart_model_input_name,
                _lib.lib.stalwart_model_input_info,
            )
            self._outputs = self._query(
                _lib.lib.stalwart_model_output_count,
                _lib.lib.stalwart_model_output_name,
                _lib.lib.stalwart_model_output_info,
            )
        except BaseException:
            self.close()
            raise
        self._input_index = {info.name: i for i, info in enumerate(self._inputs)}
        self._output_index = {info.name: i for i, info in enumerate(self._outputs)}

    # -- metadata ------------------------------------------------------------------------

    def _query(self, count_fn, name_fn, info_fn) -> list[TensorInfo]:
        count = ctypes.c_size_t()
        count_fn(self._handle, ctypes.byref(count))
        infos = []
        for i in range(count.value):
            name = ctypes.c_char_p()
            name_fn(self._handle, i, ctypes.byref(name))
            dtype = _lib.stalwart_dtype()
            rank = ctypes.c_size_t()
            dims = (ctypes.c_int64 * _lib.MAX_RANK)()
            info_fn(self._handle, i, ctypes.byref(dtype), dims, _lib.MAX_RANK, ctypes.byref(rank))
            if rank.value > _lib.MAX_RANK:  # query-then-fill: ask again with room for all
                dims = (ctypes.c_int64 * rank.value)()
                info_fn(self._handle, i, ctypes.byref(dtype), dims, rank.value, ctypes.byref(rank))
            shape = tuple(None if d < 0 else int(d) for d in dims[: rank.value])
            infos.append(
                TensorInfo(
                    (name.value or b"").decode("utf-8", "replace"), shape, _numpy_dtype(dtype.value)
                )
            )
        return infos

    @property
    def inputs(self) -> list[TensorInfo]:
        """The inputs to feed at run time, in graph order (initializers excluded)."""
        self._check_open()
        return list(self._inputs)

    @property
    def outputs(self) -> list[TensorInfo]:
        """The graph outputs, in graph order."""
        self._check_open()
        return list(self._outputs)

    @property
    def closed(self) -> bool:
        return self._handle is None or self._closing

    @property
    def metadata(self) -> dict[str, str]:
        """The model file's ``metadata_props`` (last value wins for repeated keys)."""
        self._enter()
        try:
            count = ctypes.c_size_t()
            _lib.lib.stalwart_model_metadata_count(self._handle, ctypes.byref(count))
            out = {}
            for i in range(count.value):
                key, value = ctypes.c_char_p(), ctypes.c_char_p()
                _lib.lib.stalwart_model_metadata_entry(self._handle, i, ctypes.byref(key), ctypes.byref(value))
                out[(key.value or b"").decode("utf-8", "replace")] = (value.value or b"").decode("utf-8", "replace")
            return out
        finally:
            self._leave()

    @property
    def class_names(self) -> list[str] | None:
        """Class names carried in the model's ``stalwart.labels`` metadata, or None."""
        labels = self.metadata.get("stalwart.labels")
        return None if labels is None else labels.split("\n")

    def pipeline(self, resolution: int | None = None, **overrides):
        """The preprocessing the model's metadata describes, as a :class:`stalwart.Pipeline`
        (``resolution`` overrides the model's). Raises InvalidArgument when it has none."""
        from .image import Pipeline

        self._enter()
        try:
            return Pipeline.for_model(self, resolution, **overrides)
        finally:
            self._leave()

    # -- running -------------------------------------------------------------------------

    def _bind_inputs(self, feeds) -> tuple[ctypes.Array, list[np.ndarray], int]:
        """Builds the stalwart_tensor array for `feeds`; returns it, the arrays it borrows
        (to keep alive until the C call returns) and the number of entries.

        An array that is already C-contiguous, aligned and of the declared dtype is passed
        zero-copy; otherwise it is converted once (`np.asarray(..., dtype, order="C")`, which unlike
        np.ascontiguousarray keeps 0-d arrays 0-d). A dtype is converted when NumPy calls the
        cast "safe" or the kinds match (float64 -> float32 and uint8 -> float32 are converted;
        int64 -> float32 and float -> int64 are not); any other array is passed with its own
        dtype so that the library reports the mismatch.
        """
        if isinstance(feeds, Mapping):
            items = [(str(name), value) for name, value in feeds.items()]
        else:
            items = [(None, feeds)]  # a single array binds by position to input 0

        tensors = (_lib.stalwart_tensor * max(len(items), 1))()
        keep: list[np.ndarray] = []
        for k, (name, value) in enumerate(items):
            index = self._input_index.get(name) if name is not None else 0
            target = self._inputs[index].dtype if index is not None and index < len(self._inputs) else None
            label = name if name is not None else (self._inputs[0].name if self._inputs else "0")

            a = value if isinstance(value, np.ndarray) else np.asarray(value)
            if target is not None and a.dtype != target and (
                np.can_cast(a.dtype, target, "safe") or a.dtype.kind == target.kind
            ):
                a = np.asarray(a, dtype=target, order="C")
            else:
                if not a.dtype.isnative:
                    a = a.astype(a.dtype.newbyteorder("="))
                a = np.asarray(a, order="C")
            if not a.flags.aligned:  # e.g. np.frombuffer at an odd offset: copy to aligned memory
                a = a.copy()
            code = _CODE_OF_DTYPE.get(a.dtype)
            if code is None:
                expected = f"; the model expects {target}" if target is not None else ""
                raise ShapeError(
                    f"input '{label}': element type {a.dtype} cannot cross the Stalwart C "
                    f"boundary{expected}"
                )
            if a.ndim > _lib.MAX_RANK:
                raise ShapeError(
                    f"input '{label}': rank {a.ndim} exceeds STALWART_MAX_RANK ({_lib.MAX_RANK})"
                )
            keep.append(a)
            t = tensors[k]
            t.struct_size = ctypes.sizeof(_lib.stalwart_tensor)
            t.dtype = code
            t.name = name.encode("utf-8") if name is not None else None
            _point_at(t, a)
        return tensors, keep, len(items)

    def run(self, inputs, outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Runs the model.

        Args:
            inputs: a NumPy array (or array-like) for a single-input model, or a mapping from
                input name to array. Arrays that are C-contiguous with the declared dtype are
                read in place; others are converted once.
            outputs: names of the outputs to compute; default all, in graph order.

        Returns:
            A dict from output name to a new NumPy array (the library writes into it directly).

        Raises:
            ShapeError: wrong input count, names, dtypes or shapes.
            InvalidArgument: the model is closed.
            StalwartError subclasses for anything else the library reports.
        """
        self._enter()
        try:
            return self._run(inputs, outputs)
        finally:
            self._leave()

    def _run(self, inputs, outputs) -> dict[str, np.ndarray]:
        tensors, keep, n_in = self._bind_inputs(inputs)

        if outputs is None:
            names = [o.name for o in self._outputs]
            by_name = False
        else:
            if isinstance(outputs, (str, bytes)):
                raise TypeError("outputs must be a sequence of output names, not a string")
            names = [str(n) for n in outputs]
            by_name = True
        n_out = len(names)
        outs = (_lib.stalwart_tensor * max(n_out, 1))()
        for k, name in enumerate(names):
            outs[k].struct_size = ctypes.sizeof(_lib.stalwart_tensor)
            outs[k].name = name.encode("utf-8") if by_name else None

        handle = self._handle
        _lib.lib.stalwart_model_output_shapes(handle, tensors, n_in, outs, n_out)

        results: dict[str, np.ndarray] = {}
        for k, name in enumerate(names):
            o = outs[k]
            if o.rank > _lib.MAX_RANK:
                raise InternalError(f"output '{name}': library reported rank {o.rank}")
            shape = tuple(int(o.shape[d]) for d in range(o.rank))
            if any(d < 0 for d in shape):
                raise InternalError(f"output '{name}': library reported shape {shape}")
            arr = np.empty(shape, dtype=_numpy_dtype(o.dtype))
            o.data = arr.ctypes.data
            o.capacity_bytes = arr.nbytes
            results[name] = arr

        _lib.lib.stalwart_model_run(handle, tensors, n_in, outs, n_out)
        del keep  # the borrowed inputs were referenced until here
        return results

    def __call__(self, inputs) -> np.ndarray:
        """Runs the model and returns its first output only (the others are not computed
        unless the graph needs them)."""
        self._enter()
        try:
            if not self._outputs:
                raise ShapeError("the model has no outputs")
            out = self._call_one_array(inputs)
            if out is None:
                out = self._run(inputs, [self._outputs[0].name])[self._outputs[0].name]
            return out
        finally:
            self._leave()

    def _call_one_array(self, x) -> np.ndarray | None:
        """The common call made fast (≈ 5 µs of Python less per call): a single-input model fed
        a C-contiguous, aligned array of its declared floating dtype. The first output's shape
        and dtype are cached per input shape (with one floating input they depend on nothing
        else), which leaves one C call; the tensor structs are reused per thread. Returns None
        when the general path must run."""
        if type(x) is not np.ndarray or len(self._inputs) != 1:
            return None
        if (x.dtype != self._inputs[0].dtype or x.dtype.kind != "f" or x.ndim > _lib.MAX_RANK
                or not x.flags.c_contiguous or not x.flags.aligned):
            return None
        cached = self._output_of_shape.get(x.shape)
        if cached is None:
            name = self._outputs[0].name
            out = self._run(x, [name])[name]
            if len(self._output_of_shape) < 64:
                self._output_of_shape[x.shape] = (out.shape, out.dtype)
            return out
        shape, dtype = cached
        structs = getattr(self._per_thread, "structs", None)
        if structs is None:
            structs = ((_lib.stalwart_tensor * 1)(), (_lib.stalwart_tensor * 1)())
            for t in structs:
                t[0].struct_size = ctypes.sizeof(_lib.stalwart_tensor)
            structs[0][0].dtype = _CODE_OF_DTYPE[x.dtype]
            self._per_thread.structs = structs
        tensors, outs = structs
        _point_at(tensors[0], x)
        out = np.empty(shape, dtype=dtype)
        o = outs[0]
        o.data = out.ctypes.data
        o.capacity_bytes = out.nbytes
        _lib.lib.stalwart_model_run(self._handle, tensors, 1, outs, 1)
        return out

    # -- embeddings ----------------------------------------------------------------------

    @staticmethod
    def _name_query(fn, *args) -> str:
        """Calls a query-then-fill name function (include/stalwart_embed.h) and decodes it."""
        length = ctypes.c_size_t()
        fn(*args, None, 0, ctypes.byref(length))
        buf = ctypes.create_string_buffer(length.value + 1)
        fn(*args, buf, len(buf), ctypes.byref(length))
        return buf.raw[: length.value].decode("utf-8", "replace")

    @property
    def layers(self) -> list[str]:
        """Names of the tensors :meth:`embed` can return, in execution order: every tensor a
        node of the prepared model computes (tensors removed by Conv+BN+activation fusion at
        load are not listed)."""
        self._enter()
        try:
            count = ctypes.c_size_t()
            _lib.lib.stalwart_model_layer_count(self._handle, ctypes.byref(count))
            return [
                self._name_query(_lib.lib.stalwart_model_layer_name, self._handle, i)
                for i in range(count.value)
            ]
        finally:
            self._leave()

    @property
    def prelogits(self) -> str:
        """Name of the pre-logits tensor: the input of the last Gemm/MatMul. Raises
        UnsupportedError when the model has none."""
        self._enter()
        try:
            return self._name_query(_lib.lib.stalwart_model_prelogits_name, self._handle)
        finally:
            self._leave()

    def embed(self, inputs, layer: str | None = None, batch_size: int | None = 64) -> np.ndarray:
        """Features of ``layer`` (default: the pre-logits) for a batch of inputs.

        Args:
            inputs: the model input, a NumPy array [N, ...] (e.g. preprocessed images
                [N, 3, H, W] float32), or a mapping from input name to array for a
                multi-input model (then run as one batch).
            layer: a tensor name from :attr:`layers`, or None for :attr:`prelogits`.
            batch_size: images per forward pass for a single array (None = all at once).
                Results do not depend on it.

        Returns:
            float32 array [N, D]: the layer flattened after its first (batch) dimension.

        Raises:
            InvalidArgument: unknown or fused-away layer (the message lists valid names), bad
                ``batch_size``, closed model.
            ShapeError: wrong input shape or dtype, or a layer not batched along its first
                dimension.
        """
        if layer is not None and not isinstance(layer, str):
            raise TypeError(f"layer must be a str or None, not {type(layer).__name__}")
        if layer is not None and "\0" in layer:
            raise InvalidArgument(f"layer name contains a NUL character: {layer!r}")
        if batch_size is not None:
            if isinstance(batch_size, bool):
                raise TypeError("batch_size must be an int or None, not bool")
            batch_size = operator.index(batch_size)
            if batch_size < 1:
                raise InvalidArgument(f"batch_size must be at least 1, got {batch_size}")
        encoded = layer.encode("utf-8") if layer else None
        self._enter()
        try:
            if isinstance(inputs, Mapping) or batch_size is None:
                return self._embed(inputs, encoded)
            a = inputs if isinstance(inputs, np.ndarray) else np.asarray(inputs)
            if a.ndim == 0:
                raise ShapeError("embed needs a batch: an array [N, ...], got a scalar")
            n = a.shape[0]
            if n <= batch_size:
                return self._embed(a, encoded)
            parts = [self._embed(a[i : i + batch_size], encoded) for i in range(0, n, batch_size)]
            return np.concatenate(parts, axis=0)
        finally:
            self._leave()

    def _embed(self, feeds, layer: bytes | None) -> np.ndarray:
        tensors, keep, n_in = self._bind_inputs(feeds)
        out = _lib.stalwart_tensor()
        out.struct_size = ctypes.sizeof(_lib.stalwart_tensor)
        _lib.lib.stalwart_model_embed_shape(self._handle, layer, tensors, n_in, ctypes.byref(out))
        if out.rank != 2 or out.shape[0] < 0 or out.shape[1] < 0:
            raise InternalError(f"library reported feature rank {out.rank}")
        arr = np.empty((int(out.shape[0]), int(out.shape[1])), dtype=np.float32)
        out.data = arr.ctypes.data
        out.capacity_bytes = arr.nbytes
        _lib.lib.stalwart_model_embed(self._handle, layer, tensors, n_in, ctypes.byref(out))
        del keep  # the borrowed inputs were referenced until here
        return arr

    # -- lifetime ------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._handle is None or self._closing:
            raise InvalidArgument(f"the model {self._source!r} is closed")

    def _enter(self) -> None:
        with self._lock:
            self._check_open()
            self._active += 1

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1
            free = self._closing and self._active == 0 and self._handle is not None
            if free:
                handle, self._handle = self._handle, None
        if free:
            _lib.lib.stalwart_model_free(handle)

    def close(self) -> None:
        """Releases the model. Idempotent. Calls still running finish first."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            if self._handle is None or self._closing:
                return
            self._closing = True
            free = self._active == 0
            if free:
                handle, self._handle = self._handle, None
        if free:
            _lib.lib.stalwart_model_free(handle)

    def __enter__(self) -> "Model":
        self._check_open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: module globals may already be gone
            pass

    def __repr__(self) -> str:
        if self.closed:
            return f"<stalwart.Model {self._source!r} (closed)>"
        ins = ", ".join(f"{i.name}: {i.dtype}{list(i.shape)}" for i in self._inputs)
        outs = ", ".join(f"{o.name}: {o.dtype}{list(o.shape)}" for o in self._outputs)
        return f"<stalwart.Model {self._source!r} ({ins}) -> ({outs})>"
