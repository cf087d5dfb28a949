"""Bad input never crashes the host: every failure is a typed exception with a clear message.

Calls that could take the interpreter down if the library traps (a Swift trap is SIGILL,
exit 132) run in a subprocess; the test asserts the subprocess exited 0 and printed the
expected exception name, which proves the interpreter survived.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import stalwart
from onnx_builder import Const, describe, make_model, multi_io_model, node_model, run_isolated
from shared import efficientnet_path


def conv_model() -> bytes:
    """Conv(x[1,3,8,8], w[4,3,3,3]) + Relu: a small valid model with a fixed input shape."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["y"]),
    ]
    w = Const(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    return make_model(nodes, {"x": np.zeros((1, 3, 8, 8), np.float32), "w": w}, ["y"], opset=13)


def two_input_model() -> bytes:
    return node_model("Add", {"a": np.zeros((2, 3), np.float32), "b": np.zeros((2, 3), np.float32)}, opset=13)


@pytest.fixture(scope="module")
def small_model_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("models") / "conv.onnx"
    path.write_bytes(conv_model())
    return path


def check_isolated(code: str, *expected: str, timeout: float = 600) -> str:
    proc = run_isolated(code, timeout=timeout)
    assert proc.returncode == 0, f"the interpreter did not survive: {describe(proc)}"
    for text in expected:
        assert text in proc.stdout, f"expected {text!r} in the output: {describe(proc)}"
    return proc.stdout


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def test_nonexistent_path(tmp_path):
    path = tmp_path / "does-not-exist.onnx"
    with pytest.raises(stalwart.StalwartIOError) as info:
        stalwart.Model(path)
    assert isinstance(info.value, OSError) and isinstance(info.value, stalwart.StalwartError)
    assert info.value.status == 2
    assert "does-not-exist.onnx" in str(info.value), "the message should name the file"


def test_directory_path(tmp_path):
    with pytest.raises(stalwart.StalwartIOError):
        stalwart.Model(tmp_path)


def test_garbage_bytes():
    check_isolated(
        """
        import os, random, stalwart
        rng = random.Random(1)
        blobs = [bytes(rng.randrange(256) for _ in range(n)) for n in (1, 7, 100, 4096, 100000)]
        blobs += [b"\\x00" * 64, b"\\xff" * 64, b"not an onnx model at all", b"\\x08" * 10]
        for blob in blobs:
            try:
                stalwart.Model(blob)
                print("LOADED", len(blob))
            except stalwart.ModelError as e:
                assert str(e), "empty message"
                print("ModelError", len(blob), e)
        """,
        "ModelError",
    )
    # Nothing random may load.
    proc = run_isolated("import stalwart\ntry:\n    stalwart.Model(b'garbage-' * 100)\nexcept stalwart.ModelError as e:\n    print('ModelError', e)")
    assert proc.returncode == 0 and "ModelError" in proc.stdout, describe(proc)


def test_garbage_file(tmp_path):
    path = tmp_path / "garbage.onnx"
    path.write_bytes(os.urandom(5000))
    with pytest.raises(stalwart.ModelError) as info:
        stalwart.Model(path)
    assert str(info.value)


def test_empty_bytes_and_file(tmp_path):
    with pytest.raises(stalwart.ModelError):
        stalwart.Model(b"")
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    with pytest.raises(stalwart.ModelError):
        stalwart.Model(path)


def test_truncations_small_model(tmp_path):
    """Every 7th prefix of a small real model: each must load or raise a StalwartError."""
    path = tmp_path / "conv.onnx"
    path.write_bytes(conv_model())
    out = check_isolated(
        f"""
        import stalwart, sys
        data = open({str(path)!r}, "rb").read()
        counts = {{}}
        for n in range(0, len(data), 7):
            print("cut", n, flush=True)   # the last line names the culprit if we crash
            try:
                m = stalwart.Model(data[:n])
                kind = "loaded"
                m.close()
            except stalwart.StalwartError as e:
                kind = type(e).__name__
                assert str(e), "empty message"
                assert not isinstance(e, stalwart.InternalError), f"cut {{n}}: {{e}}"
            counts[kind] = counts.get(kind, 0) + 1
        print("SUMMARY", sorted(counts.items()))
        """,
        "SUMMARY",
        "ModelError",
    )
    assert "InternalError" not in out


def test_truncations_efficientnet():
    """Cuts of the 18 MB EfficientNet-Lite0 at 48 evenly spaced offsets (plus a few near the
    start and end): never a crash, always ModelError (or a load when only trailing metadata
    is cut)."""
    path = efficientnet_path("lite0")
    check_isolated(
        f"""
        import stalwart
        data = open({str(path)!r}, "rb").read()
        cuts = sorted(set([1, 2, 3, 10, 100, 1000] + [len(data) * k // 48 for k in range(1, 48)]
                          + [len(data) - d for d in (1, 2, 10, 100, 1000)]))
        for n in cuts:
            print("cut", n, flush=True)
            try:
                stalwart.Model(data[:n]).close()
                print("loaded", n)
            except stalwart.ModelError as e:
                assert str(e)
        print("ModelError", "DONE")
        """,
        "DONE",
    )


def test_unsupported_op():
    model = node_model("NonMaxSuppression", {"boxes": np.zeros((1, 4, 4), np.float32),
                                             "scores": np.zeros((1, 1, 4), np.float32)}, opset=13)
    with pytest.raises(stalwart.UnsupportedError) as info:
        stalwart.Model(model)
    assert "NonMaxSuppression" in str(info.value), "the message should name the operator"


@pytest.mark.parametrize("op, attrs", [
    ("Conv", {"dilations": [2**62, 1]}), ("Conv", {"strides": [2**62, 1]}),
    ("Conv", {"pads": [2**62, 0, 0, 0]}), ("Conv", {"pads": [0, 0, 2**62, 2**62]}),
    ("MaxPool", {"kernel_shape": [3, 3], "dilations": [2**62, 1]}),
    ("MaxPool", {"kernel_shape": [3, 3], "pads": [0, 0, 2**62, 0]}),
    ("MaxPool", {"kernel_shape": [2**40, 3]}),
])
def test_huge_window_attributes_are_model_errors(op, attrs):
    """Dilations, strides, pads or kernels of 2⁴⁰–2⁶² made the window arithmetic overflow
    (a trap, killing the process): now a ModelError naming the node, at load, in-process."""
    inits = [numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")] if op == "Conv" else []
    node = helper.make_node(op, ["x", "w"] if op == "Conv" else ["x"], ["y"], **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with pytest.raises(stalwart.ModelError) as info:
        stalwart.Model(model.SerializeToString())
    assert op in str(info.value) and "2³¹" in str(info.value)


def test_unsupported_custom_domain():
    node = helper.make_node("FancyOp", ["x"], ["y"], domain="com.example")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
    model.ir_version = 7
    with pytest.raises(stalwart.UnsupportedError) as info:
        stalwart.Model(model.SerializeToString())
    assert "FancyOp" in str(info.value)


def test_bad_threads():
    model = conv_model()
    for bad in (-1, 1025, 2**31 - 1):
        with pytest.raises(stalwart.InvalidArgument):
            stalwart.Model(model, threads=bad)
    with pytest.raises(TypeError):
        stalwart.Model(model, threads=1.5)
    for ok in (0, 1, 2, 1024):
        stalwart.Model(model, threads=ok).close()


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def conv():
    with stalwart.Model(conv_model(), threads=1) as m:
        yield m


def test_wrong_input_shape(conv):
    for shape in [(1, 3, 9, 8), (1, 4, 8, 8), (3, 8, 8), (1, 1, 3, 8, 8), (2, 3, 8, 8)]:
        with pytest.raises(stalwart.ShapeError) as info:
            conv.run(np.zeros(shape, np.float32))
        assert isinstance(info.value, ValueError)
        assert "x" in str(info.value), f"the message should name the input: {info.value}"


def test_wrong_shape_efficientnet():
    with stalwart.Model(efficientnet_path("lite0"), threads=1) as m:
        with pytest.raises(stalwart.ShapeError) as info:
            m.run(np.zeros((1, 3, 225, 224), np.float32))
        assert "input" in str(info.value)


def test_wrong_dtype(conv):
    # Not safely convertible to float32: passed through, so the library reports the mismatch.
    for dtype in (np.int64, np.int32):
        with pytest.raises(stalwart.ShapeError) as info:
            conv.run(np.zeros((1, 3, 8, 8), dtype))
        assert "x" in str(info.value) and np.dtype(dtype).name in str(info.value)
    # No stalwart_dtype at all: the bindings refuse before calling.
    with pytest.raises(stalwart.ShapeError) as info:
        conv.run(np.zeros((1, 3, 8, 8), np.uint64))
    assert "uint64" in str(info.value)
    with pytest.raises(stalwart.ShapeError) as info:  # complex cannot cross the boundary
        conv.run({"x": np.zeros((1, 3, 8, 8), np.complex64)})
    assert "complex64" in str(info.value)


def test_convertible_dtypes_are_accepted(conv):
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 8, 8))
    want = conv(x.astype(np.float32))
    np.testing.assert_array_equal(conv(x), want)  # float64 -> one copy to float32
    np.testing.assert_array_equal(conv(np.asfortranarray(x.astype(np.float32))), want)
    np.testing.assert_array_equal(conv(x.astype(np.float32)[..., ::-1][..., ::-1]), want)


def test_wrong_input_count_and_name():
    with stalwart.Model(two_input_model()) as m:
        a = np.zeros((2, 3), np.float32)
        with pytest.raises(stalwart.ShapeError):
            m.run({"a": a})  # missing b
        with pytest.raises(stalwart.ShapeError):
            m.run({"a": a, "b": a, "c": a})  # extra
        with pytest.raises(stalwart.ShapeError) as info:
            m.run({"a": a, "nope": a})  # unknown name
        assert "nope" in str(info.value)
        with pytest.raises(stalwart.ShapeError):
            m.run(a)  # a single array for a two-input model
        with pytest.raises(stalwart.ShapeError):
            m.run({})
        np.testing.assert_array_equal(m.run({"b": a + 1, "a": a})["y"], a + 1)  # any order


def test_unknown_output_name(conv):
    with pytest.raises((stalwart.InvalidArgument, stalwart.ShapeError)) as info:
        conv.run(np.zeros((1, 3, 8, 8), np.float32), outputs=["nope"])
    assert "nope" in str(info.value)


def test_closed_model():
    m = stalwart.Model(conv_model())
    m.close()
    m.close()  # idempotent
    for call in (lambda: m.run(np.zeros((1, 3, 8, 8), np.float32)), lambda: m.inputs,
                 lambda: m(np.zeros((1, 3, 8, 8), np.float32))):
        with pytest.raises(stalwart.InvalidArgument) as info:
            call()
        assert "closed" in str(info.value)
    with stalwart.Model(conv_model()) as m2:
        pass
    assert m2.closed
    with pytest.raises(stalwart.InvalidArgument):
        m2.run(np.zeros((1, 3, 8, 8), np.float32))


def test_last_error_is_thread_local():
    with pytest.raises(stalwart.ModelError) as info:
        stalwart.Model(b"garbage")
    here = stalwart._lib.last_error()
    assert here == str(info.value)
    seen = []
    t = threading.Thread(target=lambda: seen.append(stalwart._lib.last_error()))
    t.start()
    t.join()
    assert seen == [""], "another thread must not see this thread's error"


def test_status_strings():
    lib = stalwart._lib
    assert lib.status_string(0) == "ok"
    for code in range(1, 9):
        s = lib.status_string(code)
        assert s and s != "unknown status", code
    assert lib.status_string(9999) == "unknown status"
    assert lib.status_string(-1) == "unknown status"


# ---------------------------------------------------------------------------------------------
# Raw C calls with NULL pointers and odd sizes (in a subprocess).
# ---------------------------------------------------------------------------------------------

RAW_PRELUDE = """
import ctypes, numpy as np, stalwart
from stalwart import _lib
L = _lib.lib
T = _lib.stalwart_tensor
def expect(name, fn, *allowed):
    try:
        fn()
    except stalwart.StalwartError as e:
        assert type(e).__name__ in allowed, f"{name}: {type(e).__name__}: {e}"
        assert str(e), f"{name}: empty message"
        print("RAISED", name, type(e).__name__, "|", e, flush=True)
        return
    raise AssertionError(f"{name}: no error (wanted {allowed})")
def tensor(a, name=None, capacity=None, dtype=None):
    t = T()
    t.struct_size = ctypes.sizeof(T)
    t.dtype = 1 if dtype is None else dtype
    t.name = name
    t.data = a.ctypes.data if a is not None else None
    t.capacity_bytes = a.nbytes if capacity is None else capacity
    t.rank = a.ndim if a is not None else 0
    for i, n in enumerate(a.shape if a is not None else ()):
        t.shape[i] = n
    return t
"""


def test_raw_null_pointers(small_model_path):
    check_isolated(
        RAW_PRELUDE
        + f"""
m = _lib.ModelPtr()
L.stalwart_model_load({str(small_model_path)!r}.encode(), None, ctypes.byref(m))
count = ctypes.c_size_t()
name = ctypes.c_char_p()
rank = ctypes.c_size_t()
opts = _lib.OptionsPtr()
expect("load path NULL", lambda: L.stalwart_model_load(None, None, ctypes.byref(_lib.ModelPtr())), "InvalidArgument")
expect("load out NULL", lambda: L.stalwart_model_load({str(small_model_path)!r}.encode(), None, None), "InvalidArgument")
expect("load_from_memory data NULL", lambda: L.stalwart_model_load_from_memory(None, 100, None, ctypes.byref(_lib.ModelPtr())), "InvalidArgument")
expect("load_from_memory out NULL", lambda: L.stalwart_model_load_from_memory(b"abc", 3, None, None), "InvalidArgument", "ModelError")
expect("options_create NULL", lambda: L.stalwart_options_create(None), "InvalidArgument")
expect("options_set_threads NULL", lambda: L.stalwart_options_set_threads(None, 1), "InvalidArgument")
L.stalwart_options_free(None)
L.stalwart_model_free(None)
expect("input_count model NULL", lambda: L.stalwart_model_input_count(None, ctypes.byref(count)), "InvalidArgument")
expect("input_count out NULL", lambda: L.stalwart_model_input_count(m, None), "InvalidArgument")
expect("output_count out NULL", lambda: L.stalwart_model_output_count(m, None), "InvalidArgument")
expect("input_name index", lambda: L.stalwart_model_input_name(m, 5, ctypes.byref(name)), "InvalidArgument")
expect("input_name out NULL", lambda: L.stalwart_model_input_name(m, 0, None), "InvalidArgument")
expect("output_name index", lambda: L.stalwart_model_output_name(m, 1, ctypes.byref(name)), "InvalidArgument")
expect("input_info index", lambda: L.stalwart_model_input_info(m, 3, None, None, 0, ctypes.byref(rank)), "InvalidArgument")
expect("input_info dims NULL cap 4", lambda: L.stalwart_model_input_info(m, 0, None, None, 4, ctypes.byref(rank)), "InvalidArgument")
expect("input_info rank NULL", lambda: L.stalwart_model_input_info(m, 0, None, None, 0, None), "InvalidArgument")
expect("output_info model NULL", lambda: L.stalwart_model_output_info(None, 0, None, None, 0, ctypes.byref(rank)), "InvalidArgument")
L.stalwart_model_input_info(m, 0, None, None, 0, ctypes.byref(rank))  # query-then-fill: rank only
assert rank.value == 4, rank.value
x = np.zeros((1, 3, 8, 8), np.float32)
y = np.zeros((1, 4, 8, 8), np.float32)
ins = (T * 1)(tensor(x))
outs = (T * 1)(tensor(y))
L.stalwart_model_run(m, ins, 1, outs, 1)  # the valid call works
expect("run model NULL", lambda: L.stalwart_model_run(None, ins, 1, outs, 1), "InvalidArgument")
expect("run inputs NULL", lambda: L.stalwart_model_run(m, None, 1, outs, 1), "InvalidArgument")
expect("run outputs NULL", lambda: L.stalwart_model_run(m, ins, 1, None, 1), "InvalidArgument")
null_in = (T * 1)(tensor(x))
null_in[0].data = None
expect("run input data NULL", lambda: L.stalwart_model_run(m, null_in, 1, outs, 1), "InvalidArgument")
null_out = (T * 1)(tensor(y))
null_out[0].data = None
expect("run output data NULL", lambda: L.stalwart_model_run(m, ins, 1, null_out, 1), "InvalidArgument", "BufferTooSmall")
expect("output_shapes model NULL", lambda: L.stalwart_model_output_shapes(None, ins, 1, outs, 1), "InvalidArgument")
expect("output_shapes outputs NULL", lambda: L.stalwart_model_output_shapes(m, ins, 1, None, 1), "InvalidArgument")
L.stalwart_model_free(m)
print("SURVIVED")
""",
        "SURVIVED",
        "RAISED run inputs NULL InvalidArgument",
    )


def test_raw_odd_tensors(small_model_path):
    """Zero-sized and negative dimensions, rank overflow, short buffers, bad struct_size."""
    out = check_isolated(
        RAW_PRELUDE
        + f"""
m = _lib.ModelPtr()
L.stalwart_model_load({str(small_model_path)!r}.encode(), None, ctypes.byref(m))
x = np.zeros((1, 3, 8, 8), np.float32)
y = np.zeros((1, 4, 8, 8), np.float32)
def run(t_in, t_out=None, n_in=1):
    outs = (T * 1)(t_out if t_out is not None else tensor(y))
    L.stalwart_model_run(m, (T * max(n_in, 1))(t_in), n_in, outs, 1)
def with_shape(shape, rank=None):
    t = tensor(x)
    t.rank = len(shape) if rank is None else rank
    for i, n in enumerate(shape):
        t.shape[i] = n
    return t
expect("zero-sized dim", lambda: run(with_shape((0, 3, 8, 8))), "ShapeError", "InvalidArgument")
expect("zero-sized spatial dim", lambda: run(with_shape((1, 3, 0, 8))), "ShapeError", "InvalidArgument")
expect("negative dim", lambda: run(with_shape((1, 3, -8, 8))), "ShapeError", "InvalidArgument")
expect("huge dims overflow", lambda: run(with_shape((2**62, 3, 2**62, 8))), "ShapeError", "InvalidArgument", "OutOfMemory")
expect("rank 9", lambda: run(with_shape((1, 3, 8, 8), rank=9)), "InvalidArgument", "ShapeError")
expect("rank huge", lambda: run(with_shape((1, 3, 8, 8), rank=2**40)), "InvalidArgument", "ShapeError")
expect("input capacity short", lambda: run(tensor(x, capacity=x.nbytes - 4)), "InvalidArgument", "ShapeError", "BufferTooSmall")
expect("output capacity short", lambda: run(tensor(x), tensor(y, capacity=y.nbytes - 4)), "BufferTooSmall")
expect("output capacity zero", lambda: run(tensor(x), tensor(y, capacity=0)), "BufferTooSmall")
expect("unknown dtype code", lambda: run(tensor(x, dtype=12345)), "ShapeError", "InvalidArgument", "UnsupportedError")
expect("int64 dtype", lambda: run(tensor(np.zeros((1, 3, 8, 8), np.int64), dtype=7)), "ShapeError")
bad = tensor(x); bad.struct_size = 0
expect("struct_size 0", lambda: run(bad), "InvalidArgument")
bad = tensor(x); bad.name = b"nope"
expect("unknown input name", lambda: run(bad), "ShapeError")
expect("input_count 0", lambda: run(tensor(x), n_in=0), "ShapeError")
expect("input_count 2", lambda: (lambda ins: L.stalwart_model_run(m, ins, 2, (T * 1)(tensor(y)), 1))((T * 2)(tensor(x), tensor(x))), "ShapeError")
o = (T * 2)(tensor(y), tensor(y))
expect("output index out of range", lambda: L.stalwart_model_run(m, (T * 1)(tensor(x)), 1, o, 2), "InvalidArgument", "ShapeError")
bad = tensor(y); bad.name = b"nope"
expect("unknown output name", lambda: run(tensor(x), bad), "InvalidArgument", "ShapeError")
# zero outputs requested: nothing to do, must not crash (OK or an error are both fine)
try:
    L.stalwart_model_run(m, (T * 1)(tensor(x)), 1, None, 0)
    print("zero outputs: OK")
except stalwart.StalwartError as e:
    print("zero outputs:", type(e).__name__, e)
opts = _lib.OptionsPtr()
L.stalwart_options_create(ctypes.byref(opts))
for bad_threads in (-1, -2**31, 1025, 2**31 - 1):
    expect(f"threads {{bad_threads}}", lambda: L.stalwart_options_set_threads(opts, bad_threads), "InvalidArgument")
L.stalwart_options_free(opts)
L.stalwart_model_free(m)
print("SURVIVED")
""",
        "SURVIVED",
    )
    assert "RAISED output capacity short BufferTooSmall" in out


def test_raw_output_bound_twice(tmp_path):
    """Two entries for the same output (by position and by name) must be refused like a
    duplicate input, not accepted with only one of the two buffers written."""
    path = tmp_path / "multi.onnx"
    path.write_bytes(multi_io_model())
    check_isolated(
        RAW_PRELUDE
        + f"""
m = _lib.ModelPtr()
L.stalwart_model_load({str(path)!r}.encode(), None, ctypes.byref(m))
a = np.ones((2, 4), np.float32)
k = np.zeros(3, np.int64)
ins = (T * 2)(tensor(a, b"a"), tensor(k, b"k", dtype=7))
y1 = np.full((2, 4), -7, np.float32)
y2 = np.full((2, 4), -7, np.float32)
expect("output bound twice", lambda: L.stalwart_model_run(m, ins, 2, (T * 2)(tensor(y1), tensor(y2, b"s")), 2), "InvalidArgument")
expect("input bound twice", lambda: L.stalwart_model_run(m, (T * 2)(tensor(a, b"a"), tensor(a, b"a")), 2, (T * 1)(tensor(y1)), 1), "InvalidArgument", "ShapeError")
L.stalwart_model_free(m)
print("SURVIVED")
""",
        "SURVIVED",
    )


def test_raw_misaligned_buffers(small_model_path):
    """float32 data at odd addresses, in and out: a correct result or a typed error, never a
    trap (Swift traps on misaligned typed loads in debug builds)."""
    check_isolated(
        RAW_PRELUDE
        + f"""
m = _lib.ModelPtr()
L.stalwart_model_load({str(small_model_path)!r}.encode(), None, ctypes.byref(m))
x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)
y = np.zeros((1, 4, 8, 8), np.float32)
L.stalwart_model_run(m, (T * 1)(tensor(x)), 1, (T * 1)(tensor(y)), 1)
ib = bytearray(x.nbytes + 3); xa = np.frombuffer(ib, np.float32, x.size, offset=1).reshape(x.shape)
ob = bytearray(y.nbytes + 3); ya = np.frombuffer(ob, np.float32, y.size, offset=3).reshape(y.shape)
xa[...] = x
assert not xa.flags.aligned and not ya.flags.aligned
try:
    L.stalwart_model_run(m, (T * 1)(tensor(xa)), 1, (T * 1)(tensor(ya)), 1)
    assert np.array_equal(ya, y), "misaligned run differs"
    print("MISALIGNED-OK")
except stalwart.StalwartError as e:
    print("RAISED", type(e).__name__, e)
L.stalwart_model_free(m)
print("SURVIVED")
""",
        "SURVIVED",
    )
    # The bindings copy a misaligned array instead of passing it.
    with stalwart.Model(small_model_path) as model:
        x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 8, 8)).astype(np.float32)
        buf = bytearray(x.nbytes + 1)
        xa = np.frombuffer(buf, np.float32, x.size, offset=1).reshape(x.shape)
        xa[...] = x
        np.testing.assert_array_equal(model(xa), model(x))


