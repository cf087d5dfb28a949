"""Models whose weights live in external-data files next to the .onnx (as large exports are
saved), against ONNX Runtime; and the refusals that must be clear errors."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnx_builder
import stalwart


def conv_model() -> onnx.ModelProto:
    rng = np.random.default_rng(7)
    w = numpy_helper.from_array(rng.standard_normal((16, 3, 3, 3)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.standard_normal(16).astype(np.float32), "b")
    fc = numpy_helper.from_array(rng.standard_normal((10, 16)).astype(np.float32), "fc")
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("GlobalAveragePool", ["r"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "fc"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "ext", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], [w, b, fc])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def save_external(tmp_path, model, location="weights.bin"):
    path = tmp_path / "model.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=0)
    return path


def test_external_data_matches_ort(tmp_path):
    path = save_external(tmp_path, conv_model())
    assert (tmp_path / "weights.bin").stat().st_size > 1000
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    want = onnx_builder.run_ort(onnx.load(str(path)).SerializeToString(), {"x": x})["y"]
    with stalwart.Model(str(path)) as m:
        np.testing.assert_allclose(m(x), want, rtol=1e-4, atol=1e-5)


def test_external_data_from_memory_is_refused(tmp_path):
    path = save_external(tmp_path, conv_model())
    with pytest.raises(stalwart.UnsupportedError, match="external data"):
        stalwart.Model(path.read_bytes())


def test_missing_external_file_is_an_io_error(tmp_path):
    path = save_external(tmp_path, conv_model())
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(stalwart.StalwartIOError, match="weights.bin"):
        stalwart.Model(str(path))


def test_truncated_external_file_is_rejected(tmp_path):
    path = save_external(tmp_path, conv_model())
    blob = tmp_path / "weights.bin"
    blob.write_bytes(blob.read_bytes()[:100])
    with pytest.raises(stalwart.ModelError, match="expected"):
        stalwart.Model(str(path))


def test_external_location_outside_the_model_folder_is_refused(tmp_path):
    model = conv_model()
    path = save_external(tmp_path, model)
    m = onnx.load(str(path), load_external_data=False)
    for t in m.graph.initializer:
        for kv in t.external_data:
            if kv.key == "location":
                kv.value = "../../etc/passwd"
    onnx.save_model(m, str(path))
    with pytest.raises(stalwart.ModelError, match="location"):
        stalwart.Model(str(path))
