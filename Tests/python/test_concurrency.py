"""Four Python threads sharing one Model (threads=2) produce outputs bitwise identical to
sequential runs. ctypes releases the GIL during stalwart_model_run, so the calls really do
overlap inside the library; the header promises per-call scratch memory and reentrancy."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from onnx import helper

import stalwart
from onnx_builder import Const, make_model
from shared import efficientnet_path

N_THREADS = 4
RUNS_PER_THREAD = 20


def hammer(model: stalwart.Model, inputs: list[np.ndarray], expected: list[np.ndarray], runs: int):
    """Each thread cycles through all inputs starting at its own offset, so concurrent calls
    carry different data; every result must equal the sequential one bit for bit."""
    errors: list[str] = []
    barrier = threading.Barrier(N_THREADS)

    def work(tid: int):
        try:
            barrier.wait()
            for r in range(runs):
                k = (tid + r) % len(inputs)
                got = model(inputs[k])
                if got.dtype != expected[k].dtype or got.shape != expected[k].shape or \
                        got.tobytes() != expected[k].tobytes():
                    diff = np.max(np.abs(got.astype(np.float64) - expected[k]))
                    errors.append(f"thread {tid} run {r} input {k}: differs (max |Δ| {diff:.3g})")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"thread {tid}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "\n".join(errors[:20])


def test_efficientnet_shared_model():
    with stalwart.Model(efficientnet_path("lite0"), threads=2) as model:
        rng = np.random.default_rng(7)
        inputs = [rng.uniform(-1, 1, (1, 3, 224, 224)).astype(np.float32) for _ in range(N_THREADS)]
        expected = [model(x) for x in inputs]  # sequential reference, same model
        hammer(model, inputs, expected, RUNS_PER_THREAD)


def test_small_model_many_runs():
    """A cheap conv/pool/gemm model with more runs, to raise the chance of interleavings."""
    rng = np.random.default_rng(3)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1),
    ]
    inits = {
        "w": Const(rng.standard_normal((16, 3, 3, 3)).astype(np.float32)),
        "b": Const(rng.standard_normal(16).astype(np.float32)),
        "fc": Const(rng.standard_normal((10, 16)).astype(np.float32)),
    }
    data = make_model(nodes, {"x": np.zeros((2, 3, 32, 32), np.float32), **inits}, ["y"], opset=13)
    with stalwart.Model(data, threads=2) as model:
        inputs = [rng.uniform(-1, 1, (2, 3, 32, 32)).astype(np.float32) for _ in range(8)]
        expected = [model(x) for x in inputs]
        hammer(model, inputs, expected, 200)


def test_close_while_running_is_deferred():
    """close() from another thread during runs frees the model only after they return;
    later calls raise InvalidArgument instead of touching freed memory."""
    with stalwart.Model(efficientnet_path("lite0"), threads=2) as model:
        x = np.zeros((1, 3, 224, 224), np.float32)
        started = threading.Event()
        results: list[object] = []

        def run():
            started.set()
            try:
                for _ in range(3):
                    results.append(model(x).shape)
            except stalwart.InvalidArgument as e:
                results.append(e)

        t = threading.Thread(target=run)
        t.start()
        started.wait()
        model.close()
        t.join()
        assert results, "the running thread produced nothing"
        assert all(r == (1, 1000) or isinstance(r, stalwart.InvalidArgument) for r in results), results
        with pytest.raises(stalwart.InvalidArgument):
            model(x)
