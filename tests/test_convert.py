"""The converter's readers and errors, on weights files made here (no Keras needed)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import onnx
import pytest

from xception_maya import keras_weights, xception
from xception_maya.cli import main
from xception_maya.convert import convert
from xception_maya.errors import ModelError
from xception_maya.manifest import Manifest

# Keras 2 names the four unnamed residual layers conv2d_1..4 / batch_normalization_1..4.
KERAS2_NAMES = {
    f"block{b}_residual": f"conv2d_{i}" for i, b in enumerate(xception.RESIDUAL_BLOCKS, 1)
} | {
    f"block{b}_residual_bn": f"batch_normalization_{i}"
    for i, b in enumerate(xception.RESIDUAL_BLOCKS, 1)
}
VAR_NAMES = {
    "conv": ["kernel"],
    "sepconv": ["depthwise_kernel", "pointwise_kernel"],
    "bn": ["gamma", "beta", "moving_mean", "moving_variance"],
}


def keras2_file(
    path: Path, *, top: bool = True, break_layer: str | None = None, first_unnamed: int = 1
) -> Path:
    """A Keras-2-layout Xception weights file with random weights, as Keras writes it."""
    rng = np.random.default_rng(1)
    layers = []
    for spec in xception.LAYERS:
        shapes = xception.expected_shapes(spec)
        arrays = [rng.uniform(0.5, 1.5, s).astype(np.float32) for s in shapes]
        if spec.name == break_layer:
            arrays[0] = arrays[0][..., :-1]
        name = KERAS2_NAMES.get(spec.name, spec.name)
        if name != spec.name:
            stem, number = name.rsplit("_", 1)
            name = f"{stem}_{int(number) - 1 + first_unnamed}"
        layers.append((name, spec.kind, arrays))
    if top:
        layers.append(
            (
                "predictions",
                "dense",
                [rng.normal(size=(2048, 1000)).astype(np.float32), np.zeros(1000, np.float32)],
            )
        )
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"input_1"] + [n.encode() for n, _, _ in layers]
        f.create_group("input_1").attrs["weight_names"] = []
        for name, kind, arrays in layers:
            group = f.create_group(name)
            var_names = VAR_NAMES.get(kind, ["kernel", "bias"])
            weight_names = [f"{name}/{v}:0" for v in var_names]
            group.attrs["weight_names"] = [w.encode() for w in weight_names]
            for w, a in zip(weight_names, arrays, strict=True):
                group[w] = a
    return path


def test_keras2_reader_maps_every_layer(tmp_path: Path) -> None:
    read = keras_weights.read_weights(keras2_file(tmp_path / "w.h5"))
    assert read.layout == "keras2"
    assert set(read.backbone) == {s.name for s in xception.LAYERS}
    assert [d.name for d in read.head] == ["predictions"]
    assert read.head[0].activation == "softmax"


def test_convert_writes_a_checked_dynamic_onnx_model(tmp_path: Path) -> None:
    manifest = convert(keras2_file(tmp_path / "w.h5"), tmp_path / "out")
    model = onnx.load(str(manifest.backbone_path))
    onnx.checker.check_model(model)
    assert model.opset_import[0].version == xception.OPSET == manifest.backbone.opset
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 3, "height", "width"]
    ops = {n.op_type for n in model.graph.node}
    assert "BatchNormalization" not in ops, "batch norms are folded into the convolutions"
    assert Manifest.load(tmp_path / "out").verify() == []


def test_residual_layers_are_assigned_in_model_order_not_name_order(tmp_path: Path) -> None:
    # Named conv2d_9..12, h5 lists conv2d_10 first; each block's residual has its own shape,
    # so an assignment by name order would fail the shape check.
    path = keras2_file(tmp_path / "w.h5", first_unnamed=9)
    with h5py.File(path) as f:
        assert list(f.keys())[:2] == ["batch_normalization_10", "batch_normalization_11"]
    read = keras_weights.read_weights(path)
    assert read.backbone["block2_residual"][0].shape == (1, 1, 64, 128)
    assert read.backbone["block13_residual"][0].shape == (1, 1, 728, 1024)


def test_a_wrong_shape_names_the_layer_and_the_shapes(tmp_path: Path) -> None:
    path = keras2_file(tmp_path / "w.h5", break_layer="block7_sepconv2")
    with pytest.raises(ModelError, match=r"block7_sepconv2.*\(3, 3, 728, 1\)"):
        convert(path, tmp_path / "out")


def test_missing_layers_are_listed(tmp_path: Path) -> None:
    path = keras2_file(tmp_path / "w.h5")
    with h5py.File(path, "a") as f:
        names = [n for n in f.attrs["layer_names"] if n != "block14_sepconv2_bn"]
        f.attrs["layer_names"] = names
    with pytest.raises(ModelError, match="lack 1 Xception layers: block14_sepconv2_bn"):
        convert(path, tmp_path / "out")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "neither a Keras 3 .keras archive nor a Keras 2 .h5"),
        (b"not a model at all", "neither a Keras 3 .keras archive nor a Keras 2 .h5"),
    ],
)
def test_unknown_files_are_refused_clearly(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        convert(path, tmp_path / "out")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="weights file not found"):
        convert(tmp_path / "nope.keras", tmp_path / "out")


def test_keras3_archive_without_xception(tmp_path: Path) -> None:
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "config.json",
            json.dumps(
                {"config": {"layers": [{"name": "dense", "class_name": "Dense", "config": {}}]}}
            ),
        )
        z.writestr("model.weights.h5", b"")
    with pytest.raises(ModelError, match="no Xception inside"):
        convert(path, tmp_path / "out")


def test_keras3_archive_missing_weights(tmp_path: Path) -> None:
    path = tmp_path / "broken.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", "{}")
    with pytest.raises(ModelError, match="missing"):
        convert(path, tmp_path / "out")


def test_keras3_reader_on_the_kitchenware_model(keras_file: Path) -> None:
    read = keras_weights.read_weights(keras_file)
    assert read.layout == "keras3" and read.input_size == 150
    assert [(d.kernel.shape, d.activation) for d in read.head] == [
        ((2048, 100), "relu"),
        ((100, 6), "linear"),
    ]


def test_storage_names_number_by_class_in_layer_order() -> None:
    layers = [{"class_name": c} for c in ("Conv2D", "SeparableConv2D", "Conv2D", "Functional")]
    assert keras_weights.storage_names(layers) == [
        "conv2d",
        "separable_conv2d",
        "conv2d_1",
        "functional",
    ]


def test_cli_convert_with_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(f"tag{i}" for i in range(1000)))
    code = main(
        [
            "convert",
            str(keras2_file(tmp_path / "w.h5")),
            "-o",
            str(tmp_path / "m"),
            "--name",
            "mine",
            "--labels",
            str(labels),
            "--resize",
            "bicubic",
        ]
    )
    assert code == 0
    head = Manifest.load(tmp_path / "m").heads["mine"]
    assert head.labels[999] == "tag999" and head.preprocessing.resize == "bicubic"
    assert "head mine (default): 1000 classes" in capsys.readouterr().out


def test_cli_convert_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(tmp_path / "missing.h5"), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xception-maya: error: weights file not found") and "Traceback" not in err
