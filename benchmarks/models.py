"""Benchmark models built with onnx.helper (random weights, fixed seed).

resnet50(path, tf_style=False): the torchvision ResNet-50 topology (7×7 stem, 3-4-6-3 bottlenecks with stride on
the 3×3 conv as in torchvision v1.5, BatchNormalization as separate nodes, ReLU, max-pool,
global average pool, Flatten, Gemm), opset 17, input `input` [N, 3, 224, 224] with a
symbolic batch.

With tf_style=True it is written the way tf2onnx writes a Keras model whose batch norm was not
fused: input `input` [N, 224, 224, 3] (NHWC) followed by a Transpose to NCHW, and every batch
norm as a Sub (mean) → Mul (γ/√(σ²+ε)) → Add (β) chain of per-channel constants [1, C, 1, 1]
after its Conv. ONNX Runtime's default optimizations leave these chains unfused.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _Builder:
    def __init__(self, seed=0, tf_style=False):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0
        self.tf_style = tf_style

    def name(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def const(self, arr, p):
        nm = self.name(p)
        self.inits.append(numpy_helper.from_array(arr.astype(np.float32), nm))
        return nm

    def conv(self, x, cin, cout, k, s=1, p=0):
        fan = cin * k * k
        w = self.const(self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / fan), "w")
        y = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [x, w], [y], kernel_shape=[k, k], strides=[s, s], pads=[p] * 4))
        return y

    def bn(self, x, c):
        sc = self.const(self.rng.uniform(0.5, 1.5, c), "g")
        b = self.const(self.rng.normal(0, 0.1, c), "b")
        m = self.const(self.rng.normal(0, 0.1, c), "m")
        v = self.const(self.rng.uniform(0.5, 1.5, c), "v")
        if self.tf_style:
            g, bb, mm, vv = (self.inits[-4:][i] for i in range(4))
            gamma, beta, mean, var = (numpy_helper.to_array(t) for t in (g, bb, mm, vv))
            del self.inits[-4:]
            shape = (1, c, 1, 1)
            mu = self.const(mean.reshape(shape), "mu")
            scale = self.const((gamma / np.sqrt(var + 1e-5)).reshape(shape), "scale")
            shift = self.const(beta.reshape(shape), "beta")
            a, m2, y = self.name("sub"), self.name("mul"), self.name("bnadd")
            self.nodes += [helper.make_node("Sub", [x, mu], [a]), helper.make_node("Mul", [a, scale], [m2]),
                           helper.make_node("Add", [m2, shift], [y])]
            return y
        y = self.name("bn")
        self.nodes.append(helper.make_node("BatchNormalization", [x, sc, b, m, v], [y], epsilon=1e-5))
        return y

    def relu(self, x):
        y = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [x], [y]))
        return y

    def add(self, a, b):
        y = self.name("add")
        self.nodes.append(helper.make_node("Add", [a, b], [y]))
        return y


def resnet50(path, tf_style=False):
    b = _Builder(tf_style=tf_style)
    src = "input"
    if tf_style:
        src = b.name("nchw")
        b.nodes.append(helper.make_node("Transpose", ["input"], [src], perm=[0, 3, 1, 2]))
    x = b.relu(b.bn(b.conv(src, 3, 64, 7, 2, 3), 64))
    y = b.name("pool")
    b.nodes.append(helper.make_node("MaxPool", [x], [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = y, 64
    for planes, blocks, stride in [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]:
        for i in range(blocks):
            s = stride if i == 0 else 1
            out = planes * 4
            h = b.relu(b.bn(b.conv(x, cin, planes, 1), planes))
            h = b.relu(b.bn(b.conv(h, planes, planes, 3, s, 1), planes))
            h = b.bn(b.conv(h, planes, out, 1), out)
            sc = b.bn(b.conv(x, cin, out, 1, s), out) if (s != 1 or cin != out) else x
            x, cin = b.relu(b.add(h, sc)), out
    g = b.name("gap")
    b.nodes.append(helper.make_node("GlobalAveragePool", [x], [g]))
    f = b.name("flat")
    b.nodes.append(helper.make_node("Flatten", [g], [f], axis=1))
    w = b.const(b.rng.standard_normal((1000, 2048)) * 0.01, "fc_w")
    bias = b.const(np.zeros(1000), "fc_b")
    b.nodes.append(helper.make_node("Gemm", [f, w, bias], ["logits"], transB=1))
    graph = helper.make_graph(
        b.nodes, "resnet50_tf" if tf_style else "resnet50",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 224, 224, 3] if tf_style else ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="stalwart-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def gflops(path):
    """Multiply-add work of one image in GFLOP (2 per multiply-add): Conv, Gemm and MatMul,
    from ONNX shape inference with the batch set to 1."""
    m = onnx.load(path)
    for t in list(m.graph.input) + list(m.graph.output):
        d = t.type.tensor_type.shape.dim[0]
        if d.dim_param:
            d.ClearField("dim_param")
            d.dim_value = 1
    m = onnx.shape_inference.infer_shapes(m)
    shapes = {}
    for v in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output):
        shapes[v.name] = [d.dim_value for d in v.type.tensor_type.shape.dim]
    for t in m.graph.initializer:
        shapes[t.name] = list(t.dims)
    total = 0
    for n in m.graph.node:
        if n.op_type == "Conv":
            w, y = shapes[n.input[1]], shapes[n.output[0]]
            total += 2 * int(np.prod(y)) * int(np.prod(w[1:]))
        elif n.op_type in ("Gemm", "MatMul"):
            a, y = shapes[n.input[0]], shapes[n.output[0]]
            total += 2 * int(np.prod(y)) * a[-1]
    return total / 1e9
