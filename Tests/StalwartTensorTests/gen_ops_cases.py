#!/usr/bin/env python3
"""Generates Fixtures/ops_cases.json: inputs and oracle outputs for OpsTests.swift.

Oracles: NumPy for data movement, reductions, softmax and global pooling; ONNX Runtime
(single-node models, CPU provider) for pooling, LRN, Instance/Group/BatchNormalization and
Resize. Inputs are short decimals (exactly reproducible as float32 in Swift); outputs are
written as the shortest decimal that round-trips the float32 value.

Run from anywhere:  /work/venv/bin/python Tests/StalwartTensorTests/gen_ops_cases.py
(numpy, onnx, onnxruntime). Deterministic: fixed seed.
"""
import json
import math
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

ort.set_default_logger_severity(3)
rng = np.random.default_rng(20240611)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "Fixtures", "ops_cases.json")


def f32list(a):
    """float32 array -> list of shortest round-trip decimals (non-finite as strings)."""
    out = []
    for v in np.asarray(a, dtype=np.float32).ravel():
        if np.isfinite(v):
            out.append(float(str(v)))
        else:
            out.append(str(v))  # "inf", "-inf", "nan"
    return out


def randf(shape, lo=-2.0, hi=2.0, decimals=3):
    """Random float32 input whose values are short decimals."""
    return np.round(rng.uniform(lo, hi, size=shape), decimals).astype(np.float32)


def run_ort(op, inputs, attrs, opset=19, extra_inits=()):
    """Runs one ONNX node; inputs: list of (name, array); returns first output."""
    names = [n for n, _ in inputs]
    node = helper.make_node(op, names + [n for n, _ in extra_inits], ["y"], **attrs)
    vis = [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in inputs]
    inits = [onnx.numpy_helper.from_array(a, n) for n, a in extra_inits]
    graph = helper.make_graph([node], "g", vis, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                              initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {n: a for n, a in inputs})[0]


DTYPES = {"u8": (np.uint8, 1), "f32": (np.float32, 4), "i64": (np.int64, 8)}


def randdata(shape, dtype):
    """Movement-op data: distinct-ish integers stored exactly in every dtype."""
    npdt, _ = DTYPES[dtype]
    if dtype == "u8":
        return rng.integers(0, 256, size=shape).astype(npdt)
    if dtype == "i64":
        return rng.integers(-(1 << 40), 1 << 40, size=shape).astype(npdt)
    return (rng.integers(-100000, 100000, size=shape) / 8).astype(npdt)


def vals(a):
    a = np.asarray(a)
    if a.dtype == np.float32:
        return f32list(a)
    return [int(v) for v in a.ravel()]


cases = {}

# ---------------------------------------------------------------- transpose
tr = []
for shape, perm, dt in [
    ((3, 5), (1, 0), "f32"),
    ((2, 3, 4, 5), (0, 2, 3, 1), "f32"),      # NCHW -> NHWC
    ((2, 3, 4, 5), (0, 3, 1, 2), "i64"),      # NHWC -> NCHW
    ((2, 3, 4, 5), (3, 2, 1, 0), "u8"),
    ((2, 1, 4, 5), (1, 3, 0, 2), "f32"),      # size-1 axis
    ((2, 3, 1, 4, 5), (4, 0, 2, 3, 1), "f32"),
    ((2, 3, 4, 5, 3), (0, 1, 3, 2, 4), "i64"),  # last axis stays last
    ((3, 2, 2, 3, 2), (2, 4, 0, 3, 1), "u8"),
    ((37, 41), (1, 0), "f32"),                # crosses the 32x32 tile
    ((4, 5, 6), (0, 1, 2), "f32"),            # identity
]:
    x = randdata(shape, dt)
    tr.append({"shape": list(shape), "perm": list(perm), "dtype": dt, "input": vals(x),
               "expected": vals(np.transpose(x, perm))})
cases["transpose"] = tr

