"""Test helpers: build small ONNX models with onnx.helper, run them with onnxruntime and with
Stalwart, compare, and run code in an isolated interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parents[2]
BINDINGS = REPO / "bindings" / "python"

# Filled by test_conformance.py, printed by conftest.pytest_terminal_summary:
# {"passed": [case], "failed": [(case, reason)], "skipped": [(case, reason)]}.
CONFORMANCE_REPORT: dict[str, list] = {"passed": [], "failed": [], "skipped": []}


class Const:
    """Marks a node input that is a graph initializer (a constant), not a fed input."""

    def __init__(self, value: Any, dtype: Any = None):
        self.value = np.asarray(value, dtype=dtype)


def make_model(
    nodes: list[onnx.NodeProto] | onnx.NodeProto,
    inputs: dict[str, Any],
    outputs: Iterable[str],
    opset: int = 17,
    ir_version: int | None = None,
    output_dtypes: dict[str, int] | None = None,
) -> bytes:
    """Serialized model of `nodes`.

    `inputs` maps a name to either an array (a fed graph input with that dtype and fixed
    shape) or a :class:`Const` (an initializer). Output types come from ONNX shape inference
    (strict off); `output_dtypes` gives the element type of outputs inference cannot type.
    """
    if isinstance(nodes, onnx.NodeProto):
        nodes = [nodes]
    graph_inputs, inits = [], []
    for name, value in inputs.items():
        if isinstance(value, Const):
            inits.append(numpy_helper.from_array(value.value, name))
        else:
            a = np.asarray(value)
            graph_inputs.append(
                helper.make_tensor_value_info(
                    name, helper.np_dtype_to_tensor_dtype(a.dtype), list(a.shape)
                )
            )
    outputs = list(outputs)
    first = next(iter(inputs.values()), None)
    guess = (
        helper.np_dtype_to_tensor_dtype(
            (first.value if isinstance(first, Const) else np.asarray(first)).dtype
        )
        if first is not None
        else TensorProto.FLOAT
    )
    outs0 = [
        helper.make_tensor_value_info(n, (output_dtypes or {}).get(n, TensorProto.UNDEFINED), None)
        for n in outputs
    ]
    # The oldest IR version that allows this opset (what an exporter of that era wrote).
    if ir_version is None:
        try:
            ir_version = helper.find_min_ir_version_for([helper.make_opsetid("", opset)])
        except ValueError:  # opsets between releases (e.g. 2) are not in onnx's table
            ir_version = 3
    ir = max(ir_version, 3)
    if ir < 4:  # before IR 4 every initializer must also be listed as a graph input
        graph_inputs += [
            helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in inits
        ]
    graph = helper.make_graph(nodes, "test", graph_inputs, outs0, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
        known = {vi.name: vi for vi in list(inferred.graph.value_info) + list(inferred.graph.output)}
        new_outs = []
        for o in outs0:
            vi = known.get(o.name)
            if vi is not None and vi.type.tensor_type.elem_type != TensorProto.UNDEFINED:
                new_outs.append(vi)
            elif o.type.tensor_type.elem_type != TensorProto.UNDEFINED:
                new_outs.append(o)
            else:  # inference could not type it (e.g. function ops): assume the input's type
                new_outs.append(helper.make_tensor_value_info(o.name, guess, None))
        del model.graph.output[:]
        model.graph.output.extend(new_outs)
    except Exception:
        pass
    return model.SerializeToString()


def node_model(
    op: str,
    inputs: dict[str, Any],
    outputs: Iterable[str] = ("y",),
    opset: int = 17,
    node_inputs: list[str] | None = None,
    **attrs: Any,
) -> bytes:
    """A single-node model ``op(inputs...) -> outputs`` with attributes `attrs`.

    `node_inputs` lists the node's input names in order ("" for an omitted optional input);
    default: the keys of `inputs` in order.
    """
    outputs = list(outputs)
    node = helper.make_node(
        op, node_inputs if node_inputs is not None else list(inputs), outputs, **attrs
    )
    return make_model(node, inputs, outputs, opset=opset)


def multi_io_model() -> bytes:
    """Inputs a [N, 4] float32 and k [3] int64; outputs s = a + 1, t = shape(a), m = a * 2."""
    nodes = [
        helper.make_node("Add", ["a", "one"], ["s"]),
        helper.make_node("Shape", ["a"], ["t"]),
        helper.make_node("Mul", ["a", "two"], ["m0"]),
        helper.make_node("Gather", ["m0", "k"], ["m"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("k", TensorProto.INT64, [3])],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, ["N", 4]),
         helper.make_tensor_value_info("t", TensorProto.INT64, [2]),
         helper.make_tensor_value_info("m", TensorProto.FLOAT, ["N", 3])],
        initializer=[helper.make_tensor("one", TensorProto.FLOAT, [], [1.0]),
                     helper.make_tensor("two", TensorProto.FLOAT, [], [2.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model.SerializeToString()


def feeds_of(inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """The fed (non-Const) inputs of a `node_model` input dict."""
    return {k: np.asarray(v) for k, v in inputs.items() if not isinstance(v, Const)}


def run_ort(model: bytes, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Reference outputs from onnxruntime's CPU provider with graph optimisations off, so
    each operator is evaluated as written."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.intra_op_num_threads = 1
    so.log_severity_level = 3
    sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


def assert_outputs_close(
    got: dict[str, np.ndarray],
    want: dict[str, np.ndarray],
    rtol: float,
    atol: float,
    context: str = "",
) -> None:
    """Every reference output is present with the same shape and dtype; floats compare with
    ``assert_allclose(rtol, atol)``, integers and booleans exactly."""
    assert set(got) == set(want), f"{context}: outputs {sorted(got)} != {sorted(want)}"
    for name, w in want.items():
        g = got[name]
        assert g.dtype == w.dtype, f"{context}: output {name!r} dtype {g.dtype} != {w.dtype}"
        assert g.shape == w.shape, f"{context}: output {name!r} shape {g.shape} != {w.shape}"
        if w.dtype.kind == "f":
            np.testing.assert_allclose(
                g, w, rtol=rtol, atol=atol, err_msg=f"{context}: output {name!r}"
            )
        else:
            np.testing.assert_array_equal(g, w, err_msg=f"{context}: output {name!r}")


def max_abs_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def isolated_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(BINDINGS), str(Path(__file__).resolve().parent)]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    try:  # pin the child to the very library this process loaded
        import stalwart

        env["STALWART_LIB"] = stalwart.library_path
    except ImportError:
        pass
    return env


def run_isolated(code: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """Runs `code` (dedented) in a fresh ``sys.executable -c`` with the bindings importable.

    A crash (SIGSEGV, SIGILL from a Swift trap, abort) shows up as a non-zero/negative
    ``returncode`` instead of killing the test process."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=isolated_env(),
    )


