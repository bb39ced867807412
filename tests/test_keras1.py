"""Keras 1's layout (Keras's own ImageNet weights file) read by position, as Keras reads it.

The file is generated here from Keras 1's rules: a layer is named after its class, lowercased,
with a per-class counter in creation order (``convolution2d_3``); its weights are
``{layer}_W:0``, ``{layer}_depthwise_kernel:0``, ``{layer}_gamma:0`` ... ``{layer}_running_std:0``
(the variance); the root lists every layer in ``model.layers`` order, weightless ones included.
Keras 3 loading the same file is the judge.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from xception_maya import keras_weights, xception
from xception_maya.convert import convert
from xception_maya.errors import ModelError

KERAS1_CLASS = {"conv": "convolution2d", "sepconv": "separableconvolution2d"}
KERAS1_CLASS["bn"] = "batchnormalization"
CLASSIFIER = "dense_2"  # the name in Keras's file: a dense_1 had been made before it
TOLERANCE = 1e-4
KERNEL_SCALE = 1.0  # with these batch norms: top probabilities about 0.7, not saturated


def keras1_names() -> dict[str, str]:
    """Xception layer -> its Keras 1 name. ``xception.LAYERS`` is in the order the source
    creates layers (each downsampling block's residual conv and batch norm before its
    separable convs), so the per-class counters run in that order."""
    counters: dict[str, int] = {}
    names = {}
    for spec in xception.LAYERS:
        cls = KERAS1_CLASS[spec.kind]
        counters[cls] = counters.get(cls, 0) + 1
        names[spec.name] = f"{cls}_{counters[cls]}"
    return names


def scaled_weights(spec: xception.LayerSpec, rng: np.random.Generator) -> list[np.ndarray]:
    """Random but well-scaled: gamma below 1 keeps the features near 1 through 36 layers and
    eight residual sums (with gamma around 1 they reach 1e7 and every softmax saturates)."""
    shapes = xception.expected_shapes(spec)
    if spec.kind == "bn":  # gamma, beta, mean, variance
        gamma, beta, mean, var = (
            rng.uniform(0.2, 0.6, shapes[0]),
            rng.normal(0, 0.1, shapes[1]),
            rng.normal(0, 0.1, shapes[2]),
            rng.uniform(0.5, 1.5, shapes[3]),
        )
        return [a.astype(np.float32) for a in (gamma, beta, mean, var)]
    out = []
    for i, shape in enumerate(shapes):
        depthwise = spec.kind == "sepconv" and i == 0
        fan_in = 9 if depthwise else int(np.prod(shape[:-1]))
        out.append(rng.normal(0, np.sqrt(2.0 / fan_in), shape).astype(np.float32))
    return out


def keras1_file(
    path: Path,
    *,
    top: bool = True,
    seed: int = 0,
    backbone: dict[str, list[np.ndarray]] | None = None,
) -> Path:
    """Xception weights in Keras 1's layout, layers listed in Keras's ``model.layers`` order
    with the weightless ones (activations, poolings, merges) between them. ``backbone``:
    these weights (keyed as ``xception.LAYERS``) instead of random ones."""
    rng = np.random.default_rng(seed)
    names = keras1_names()
    counters: dict[str, int] = {}

    def weightless(cls: str) -> tuple[str, list[tuple[str, np.ndarray]]]:
        counters[cls] = counters.get(cls, 0) + 1
        return f"{cls}_{counters[cls]}", []

    params = keras_weights.KERAS1_PARAMS
    layers = [weightless("input")]
    for spec in keras_weights.KERAS_LAYER_ORDER:
        name = names[spec.name]
        arrays = scaled_weights(spec, rng) if backbone is None else backbone[spec.name]
        pairs = zip(params[spec.kind], arrays, strict=True)
        layers.append((name, [(f"{name}_{p}:0", a) for p, a in pairs]))
        if spec.kind == "bn":
            layers.append(weightless("activation"))
        if spec.name.endswith("_residual_bn"):
            layers += [weightless("maxpooling2d"), weightless("merge")]
    layers.append(weightless("globalaveragepooling2d"))
    if top:
        kernel = rng.normal(0, KERNEL_SCALE, (2048, 1000))
        # Zero-sum columns ignore what all images' features share (ReLU outputs have a
        # common positive mean), so the top class depends on the image.
        kernel = (kernel - kernel.mean(axis=0)).astype(np.float32)
        bias = rng.normal(0, 0.1, 1000).astype(np.float32)
        layers.append((CLASSIFIER, [(f"{CLASSIFIER}_W:0", kernel), (f"{CLASSIFIER}_b:0", bias)]))
    with h5py.File(path, "w") as f:
        # Keras 1 wrote no keras_version: that absence is how Keras knows the file is Keras 1's.
        f.attrs["layer_names"] = _fixed_strings([n for n, _ in layers])
        for name, weights in layers:
            group = f.create_group(name)
            group.attrs["weight_names"] = _fixed_strings([w for w, _ in weights])
            for weight_name, array in weights:
                group[weight_name] = array
    return path


def _fixed_strings(names: list[str]) -> np.ndarray:
    """Fixed-length byte strings, as h5py 2 stored Keras 1's lists of names."""
    return np.array([n.encode() for n in names], dtype=bytes)


