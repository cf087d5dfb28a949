"""Per-operator randomized tests: single-node ONNX models over attribute combinations, each
compared with onnxruntime (CPU provider, graph optimisations off).

Tolerance: rtol 1e-4, atol 1e-5 for float outputs unless a case states otherwise; integer and
boolean outputs must match exactly. Why these numbers: inputs are O(1) and every reduction here
has at most a few hundred terms, so two correct float32 implementations that differ only in
summation order or FMA use agree to ~1e-6 relative; 1e-4 leaves room for vectorised
transcendental approximations (exp/tanh/erf) while still catching any wrong index, padding or
broadcast, which produce O(1) errors. atol covers outputs that cancel to ~0.

Every case is run with threads=1 (model loaded from memory) and threads=2 (loaded from a
file), in a crash-isolating worker process (onnx_builder.run_stalwart). Random data comes from a generator seeded by
the case id (crc32), so each case is reproducible on its own.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from onnx_builder import (
    Const, assert_outputs_close, feeds_of, make_model, node_model, run_ort, run_stalwart,
)

RTOL, ATOL = 1e-4, 1e-5
F32 = np.float32
I64 = np.int64
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


@dataclass
class Case:
    id: str
    model: bytes
    feeds: dict[str, np.ndarray]
    rtol: float = RTOL
    atol: float = ATOL


CASES: list[Case] = []
_rng_holder: dict[str, np.random.Generator] = {}


def rng(case_id: str) -> np.random.Generator:
    """The generator of one case, seeded from its id (stable across runs and case order)."""
    g = np.random.default_rng(zlib.crc32(case_id.encode()))
    _rng_holder["current"] = g
    return g


def U(shape, lo=-1.0, hi=1.0, dtype=F32) -> np.ndarray:
    """Uniform random array from the current case's generator."""
    return _rng_holder["current"].uniform(lo, hi, size=shape).astype(dtype)


def away_from_zero(shape, lo=0.5, hi=2.0) -> np.ndarray:
    g = _rng_holder["current"]
    return (g.uniform(lo, hi, size=shape) * g.choice([-1.0, 1.0], size=shape)).astype(F32)


def add(case_id: str, op: str, inputs: dict, outputs=("y",), opset: int = 17,
        node_inputs=None, rtol=RTOL, atol=ATOL, **attrs) -> None:
    """Registers a single-node case. Call rng(case_id) first and build `inputs` with U()."""
    model = node_model(op, inputs, outputs, opset=opset, node_inputs=node_inputs, **attrs)
    CASES.append(Case(case_id, model, feeds_of(inputs), rtol, atol))


# ---------------------------------------------------------------------------------------------
# Conv
# ---------------------------------------------------------------------------------------------

