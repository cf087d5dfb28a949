"""ONNX backend conformance data shipped in the onnx wheel, run through Stalwart.

Sources: ``onnx/backend/test/data/{pytorch-converted,pytorch-operator,simple}/<case>/model.onnx``
with ``test_data_set_*/{input,output}_*.pb``, and ``light/light_<net>.onnx`` (whole networks
with constant weights) whose input is the onnx runner's dummy input ``arange(n)/n`` and whose
expected output is ``light_<net>_output_0.pb``.

One test per case:
* a case that uses an operator outside ``supported_ops.SUPPORTED_OPS`` (or a non-default
  domain) is skipped, naming the operators;
* a case whose default-domain opset is outside ``supported_ops.SUPPORTED_OPSETS`` is skipped,
  naming the opset, and gets a twin ``<case>@opset13``: the model upgraded with
  ``onnx.version_converter``, run against the same data (skipped if onnxruntime cannot
  reproduce the reference with the upgraded model, i.e. the legacy semantics did not carry);
* a case with non-tensor inputs (sequences, optionals) or inputs that are not float32/int64
  is skipped, naming the type;
* every other case must load and match every reference output whose dtype crosses the C
  boundary: float outputs with ``assert_allclose(rtol=1e-3, atol=1e-5)`` (the tolerance the
  ONNX backend runner itself uses for these model tests), others exactly.

A summary (skips by operator, failures with their errors) is printed at the end of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

import stalwart
from onnx_builder import CONFORMANCE_REPORT, EngineCrash, max_abs_diff, run_stalwart
from supported_ops import SUPPORTED_OPS, SUPPORTED_OPSETS

RTOL, ATOL = 1e-3, 1e-5
# Opset that cases outside SUPPORTED_OPSETS are upgraded to (their "@opsetN" twins).
CONVERT_TO = 13
DATA = Path(onnx.__file__).resolve().parent / "backend" / "test" / "data"
SUITES = ("pytorch-converted", "pytorch-operator", "light", "simple")

# Input element types the suite feeds (as the brief allows, others are skipped).
FED_DTYPES = {TensorProto.FLOAT: np.float32, TensorProto.INT64: np.int64}
# Output element types that can cross the C boundary (stalwart_dtype values).
BOUNDARY_DTYPES = {
    np.dtype(np.float32), np.dtype(np.uint8), np.dtype(np.int8), np.dtype(np.int32),
    np.dtype(np.int64), np.dtype(np.bool_), np.dtype(np.float64),
}


@dataclass
class ConfCase:
    id: str
    model_path: Path
    # Each data set: (inputs in graph-input order, reference outputs in graph-output order).
    # Loaded lazily (light models' inputs are generated).
    data_dirs: list[Path] = field(default_factory=list)
    light_output: Path | None = None
    skip: str | None = None
    ops: list[str] = field(default_factory=list)
    # Set on the "@opsetN" twin of a case whose own opset is outside SUPPORTED_OPSETS: the
    # model is upgraded with onnx.version_converter and checked against the same data.
    convert_to: int | None = None


def _graph_ops(graph: onnx.GraphProto) -> set[str]:
    ops = set()
    for node in graph.node:
        ops.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}:{node.op_type}")
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                ops |= _graph_ops(attr.g)
            for g in attr.graphs:
                ops |= _graph_ops(g)
    return ops


def _fed_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    inits = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in inits]


def _elem_name(elem: int) -> str:
    return TensorProto.DataType.Name(elem).lower() if elem in TensorProto.DataType.values() else str(elem)


def discover() -> list[ConfCase]:
    cases = []
    for suite in SUITES:
        if suite == "light":
            paths = sorted((DATA / suite).glob("*.onnx"))
        else:
            paths = sorted((DATA / suite).glob("*/model.onnx"))
        for path in paths:
            name = path.stem if suite == "light" else path.parent.name
            case = ConfCase(f"{suite}/{name}", path)
            if suite == "light":
                out = path.with_name(f"{path.stem}_output_0.pb")
                case.light_output = out if out.is_file() else None
            else:
                case.data_dirs = sorted(path.parent.glob("test_data_set_*"))
            try:
                model = onnx.load(str(path), load_external_data=False)
            except Exception as e:  # pragma: no cover - the wheel's data is valid
                case.skip = f"onnx cannot load the model: {e}"
                cases.append(case)
                continue
            ops = _graph_ops(model.graph)
            case.ops = sorted(ops)
            missing = sorted(op for op in ops if op not in SUPPORTED_OPS)
            opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
            if missing:
                case.skip = "unsupported ops: " + ", ".join(missing)
            for vi in _fed_inputs(model) if case.skip is None else []:
                kind = vi.type.WhichOneof("value")
                if kind != "tensor_type":
                    case.skip = f"non-tensor input type: {kind}"
                    break
                elem = vi.type.tensor_type.elem_type
                if elem not in FED_DTYPES:
                    case.skip = f"input dtype: {_elem_name(elem)}"
                    break
            if case.skip is None and suite == "light" and case.light_output is None:
                case.skip = "no reference output"
            if case.skip is None and suite != "light" and not case.data_dirs:
                case.skip = "no test data set"
            if case.skip is None and opset is not None and opset not in SUPPORTED_OPSETS:
                case.skip = (f"opset {opset} outside supported_ops.SUPPORTED_OPSETS "
                             f"({SUPPORTED_OPSETS.start}-{SUPPORTED_OPSETS.stop - 1})")
                twin = ConfCase(f"{case.id}@opset{CONVERT_TO}", path, case.data_dirs,
                                case.light_output, None, case.ops, CONVERT_TO)
                cases += [case, twin]
                continue
            cases.append(case)
    return cases


CASES = discover() if DATA.is_dir() else []


def _read_tensor(path: Path) -> np.ndarray:
    t = TensorProto()
    t.ParseFromString(path.read_bytes())
    return numpy_helper.to_array(t)


def _data_sets(case: ConfCase, model: onnx.ModelProto):
    fed = _fed_inputs(model)
    if case.light_output is not None:
        # onnx's runner: dummy input arange(n)/n with symbolic dims set to 1 (runner/__init__.py).
        feeds = {}
        for vi in fed:
            shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in vi.type.tensor_type.shape.dim)
            n = int(np.prod(shape))
            feeds[vi.name] = (np.arange(n).reshape(shape) / n).astype(np.float32)
        yield "dummy", feeds, [_read_tensor(case.light_output)]
        return
    for d in case.data_dirs:
        n_in = len(list(d.glob("input_*.pb")))
        n_out = len(list(d.glob("output_*.pb")))
        # input_i.pb binds to graph.input[i] (the runner's convention, initializers included
        # in old IR versions); map to the fed inputs by name when the file carries one.
        feeds = {}
        for i in range(n_in):
            t = TensorProto()
            t.ParseFromString((d / f"input_{i}.pb").read_bytes())
            name = t.name or model.graph.input[i].name
            feeds[name] = numpy_helper.to_array(t)
        outs = [_read_tensor(d / f"output_{i}.pb") for i in range(n_out)]
        yield d.name, feeds, outs


def _converted(case: ConfCase, model: onnx.ModelProto, sets) -> bytes:
    """The model upgraded to `case.convert_to`, provided onnxruntime reproduces the reference
    outputs with it (legacy semantics, e.g. PRelu-6's channel-wise slope, do not always carry
    over); otherwise the case is skipped."""
    from onnx import version_converter
    import onnxruntime as ort

    def skip(reason: str):
        CONFORMANCE_REPORT["skipped"].append((case.id, reason))
        pytest.skip(reason)

    try:
        upgraded = version_converter.convert_version(model, case.convert_to)
        upgraded.ir_version = max(upgraded.ir_version, 7)  # initializers need not be inputs
        onnx.checker.check_model(upgraded, full_check=True)
        data = upgraded.SerializeToString()
        so = ort.SessionOptions()
        so.log_severity_level = 4
        sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
        for _, feeds, want in sets:
            for g, w in zip(sess.run(None, feeds), want):
                np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)
    except Exception as e:  # noqa: BLE001
        skip(f"not reproducible after conversion to opset {case.convert_to}: {type(e).__name__}")
    return data


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_conformance(case: ConfCase):
    if case.skip:
        CONFORMANCE_REPORT["skipped"].append((case.id, case.skip))
        pytest.skip(case.skip)
    ops = ",".join(case.ops)
    try:
        model_proto = onnx.load(str(case.model_path))
        fed_names = {vi.name for vi in _fed_inputs(model_proto)}
        out_names = [o.name for o in model_proto.graph.output]
        sets = [(ds, {k: v for k, v in feeds.items() if k in fed_names}, want)
                for ds, feeds, want in _data_sets(case, model_proto)]
        model_arg = str(case.model_path)
        if case.convert_to is not None:
            model_arg = _converted(case, model_proto, sets)
        (results,) = run_stalwart(model_arg, [feeds for _, feeds, _ in sets], threads=(1,))
        compared = 0
        for (ds_name, _, want), got in zip(sets, results):
            for name, w in zip(out_names, want):
                if w.dtype not in BOUNDARY_DTYPES:
                    continue  # e.g. float16 / string references: nothing comparable
                g = got[name]
                ctx = f"{case.id} {ds_name} output {name!r}"
                assert g.dtype.kind == w.dtype.kind, f"{ctx}: dtype {g.dtype} vs reference {w.dtype}"
                assert g.shape == w.shape, f"{ctx}: shape {g.shape} vs reference {w.shape}"
                if w.dtype.kind == "f":
                    err = max_abs_diff(g, w)
                    np.testing.assert_allclose(g, w.astype(g.dtype), rtol=RTOL, atol=ATOL,
                                               err_msg=f"{ctx} (max |Δ| {err:.3g})")
                else:
                    np.testing.assert_array_equal(g, w, err_msg=ctx)
                compared += 1
        if compared == 0:
            CONFORMANCE_REPORT["skipped"].append((case.id, "no comparable output dtype"))
            pytest.skip("no reference output has a dtype that crosses the C boundary")
    except AssertionError as e:
        lines = [line.strip() for line in str(e).strip().splitlines() if line.strip()]
        keep = [line for line in lines if line.startswith(("Max absolute", "Max relative", "Mismatched"))]
        detail = "; ".join(lines[:1] + keep)[:400]
        CONFORMANCE_REPORT["failed"].append((case.id, f"[{ops}] {detail}"))
        raise
    except (stalwart.StalwartError, EngineCrash) as e:
        CONFORMANCE_REPORT["failed"].append((case.id, f"[{ops}] {type(e).__name__}: {e}"[:400]))
        raise
    CONFORMANCE_REPORT["passed"].append(case.id)
