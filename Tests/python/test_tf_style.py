"""TensorFlow-style exports (as tf2onnx writes them) against ONNX Runtime.

The model takes NHWC input, transposes to NCHW, runs Conv → unfused batch norm written as
Mul/Add by [1, C, 1, 1] constants (and Sub by a [C, 1, 1] mean) → Relu6 as Clip, a depthwise
conv with SAME_UPPER auto_pad, a residual Add, transposes back to NHWC and flattens with a
Shape → Gather → Unsqueeze → Concat → Reshape chain, so the batch stays dynamic. Stalwart must
match ORT (rtol 1e-4 / atol 1e-4: folding the affine chain into the weights reorders float
products) at several batch sizes, and must fold the chains away.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnx_builder
import stalwart


def tf_style_model(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    c_in, c = 3, 8
    inits, nodes = [], []

    def const(name, arr, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(arr, dtype=dtype), name))
        return name

    nodes.append(helper.make_node("Transpose", ["images"], ["nchw"], perm=[0, 3, 1, 2]))
    const("w1", rng.standard_normal((c, c_in, 3, 3)) * 0.3)
    nodes.append(helper.make_node("Conv", ["nchw", "w1"], ["c1"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER"))
    const("mean", rng.standard_normal((c, 1, 1)) * 0.1)
    const("scale", rng.uniform(0.5, 1.5, (1, c, 1, 1)))
    const("shift", rng.standard_normal((1, c, 1, 1)) * 0.1)
    nodes += [helper.make_node("Sub", ["c1", "mean"], ["bn_sub"]),
              helper.make_node("Mul", ["bn_sub", "scale"], ["bn_mul"]),
              helper.make_node("Add", ["bn_mul", "shift"], ["bn"])]
    const("zero", 0.0); const("six", 6.0)
    nodes.append(helper.make_node("Clip", ["bn", "zero", "six"], ["a1"]))
    const("dw", rng.standard_normal((c, 1, 3, 3)) * 0.3)
    nodes.append(helper.make_node("Conv", ["a1", "dw"], ["c2"], group=c, kernel_shape=[3, 3], auto_pad="SAME_UPPER"))
    const("scale2", rng.uniform(0.5, 1.5, (1, c, 1, 1)))
    nodes += [helper.make_node("Mul", ["c2", "scale2"], ["m2"]),
              helper.make_node("Add", ["m2", "a1"], ["res"]),
              helper.make_node("Relu", ["res"], ["a2"]),
              helper.make_node("Transpose", ["a2"], ["nhwc"], perm=[0, 2, 3, 1]),
              helper.make_node("Shape", ["nhwc"], ["shp"])]
    const("idx0", 0, np.int64); const("ax0", [0], np.int64); const("minus1", [-1], np.int64)
    nodes += [helper.make_node("Gather", ["shp", "idx0"], ["batch"], axis=0),
              helper.make_node("Unsqueeze", ["batch", "ax0"], ["batch1"]),
              helper.make_node("Concat", ["batch1", "minus1"], ["target"], axis=0),
              helper.make_node("Reshape", ["nhwc", "target"], ["features"])]
    graph = helper.make_graph(
        nodes, "tf_style",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 17, 17, c_in])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", None])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="tf2onnx-like")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model.SerializeToString()


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("threads", [1, 2])
def test_tf_style_matches_ort(batch, threads):
    model = tf_style_model()
    x = np.random.default_rng(batch).standard_normal((batch, 17, 17, 3)).astype(np.float32)
    want = onnx_builder.run_ort(model, {"images": x})["features"]
    with stalwart.Model(model, threads=threads) as m:
        got = m(x)
    assert got.shape == want.shape == (batch, 9 * 9 * 8)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_tf_style_chains_fold(tmp_path):
    """`stalwart info` reports the fused node count: both convs absorb their chains."""
    import os
    import subprocess
    cli = os.environ.get("STALWART_CLI")
    if not cli or not os.path.exists(cli):
        pytest.skip("stalwart CLI not built")
    path = tmp_path / "tf.onnx"
    path.write_bytes(tf_style_model())
    out = subprocess.run([cli, "info", str(path)], capture_output=True, text=True, check=True).stdout
    # Both affine chains, the Clip, the residual Add and the Relu are gone into the two convs;
    # what remains is Transpose ×2, Conv ×2 and the shape chain (folded per plan).
    line = next(l for l in out.splitlines() if l.startswith("after fusion:"))
    assert "Conv 2" in line and "Transpose 2" in line, line
    for op in ("Sub", "Mul", "Add", "Clip", "Relu"):
        assert f"{op} " not in line, line