# ---------------------------------------------------------------- concat
cc = []
for base, sizes, dt in [((2, 3, 4, 5), [1, 3, 2], "f32"), ((3, 1, 2), [2, 1], "i64"), ((5, 7), [3, 4, 1], "u8")]:
    for axis in range(len(base)):
        xs = []
        for s in sizes:
            shp = list(base)
            shp[axis] = s
            xs.append(randdata(shp, dt))
        cc.append({"shapes": [list(x.shape) for x in xs], "axis": axis, "dtype": dt,
                   "inputs": [vals(x) for x in xs], "expected": vals(np.concatenate(xs, axis=axis))})
cases["concat"] = cc

# ---------------------------------------------------------------- split
sp = []
for shape, axis, sizes, dt in [((2, 6, 3), 1, [1, 2, 3], "f32"), ((7, 4), 0, [3, 0, 4], "i64"),
                                ((3, 4, 5), 2, [2, 2, 1], "u8"), ((4, 2, 3), 0, [4], "f32")]:
    x = randdata(shape, dt)
    parts = np.split(x, np.cumsum(sizes)[:-1], axis=axis)
    sp.append({"shape": list(shape), "axis": axis, "sizes": sizes, "dtype": dt, "input": vals(x),
               "expected": [vals(p) for p in parts]})
cases["split"] = sp

# ---------------------------------------------------------------- slice (python slice semantics == ONNX clamping)
sl = []
for shape, spec, dt in [
    ((5, 6), [(1, 4, 1), (0, 6, 2)], "f32"),
    ((5, 6), [(None, None, -1), (5, 0, -2)], "f32"),
    ((3, 4, 5, 6), [(0, 3, 1), (1, 3, 1), (0, 5, 1), (0, 6, 1)], "i64"),
    ((3, 4, 5, 6), [(2, None, -1), (0, 4, 1), (4, 0, -3), (1, 6, 1)], "u8"),
    ((4, 7, 3), [(-1, -5, -1), (-2, 100, 1), (0, 3, 1)], "f32"),
    ((2, 3, 4, 2, 3), [(0, 2, 1), (2, None, -2), (1, 4, 2), (0, 2, 1), (2, None, -1)], "f32"),
    ((10,), [(9, None, -4)], "i64"),
    ((4, 5), [(0, 4, 1), (0, 5, 1)], "f32"),
]:
    x = randdata(shape, dt)
    slices = tuple(slice(*s) for s in spec)
    y = x[slices]
    starts, steps = [], []
    for d, s in zip(shape, slices):
        r = range(*s.indices(d))
        starts.append(r.start if len(r) else 0)
        steps.append(r.step)
    sl.append({"shape": list(shape), "starts": starts, "steps": steps, "outShape": list(y.shape),
               "dtype": dt, "input": vals(x), "expected": vals(y)})
cases["slice"] = sl

