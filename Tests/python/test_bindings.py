"""The public Python API of the bindings: loading from paths and buffers, metadata, binding
inputs by name or position, output subsets, lifetime, and GIL release."""

from __future__ import annotations

import os
import pathlib
import threading
import time

import numpy as np
import onnx
import pytest
from onnx import helper

import stalwart
from onnx_builder import Const, make_model, multi_io_model, run_ort
from shared import efficientnet_path


@pytest.fixture(scope="module")
def multi():
    with stalwart.Model(multi_io_model(), threads=1) as m:
        yield m


def test_metadata(multi):
    assert multi.inputs == [
        stalwart.TensorInfo("a", (None, 4), np.dtype(np.float32)),
        stalwart.TensorInfo("k", (3,), np.dtype(np.int64)),
    ]
    assert [o.name for o in multi.outputs] == ["s", "t", "m"]
    assert multi.outputs[1] == stalwart.TensorInfo("t", (2,), np.dtype(np.int64))
    assert multi.outputs[2].shape == (None, 3)
    assert "a: float32[None, 4]" in repr(multi)


def test_run_by_name_and_subsets(multi):
    a = np.arange(20, dtype=np.float32).reshape(5, 4)
    k = np.array([3, 0, -1], np.int64)
    out = multi.run({"k": k, "a": a})
    assert list(out) == ["s", "t", "m"]
    np.testing.assert_array_equal(out["s"], a + 1)
    np.testing.assert_array_equal(out["t"], [5, 4])
    np.testing.assert_array_equal(out["m"], (a * 2)[:, [3, 0, 3]])
    assert out["t"].dtype == np.int64
    only = multi.run({"a": a, "k": k}, outputs=["m", "s"])
    assert list(only) == ["m", "s"]
    np.testing.assert_array_equal(only["m"], out["m"])
    # model(x) is the first output; outputs are fresh, writable, owned arrays.
    first = multi({"a": a, "k": k})
    np.testing.assert_array_equal(first, a + 1)
    assert first.flags.writeable and first.flags.owndata and first.flags.c_contiguous
    with pytest.raises(TypeError):
        multi.run({"a": a, "k": k}, outputs="s")


def test_loading_sources(tmp_path):
    data = multi_io_model()
    path = tmp_path / "m.onnx"
    path.write_bytes(data)
    a = np.ones((2, 4), np.float32)
    k = np.zeros(3, np.int64)
    want = stalwart.Model(data).run({"a": a, "k": k})
    for source in (str(path), path, pathlib.PurePosixPath(path), os.fsencode(str(path)).decode(),
                   bytearray(data), memoryview(data), np.frombuffer(data, np.uint8)):
        with stalwart.Model(source, threads=1) as m:
            got = m.run({"a": a, "k": k})
            for name in want:
                np.testing.assert_array_equal(got[name], want[name])
    with pytest.raises(TypeError):
        stalwart.Model(12345)


def test_single_array_input_and_layouts():
    rng = np.random.default_rng(0)
    w = Const(rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
    data = make_model(helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3]),
                      {"x": np.zeros((2, 3, 7, 7), np.float32), "w": w}, ["y"], opset=13)
    x = rng.uniform(-1, 1, (2, 3, 7, 7)).astype(np.float32)
    want = run_ort(data, {"x": x})["y"]
    with stalwart.Model(data) as m:
        for variant in (x, x.tolist(), np.asfortranarray(x), x.astype(np.float64),
                        np.ascontiguousarray(x[:, :, ::-1])[:, :, ::-1], x.astype(">f4")):
            np.testing.assert_allclose(m(variant), want, rtol=1e-5, atol=1e-5)
        # The caller's arrays are never modified.
        x_copy = x.copy()
        m(x)
        np.testing.assert_array_equal(x, x_copy)


def test_repeated_calls_fast_path():
    """model(x) with one float array takes a cached-shape path after its first call per input
    shape: every batch size, repeated, from several threads, equals ONNX Runtime; arrays the
    path must not take (strided, float64) still convert; a closed model still raises."""
    rng = np.random.default_rng(3)
    w = Const(rng.standard_normal((5, 3, 3, 3)).astype(np.float32))
    proto = onnx.load_from_string(
        make_model(helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                   {"x": np.zeros((1, 3, 6, 6), np.float32), "w": w}, ["y"], opset=13))
    for v in (proto.graph.input[0], proto.graph.output[0]):
        v.type.tensor_type.shape.dim[0].dim_param = "N"  # any batch size
    data = proto.SerializeToString()
    m = stalwart.Model(data, threads=1)
    xs = {b: rng.uniform(-1, 1, (b, 3, 6, 6)).astype(np.float32) for b in (1, 3, 2)}
    want = {b: run_ort(data, {"x": x})["y"] for b, x in xs.items()}
    for _ in range(3):
        for b, x in xs.items():
            got = m(x)
            assert got.shape == (b, 5, 6, 6) and got.flags.owndata and got.flags.writeable
            np.testing.assert_allclose(got, want[b], rtol=1e-5, atol=1e-5)
    assert set(m._output_of_shape) == {x.shape for x in xs.values()}  # the cached path ran
    np.testing.assert_allclose(m(xs[2].astype(np.float64)), want[2], rtol=1e-5, atol=1e-5)
    strided = np.repeat(xs[3], 2, axis=0)[::2]
    np.testing.assert_allclose(m(strided), want[3], rtol=1e-5, atol=1e-5)
    errors = []

    def worker(b):
        try:
            for _ in range(50):
                np.testing.assert_allclose(m(xs[b]), want[b], rtol=1e-5, atol=1e-5)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(b,)) for b in (1, 3, 2, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with pytest.raises(stalwart.ShapeError):
        m(np.zeros((2, 4, 6, 6), np.float32))  # wrong channel count: reported, not cached
    m.close()
    with pytest.raises(stalwart.InvalidArgument):
        m(xs[1])


def test_threads_option_gives_identical_results():
    x = np.random.default_rng(5).uniform(-1, 1, (2, 3, 224, 224)).astype(np.float32)
    outs = []
    for threads in (None, 0, 1, 2):
        with stalwart.Model(efficientnet_path("lite0"), threads=threads) as m:
            outs.append(m(x))
    for o in outs[1:]:
        np.testing.assert_allclose(o, outs[0], rtol=0, atol=1e-4)


def test_gil_released_during_run():
    """While one thread is inside stalwart_model_run, Python code keeps running."""
    with stalwart.Model(efficientnet_path("lite0"), threads=1) as m:
        x = np.zeros((4, 3, 224, 224), np.float32)
        m(x[:1])  # warm up
        done = threading.Event()
        t = threading.Thread(target=lambda: (m(x), m(x), done.set()))
        ticks = 0
        start = time.perf_counter()
        t.start()
        while not done.is_set():
            ticks += 1
            time.sleep(0)
        t.join()
        elapsed = time.perf_counter() - start
    # With the GIL held for the whole call, the loop could not run during it at all.
    assert ticks > 100, f"only {ticks} loop iterations in {elapsed:.3f} s"


def test_module_surface():
    assert stalwart.API_VERSION == 5
    assert os.path.isfile(stalwart.library_path)
    for name in ("StalwartError", "InvalidArgument", "StalwartIOError", "ModelError",
                 "UnsupportedError", "ShapeError", "OutOfMemory", "BufferTooSmall",
                 "InternalError", "Model", "TensorInfo", "version", "api_version", "evaluate", "report", "Results"):
        assert hasattr(stalwart, name), name