CONV = [
    # id, x shape, (M, kh, kw), attrs, bias
    ("3x3", (1, 3, 9, 9), (4, 3, 3), {}, True),
    ("3x3_pad1", (2, 3, 8, 7), (5, 3, 3), {"pads": [1, 1, 1, 1]}, True),
    ("3x3_pads_asym", (1, 3, 8, 9), (4, 3, 3), {"pads": [0, 1, 2, 1]}, True),
    ("3x3_s2", (1, 4, 11, 10), (6, 3, 3), {"strides": [2, 2]}, True),
    ("3x3_s2_pad_tf_same_stem", (1, 3, 12, 12), (8, 3, 3), {"strides": [2, 2], "pads": [0, 0, 1, 1]}, False),
    ("3x3_s21", (1, 3, 9, 9), (4, 3, 3), {"strides": [2, 1], "pads": [1, 0, 1, 0]}, True),
    ("3x3_dil2", (1, 3, 11, 11), (4, 3, 3), {"dilations": [2, 2]}, True),
    ("3x3_dil23_pad", (1, 2, 12, 13), (3, 3, 3), {"dilations": [2, 3], "pads": [2, 3, 2, 3]}, True),
    ("3x3_groups2", (1, 4, 8, 8), (6, 3, 3), {"group": 2, "pads": [1, 1, 1, 1]}, True),
    ("depthwise_3x3", (2, 8, 9, 9), (8, 3, 3), {"group": 8, "pads": [1, 1, 1, 1]}, True),
    ("depthwise_3x3_s2", (1, 8, 10, 10), (8, 3, 3), {"group": 8, "strides": [2, 2], "pads": [0, 0, 1, 1]}, True),
    ("depthwise_5x5_s2", (1, 6, 13, 13), (6, 5, 5), {"group": 6, "strides": [2, 2], "pads": [2, 2, 2, 2]}, False),
    ("depthwise_mult2", (1, 4, 7, 7), (8, 3, 3), {"group": 4, "pads": [1, 1, 1, 1]}, True),
    ("1x1", (2, 16, 5, 6), (24, 1, 1), {}, True),
    ("1x1_s2", (1, 8, 7, 7), (4, 1, 1), {"strides": [2, 2]}, True),
    ("5x5_nobias", (1, 3, 10, 10), (4, 5, 5), {"pads": [2, 2, 2, 2]}, False),
    ("7x7_s2_p3", (1, 3, 20, 20), (8, 7, 7), {"strides": [2, 2], "pads": [3, 3, 3, 3]}, True),
    ("1x3_kernel", (1, 3, 6, 9), (4, 1, 3), {"pads": [0, 1, 0, 1]}, True),
    ("wide_32to16", (1, 32, 9, 9), (16, 3, 3), {"pads": [1, 1, 1, 1]}, True),
    ("wide_48to40_1x1", (2, 48, 6, 6), (40, 1, 1), {}, True),
    ("same_upper_s1", (1, 3, 8, 7), (4, 3, 3), {"auto_pad": "SAME_UPPER"}, True),
    ("same_upper_s2_even_k2", (1, 3, 9, 8), (4, 2, 2), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, True),
    ("same_upper_s2", (1, 3, 9, 10), (4, 3, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, True),
    ("same_lower_s1_k2", (1, 3, 8, 7), (4, 2, 2), {"auto_pad": "SAME_LOWER"}, True),
    ("same_lower_s2", (1, 3, 10, 9), (4, 3, 3), {"auto_pad": "SAME_LOWER", "strides": [2, 2]}, True),
    ("valid", (1, 3, 9, 9), (4, 3, 3), {"auto_pad": "VALID", "strides": [2, 2]}, True),
    ("no_kernel_shape_attr", (1, 3, 7, 7), (4, 3, 3), {"__no_kernel_shape": True}, True),
]

for name, xs, (m, kh, kw), attrs, bias in CONV:
    cid = f"Conv-{name}"
    rng(cid)
    attrs = dict(attrs)
    no_ks = attrs.pop("__no_kernel_shape", False)
    group = attrs.get("group", 1)
    inputs = {"x": U(xs), "w": Const(U((m, xs[1] // group, kh, kw)))}
    if bias:
        inputs["b"] = Const(U((m,)))
    if not no_ks:
        attrs["kernel_shape"] = [kh, kw]
    add(cid, "Conv", inputs, opset=11, **attrs)

rng("Conv-1d")
add("Conv-1d", "Conv", {"x": U((2, 3, 12)), "w": Const(U((4, 3, 3))), "b": Const(U((4,)))},
    opset=11, kernel_shape=[3], pads=[1, 1], strides=[2])
rng("Conv-weights_as_input")
add("Conv-weights_as_input", "Conv", {"x": U((1, 3, 6, 6)), "w": U((2, 3, 3, 3))}, opset=11,
    kernel_shape=[3, 3])

# ---------------------------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------------------------

POOL = [
    ("k2s2", (1, 3, 8, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ("k3s2p1", (2, 3, 9, 10), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("k3s1p1", (1, 2, 7, 7), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
    ("k3s2_ceil", (1, 3, 8, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
    ("k3s2_ceil_pad", (1, 3, 10, 9), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1}),
    ("k2s2_ceil_odd", (1, 2, 7, 9), {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ("pads_asym", (1, 2, 8, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 1, 2, 1]}),
    ("k2x3", (1, 2, 8, 9), {"kernel_shape": [2, 3], "strides": [1, 2]}),
    ("same_upper", (1, 2, 9, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ("same_lower", (1, 2, 9, 8), {"kernel_shape": [2, 2], "strides": [2, 2], "auto_pad": "SAME_LOWER"}),
    ("valid", (1, 2, 9, 8), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "VALID"}),
    ("global_like", (1, 4, 5, 6), {"kernel_shape": [5, 6]}),
]

for name, xs, attrs in POOL:
    cid = f"MaxPool-{name}"
    rng(cid)
    add(cid, "MaxPool", {"x": U(xs)}, opset=12, **attrs)
    for cip in (0, 1):
        if cip and attrs.get("auto_pad", "NOTSET") != "NOTSET":
            continue  # count_include_pad with SAME_* differs between frameworks; not asked
        cid = f"AveragePool-{name}-cip{cip}"
        rng(cid)
        add(cid, "AveragePool", {"x": U(xs)}, opset=11, count_include_pad=cip, **attrs)

rng("MaxPool-dilations2")
add("MaxPool-dilations2", "MaxPool", {"x": U((1, 2, 10, 10))}, opset=12, kernel_shape=[3, 3],
    dilations=[2, 2], pads=[1, 1, 1, 1])
rng("MaxPool-1d")
add("MaxPool-1d", "MaxPool", {"x": U((2, 3, 11))}, opset=12, kernel_shape=[3], strides=[2])
rng("AveragePool-1d")
add("AveragePool-1d", "AveragePool", {"x": U((2, 3, 11))}, opset=11, kernel_shape=[3], strides=[2], pads=[1, 1])
rng("MaxPool-negative_inputs_padded")  # padding must not win a max of negative values
add("MaxPool-negative_inputs_padded", "MaxPool", {"x": U((1, 2, 6, 6), -3, -1)}, opset=12,
    kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])

for op in ("GlobalAveragePool", "GlobalMaxPool"):
    for xs in [(2, 3, 5, 7), (1, 16, 1, 1), (1, 5, 9, 9)]:
        cid = f"{op}-{'x'.join(map(str, xs))}"
        rng(cid)
        add(cid, op, {"x": U(xs)}, opset=13)

# ---------------------------------------------------------------------------------------------
# Elementwise binary with broadcasting
# ---------------------------------------------------------------------------------------------

BROADCAST = [
    ((2, 3, 4, 5), (2, 3, 4, 5)),
    ((2, 3, 4, 5), (5,)),
    ((2, 3, 4, 5), (3, 1, 1)),
    ((1, 3, 1, 5), (2, 1, 4, 1)),
    ((2, 3, 4, 5), ()),
    ((), (2, 3)),
    ((4, 1), (1, 4)),
    ((3, 4, 5), (1, 1, 1)),
    ((1,), (3, 4)),
    ((2, 1, 8, 8), (2, 16, 8, 8)),
]


def _sh(s):
    return "x".join(map(str, s)) or "scalar"


for op in ("Add", "Sub", "Mul", "Div", "Pow"):
    for sa, sb in BROADCAST:
        cid = f"{op}-{_sh(sa)}-{_sh(sb)}"
        rng(cid)
        if op == "Pow":
            a, b = U(sa, 0.5, 2.0), U(sb, -2.0, 2.0)
        elif op == "Div":
            a, b = U(sa), away_from_zero(sb)
        else:
            a, b = U(sa), U(sb)
        add(cid, op, {"a": a, "b": b}, opset=14 if op != "Pow" else 15)
    cid = f"{op}-const_rhs"
    rng(cid)
    b = away_from_zero((3, 1, 1)) if op == "Div" else (U((3, 1, 1), -2, 2) if op == "Pow" else U((3, 1, 1)))
    a = U((2, 3, 4, 4), 0.5, 2.0) if op == "Pow" else U((2, 3, 4, 4))
    add(cid, op, {"a": a, "b": Const(b)}, opset=14 if op != "Pow" else 15)

for expo in (2.0, 0.5, 3.0, -1.0):
    cid = f"Pow-exponent_{expo}"
    rng(cid)
    add(cid, "Pow", {"a": U((3, 7), 0.1, 3.0), "b": Const(np.array(expo, F32))}, opset=15)

for op in ("Add", "Sub", "Mul"):
    cid = f"{op}-int64"
    rng(cid)
    g = _rng_holder["current"]
    add(cid, op, {"a": g.integers(-50, 50, (3, 4)).astype(I64), "b": g.integers(-50, 50, (4,)).astype(I64)}, opset=14)
cid = "Div-int64_positive"
g = rng(cid)
add(cid, "Div", {"a": g.integers(0, 100, (3, 4)).astype(I64), "b": g.integers(1, 9, (3, 4)).astype(I64)}, opset=14)

for op in ("Sum", "Mean", "Max", "Min"):
    for shapes in ([(3, 4)], [(2, 3, 4), (2, 3, 4)], [(2, 3, 4), (4,), (3, 1)]):
        cid = f"{op}-{len(shapes)}in-" + "-".join(_sh(s) for s in shapes)
        rng(cid)
        add(cid, op, {f"x{i}": U(s) for i, s in enumerate(shapes)}, opset=13)

# ---------------------------------------------------------------------------------------------
# Elementwise unary and activations
# ---------------------------------------------------------------------------------------------

UNARY = [
    # op, opset, (lo, hi), attrs
    ("Relu", 14, (-2, 2), {}),
    ("Sigmoid", 13, (-8, 8), {}),
    ("Tanh", 13, (-4, 4), {}),
    ("Erf", 13, (-3, 3), {}),
    ("Exp", 13, (-5, 5), {}),
    ("Sqrt", 13, (0.01, 5), {}),
    ("Log", 13, (0.01, 5), {}),
    ("Neg", 13, (-2, 2), {}),
    ("Abs", 13, (-2, 2), {}),
    ("Floor", 13, (-5, 5), {}),
    ("Ceil", 13, (-5, 5), {}),
    ("HardSwish", 14, (-5, 5), {}),
    ("HardSigmoid", 13, (-5, 5), {}),
    ("HardSigmoid", 13, (-5, 5), {"alpha": 0.5, "beta": 0.6}),
    ("LeakyRelu", 16, (-2, 2), {}),
    ("LeakyRelu", 16, (-2, 2), {"alpha": 0.2}),
    ("Elu", 13, (-3, 3), {}),
    ("Elu", 13, (-3, 3), {"alpha": 0.5}),
    ("Selu", 13, (-3, 3), {}),
    ("Selu", 13, (-3, 3), {"alpha": 1.5, "gamma": 2.0}),
    ("Softplus", 13, (-10, 10), {}),
    ("Identity", 16, (-2, 2), {}),
]

for op, opset, (lo, hi), attrs in UNARY:
    cid = f"{op}" + "".join(f"-{k}{v}" for k, v in attrs.items())
    rng(cid)
    add(cid, op, {"x": U((2, 3, 5, 7), lo, hi)}, opset=opset, **attrs)

cid = "Reciprocal"
rng(cid)
add(cid, "Reciprocal", {"x": away_from_zero((4, 9))}, opset=13)

for slope_shape in [(3, 1, 1), (1,), ()]:
    cid = f"PRelu-slope_{_sh(slope_shape)}"
    rng(cid)
    add(cid, "PRelu", {"x": U((2, 3, 4, 4)), "slope": Const(U(slope_shape, 0, 0.5))}, opset=16)

# Clip: attribute form (Clip-6, in effect for opsets 6-10; built at opset 10 because the engine
# accepts opsets 7-21) and input form (opset 11 / 13).
for attrs in ({}, {"min": 0.0, "max": 6.0}, {"min": -0.5, "max": 0.5}, {"min": 0.0}):
    cid = "Clip-opset6attr" + "".join(f"-{k}{v}" for k, v in attrs.items())
    rng(cid)
    add(cid, "Clip", {"x": U((3, 4, 5), -8, 8)}, opset=10, **attrs)
for opset in (11, 13):
    for lo, hi in ((0.0, 6.0), (-1.0, None), (None, 0.5), (None, None)):
        cid = f"Clip-opset{opset}-min{lo}-max{hi}"
        rng(cid)
        inputs = {"x": U((3, 4, 5), -8, 8)}
        node_inputs = ["x", "", ""]
        if lo is not None:
            inputs["min"] = Const(np.array(lo, F32))
            node_inputs[1] = "min"
        if hi is not None:
            inputs["max"] = Const(np.array(hi, F32))
            node_inputs[2] = "max"
        while node_inputs and node_inputs[-1] == "":
            node_inputs.pop()
        add(cid, "Clip", inputs, opset=opset, node_inputs=node_inputs)

# Dropout is the identity at inference.
rng("Dropout-opset13")
add("Dropout-opset13", "Dropout", {"x": U((2, 3, 4))}, opset=13)
rng("Dropout-opset7_ratio")
add("Dropout-opset7_ratio", "Dropout", {"x": U((2, 3, 4))}, opset=7, ratio=0.3)
rng("Dropout-opset12_with_mask")
add("Dropout-opset12_with_mask", "Dropout", {"x": U((2, 3, 4))}, outputs=("y", "mask"), opset=12)

# ---------------------------------------------------------------------------------------------
# Normalization
# ---------------------------------------------------------------------------------------------

for opset in (9, 15):
    for shape, eps in (((2, 3, 4, 5), 1e-5), ((2, 6, 3, 3), 1e-3), ((4, 7), 1e-5)):
        cid = f"BatchNormalization-opset{opset}-{_sh(shape)}-eps{eps}"
        rng(cid)
        c = shape[1]
        add(cid, "BatchNormalization",
            {"x": U(shape), "scale": Const(U((c,), 0.5, 1.5)), "B": Const(U((c,))),
             "mean": Const(U((c,))), "var": Const(U((c,), 0.1, 2.0))},
            opset=opset, epsilon=eps)

for shape, eps in (((2, 3, 5, 5), 1e-5), ((1, 4, 7, 3), 1e-3), ((2, 3, 10), 1e-5)):
    cid = f"InstanceNormalization-{_sh(shape)}-eps{eps}"
    rng(cid)
    c = shape[1]
    add(cid, "InstanceNormalization",
        {"x": U(shape, -2, 3), "scale": Const(U((c,), 0.5, 1.5)), "B": Const(U((c,)))},
        opset=13, epsilon=eps)

for groups, shape, eps in ((3, (2, 6, 4, 4), 1e-5), (2, (1, 6, 5, 3), 1e-5), (6, (2, 6, 3, 3), 1e-3),
                           (1, (2, 4, 3, 3), 1e-5), (2, (2, 4, 9), 1e-5)):
    cid = f"GroupNormalization-opset21-g{groups}-{_sh(shape)}-eps{eps}"
    rng(cid)
    c = shape[1]
    add(cid, "GroupNormalization",
        {"x": U(shape, -2, 3), "scale": Const(U((c,), 0.5, 1.5)), "bias": Const(U((c,)))},
        opset=21, num_groups=groups, epsilon=eps)

for attrs in ({"size": 3}, {"size": 5, "alpha": 1e-3, "beta": 0.75, "bias": 2.0},
              {"size": 7, "alpha": 0.01, "beta": 0.5, "bias": 1.0}):
    cid = "LRN" + "".join(f"-{k}{v}" for k, v in attrs.items())
    rng(cid)
    add(cid, "LRN", {"x": U((2, 7, 4, 4), -3, 3)}, opset=13, **attrs)

# ---------------------------------------------------------------------------------------------
# Gemm / MatMul
# ---------------------------------------------------------------------------------------------

GEMM_C = {"none": None, "N": lambda m, n: (n,), "1xN": lambda m, n: (1, n), "Mx1": lambda m, n: (m, 1),
          "MxN": lambda m, n: (m, n), "scalar": lambda m, n: ()}
for ta in (0, 1):
    for tb in (0, 1):
        for cname in ("none", "N", "MxN"):
            for alpha, beta in ((1.0, 1.0), (0.5, 2.0)):
                if cname == "none" and beta != 1.0:
                    continue
                cid = f"Gemm-tA{ta}-tB{tb}-C{cname}-a{alpha}-b{beta}"
                rng(cid)
                M, K, N = 3, 7, 5
                inputs = {"a": U((K, M) if ta else (M, K)), "b": Const(U((N, K) if tb else (K, N)))}
                if cname != "none":
                    inputs["c"] = Const(U(GEMM_C[cname](M, N)))
                add(cid, "Gemm", inputs, opset=13, transA=ta, transB=tb, alpha=alpha, beta=beta)
for cname in ("1xN", "Mx1", "scalar"):
    cid = f"Gemm-C{cname}"
    rng(cid)
    add(cid, "Gemm", {"a": U((4, 6)), "b": Const(U((6, 3))), "c": Const(U(GEMM_C[cname](4, 3)))}, opset=13)
rng("Gemm-large_fc_transB")
add("Gemm-large_fc_transB", "Gemm", {"a": U((17, 65)), "b": Const(U((33, 65))), "c": Const(U((33,)))},
    opset=13, transB=1)
rng("Gemm-B_as_input")
add("Gemm-B_as_input", "Gemm", {"a": U((3, 4)), "b": U((4, 5))}, opset=13)

MATMUL = [
    ((3, 4), (4, 5)),
    ((2, 3, 4), (4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 6)),
    ((1, 3, 4), (2, 4, 5)),
    ((4,), (4, 5)),
    ((3, 4), (4,)),
    ((4,), (4,)),
    ((2, 33, 65), (65, 17)),
    ((1, 1, 64), (64, 40)),
]
for sa, sb in MATMUL:
    cid = f"MatMul-{_sh(sa)}-{_sh(sb)}"
    rng(cid)
    add(cid, "MatMul", {"a": U(sa), "b": U(sb)}, opset=13)
    cid = f"MatMul-{_sh(sa)}-{_sh(sb)}-constB"
    rng(cid)
    add(cid, "MatMul", {"a": U(sa), "b": Const(U(sb))}, opset=13)

# ---------------------------------------------------------------------------------------------
# Softmax / LogSoftmax (opset 11: flatten-to-2D semantics; opset 13: single axis)
# ---------------------------------------------------------------------------------------------

for op in ("Softmax", "LogSoftmax"):
    for opset, axes in ((11, (None, 0, 1, 2, -1)), (13, (None, 0, 1, -2, -1))):
        for axis in axes:
            cid = f"{op}-opset{opset}-axis{axis}"
            rng(cid)
            attrs = {} if axis is None else {"axis": axis}
            add(cid, op, {"x": U((2, 3, 4), -5, 5)}, opset=opset, **attrs)
    cid = f"{op}-logits_1000"
    rng(cid)
    add(cid, op, {"x": U((2, 1000), -10, 10)}, opset=13)

# ---------------------------------------------------------------------------------------------
# Shape manipulation
# ---------------------------------------------------------------------------------------------

for opset in (7, 14):  # Reshape-5 (opsets 5-13) and Reshape-14
    for xs, shape in (((2, 3, 4), [0, -1]), ((2, 3, 4), [-1]), ((2, 3, 4), [2, 0, 2, -1]),
                      ((2, 3, 4, 1), [0, 0, -1]), ((6, 4), [3, 2, 4]), ((1, 1280, 1, 1), [1, -1])):
        cid = f"Reshape-opset{opset}-{_sh(xs)}-to-{'_'.join(map(str, shape))}"
        rng(cid)
        add(cid, "Reshape", {"x": U(xs), "shape": Const(np.array(shape, I64))}, opset=opset)

for axis in (None, 0, 1, 2, -1):
    cid = f"Flatten-axis{axis}"
    rng(cid)
    add(cid, "Flatten", {"x": U((2, 3, 4, 5))}, opset=13, **({} if axis is None else {"axis": axis}))

for xs, perm in (((2, 3, 4), None), ((2, 3, 4, 5), [0, 2, 3, 1]), ((2, 3, 4, 5), [0, 3, 1, 2]),
                 ((3, 4), [1, 0]), ((2, 3, 4), [2, 0, 1]), ((2, 3, 2, 4, 2), [0, 2, 1, 4, 3]),
                 ((1, 2, 3, 1), [3, 1, 0, 2])):
    cid = f"Transpose-{_sh(xs)}-perm{'' if perm is None else '_'.join(map(str, perm))}"
    rng(cid)
    add(cid, "Transpose", {"x": U(xs)}, opset=13, **({} if perm is None else {"perm": perm}))

for axis, shapes in ((1, [(2, 3, 4), (2, 1, 4), (2, 5, 4)]), (0, [(1, 3), (2, 3)]),
                     (-1, [(2, 3, 1), (2, 3, 4)]), (3, [(1, 2, 3, 4), (1, 2, 3, 2)])):
    cid = f"Concat-axis{axis}-{len(shapes)}in"
    rng(cid)
    inputs = {f"x{i}": U(s) for i, s in enumerate(shapes)}
    add(cid, "Concat", inputs, opset=13, axis=axis)
rng("Concat-with_const")
add("Concat-with_const", "Concat", {"x": U((2, 3)), "c": Const(U((2, 2)))}, opset=13, axis=1)
g = rng("Concat-int64")
add("Concat-int64", "Concat", {"a": g.integers(-9, 9, (3,)).astype(I64), "b": Const(np.array([-1], I64))},
    opset=13, axis=0)

# Split: attribute (opset 11), input (opset 13), num_outputs (opset 18).
rng("Split-opset11-attr")
add("Split-opset11-attr", "Split", {"x": U((2, 6, 3))}, outputs=("a", "b", "c"), opset=11, axis=1, split=[2, 1, 3])
rng("Split-opset11-equal")
add("Split-opset11-equal", "Split", {"x": U((2, 6, 3))}, outputs=("a", "b", "c"), opset=11, axis=1)
rng("Split-opset11-negative_axis")
add("Split-opset11-negative_axis", "Split", {"x": U((2, 3, 4))}, outputs=("a", "b"), opset=11, axis=-1)
rng("Split-opset13-input")
add("Split-opset13-input", "Split", {"x": U((5, 4)), "split": Const(np.array([1, 4], I64))},
    outputs=("a", "b"), opset=13, axis=0)
rng("Split-opset13-equal")
add("Split-opset13-equal", "Split", {"x": U((2, 8))}, outputs=("a", "b", "c", "d"), opset=13, axis=1)
rng("Split-opset18-num_outputs_uneven")
add("Split-opset18-num_outputs_uneven", "Split", {"x": U((2, 7))}, outputs=("a", "b", "c"), opset=18,
    axis=1, num_outputs=3)

# Slice: input form (opset 13) and attribute form (opset 9).
SLICES = [
    # id, x shape, starts, ends, axes, steps
    ("basic", (4, 5, 6), [1], [3], [1], None),
    ("no_axes_steps", (4, 5), [1, 0], [3, 4], None, None),
    ("negative_starts", (4, 5, 6), [-3], [-1], [2], None),
    ("ends_int64max", (4, 5, 6), [2], [INT64_MAX], [0], None),
    ("reverse_all", (4, 5), [-1], [INT64_MIN], [1], [-1]),
    ("neg_step2", (7, 3), [6], [0], [0], [-2]),
    ("neg_step_clamped", (6, 2), [100], [-100], [0], [-3]),
    ("step2_multi_axes", (2, 8, 9), [0, 1], [8, 9], [1, 2], [2, 3]),
    ("negative_axes", (3, 4, 5), [1, 1], [3, 4], [-1, -2], None),
    ("out_of_range_starts", (4, 5), [-100, 2], [100, 3], [0, 1], None),
    ("empty_result", (4, 5), [3], [1], [0], [1]),
    ("hw_crop", (1, 3, 10, 10), [1, 2], [9, 7], [2, 3], [1, 1]),
]
for name, xs, starts, ends, axes, steps in SLICES:
    cid = f"Slice-opset13-{name}"
    rng(cid)
    inputs = {"x": U(xs), "starts": Const(np.array(starts, I64)), "ends": Const(np.array(ends, I64))}
    if axes is not None:
        inputs["axes"] = Const(np.array(axes, I64))
    if steps is not None:
        if axes is None:
            inputs["axes"] = Const(np.arange(len(starts), dtype=I64))
        inputs["steps"] = Const(np.array(steps, I64))
    add(cid, "Slice", inputs, opset=13)
rng("Slice-opset9-attr")
add("Slice-opset9-attr", "Slice", {"x": U((4, 5, 6))}, opset=9, starts=[1, -4], ends=[3, 1000], axes=[0, 2])
rng("Slice-opset9-attr_no_axes")
add("Slice-opset9-attr_no_axes", "Slice", {"x": U((4, 5))}, opset=9, starts=[0, 1], ends=[2, -1])

# Squeeze / Unsqueeze: attribute form (opset 11), input form (opset 13).
for axes, xs in (([1], (2, 1, 3)), ([1, 3], (2, 1, 3, 1)), ([-1], (2, 3, 1)), (None, (1, 2, 1, 3, 1))):
    tag = "none" if axes is None else "_".join(map(str, axes))
    cid = f"Squeeze-opset11-axes{tag}"
    rng(cid)
    add(cid, "Squeeze", {"x": U(xs)}, opset=11, **({} if axes is None else {"axes": axes}))
    cid = f"Squeeze-opset13-axes{tag}"
    rng(cid)
    inputs = {"x": U(xs)}
    if axes is not None:
        inputs["axes"] = Const(np.array(axes, I64))
    add(cid, "Squeeze", inputs, opset=13)
for axes, xs in (([0], (2, 3)), ([0, 3], (2, 3)), ([-1], (2, 3)), ([1, -1], (4,)), ([0], ())):
    tag = "_".join(map(str, axes))
    cid = f"Unsqueeze-opset11-axes{tag}-{_sh(xs)}"
    rng(cid)
    add(cid, "Unsqueeze", {"x": U(xs)}, opset=11, axes=axes)
    cid = f"Unsqueeze-opset13-axes{tag}-{_sh(xs)}"
    rng(cid)
    add(cid, "Unsqueeze", {"x": U(xs), "axes": Const(np.array(axes, I64))}, opset=13)

# Pad: constant / reflect / edge, input form (opset 11, 18 with axes) and attribute form (Pad-2).
PADS = [
    ("hw", (1, 2, 4, 5), [0, 0, 1, 2, 0, 0, 2, 1]),
    ("all_axes", (2, 3, 4), [1, 0, 2, 0, 1, 1]),
    ("left_only", (2, 5), [0, 3, 0, 0]),
]
for mode in ("constant", "reflect", "edge"):
    for name, xs, pads in PADS:
        cid = f"Pad-opset11-{mode}-{name}"
        rng(cid)
        inputs = {"x": U(xs), "pads": Const(np.array(pads, I64))}
        if mode == "constant":
            inputs["value"] = Const(np.array(1.5, F32))
        add(cid, "Pad", inputs, opset=11, mode=mode)
        cid = f"Pad-opset2attr-{mode}-{name}"  # Pad-2 (attribute form), in effect for opsets 2-10
        rng(cid)
        add(cid, "Pad", {"x": U(xs)}, opset=10, mode=mode, pads=pads,
            **({"value": -0.5} if mode == "constant" else {}))
rng("Pad-opset11-constant_default_value")
add("Pad-opset11-constant_default_value", "Pad", {"x": U((1, 2, 3, 3)), "pads": Const(np.array([0, 0, 1, 1, 0, 0, 1, 1], I64))}, opset=11)
rng("Pad-opset11-negative_pads_crop")
add("Pad-opset11-negative_pads_crop", "Pad", {"x": U((1, 2, 6, 6)), "pads": Const(np.array([0, 0, -1, 1, 0, 0, 1, -2], I64))}, opset=11)
for mode in ("constant", "reflect", "edge"):
    cid = f"Pad-opset18-axes-{mode}"
    rng(cid)
    add(cid, "Pad", {"x": U((1, 2, 4, 5)), "pads": Const(np.array([1, 2, 2, 1], I64)),
                     "axes": Const(np.array([2, -1], I64))},
        opset=18, mode=mode, node_inputs=["x", "pads", "", "axes"])

# Reductions: attribute form (ReduceSum opset 11, others opset 13) and input form (ReduceSum
# opset 13, others opset 18).
REDUCE_AXES = [None, [1], [2, 3], [-1], [0, 2]]
for op in ("ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"):
    attr_opset = 11 if op == "ReduceSum" else 13
    input_opset = 13 if op == "ReduceSum" else 18
    lo, hi = (0.5, 1.5) if op == "ReduceProd" else (-1, 1)
    for axes in REDUCE_AXES:
        for keep in (0, 1):
            tag = "all" if axes is None else "_".join(map(str, axes))
            cid = f"{op}-opset{attr_opset}-attr-axes{tag}-keep{keep}"
            rng(cid)
            add(cid, op, {"x": U((2, 3, 4, 5), lo, hi)}, opset=attr_opset, keepdims=keep,
                **({} if axes is None else {"axes": axes}))
            cid = f"{op}-opset{input_opset}-input-axes{tag}-keep{keep}"
            rng(cid)
            inputs = {"x": U((2, 3, 4, 5), lo, hi)}
            if axes is not None:
                inputs["axes"] = Const(np.array(axes, I64))
            add(cid, op, inputs, opset=input_opset, keepdims=keep)

for axis, keep, last in ((1, 1, 0), (-1, 0, 0), (0, 1, 1), (2, 0, 1)):
    cid = f"ArgMax-axis{axis}-keep{keep}-last{last}"
    g = rng(cid)
    x = np.round(U((3, 4, 5), -2, 2)).astype(F32) if last else U((3, 4, 5))  # ties when last=1
    add(cid, "ArgMax", {"x": x}, opset=13, axis=axis, keepdims=keep, select_last_index=last)

# ---------------------------------------------------------------------------------------------
# Resize / Upsample
# ---------------------------------------------------------------------------------------------

RESIZE = [
    # id, mode, extra attrs, scales or None, sizes or None
    ("nearest_asym_floor_x2", "nearest", {"coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}, [1, 1, 2, 2], None),
    ("nearest_default_x2", "nearest", {}, [1, 1, 2, 2], None),
    ("nearest_default_x1.5", "nearest", {}, [1, 1, 1.5, 1.5], None),
    ("nearest_half_pixel_ceil_x1.7", "nearest", {"nearest_mode": "round_prefer_ceil"}, [1, 1, 1.7, 1.3], None),
    ("nearest_down_0.5", "nearest", {}, [1, 1, 0.5, 0.5], None),
    ("nearest_sizes", "nearest", {}, None, [1, 2, 7, 9]),
    ("nearest_align_corners_sizes", "nearest", {"coordinate_transformation_mode": "align_corners"}, None, [1, 2, 9, 11]),
    ("linear_half_pixel_x2", "linear", {}, [1, 1, 2, 2], None),
    ("linear_half_pixel_x1.5", "linear", {}, [1, 1, 1.5, 2.5], None),
    ("linear_align_corners_sizes", "linear", {"coordinate_transformation_mode": "align_corners"}, None, [1, 2, 9, 13]),
    ("linear_asymmetric_x2", "linear", {"coordinate_transformation_mode": "asymmetric"}, [1, 1, 2, 2], None),
    ("linear_pytorch_half_pixel_sizes", "linear", {"coordinate_transformation_mode": "pytorch_half_pixel"}, None, [1, 2, 1, 12]),
    ("linear_down_0.6", "linear", {}, [1, 1, 0.6, 0.6], None),
]
for name, mode, attrs, scales, sizes in RESIZE:
    cid = f"Resize-opset13-{name}"
    rng(cid)
    inputs = {"x": U((1, 2, 5, 6))}
    node_inputs = ["x", "", ""]
    if scales is not None:
        inputs["scales"] = Const(np.array(scales, F32))
        node_inputs[2] = "scales"
    else:
        inputs["sizes"] = Const(np.array(sizes, I64))
        node_inputs.append("sizes")
    add(cid, "Resize", inputs, opset=13, node_inputs=node_inputs, mode=mode, **attrs)
rng("Resize-opset11-nearest_empty_roi")
add("Resize-opset11-nearest_empty_roi", "Resize",
    {"x": U((1, 3, 4, 4)), "roi": Const(np.array([], F32)), "scales": Const(np.array([1, 1, 2, 2], F32))},
    opset=11, mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
rng("Upsample-opset9-nearest")
add("Upsample-opset9-nearest", "Upsample", {"x": U((1, 2, 3, 4)), "scales": Const(np.array([1, 1, 2, 3], F32))},
    opset=9, mode="nearest")
rng("Upsample-opset9-linear")
add("Upsample-opset9-linear", "Upsample", {"x": U((1, 2, 3, 4)), "scales": Const(np.array([1, 1, 2, 2], F32))},
    opset=9, mode="linear")
rng("Upsample-opset7-attr_scales")
add("Upsample-opset7-attr_scales", "Upsample", {"x": U((1, 2, 3, 4))}, opset=7, mode="nearest",
    scales=[1.0, 1.0, 2.0, 2.0])

# ---------------------------------------------------------------------------------------------
# Gather, Cast, Shape and constants
# ---------------------------------------------------------------------------------------------

GATHER = [
    ("axis0_vector", (5, 4), 0, np.array([0, 4, -1, 2], I64)),
    ("axis1_negative", (3, 5, 2), 1, np.array([-1, -5, 2], I64)),
    ("axis-1_2d_indices", (3, 4), -1, np.array([[0, -1], [2, 1]], I64)),
    ("scalar_index", (3, 4, 5), 1, np.array(-2, I64)),
    ("int32_indices", (6, 3), 0, np.array([5, -6, 0], np.int32)),
]
for name, xs, axis, idx in GATHER:
    cid = f"Gather-{name}"
    rng(cid)
    add(cid, "Gather", {"x": U(xs), "i": Const(idx)}, opset=13, axis=axis)
    cid = f"Gather-{name}-fed_indices"
    rng(cid)
    add(cid, "Gather", {"x": U(xs), "i": idx}, opset=13, axis=axis)
g = rng("Gather-int64_data_shape_like")
add("Gather-int64_data_shape_like", "Gather", {"x": np.array([1, 3, 224, 224], I64), "i": Const(np.array([0], I64))},
    opset=13, axis=0)

CASTS = [
    ("float_to_int64", lambda: U((3, 7), -20, 20), TensorProto.INT64),
    ("float_to_int32", lambda: U((3, 7), -20, 20), TensorProto.INT32),
    ("float_to_uint8", lambda: U((3, 7), 0, 255), TensorProto.UINT8),
    ("float_to_int8", lambda: U((3, 7), -100, 100), TensorProto.INT8),
    ("float_to_bool", lambda: np.array([[0.0, 1.0, -2.5], [0.0, 0.1, -0.0]], F32), TensorProto.BOOL),
    ("float_to_double", lambda: U((3, 7)), TensorProto.DOUBLE),
    ("float_to_float", lambda: U((3, 7)), TensorProto.FLOAT),
    ("int64_to_float", lambda: _rng_holder["current"].integers(-1000, 1000, (3, 7)).astype(I64), TensorProto.FLOAT),
    ("int64_to_int32", lambda: _rng_holder["current"].integers(-1000, 1000, (3, 7)).astype(I64), TensorProto.INT32),
    ("double_to_float", lambda: U((3, 7), dtype=np.float64), TensorProto.FLOAT),
    ("bool_to_float", lambda: np.array([True, False, True]), TensorProto.FLOAT),
    ("uint8_to_float", lambda: _rng_holder["current"].integers(0, 256, (2, 5)).astype(np.uint8), TensorProto.FLOAT),
]
for name, make, to in CASTS:
    cid = f"Cast-{name}"
    rng(cid)
    add(cid, "Cast", {"x": make()}, opset=13, to=to)

rng("Shape-opset13")
add("Shape-opset13", "Shape", {"x": U((2, 3, 4))}, opset=13)
for start, end in ((1, None), (0, -1), (-2, None), (1, 2)):
    cid = f"Shape-opset15-start{start}-end{end}"
    rng(cid)
    add(cid, "Shape", {"x": U((2, 3, 4, 5))}, opset=15, start=start, **({} if end is None else {"end": end}))

for name, value, shape_fed in (("default", None, False), ("float1.5", np.array([1.5], F32), False),
                               ("int64", np.array([7], I64), False), ("fed_shape", np.array([-2.0], F32), True)):
    cid = f"ConstantOfShape-{name}"
    rng(cid)
    shape = np.array([2, 3, 4], I64)
    attrs = {} if value is None else {"value": helper.make_tensor("value", helper.np_dtype_to_tensor_dtype(value.dtype), [1], value)}
    add(cid, "ConstantOfShape", {"shape": shape if shape_fed else Const(shape)}, opset=9, **attrs)

# Constant feeding an Add (value tensor and value_float / value_ints attribute forms).
for name, attr in (("value", {"value": helper.make_tensor("c", TensorProto.FLOAT, [3], [1.0, -2.0, 0.5])}),
                   ("value_float", {"value_float": 2.5}), ("value_floats", {"value_floats": [1.0, 2.0, 3.0]})):
    cid = f"Constant-{name}"
    rng(cid)
    nodes = [helper.make_node("Constant", [], ["c"], **attr), helper.make_node("Add", ["x", "c"], ["y"])]
    x = U((2, 3))
    CASES.append(Case(cid, make_model(nodes, {"x": x}, ["y"], opset=13), {"x": x}))
# A Constant whose value tensor stores raw_data (what exporters write), feeding a shape input
# and a data input.
for name, arr in (("raw_int64_to_Tile", np.array([2, 1, 3], I64)), ("raw_float_to_Add", None)):
    cid = f"Constant-{name}"
    rng(cid)
    x = U((2, 3, 4))
    if arr is None:
        arr = U((3, 4))
        nodes = [helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(arr)),
                 helper.make_node("Add", ["x", "c"], ["y"])]
    else:
        nodes = [helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(arr)),
                 helper.make_node("Tile", ["x", "c"], ["y"])]
    CASES.append(Case(cid, make_model(nodes, {"x": x}, ["y"], opset=13), {"x": x}))
cid = "ConstantOfShape-raw_value"
rng(cid)
add(cid, "ConstantOfShape", {"shape": Const(np.array([2, 3], I64))}, opset=9,
    value=numpy_helper.from_array(np.array([0.25], F32)))
cid = "Constant-value_ints_to_Reshape"
rng(cid)
nodes = [helper.make_node("Constant", [], ["s"], value_ints=[3, -1]), helper.make_node("Reshape", ["x", "s"], ["y"])]
x = U((2, 3, 2))
CASES.append(Case(cid, make_model(nodes, {"x": x}, ["y"], opset=13), {"x": x}))

for xs, shape in (((3, 1), [2, 3, 4]), ((1, 4), [3, 1]), ((2, 1, 1), [2, 3, 5])):
    cid = f"Expand-{_sh(xs)}-to-{'_'.join(map(str, shape))}"
    rng(cid)
    add(cid, "Expand", {"x": U(xs), "shape": Const(np.array(shape, I64))}, opset=13)

for xs, reps in (((2, 3), [2, 1]), ((2, 1, 3), [1, 4, 2]), ((4,), [3])):
    cid = f"Tile-{_sh(xs)}-reps{'_'.join(map(str, reps))}"
    rng(cid)
    add(cid, "Tile", {"x": U(xs), "repeats": Const(np.array(reps, I64))}, opset=13)

for name, start, limit, delta, dt in (("float", 0.5, 4.0, 0.75, F32), ("int64", 10, -3, -4, I64), ("int64_up", 0, 7, 1, I64)):
    cid = f"Range-{name}"
    rng(cid)
    add(cid, "Range", {"start": Const(np.array(start, dt)), "limit": Const(np.array(limit, dt)),
                       "delta": Const(np.array(delta, dt))}, opset=11)

for op in ("Equal", "Less", "Greater"):
    cid = f"{op}-float_broadcast"
    rng(cid)
    a = np.round(U((3, 4), -2, 2))
    b = np.round(U((4,), -2, 2))
    add(cid, op, {"a": a, "b": b}, opset=13)
    cid = f"{op}-int64"
    g = rng(cid)
    add(cid, op, {"a": g.integers(-3, 3, (2, 5)).astype(I64), "b": g.integers(-3, 3, (2, 5)).astype(I64)}, opset=13)
cid = "Where-broadcast"
g = rng(cid)
add(cid, "Where", {"c": g.random((3, 1)) > 0.5, "a": U((3, 4)), "b": U((4,))}, opset=16)
cid = "Where-int64"
g = rng(cid)
add(cid, "Where", {"c": g.random((5,)) > 0.5, "a": g.integers(-9, 9, (5,)).astype(I64),
                   "b": Const(np.array(0, I64))}, opset=16)

# A small chain that mixes shape computation and data: the Shape -> Gather -> Unsqueeze ->
# Concat -> Reshape pattern of exported Flatten layers.
cid = "Chain-shape_gather_concat_reshape"
rng(cid)
nodes = [
    helper.make_node("Shape", ["x"], ["s"]),
    helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
    helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
    helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
    helper.make_node("Reshape", ["x", "shape"], ["y"]),
]
x = U((2, 3, 4, 5))
CASES.append(Case(cid, make_model(nodes, {"x": x, "zero": Const(np.array(0, I64)), "ax0": Const(np.array([0], I64)),
                                          "minus1": Const(np.array([-1], I64))}, ["y"], opset=13), {"x": x}))


# ---------------------------------------------------------------------------------------------
# Random sweeps: odd sizes that hit the tails of tiled/packed kernels and the thread split.
# Tolerance: rtol 1e-4 and atol = max(1e-5, 2.4e-7 * K) for a K-term dot product: two correct
# float32 summations of K products of U(-1,1) values differ by up to ~K * 2^-24 * |partial sums|,
# far below the O(1) error of a wrong index, pad or tail.
# ---------------------------------------------------------------------------------------------


def _dot_atol(k: int) -> float:
    return max(ATOL, 2.4e-7 * k)


_sweep = np.random.default_rng(20240601)
for i in range(40):
    k = int(_sweep.choice([1, 1, 2, 3, 3, 3, 5, 7]))
    kw = k if _sweep.random() < 0.8 else int(_sweep.choice([1, 3, 5]))
    stride = int(_sweep.choice([1, 1, 2, 2, 3]))
    dil = int(_sweep.choice([1, 1, 1, 2]))
    depthwise = _sweep.random() < 0.3
    cin = int(_sweep.integers(1, 48))
    if depthwise:
        group, cout = cin, cin * int(_sweep.choice([1, 1, 2]))
    else:
        group = int(_sweep.choice([g for g in (1, 1, 1, 2, 3, 4) if cin % g == 0]))
        cout = group * int(_sweep.integers(1, 80 // group + 1))
    h = int(_sweep.integers((k - 1) * dil + 1, 34))
    w = int(_sweep.integers((kw - 1) * dil + 1, 34))
    pads = [int(_sweep.integers(0, k)), int(_sweep.integers(0, kw)), int(_sweep.integers(0, k)), int(_sweep.integers(0, kw))]
    n = int(_sweep.choice([1, 1, 2, 3]))
    cid = f"Conv-sweep{i:02d}-n{n}c{cin}o{cout}g{group}-{h}x{w}-k{k}x{kw}s{stride}d{dil}p{''.join(map(str, pads))}"
    rng(cid)
    inputs = {"x": U((n, cin, h, w)), "w": Const(U((cout, cin // group, k, kw)))}
    if _sweep.random() < 0.7:
        inputs["b"] = Const(U((cout,)))
    add(cid, "Conv", inputs, opset=11, kernel_shape=[k, kw], strides=[stride, stride],
        dilations=[dil, dil], pads=pads, group=group, atol=_dot_atol(cin // group * k * kw))

for i in range(30):
    M, K, N = (int(v) for v in _sweep.integers(1, 140, size=3))
    ta, tb = int(_sweep.integers(0, 2)), int(_sweep.integers(0, 2))
    cid = f"Gemm-sweep{i:02d}-{M}x{K}x{N}-tA{ta}tB{tb}"
    rng(cid)
    inputs = {"a": U((K, M) if ta else (M, K)), "b": Const(U((N, K) if tb else (K, N))), "c": Const(U((N,)))}
    add(cid, "Gemm", inputs, opset=13, transA=ta, transB=tb, atol=_dot_atol(K))
for i in range(20):
    B = int(_sweep.integers(1, 4))
    M, K, N = (int(v) for v in _sweep.integers(1, 100, size=3))
    cid = f"MatMul-sweep{i:02d}-{B}x{M}x{K}x{N}"
    rng(cid)
    add(cid, "MatMul", {"a": U((B, M, K)), "b": U((B, K, N)) if i % 2 else Const(U((K, N)))}, opset=13,
        atol=_dot_atol(K))
for i in range(16):
    op = ["MaxPool", "AveragePool"][i % 2]
    k = int(_sweep.choice([2, 3, 5]))
    s_ = int(_sweep.choice([1, 2, 3]))
    p_ = [int(_sweep.integers(0, k // 2 + 1)) for _ in range(4)]
    ceil = int(_sweep.integers(0, 2))
    c, h, w = int(_sweep.integers(1, 40)), int(_sweep.integers(k, 30)), int(_sweep.integers(k, 30))
    cid = f"{op}-sweep{i:02d}-c{c}-{h}x{w}-k{k}s{s_}p{''.join(map(str, p_))}-ceil{ceil}"
    rng(cid)
    extra = {"count_include_pad": int(_sweep.integers(0, 2))} if op == "AveragePool" else {}
    add(cid, op, {"x": U((2, c, h, w))}, opset=12 if op == "MaxPool" else 11, kernel_shape=[k, k],
        strides=[s_, s_], pads=p_, ceil_mode=ceil, **extra)
for i in range(10):
    shape = tuple(int(v) for v in _sweep.integers(1, 9, size=int(_sweep.integers(1, 6))))
    perm = [int(v) for v in _sweep.permutation(len(shape))]
    cid = f"Transpose-sweep{i:02d}-{_sh(shape)}-perm{'_'.join(map(str, perm))}"
    rng(cid)
    add(cid, "Transpose", {"x": U(shape)}, opset=13, perm=perm)
for i in range(12):
    rank = int(_sweep.integers(1, 5))
    shape = [int(v) for v in _sweep.integers(1, 7, size=rank)]
    other = [d if _sweep.random() < 0.6 else 1 for d in shape][int(_sweep.integers(0, rank)):]
    op = ["Add", "Mul", "Sub", "Div"][i % 4]
    cid = f"{op}-sweep{i:02d}-{_sh(shape)}-{_sh(other)}"
    rng(cid)
    a, b = (U(shape), U(other)) if i % 2 else (U(other), U(shape))
    if op == "Div":
        b = away_from_zero(b.shape)
    add(cid, op, {"a": a, "b": b}, opset=14)

# ---------------------------------------------------------------------------------------------

_ids = [c.id for c in CASES]
assert len(_ids) == len(set(_ids)), sorted({i for i in _ids if _ids.count(i) > 1})


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_op(case: Case):
    want = run_ort(case.model, case.feeds)
    # threads=1 loads from memory, threads=2 from a file (the two loaders must agree).
    results = run_stalwart(case.model, case.feeds, threads=(1, 2), via_file=(False, True))
    for how, got in zip(("threads=1 from memory", "threads=2 from file"), results):
        assert_outputs_close(got, want, case.rtol, case.atol, f"{case.id} {how}")