# ---------------------------------------------------------------- pad
pd = []
for shape, pads, mode, cval, dt in [
    ((3, 4), [1, 2, 2, 1], "constant", 1.5, "f32"),
    ((2, 3, 4), [0, 1, -1, 1, -1, 2], "constant", -7, "i64"),
    ((2, 3, 4, 5), [0, 0, 2, 1, 0, 0, 1, 3], "reflect", 0, "f32"),
    ((3, 4), [5, 7, 4, 6], "reflect", 0, "u8"),        # pads larger than the axis
    ((2, 3, 4), [1, 2, 3, 2, 1, 0], "edge", 0, "f32"),
    ((2, 3, 4), [1, -1, 2, 0, 2, -2], "edge", 0, "i64"),    # crop then pad (ONNX Runtime)
    ((5, 4), [-2, 3, 1, -1], "wrap", 0, "f32"),
    ((6,), [-3, 2], "reflect", 0, "u8"),
    ((3, 1, 4), [0, 2, 1, 0, 3, 2], "reflect", 0, "f32"),  # length-1 axis reflects itself
    ((2, 5), [1, 3, 2, 6], "wrap", 0, "f32"),
    ((4, 5), [-1, -2, -2, -1], "constant", 0, "f32"),
    ((2, 2, 3, 3), [0, 0, 1, 1, 0, 0, 1, 1], "constant", 0, "u8"),
]:
    x = randdata(shape, dt)
    r = len(shape)
    crop = tuple(slice(max(0, -pads[a]), shape[a] - max(0, -pads[a + r])) for a in range(r))
    xc = x[crop]
    pw = [(max(0, pads[a]), max(0, pads[a + r])) for a in range(r)]
    if mode == "constant":
        y = np.pad(xc, pw, mode="constant", constant_values=np.array(cval).astype(x.dtype))
    else:
        y = np.pad(xc, pw, mode={"reflect": "reflect", "edge": "edge", "wrap": "wrap"}[mode])
    if dt == "f32":  # negative pads crop first, then pad: cross-check with ONNX Runtime's Pad
        inits = [("pads", np.array(pads, np.int64)), ("cval", np.array(cval, np.float32))]
        try:
            yo = run_ort("Pad", [("x", x)], dict(mode=mode), opset=19, extra_inits=inits)
        except Exception:
            yo = None  # ONNX Runtime rejects reflect pads longer than the axis; NumPy repeats
        assert yo is None or np.array_equal(yo, y), (shape, pads, mode)
    pd.append({"shape": list(shape), "pads": pads, "mode": mode, "constant": cval, "dtype": dt,
               "input": vals(x), "expected": vals(y), "outShape": list(y.shape)})
cases["pad"] = pd

# ---------------------------------------------------------------- gather
ga = []
for shape, axis, ishape, dt in [((5, 4), 0, (3,), "f32"), ((3, 6, 2), 1, (2, 2), "i64"),
                                 ((4, 7), 1, (), "u8"), ((2, 3, 5), 2, (4, 1), "f32"), ((6,), 0, (2, 3), "f32")]:
    x = randdata(shape, dt)
    idx = rng.integers(0, shape[axis], size=ishape)
    y = np.take(x, idx, axis=axis)
    ga.append({"shape": list(shape), "axis": axis, "indicesShape": list(ishape),
               "indices": [int(v) for v in np.asarray(idx).ravel()], "dtype": dt,
               "input": vals(x), "expected": vals(y)})
cases["gather"] = ga

# ---------------------------------------------------------------- broadcast
bc = []
for shape, out, dt in [((3, 1), (2, 3, 4), "f32"), ((1, 4, 1, 2), (3, 4, 5, 2), "i64"), ((), (2, 3), "u8"),
                        ((5,), (2, 1, 5), "f32"), ((2, 1, 3), (2, 4, 3), "f32"), ((1, 1), (3, 1), "u8")]:
    x = randdata(shape, dt)
    bc.append({"shape": list(shape), "outShape": list(out), "dtype": dt, "input": vals(x),
               "expected": vals(np.broadcast_to(x, out))})
cases["broadcast"] = bc


# ---------------------------------------------------------------- pool (ONNX Runtime)
def pool_out(n, k, s, d, pb, pe, ceil):
    eff = (k - 1) * d + 1
    v = (n + pb + pe - eff) / s
    o = (math.ceil(v) if ceil else math.floor(v)) + 1
    if ceil and (o - 1) * s >= n + pb:   # ONNX Runtime drops a window starting in the end pad
        o -= 1
    return o