@pytest.fixture(scope="session")
def keras1_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("keras1") / "xception_weights_tf_dim_ordering_tf_kernels.h5"
    return keras1_file(out)


def test_the_generated_file_has_the_names_of_keras_file(keras1_weights: Path) -> None:
    with h5py.File(keras1_weights) as f:
        listed = [n.decode() for n in f.attrs["layer_names"]]
        weighted = [n for n in listed if len(f[n].attrs["weight_names"])]
        assert [w.decode() for w in f["batchnormalization_1"].attrs["weight_names"]] == [
            f"batchnormalization_1_{p}:0" for p in ("gamma", "beta", "running_mean", "running_std")
        ]
    for cls, count in [("convolution2d", 6), ("separableconvolution2d", 34)]:
        assert sorted(n for n in weighted if n.startswith(cls + "_")) == sorted(
            f"{cls}_{i}" for i in range(1, count + 1)
        )
    assert len([n for n in weighted if n.startswith("batchnormalization_")]) == 40
    assert weighted[-1] == CLASSIFIER and len(weighted) == 81
    # Created before block 2's separable convs, listed after them (Keras's order).
    assert weighted[4:10] == [
        "separableconvolution2d_1",
        "batchnormalization_4",
        "separableconvolution2d_2",
        "batchnormalization_5",
        "convolution2d_3",
        "batchnormalization_3",
    ]


def test_keras1_layers_go_where_keras_puts_them(keras1_weights: Path) -> None:
    read = keras_weights.read_weights(keras1_weights)
    assert read.layout == "keras1"
    assert set(read.backbone) == {s.name for s in xception.LAYERS}
    with h5py.File(keras1_weights) as f:
        for layer, index, stored in [
            ("block2_residual", 0, "convolution2d_3/convolution2d_3_W:0"),
            ("block2_residual_bn", 3, "batchnormalization_3/batchnormalization_3_running_std:0"),
            ("block2_sepconv1_bn", 0, "batchnormalization_4/batchnormalization_4_gamma:0"),
            ("block13_residual_bn", 1, "batchnormalization_36/batchnormalization_36_beta:0"),
            (
                "block13_sepconv2_bn",
                2,
                "batchnormalization_38/batchnormalization_38_running_mean:0",
            ),
            (
                "block14_sepconv2",
                1,
                "separableconvolution2d_34/separableconvolution2d_34_pointwise_kernel:0",
            ),
        ]:
            np.testing.assert_array_equal(read.backbone[layer][index], f[stored][()])
    assert [(d.name, d.kernel.shape, d.activation) for d in read.head] == [
        ("predictions", (2048, 1000), "softmax")
    ]


def test_keras1_converts_to_the_imagenet_head(keras1_weights: Path, tmp_path: Path) -> None:
    manifest = convert(keras1_weights, tmp_path / "models")
    assert manifest.default_head == "imagenet"
    assert manifest.heads["imagenet"].labels[:2] == ("tench", "goldfish")


def _copy(weights: Path, tmp_path: Path) -> Path:
    out = tmp_path / weights.name
    shutil.copyfile(weights, out)
    return out


def test_a_wrong_shape_names_the_file_layer_xception_layer_and_shapes(
    keras1_weights: Path, tmp_path: Path
) -> None:
    path = _copy(keras1_weights, tmp_path)
    with h5py.File(
        path, "a"
    ) as f:  # 2 x 3 in blocks 2-4, 3 x 2 in 5-6: the 13th is block 7's first
        name = "separableconvolution2d_13/separableconvolution2d_13_pointwise_kernel:0"
        del f[name]
        f[name] = np.zeros((1, 1, 728, 727), np.float32)
    with pytest.raises(ModelError) as err:
        keras_weights.read_weights(path)
    message = str(err.value)
    assert "separableconvolution2d_13 (Xception's block7_sepconv1)" in message
    assert "(1, 1, 728, 727)" in message and "(1, 1, 728, 728)" in message


