"""Embeddings (issue 9): features of intermediate tensors, checked against ONNX Runtime with the
same tensor exposed as a graph output.

Tolerance: 1e-4 absolute on features (the issue's bar). Stalwart folds BatchNormalization into
the convolution weights in float64 and accumulates in a different order than ORT; on
EfficientNet-Lite logits the measured difference is ~1e-5, and the pre-logits are bounded
(ReLU6 then average) so absolute error is the right measure.
"""

from __future__ import annotations

import concurrent.futures

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import stalwart
from shared import efficientnet_path, preprocess

TOL = 1e-4


def ort_tensors(model: onnx.ModelProto, names: list[str], x: np.ndarray) -> dict[str, np.ndarray]:
    """Runs ORT with `names` added as graph outputs (shapes left to ORT)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    existing = {o.name for o in m.graph.output}
    for n in names:
        if n not in existing:
            m.graph.output.append(helper.make_empty_tensor_value_info(n))
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    outs = sess.run(names, {sess.get_inputs()[0].name: x})
    return dict(zip(names, outs))


def small_cnn(head: str = "gemm") -> onnx.ModelProto:
    """Conv → BN → Relu → Conv (+ residual) → GlobalAveragePool → Flatten/Reshape → head.
    `head`: "gemm" (Gemm transB=1), "matmul" (MatMul + Add), "none" (no linear layer)."""
    rng = np.random.default_rng(0)
    c = 8

    def const(name, a):
        return numpy_helper.from_array(np.asarray(a, np.float32), name)

    inits = [
        const("w1", rng.normal(0, 0.3, (c, 3, 3, 3))),
        const("b1", rng.normal(0, 0.1, c)),
        const("bn_s", rng.uniform(0.5, 1.5, c)),
        const("bn_b", rng.normal(0, 0.1, c)),
        const("bn_m", rng.normal(0, 0.1, c)),
        const("bn_v", rng.uniform(0.5, 1.5, c)),
        const("w2", rng.normal(0, 0.2, (c, c, 3, 3))),
        const("fc_w", rng.normal(0, 0.2, (5, c))),
        const("fc_wt", rng.normal(0, 0.2, (c, 5))),
        const("fc_b", rng.normal(0, 0.1, 5)),
        numpy_helper.from_array(np.array([-1, c], np.int64), "flat_shape"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["conv1"], pads=[1, 1, 1, 1], name="conv1"),
        helper.make_node("BatchNormalization", ["conv1", "bn_s", "bn_b", "bn_m", "bn_v"], ["bn1"], name="bn1"),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("Conv", ["relu1", "w2"], ["conv2"], pads=[1, 1, 1, 1], name="conv2"),
        helper.make_node("Add", ["conv2", "relu1"], ["res"], name="res"),
        helper.make_node("GlobalAveragePool", ["res"], ["pool"], name="pool"),
    ]
    if head == "gemm":
        nodes += [
            helper.make_node("Flatten", ["pool"], ["feat"], name="flatten"),
            helper.make_node("Gemm", ["feat", "fc_w", "fc_b"], ["logits"], transB=1, name="fc"),
        ]
        out = "logits"
    elif head == "matmul":
        nodes += [
            helper.make_node("Reshape", ["pool", "flat_shape"], ["feat"], name="reshape"),
            helper.make_node("MatMul", ["feat", "fc_wt"], ["mm"], name="fc"),
            helper.make_node("Add", ["mm", "fc_b"], ["logits"], name="bias"),
        ]
        out = "logits"
    else:
        out = "pool"
    graph = helper.make_graph(
        nodes,
        "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 12, 12])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


@pytest.fixture(scope="module")
def batch() -> np.ndarray:
    return np.random.default_rng(1).normal(0, 1, (6, 3, 12, 12)).astype(np.float32)


@pytest.mark.parametrize("head", ["gemm", "matmul"])
def test_small_model_prelogits_and_every_layer_match_ort(head, batch):
    proto = small_cnn(head)
    with stalwart.Model(proto.SerializeToString(), threads=2) as m:
        assert m.prelogits == "feat"
        layers = m.layers
        # Fusion removed conv1/bn1 (into relu1) and conv2 (into the residual Add 'res').
        assert "relu1" in layers and "res" in layers and "feat" in layers
        assert not {"conv1", "bn1", "conv2"} & set(layers)
        ref = ort_tensors(proto, layers, batch)
        feats = m.embed(batch)
        assert feats.shape == (6, 8) and feats.dtype == np.float32
        np.testing.assert_allclose(feats, ref["feat"].reshape(6, -1), rtol=0, atol=TOL)
        for name in layers:
            got = m.embed(batch, layer=name)
            want = ref[name].reshape(ref[name].shape[0], -1)
            assert got.shape == want.shape, name
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL, err_msg=name)


def test_batch_size_and_threads_do_not_change_features(batch):
    proto = small_cnn("gemm").SerializeToString()
    with stalwart.Model(proto, threads=1) as m1, stalwart.Model(proto, threads=2) as m2:
        a = m1.embed(batch, batch_size=None)
        b = m2.embed(batch, batch_size=4)  # 4 + 2
        c = np.concatenate([m2.embed(batch[i : i + 1]) for i in range(len(batch))])
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
        np.testing.assert_allclose(a, c, rtol=0, atol=1e-6)


def test_concurrent_embeds_on_one_model(batch):
    """Reentrancy: many threads embedding (and running) on the same model at once."""
    proto = small_cnn("gemm").SerializeToString()
    with stalwart.Model(proto, threads=2) as m:
        inputs = [np.random.default_rng(10 + i).normal(0, 1, (3, 3, 12, 12)).astype(np.float32) for i in range(16)]
        serial = [m.embed(x, layer=("relu1" if i % 2 else None)) for i, x in enumerate(inputs)]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(m.embed, x, ("relu1" if i % 2 else None)) for i, x in enumerate(inputs)]
            futures += [pool.submit(m, x) for x in inputs]
            results = [f.result() for f in futures]
        for i in range(16):
            np.testing.assert_array_equal(results[i], serial[i])


def test_unknown_fused_and_bad_requests_raise_clearly(batch):
    with stalwart.Model(small_cnn("gemm").SerializeToString(), threads=1) as m:
        with pytest.raises(stalwart.InvalidArgument) as e:
            m.embed(batch, layer="no_such_layer")
        msg = str(e.value)
        assert "no_such_layer" in msg and "'feat'" in msg and "valid names" in msg
        with pytest.raises(stalwart.InvalidArgument) as e:
            m.embed(batch, layer="bn1")
        assert "fused" in str(e.value) and "'relu1'" in str(e.value)
        with pytest.raises(stalwart.InvalidArgument, match="constant"):
            m.embed(batch, layer="fc_w")
        with pytest.raises(stalwart.ShapeError):
            m.embed(np.zeros((2, 4, 12, 12), np.float32))  # 4 channels
        with pytest.raises(stalwart.ShapeError):
            m.embed(np.zeros((3, 12, 12), np.float32))  # rank 3
        with pytest.raises(stalwart.ShapeError):
            m.embed(np.float32(1))
        with pytest.raises(stalwart.InvalidArgument):
            m.embed(batch, batch_size=0)
        with pytest.raises(TypeError):
            m.embed(batch, layer=3)
        with pytest.raises(stalwart.InvalidArgument):
            m.embed(batch, layer="a\0b")
        # A NaN pixel propagates exactly as in ORT (the fused ReLU keeps NaN), and the other
        # images of the batch are unaffected.
        x = batch.copy()
        x[1, 0, 3, 3] = np.nan
        got = m.embed(x)
        want = ort_tensors(small_cnn("gemm"), ["feat"], x)["feat"]
        assert np.isnan(want[1]).any()
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got, want, rtol=0, atol=TOL)  # NaNs compare equal in assert_allclose
    m.close()
    with pytest.raises(stalwart.InvalidArgument, match="closed"):
        m.embed(batch)


def test_model_without_linear_head_has_no_prelogits(batch):
    with stalwart.Model(small_cnn("none").SerializeToString(), threads=1) as m:
        with pytest.raises(stalwart.UnsupportedError, match="no Gemm or MatMul"):
            _ = m.prelogits
        with pytest.raises(stalwart.UnsupportedError):
            m.embed(batch)
        got = m.embed(batch, layer="pool")
        want = ort_tensors(small_cnn("none"), ["pool"], batch)["pool"]
        np.testing.assert_allclose(got, want.reshape(6, -1), rtol=0, atol=TOL)


def test_c_api_contracts(batch):
    """Query-then-fill names, buffer-too-small before any work, outputs untouched on failure."""
    import ctypes

    from stalwart import _lib

    with stalwart.Model(small_cnn("gemm").SerializeToString(), threads=1) as m:
        h = m._handle
        length = ctypes.c_size_t(99)
        _lib.lib.stalwart_model_prelogits_name(h, None, 0, ctypes.byref(length))
        assert length.value == len("feat")
        small = ctypes.create_string_buffer(4)  # no room for the NUL
        with pytest.raises(stalwart.BufferTooSmall):
            _lib.lib.stalwart_model_prelogits_name(h, small, 4, ctypes.byref(length))
        assert small.raw == b"\0" * 4
        with pytest.raises(stalwart.InvalidArgument):
            _lib.lib.stalwart_model_layer_name(h, 10_000, None, 0, ctypes.byref(length))

        tensors, keep, n = m._bind_inputs(batch)
        out = _lib.stalwart_tensor()
        out.struct_size = ctypes.sizeof(_lib.stalwart_tensor)
        buf = np.full((6, 8), 7.0, np.float32)
        out.data = buf.ctypes.data
        out.capacity_bytes = buf.nbytes - 4
        with pytest.raises(stalwart.BufferTooSmall):
            _lib.lib.stalwart_model_embed(h, None, tensors, n, ctypes.byref(out))
        assert out.rank == 0 and (buf == 7.0).all()
        out.capacity_bytes = buf.nbytes
        with pytest.raises(stalwart.InvalidArgument):
            _lib.lib.stalwart_model_embed(h, b"nope", tensors, n, ctypes.byref(out))
        assert out.rank == 0
        _lib.lib.stalwart_model_embed(h, b"", tensors, n, ctypes.byref(out))
        assert out.rank == 2 and (out.shape[0], out.shape[1]) == (6, 8) and out.dtype == _lib.DTYPE_FLOAT32
        np.testing.assert_array_equal(buf, m.embed(batch))
        bad = _lib.stalwart_tensor()
        bad.struct_size = 3
        with pytest.raises(stalwart.InvalidArgument, match="struct_size"):
            _lib.lib.stalwart_model_embed(h, None, tensors, n, ctypes.byref(bad))
        with pytest.raises(stalwart.InvalidArgument):
            _lib.lib.stalwart_model_embed(h, None, tensors, n, None)
        del keep


# ---------------------------------------------------------------------------------------------
# The real models.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant,res", [("lite0", 224), ("lite1", 240)])
def test_efficientnet_prelogits_match_ort(variant, res, fixtures):
    path = efficientnet_path(variant)
    images = sorted((fixtures / "images").glob("*.png"))
    x = np.concatenate([preprocess(p, res) for p in images])
    proto = onnx.load(str(path))
    ref = ort_tensors(proto, ["pool_flat", "_bn1.relu6", "logits"], x)
    with stalwart.Model(path, threads=2) as m:
        assert m.prelogits == "pool_flat"
        feats = m.embed(x)
        assert feats.shape == (len(images), 1280)
        err = np.abs(feats - ref["pool_flat"]).max()
        assert err <= TOL, err
        # An intermediate layer that survives fusion (the head's ReLU6 output, 1280 × 7 × 7).
        mid = m.embed(x[:1], layer="_bn1.relu6")
        np.testing.assert_allclose(mid, ref["_bn1.relu6"][:1].reshape(1, -1), rtol=0, atol=TOL)
        # The BatchNormalization inside the fused Conv+BN+Clip chain is reported, not guessed.
        with pytest.raises(stalwart.InvalidArgument, match=r"fused away.*'_bn1\.relu6'"):
            m.embed(x[:1], layer="_bn1")
        # The logits of the same run are untouched by the new code paths.
        np.testing.assert_allclose(m(x), ref["logits"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("variant,res", [("lite0", 224)])
def test_kept_tensors_are_readable_from_python(variant, res, fixtures):
    """Model(keep=[...]) (stalwart_options_keep_tensor) keeps tensors that fusion would fold
    away: the head BatchNormalization's output and the stem Conv's pre-BN output, equal to ONNX
    Runtime's values of the same tensors."""
    path = efficientnet_path(variant)
    images = sorted((fixtures / "images").glob("*.png"))
    x = np.concatenate([preprocess(p, res) for p in images[:2]])
    proto = onnx.load(str(path))
    stem_conv = next(n for n in proto.graph.node if n.op_type == "Conv").output[0]
    names = ["_bn1", stem_conv]
    ref = ort_tensors(proto, names + ["logits"], x)
    with stalwart.Model(path, threads=2, keep=names) as m:
        for name in names:
            got = m.embed(x, layer=name)
            np.testing.assert_allclose(got, ref[name].reshape(len(x), -1), rtol=0, atol=TOL, err_msg=name)
        np.testing.assert_allclose(m(x), ref["logits"], rtol=0, atol=1e-4)
    with pytest.raises(TypeError):
        stalwart.Model(path, keep="_bn1")
    with pytest.raises(stalwart.InvalidArgument):
        stalwart.Model(path, keep=[""])