def test_free_while_other_models_live():
    """Loading and freeing many models (and double close through the wrapper) is safe."""
    model = conv_model()
    check_isolated(
        f"""
        import stalwart, numpy as np, gc
        data = {model!r}
        ms = [stalwart.Model(data, threads=1) for _ in range(20)]
        x = np.zeros((1, 3, 8, 8), np.float32)
        for i, m in enumerate(ms):
            if i % 2: m.close()
        for i, m in enumerate(ms):
            if not i % 2: m(x)
        del ms; gc.collect()
        print("SURVIVED")
        """,
        "SURVIVED",
    )


# ---------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------


def cli_path(repo_root: Path) -> Path | None:
    env = os.environ.get("STALWART_CLI")
    if env:
        return Path(env)
    for p in (repo_root / ".build" / "release" / "stalwart",):
        if p.is_file():
            return p
    return None


def test_cli_garbage_model(tmp_path, repo_root):
    cli = cli_path(repo_root)
    if cli is None or not cli.is_file():
        pytest.skip("stalwart CLI not found (set STALWART_CLI or build .build/release/stalwart)")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(os.urandom(3000))
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 3, 8, 8), np.float32))
    for argv in (["info", str(garbage)],
                 ["run", str(garbage), "--input", str(x), "--output", str(tmp_path / "y.npy")],
                 ["info", str(tmp_path / "missing.onnx")]):
        proc = subprocess.run([str(cli), *argv], capture_output=True, text=True, timeout=120)
        assert proc.returncode > 0, f"stalwart {' '.join(argv)}: {describe(proc)}"
        message = (proc.stderr + proc.stdout).strip()
        assert "error" in message.lower() and len(message) > 10, f"no message: {describe(proc)}"
        assert "Fatal error" not in message and "Stack dump" not in message, describe(proc)