def test_a_missing_layer_is_a_kind_error_at_its_position(
    keras1_weights: Path, tmp_path: Path
) -> None:
    path = _copy(keras1_weights, tmp_path)
    with h5py.File(path, "a") as f:
        kept = [n for n in f.attrs["layer_names"] if n != b"batchnormalization_4"]
        f.attrs["layer_names"] = np.array(kept, dtype=bytes)
    with pytest.raises(ModelError, match=r"separableconvolution2d_2 \(#6 with weights\) is a "):
        keras_weights.read_weights(path)


def test_the_notop_twin_gives_features_only(tmp_path: Path) -> None:
    read = keras_weights.read_weights(keras1_file(tmp_path / "notop.h5", top=False))
    assert read.layout == "keras1" and read.head == []


# --- against Keras 3, which reads legacy files by position ------------------------------

os.environ.setdefault("KERAS_BACKEND", "torch")


def _keras() -> object:
    if os.environ.get("CI"):
        import keras  # CI must run the oracle: a missing extra is a failure, not a skip

        return keras
    return pytest.importorskip("keras")


@pytest.mark.oracle
def test_keras_layer_order_is_keras3s() -> None:
    keras = _keras()
    model = keras.applications.Xception(weights=None)  # type: ignore[attr-defined]
    residual = iter(f"block{b}" for b in xception.RESIDUAL_BLOCKS for _ in range(2))
    got = []
    for layer in model.layers:
        if not layer.weights or layer.name == "predictions":
            continue
        name = layer.name
        if name.startswith("conv2d"):
            name = f"{next(residual)}_residual"
        elif name.startswith("batch_normalization"):
            name = f"{next(residual)}_residual_bn"
        got.append(name)
    assert got == [s.name for s in keras_weights.KERAS_LAYER_ORDER]


@pytest.mark.oracle
def test_converted_keras1_file_matches_keras3_loading_it(
    keras1_weights: Path, tmp_path: Path, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from test_oracle import batch, nhwc, run_keras

    from xception_maya.engine import Engine
    from xception_maya.heads import Head

    keras = _keras()
    model = keras.applications.Xception(weights=None)  # type: ignore[attr-defined]
    model.load_weights(keras1_weights)  # Keras's legacy h5 loader: by position
    features_of = keras.Model(model.input, model.get_layer("avg_pool").output)  # type: ignore[attr-defined]

    x = batch(samples[:6], 299, "bilinear")
    want = run_keras(model, nhwc(x))
    want_features = run_keras(features_of, nhwc(x))

    def converted(name: str) -> tuple[np.ndarray, np.ndarray]:
        manifest = convert(keras1_weights, tmp_path / name)
        features = Engine(manifest.backbone_path, "cpu").features(x)
        return features, Head.load(manifest.head_path("imagenet")).scores(features)

    features, got = converted("models")
    diff = float(np.abs(got - want).max())
    feature_diff = float(np.abs(features - want_features).max())
    print(
        f"keras1 layout vs Keras 3: max abs diff {diff:.2e} (probabilities), "
        f"{feature_diff:.2e} (features, max {np.abs(want_features).max():.2f})"
    )
    assert 0.05 < want.max() < 0.99, "probabilities neither flat nor saturated"
    assert diff < TOLERANCE and feature_diff < TOLERANCE
    assert (got.argmax(1) == want.argmax(1)).all()

    # The check can fail: two batch norms of the same shape swapped (block 13's residual
    # and second separable conv, both 1024 wide) convert without error but disagree.
    order = list(keras_weights.KERAS_LAYER_ORDER)
    i, j = (
        next(k for k, s in enumerate(order) if s.name == n)
        for n in ("block13_sepconv2_bn", "block13_residual_bn")
    )
    order[i], order[j] = order[j], order[i]
    monkeypatch.setattr(keras_weights, "KERAS_LAYER_ORDER", order)
    swapped, _ = converted("swapped")
    assert np.abs(swapped - want_features).max() > 100 * TOLERANCE