po = []
for shape, k, s, d, pb, pe, ceil in [
    ((1, 2, 7, 7), [3, 3], [2, 2], [1, 1], [1, 1], [1, 1], 0),
    ((1, 1, 7, 7), [3, 3], [2, 2], [1, 1], [1, 0], [0, 1], 1),      # asymmetric pads + ceil
    ((2, 2, 6, 9), [3, 2], [2, 3], [1, 1], [1, 1], [1, 1], 1),
    ((1, 2, 8, 8), [3, 3], [2, 2], [2, 2], [1, 2], [2, 0], 1),      # dilation
    ((1, 1, 5, 7), [2, 3], [1, 2], [2, 1], [1, 1], [0, 1], 0),
    ((1, 3, 10), [3], [3], [1], [2], [1], 1),                      # 1-D
    ((2, 1, 9), [3], [2], [2], [2], [1], 0),                       # 1-D dilated
    ((1, 2, 5, 6, 7), [2, 3, 2], [2, 2, 3], [1, 1, 1], [1, 0, 1], [0, 1, 1], 1),  # 3-D
    ((1, 1, 5, 6, 7), [2, 3, 2], [2, 2, 3], [1, 2, 1], [1, 0, 1], [0, 1, 1], 0),  # 3-D dilated
    ((1, 2, 4, 4), [2, 2], [2, 2], [1, 1], [0, 0], [0, 0], 0),
]:
    x = randf(shape)
    r = len(k)
    outS = [pool_out(shape[2 + a], k[a], s[a], d[a], pb[a], pe[a], ceil) for a in range(r)]
    for kind in ["max", "avg_exclude", "avg_include", "lp1", "lp2", "lp3"]:
        attrs = dict(kernel_shape=k, strides=s, pads=pb + pe)
        if kind == "max":
            op = "MaxPool"; attrs.update(dilations=d, ceil_mode=ceil)
        elif kind.startswith("avg"):
            op = "AveragePool"; attrs.update(dilations=d, ceil_mode=ceil,
                                              count_include_pad=int(kind == "avg_include"))
        else:
            if d != [1] * r or ceil:
                continue  # ONNX Runtime's LpPool has neither dilations nor ceil_mode
            op = "LpPool"; attrs.update(p=int(kind[2:]))
        y = run_ort(op, [("x", x)], attrs)
        assert list(y.shape[2:]) == outS, (kind, shape, y.shape, outS)
        po.append({"shape": list(shape), "kind": kind, "kernel": k, "strides": s, "dilations": d,
                   "padsBegin": pb, "padsEnd": pe, "outSpatial": outS, "input": f32list(x),
                   "expected": f32list(y)})
cases["pool"] = po

gp = []
for shape in [(2, 3, 5, 5), (1, 4, 37), (1, 2, 3, 4, 5)]:
    x = randf(shape)
    flat = x.reshape(shape[0], shape[1], -1)
    gp.append({"batch": shape[0], "channels": shape[1], "spatial": flat.shape[2], "input": f32list(x),
               "mean": f32list(flat.astype(np.float64).mean(axis=2)), "max": f32list(flat.max(axis=2))})
cases["globalPool"] = gp

# ---------------------------------------------------------------- reduce (NumPy, float64)
rd = []
kinds = ["sum", "mean", "max", "min", "prod", "l1", "l2", "logSumExp", "sumSquare"]
for shape, axes in [((3, 4, 5), [1]), ((3, 4, 5), [0, 2]), ((2, 3, 4, 5), [2, 3]), ((2, 3, 4, 5), [0, 1, 2, 3]),
                    ((6, 7), [0]), ((2, 1, 3, 4), [1, 2]), ((5,), [0]), ((2, 3, 1, 2), [0, 2, 3])]:
    x = randf(shape, -1.5, 1.5, 2)
    xd = x.astype(np.float64)
    ax = tuple(axes)
    for kind in kinds:
        if kind == "sum": y = xd.sum(axis=ax, keepdims=True)
        elif kind == "mean": y = xd.mean(axis=ax, keepdims=True)
        elif kind == "max": y = xd.max(axis=ax, keepdims=True)
        elif kind == "min": y = xd.min(axis=ax, keepdims=True)
        elif kind == "prod": y = xd.prod(axis=ax, keepdims=True)
        elif kind == "l1": y = np.abs(xd).sum(axis=ax, keepdims=True)
        elif kind == "l2": y = np.sqrt((xd * xd).sum(axis=ax, keepdims=True))
        elif kind == "logSumExp":
            m = xd.max(axis=ax, keepdims=True); y = m + np.log(np.exp(xd - m).sum(axis=ax, keepdims=True))
        else: y = (xd * xd).sum(axis=ax, keepdims=True)
        rd.append({"shape": list(shape), "axes": axes, "kind": kind, "input": f32list(x),
                   "expected": f32list(y)})