def describe(proc: subprocess.CompletedProcess) -> str:
    """Exit status, stdout and stderr of a subprocess, for assertion messages."""
    rc = proc.returncode
    how = f"killed by signal {-rc}" if rc < 0 else f"exit {rc}"
    return f"{how}\n--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"


# ---------------------------------------------------------------------------------------------
# Running Stalwart in a crash-isolating worker process.
#
# A model that crashes the engine (a segfault or a Swift trap) would otherwise kill pytest and
# hide every later result. The conformance and per-operator suites therefore run each model in
# one long-lived worker process (spawned once, reused across tests); if it dies, the test fails
# with EngineCrash naming the signal and a fresh worker is started for the next test. Set
# STALWART_TEST_INPROCESS=1 to run in-process instead (for debuggers).
# ---------------------------------------------------------------------------------------------


class EngineCrash(Exception):
    """The engine killed (or hung) the worker process while handling a model."""


_pool = None


def _worker_run(model, feeds, threads_list, via_file=None):
    """Loads `model` once per thread count and runs it on `feeds` (a dict, or a list of dicts
    for several data sets); returns one result (dict, or list of dicts) per thread count.
    Where `via_file[i]` is true, model bytes are written to a temporary file and loaded by
    path (stalwart_model_load) instead of from memory (stalwart_model_load_from_memory)."""
    import tempfile

    import stalwart

    results = []
    for i, threads in enumerate(threads_list):
        source, tmp = model, None
        if via_file and via_file[i] and isinstance(model, (bytes, bytearray)):
            tmp = tempfile.NamedTemporaryFile(suffix=".onnx", delete=False)
            tmp.write(model)
            tmp.close()
            source = tmp.name
        try:
            with stalwart.Model(source, threads=threads) as m:
                if isinstance(feeds, list):
                    results.append([m.run(f) for f in feeds])
                else:
                    results.append(m.run(feeds))
        finally:
            if tmp is not None:
                os.unlink(tmp.name)
    return results


def _discard_pool(hung: bool) -> str:
    """Kills the current worker; returns how its processes ended."""
    global _pool
    pool, _pool = _pool, None
    how = []
    if pool is not None:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for p in procs:
            if not hung:
                p.join(10)  # it died: wait until it is reaped to read its exit status
            if p.exitcode is None:
                p.kill()
                p.join(10)
                how.append("killed after timeout" if hung else "killed")
            elif p.exitcode < 0:
                import signal

                try:
                    how.append(f"signal {signal.Signals(-p.exitcode).name}")
                except ValueError:
                    how.append(f"signal {-p.exitcode}")
            else:
                how.append(f"exit {p.exitcode}")
        pool.shutdown(wait=False, cancel_futures=True)
    return ", ".join(how) or "unknown"


def run_stalwart(model, feeds, threads=(1,), via_file=None, timeout: float = 600):
    """``[Model(model, threads=t).run(feeds) for t in threads]``, in the worker process
    (`model`: path or bytes; `feeds`: a dict, or a list of dicts run on the same model;
    `via_file`: per thread count, load bytes through a temporary file).

    StalwartError exceptions propagate with their type and message; a dead or hung worker
    raises :class:`EngineCrash`."""
    global _pool
    if os.environ.get("STALWART_TEST_INPROCESS"):
        return _worker_run(model, feeds, list(threads), via_file)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures import TimeoutError as FutureTimeout
    from concurrent.futures.process import BrokenProcessPool

    if _pool is None:
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    future = _pool.submit(_worker_run, model, feeds, list(threads), via_file)
    try:
        return future.result(timeout=timeout)
    except BrokenProcessPool:
        raise EngineCrash(f"the engine crashed the worker process ({_discard_pool(False)})") from None
    except FutureTimeout:
        raise EngineCrash(f"no result after {timeout:.0f} s ({_discard_pool(True)})") from None
