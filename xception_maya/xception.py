"""Xception (Chollet, 2017) up to global average pooling, written out as an ONNX graph.

The layer names are Keras's (``keras.applications.Xception``), so weights read from any Keras
file map one to one. The four residual 1x1 convolutions and their batch norms have no name
in Keras (``conv2d_1`` in Keras 2, ``conv2d`` in Keras 3); here they are ``blockN_residual``
and ``blockN_residual_bn``, and the readers assign Keras's unnamed layers to them in order.

Batch norms are folded into the convolution before them, and a separable convolution becomes
a depthwise (grouped) Conv followed by a pointwise Conv.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .errors import ModelError
from .limits import MIN_INPUT_SIZE

OPSET = 17  # onnxruntime >= 1.13 runs it: old enough for any Maya 2024+ Python
IR_VERSION = 8  # the IR version that goes with opset 17; newer IRs are refused by older runtimes
BN_EPSILON = 1e-3  # Keras's Xception batch norms
FEATURES = 2048
MIN_SIZE = MIN_INPUT_SIZE


@dataclass(frozen=True)
class LayerSpec:
    name: str
    kind: str  # "conv", "sepconv" or "bn"
    channels_in: int
    channels_out: int
    kernel: int = 3


def _specs() -> list[LayerSpec]:
    s: list[LayerSpec] = [
        LayerSpec("block1_conv1", "conv", 3, 32),
        LayerSpec("block1_conv1_bn", "bn", 32, 32),
        LayerSpec("block1_conv2", "conv", 32, 64),
        LayerSpec("block1_conv2_bn", "bn", 64, 64),
    ]

    def downsampling(block: int, cin: int, mid: int, cout: int) -> None:
        s.append(LayerSpec(f"block{block}_residual", "conv", cin, cout, kernel=1))
        s.append(LayerSpec(f"block{block}_residual_bn", "bn", cout, cout))
        for i, (a, b) in enumerate(((cin, mid), (mid, cout)), start=1):
            s.append(LayerSpec(f"block{block}_sepconv{i}", "sepconv", a, b))
            s.append(LayerSpec(f"block{block}_sepconv{i}_bn", "bn", b, b))

    downsampling(2, 64, 128, 128)
    downsampling(3, 128, 256, 256)
    downsampling(4, 256, 728, 728)
    for block in range(5, 13):
        for i in (1, 2, 3):
            s.append(LayerSpec(f"block{block}_sepconv{i}", "sepconv", 728, 728))
            s.append(LayerSpec(f"block{block}_sepconv{i}_bn", "bn", 728, 728))
    downsampling(13, 728, 728, 1024)
    for i, (a, b) in enumerate(((1024, 1536), (1536, 2048)), start=1):
        s.append(LayerSpec(f"block14_sepconv{i}", "sepconv", a, b))
        s.append(LayerSpec(f"block14_sepconv{i}_bn", "bn", b, b))
    return s


LAYERS: list[LayerSpec] = _specs()
LAYERS_BY_NAME: dict[str, LayerSpec] = {spec.name: spec for spec in LAYERS}
RESIDUAL_BLOCKS = (2, 3, 4, 13)


def expected_shapes(spec: LayerSpec) -> list[tuple[int, ...]]:
    """Shapes of the Keras weights of a layer, in Keras's order (channels last)."""
    k, cin, cout = spec.kernel, spec.channels_in, spec.channels_out
    if spec.kind == "conv":
        return [(k, k, cin, cout)]
    if spec.kind == "sepconv":
        return [(k, k, cin, 1), (1, 1, cin, cout)]
    return [(cout,)] * 4  # gamma, beta, moving mean, moving variance


def check_weights(weights: Mapping[str, Sequence[np.ndarray]]) -> None:
    """Every layer present with Keras's shapes, or a ModelError naming the layer and shapes."""
    missing = [spec.name for spec in LAYERS if spec.name not in weights]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ModelError(f"the weights lack {len(missing)} Xception layers: {shown}")
    for spec in LAYERS:
        got = [tuple(np.shape(w)) for w in weights[spec.name]]
        want = expected_shapes(spec)
        if got != want:
            raise ModelError(
                f"layer {spec.name}: weights have shapes {got}, Xception expects {want}"
            )


def fold_batch_norm(
    kernel: np.ndarray, bn: Sequence[np.ndarray], eps: float = BN_EPSILON
) -> tuple[np.ndarray, np.ndarray]:
    """Fold a batch norm into the conv before it. kernel is ONNX (out, in, kh, kw)."""
    gamma, beta, mean, var = (np.asarray(a, dtype=np.float64) for a in bn)
    scale = gamma / np.sqrt(var + eps)
    folded = kernel.astype(np.float64) * scale[:, None, None, None]
    bias = beta - mean * scale
    return folded.astype(np.float32), bias.astype(np.float32)


