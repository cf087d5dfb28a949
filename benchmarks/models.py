"""Benchmark models built with onnx.helper (random weights, fixed seed).

resnet50(): the torchvision ResNet-50 topology (7×7 stem, 3-4-6-3 bottlenecks with stride on
the 3×3 conv as in torchvision v1.5, BatchNormalization as separate nodes, ReLU, max-pool,
global average pool, Flatten, Gemm), opset 17, input `input` [N, 3, 224, 224] with a
symbolic batch.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _Builder:
    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.n = [], [], 0

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


def resnet50(path):
    b = _Builder()
    x = b.relu(b.bn(b.conv("input", 3, 64, 7, 2, 3), 64))
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
        b.nodes, "resnet50",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="stalwart-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path
