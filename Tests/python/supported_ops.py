"""The ONNX operators Stalwart claims to implement (default domain), in ONE place.

test_conformance.py runs every ONNX backend conformance case whose operators are all listed
here and skips the rest, naming the missing operators. When the engine gains an operator, add
it here (and a randomized test in test_ops_random.py).
"""

# The core list: what the EfficientNet / ResNet / MobileNet / Inception family needs.
CORE_OPS = {
    "Conv", "BatchNormalization", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid",
    "HardSwish", "Tanh", "Erf", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp",
    "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Gemm", "MatMul",
    "Flatten", "Reshape", "Transpose", "Concat", "Split", "Slice", "Squeeze", "Unsqueeze",
    "Pad", "ReduceMean", "ReduceSum", "ReduceMax", "Softmax", "LogSoftmax", "Dropout",
    "Identity", "Constant", "ConstantOfShape", "Shape", "Gather", "Cast", "LRN", "Sum",
    "Mean", "Max", "Min", "InstanceNormalization", "GroupNormalization", "Resize", "Upsample",
}

# Also implemented: elementwise, comparison and shape helpers that show up around the core.
EXTRA_OPS = {
    "Neg", "Abs", "Log", "Reciprocal", "Floor", "Ceil", "Expand", "ReduceMin", "ReduceProd",
    "Elu", "Selu", "Softplus", "PRelu", "Equal", "Less", "Greater", "Where", "Range", "Tile",
    "ArgMax",
}

SUPPORTED_OPS = frozenset(CORE_OPS | EXTRA_OPS)

# Default-domain opset versions the engine accepts (it rejects others at load with
# UnsupportedError "opset N is not supported (Stalwart supports default-domain opsets 7–21)").
# Conformance cases outside this range are skipped, naming the opset; widen it when the engine
# does. (100 of the wheel's pytorch-converted / pytorch-operator cases are opset 6.)
SUPPORTED_OPSETS = range(7, 22)
