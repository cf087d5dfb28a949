"""The channel-blocked (NCHWc) layout at the graph level, against ONNX Runtime.

One hand-built graph exercises every boundary `BlockedLayoutPass` handles: an RGB stem read as
NCHW planes, blocked convolutions chained with ragged channel counts (20, 36, 40), a depthwise
convolution with a fused residual, a residual Add fused into a dense convolution whose residual
nobody reads afterwards (written in place) and one whose residual is read again (not in place),
a tensor read by both a blocked convolution and non-blocked operators (a squeeze-excitation
gate: GlobalAveragePool → Conv → Sigmoid → Mul), a grouped convolution (no blocked form) reading
a blocked tensor, MaxPool with padding and ceil_mode, and an intermediate tensor that is also a
graph output. Convolution "b" (3×3, stride 1, 15×16: 64 output tiles) runs in the Winograd form,
"d" (8×8: 16 tiles) directly. Every graph output and every layer `embed` can return must match
ONNX Runtime.
scripts/test.sh runs this file again with STALWART_LAYOUT=nchw.
"""
from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import stalwart

# Sums of up to 9·40 products of O(1) terms in another order; ORT's own kernels differ from
# its reference by the same order of magnitude.
TOL = 2e-4


def build() -> onnx.ModelProto:
    rng = np.random.default_rng(3)

    def w(name, *shape, scale=0.3):
        return numpy_helper.from_array(rng.normal(0, scale, shape).astype(np.float32), name)

    inits = [
        w("w_stem", 20, 3, 3, 3), w("b_stem", 20, scale=0.1),
        w("w_a", 36, 20, 1, 1), w("b_a", 36, scale=0.1),
        w("w_dw", 36, 1, 3, 3), w("b_dw", 36, scale=0.1),
        w("w_b", 36, 36, 3, 3, scale=0.1),
        w("w_se1", 8, 36, 1, 1), w("w_se2", 36, 8, 1, 1),
        w("w_c", 40, 36, 1, 1, scale=0.2), w("w_g", 40, 10, 3, 3, scale=0.1),
        w("w_d", 40, 40, 3, 3, scale=0.1), w("fc", 10, 40, scale=0.2),
    ]
    n = helper.make_node
    nodes = [
        n("Conv", ["x", "w_stem", "b_stem"], ["stem"], strides=[2, 2], pads=[1, 1, 1, 1], name="stem"),
        n("Relu", ["stem"], ["s"], name="stem_relu"),
        n("Conv", ["s", "w_a", "b_a"], ["a"], name="a"),                                   # 20 → 36, 1×1 in place
        n("Relu", ["a"], ["a6"], name="a_relu"),
        n("Conv", ["a6", "w_dw", "b_dw"], ["dw"], group=36, pads=[1, 1, 1, 1], name="dw"),
        n("Add", ["dw", "a6"], ["dw_res"], name="dw_res"),                                 # depthwise + residual
        n("Conv", ["dw_res", "w_b"], ["b"], pads=[1, 1, 1, 1], name="b"),
        n("Add", ["b", "dw_res"], ["b_res"], name="b_res"),                               # residual read again below
        # Squeeze-excitation gate: b_res is read by GlobalAveragePool (blocked) and Mul (NCHW).
        n("GlobalAveragePool", ["b_res"], ["se_pool"], name="se_pool"),
        n("Conv", ["se_pool", "w_se1"], ["se1"], name="se1"),
        n("Relu", ["se1"], ["se1r"], name="se1_relu"),
        n("Conv", ["se1r", "w_se2"], ["se2"], name="se2"),
        n("Sigmoid", ["se2"], ["gate"], name="gate"),
        n("Mul", ["b_res", "gate"], ["gated"], name="gated"),
        n("Conv", ["gated", "w_c"], ["c"], name="c"),                                      # NCHW input → reorder
        n("Conv", ["s", "w_g"], ["g"], group=2, pads=[1, 1, 1, 1], name="g"),              # grouped: NCHW
        n("Add", ["c", "g"], ["cg"], name="cg"),                                           # residual from NCHW op
        n("Relu", ["cg"], ["cgr"], name="cg_relu"),
        n("MaxPool", ["cgr"], ["mp"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1,
          name="mp"),
        n("Conv", ["mp", "w_d"], ["d"], pads=[1, 1, 1, 1], name="d"),
        n("Add", ["d", "mp"], ["d_res"], name="d_res"),                                   # in place (mp dead after)
        n("GlobalAveragePool", ["d_res"], ["pool"], name="pool"),
        n("Flatten", ["pool"], ["feat"], name="flatten"),
        n("Gemm", ["feat", "fc"], ["logits"], transB=1, name="head"),
    ]
    graph = helper.make_graph(
        nodes, "blocked",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 29, 31])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10]),
         helper.make_tensor_value_info("b_res", TensorProto.FLOAT, ["N", 36, 15, 16])],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def ort_outputs(model: onnx.ModelProto, names: list[str], x: np.ndarray) -> dict[str, np.ndarray]:
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for name in names:
        if name not in have:
            m.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"x": x})))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch", [1, 3])
def test_outputs_and_layers_match_ort(threads, batch):
    proto = build()
    x = np.random.default_rng(batch).normal(0, 1, (batch, 3, 29, 31)).astype(np.float32)
    with stalwart.Model(proto.SerializeToString(), threads=threads) as m:
        out = m.run(x)
        logits, b_res = out["logits"], out["b_res"]
        layers = m.layers
        ref = ort_outputs(proto, layers, x)
        np.testing.assert_allclose(logits, ref["logits"], rtol=0, atol=TOL)
        np.testing.assert_allclose(b_res, ref["b_res"], rtol=0, atol=TOL)
        for name in layers:
            got = m.embed(x, layer=name)
            want = ref[name].reshape(batch, -1)
            assert got.shape == want.shape, name
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=name)