cases["reduce"] = rd

# ---------------------------------------------------------------- softmax (NumPy, float64)
sm = []
for outer, axis_len, inner in [(3, 5, 1), (2, 4, 6), (1, 10, 3), (4, 1, 2)]:
    x = randf((outer, axis_len, inner), -8, 8, 2)
    xd = x.astype(np.float64)
    m = xd.max(axis=1, keepdims=True)
    e = np.exp(xd - m)
    s = e.sum(axis=1, keepdims=True)
    sm.append({"outer": outer, "axisLen": axis_len, "inner": inner, "input": f32list(x),
               "softmax": f32list(e / s), "logSoftmax": f32list(xd - m - np.log(s))})
cases["softmax"] = sm

# ---------------------------------------------------------------- LRN (ONNX Runtime)
def lrn_numpy(x, size, alpha, beta, bias):
    """ONNX LRN definition in float64 (any rank >= 3)."""
    xd = x.astype(np.float64)
    c = x.shape[1]
    sq = np.zeros_like(xd)
    for ch in range(c):
        lo = max(0, ch - (size - 1) // 2)
        hi = min(c - 1, ch + int(math.ceil((size - 1) / 2)))
        sq[:, ch] = (xd[:, lo:hi + 1] ** 2).sum(axis=1)
    return xd / (bias + alpha / size * sq) ** beta


lr = []
for shape, size, alpha, beta, bias in [((2, 7, 3, 4), 5, 1e-4, 0.75, 1.0), ((1, 6, 5), 3, 0.02, 0.5, 2.0),
                                       ((1, 4, 2, 3), 2, 0.1, 0.75, 1.0), ((1, 5, 2, 2, 2), 4, 0.3, 1.3, 0.5)]:
    x = randf(shape)
    y = lrn_numpy(x, size, alpha, beta, bias)
    if len(shape) == 4 and size % 2 == 1:  # ONNX Runtime: 4-D, odd size only; cross-check NumPy
        yo = run_ort("LRN", [("x", x)], dict(size=size, alpha=alpha, beta=beta, bias=bias))
        assert np.allclose(yo, y, rtol=1e-5, atol=1e-6)
        y = yo
    lr.append({"shape": list(shape), "size": size, "alpha": alpha, "beta": beta, "bias": bias,
               "input": f32list(x), "expected": f32list(y)})
cases["lrn"] = lr

# ---------------------------------------------------------------- Instance / Group / Batch norm (ONNX Runtime)
inn = []
for shape in [(2, 3, 4, 5), (1, 2, 7), (1, 2, 2, 3, 4)]:
    x = randf(shape, -3, 5)
    c = shape[1]
    sc = randf((c,), 0.5, 1.5); bi = randf((c,), -1, 1)
    y = run_ort("InstanceNormalization", [("x", x)], dict(epsilon=1e-5),
                extra_inits=[("scale", sc), ("bias", bi)])
    inn.append({"shape": list(shape), "scale": f32list(sc), "bias": f32list(bi), "epsilon": 1e-5,
                "input": f32list(x), "expected": f32list(y)})
cases["instanceNorm"] = inn

gn = []
for shape, groups in [((2, 6, 3, 4), 3), ((1, 4, 5), 2), ((1, 6, 2, 2, 3), 6), ((2, 4, 3, 3), 1)]:
    x = randf(shape, -3, 5)
    c = shape[1]
    sc = randf((c,), 0.5, 1.5); bi = randf((c,), -1, 1)
    y = run_ort("GroupNormalization", [("x", x)], dict(epsilon=1e-5, num_groups=groups), opset=21,
                extra_inits=[("scale", sc), ("bias", bi)])
    gn.append({"shape": list(shape), "groups": groups, "scale": f32list(sc), "bias": f32list(bi),
               "epsilon": 1e-5, "input": f32list(x), "expected": f32list(y)})
cases["groupNorm"] = gn

bn = []
for shape in [(2, 3, 4, 5), (1, 4, 7), (3, 2)]:
    x = randf(shape)
    c = shape[1]
    sc = randf((c,), 0.5, 1.5); bi = randf((c,), -1, 1)
    mean = randf((c,), -0.5, 0.5); var = randf((c,), 0.1, 2)
    y = run_ort("BatchNormalization", [("x", x)], dict(epsilon=1e-3), opset=15,
                extra_inits=[("scale", sc), ("bias", bi), ("mean", mean), ("var", var)])
    bn.append({"shape": list(shape), "scale": f32list(sc), "bias": f32list(bi), "mean": f32list(mean),
               "variance": f32list(var), "epsilon": 1e-3, "input": f32list(x), "expected": f32list(y)})
cases["batchNorm"] = bn

# ---------------------------------------------------------------- Resize (ONNX Runtime, opset 19)
rs = []
TRANSFORMS = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
              "half_pixel_symmetric"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


def add_resize(shape, mode, transform, nearest="round_prefer_floor", cubic_a=-0.75, exclude=0,
               scales=None, sizes=None):
    x = randf(shape)
    attrs = dict(mode=mode, coordinate_transformation_mode=transform, nearest_mode=nearest,
                 cubic_coeff_a=cubic_a, exclude_outside=exclude)
    if scales is not None:
        inits = [("roi", np.zeros(0, np.float32)), ("scales", np.array(scales, np.float32))]
    else:
        inits = [("roi", np.zeros(0, np.float32)), ("scales", np.zeros(0, np.float32)),
                 ("sizes", np.array(sizes, np.int64))]
    y = run_ort("Resize", [("x", x)], attrs, opset=19, extra_inits=inits)
    if scales is not None:
        sc = [float(np.float32(v)) for v in scales]
    else:
        sc = [float(np.float32(o) / np.float32(i)) for o, i in zip(y.shape, shape)]
    rs.append({"shape": list(shape), "outShape": list(y.shape), "scales": sc, "mode": mode,
               "transform": transform, "nearest": nearest, "cubicA": cubic_a, "excludeOutside": exclude,
               "input": f32list(x), "expected": f32list(y)})


for t in TRANSFORMS:
    for nm in NEAREST:
        add_resize((1, 2, 3, 4), "nearest", t, nearest=nm, scales=[1, 1, 2.0, 1.5])
    add_resize((1, 1, 5, 7), "nearest", t, nearest="round_prefer_ceil", sizes=[1, 1, 3, 4])  # downsample
    if t != "tf_half_pixel_for_nn":
        add_resize((2, 2, 3, 4), "linear", t, scales=[1, 1, 2.0, 1.75])
        add_resize((1, 1, 6, 5), "linear", t, sizes=[1, 1, 4, 8])
        add_resize((1, 2, 4, 5), "cubic", t, scales=[1, 1, 1.5, 2.0])
        add_resize((1, 1, 6, 7), "cubic", t, sizes=[1, 1, 4, 9], exclude=1)
add_resize((1, 2, 4, 5), "cubic", "half_pixel", cubic_a=-0.5, scales=[1, 1, 2.0, 0.6])
add_resize((1, 2, 4, 5), "cubic", "asymmetric", cubic_a=-0.5, exclude=1, scales=[1, 1, 2.5, 1.0])
add_resize((1, 2, 3, 4, 5), "linear", "half_pixel", scales=[1, 1, 2.0, 1.5, 0.8])          # trilinear
add_resize((1, 1, 2, 3, 4), "nearest", "asymmetric", nearest="floor", scales=[1, 1, 2, 2, 2])
add_resize((2, 3, 8), "linear", "align_corners", scales=[1, 1, 2.5])                       # 1-D
add_resize((2, 5), "nearest", "half_pixel", scales=[1.0, 3.0])
cases["resize"] = rs

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(cases, f, separators=(",", ":"))
print(OUT, os.path.getsize(OUT), "bytes;", {k: len(v) for k, v in cases.items()})