def build_backbone(
    weights: Mapping[str, Sequence[np.ndarray]], *, name: str = "xception"
) -> object:
    """The backbone as an onnx.ModelProto: input ``images`` (N, 3, H, W) in [-1, 1],
    output ``features`` (N, 2048). H and W are dynamic (>= MIN_SIZE)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    check_weights(weights)
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    counter = [0]

    def fresh(prefix: str) -> str:
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(tensor_name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), tensor_name))
        return tensor_name

    def conv(x: str, layer: str, stride: int = 1, pad: int = 0) -> str:
        """A plain conv with the batch norm after it folded in."""
        kernel = np.transpose(np.asarray(weights[layer][0], np.float32), (3, 2, 0, 1))
        w, b = fold_batch_norm(kernel, weights[f"{layer}_bn"])
        out = fresh(layer)
        nodes.append(
            helper.make_node(
                "Conv",
                [x, const(f"{layer}/W", w), const(f"{layer}/B", b)],
                [out],
                name=layer,
                strides=[stride, stride],
                pads=[pad] * 4,
            )
        )
        return out

    def sepconv(x: str, layer: str) -> str:
        """Depthwise 3x3 ("same", stride 1: one pixel each side) then pointwise 1x1 + bn."""
        depthwise, pointwise = (np.asarray(a, np.float32) for a in weights[layer])
        dw = np.transpose(depthwise, (2, 3, 0, 1))  # (3,3,C,1) -> (C,1,3,3)
        pw = np.transpose(pointwise, (3, 2, 0, 1))  # (1,1,C,O) -> (O,C,1,1)
        w, b = fold_batch_norm(pw, weights[f"{layer}_bn"])
        mid, out = fresh(f"{layer}_dw"), fresh(layer)
        nodes.append(
            helper.make_node(
                "Conv",
                [x, const(f"{layer}/depthwise", dw)],
                [mid],
                name=f"{layer}_depthwise",
                group=dw.shape[0],
                pads=[1, 1, 1, 1],
            )
        )
        nodes.append(
            helper.make_node(
                "Conv", [mid, const(f"{layer}/W", w), const(f"{layer}/B", b)], [out], name=layer
            )
        )
        return out

    def relu(x: str) -> str:
        out = fresh("relu")
        nodes.append(helper.make_node("Relu", [x], [out]))
        return out

    def add(a: str, b: str) -> str:
        out = fresh("add")
        nodes.append(helper.make_node("Add", [a, b], [out]))
        return out

    def max_pool(x: str, block: int) -> str:
        # TensorFlow "same": at an even side the one extra row/column goes bottom/right,
        # which is exactly ONNX's SAME_UPPER, at any input size.
        out = fresh(f"block{block}_pool")
        nodes.append(
            helper.make_node(
                "MaxPool",
                [x],
                [out],
                name=f"block{block}_pool",
                kernel_shape=[3, 3],
                strides=[2, 2],
                auto_pad="SAME_UPPER",
            )
        )
        return out

    def downsampling_block(x: str, block: int, relu_first: bool) -> str:
        residual = conv(x, f"block{block}_residual", stride=2)
        if relu_first:  # block 2 follows block 1's ReLU, so it starts without one
            x = relu(x)
        x = sepconv(x, f"block{block}_sepconv1")
        x = relu(x)
        x = sepconv(x, f"block{block}_sepconv2")
        return add(max_pool(x, block), residual)

    x = "images"
    x = relu(conv(x, "block1_conv1", stride=2))
    x = relu(conv(x, "block1_conv2"))
    x = downsampling_block(x, 2, relu_first=False)
    x = downsampling_block(x, 3, relu_first=True)
    x = downsampling_block(x, 4, relu_first=True)
    for block in range(5, 13):
        residual = x
        for i in (1, 2, 3):
            x = sepconv(relu(x), f"block{block}_sepconv{i}")
        x = add(x, residual)
    x = downsampling_block(x, 13, relu_first=True)
    x = relu(sepconv(x, "block14_sepconv1"))
    x = relu(sepconv(x, "block14_sepconv2"))
    pooled = fresh("avg_pool")
    nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled], name="avg_pool"))
    nodes.append(helper.make_node("Flatten", [pooled], ["features"], name="features", axis=1))

    graph = helper.make_graph(
        nodes,
        name,
        [
            helper.make_tensor_value_info(
                "images", TensorProto.FLOAT, ["batch", 3, "height", "width"]
            )
        ],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", FEATURES])],
        initializer=inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="xception-maya",
        doc_string="Xception backbone up to global average pooling. Input: RGB, NCHW, x/127.5-1.",
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    return model
