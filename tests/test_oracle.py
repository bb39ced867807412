"""The converter judged against Keras's own inference of the same weights.

Keras 3 on the torch backend (the ``oracle`` extra) loads the very file we convert; both sides
get the same preprocessed pixels, and the features, logits and probabilities must agree.
"""

from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest

from xception_maya import images
from xception_maya.convert import convert
from xception_maya.engine import Engine
from xception_maya.heads import Head
from xception_maya.manifest import Manifest

os.environ.setdefault("KERAS_BACKEND", "torch")
if os.environ.get("CI"):
    import keras  # CI must run the oracle: a missing extra is a failure, not a skip
else:
    keras = pytest.importorskip("keras")

pytestmark = pytest.mark.oracle
TOLERANCE = 1e-4


def batch(photos: list[Path], size: int, resize: str) -> np.ndarray:
    """(N, 3, size, size): what the engine takes. Keras gets the same pixels, NHWC."""
    return np.stack([images.preprocess(images.load_image(p), size, resize) for p in photos])


def nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def run_keras(model: object, x: np.ndarray) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(model(x, training=False)))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, keras_file: Path) -> Path:
    out = tmp_path_factory.mktemp("converted")
    convert(keras_file, out, head_name="kitchenware", input_size=150, resize="nearest")
    return out


@pytest.fixture(scope="module")
def keras_model(keras_file: Path) -> object:
    return keras.saving.load_model(keras_file, compile=False)


@pytest.mark.parametrize("size", [150, 299])
def test_kitchenware_matches_keras(
    size: int, converted: Path, keras_model: object, samples: list[Path]
) -> None:
    x = batch(samples, size, "nearest")
    base = keras_model.get_layer("xception")
    # The saved model is fixed at 150x150; at other sizes, rebuild Xception and give it the
    # same weights (it has no size-dependent weights), then the same head layers.
    sized = keras.applications.Xception(
        weights=None, include_top=False, input_shape=(size, size, 3)
    )
    sized.set_weights(base.get_weights())
    inputs = keras.Input((size, size, 3))
    features = keras.layers.GlobalAveragePooling2D()(sized(inputs))
    logits = keras_model.get_layer("dense_1")(keras_model.get_layer("dense")(features))
    reference = keras.Model(inputs, [features, logits])
    want_features, want_logits = (
        np.asarray(keras.ops.convert_to_numpy(t)) for t in reference(nhwc(x), training=False)
    )
    if size == 150:  # the saved model itself, untouched
        np.testing.assert_allclose(run_keras(keras_model, nhwc(x)), want_logits, atol=1e-5)

    installed = Manifest.load(converted)
    got_features = Engine(installed.backbone_path, "cpu").features(x)
    got_logits = Head.load(installed.head_path("kitchenware")).logits(got_features)

    assert np.abs(got_features - want_features).max() < TOLERANCE
    assert np.abs(got_logits - want_logits).max() < TOLERANCE
    assert (got_logits.argmax(1) == want_logits.argmax(1)).all()


def randomize(model: object, seed: int = 0) -> None:
    """Random but well-scaled weights, so activations stay finite through 36 layers and the
    1000-class probabilities are peaked enough for argmax to mean something."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        new = []
        for w in layer.weights:
            shape, name = tuple(w.shape), w.name
            if name in ("kernel", "depthwise_kernel", "pointwise_kernel"):
                fan_in = int(np.prod(shape[:-1])) if name != "depthwise_kernel" else 9
                scale = np.sqrt(2.0 / fan_in) * (4.0 if layer.name == "predictions" else 1.0)
                new.append(rng.normal(0, scale, shape))
            elif name in ("gamma", "moving_variance"):
                new.append(rng.uniform(0.5, 1.5, shape))
            else:  # beta, moving_mean, bias
                new.append(rng.normal(0, 0.1, shape))
        if new:
            layer.set_weights([a.astype(np.float32) for a in new])


def write_keras2(model: object, path: Path) -> None:
    """Keras 2's layer-named layout, as in xception_weights_tf_dim_ordering_tf_kernels.h5."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode() for layer in model.layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for layer in model.layers:
            group = f.create_group(layer.name)
            names = [f"{layer.name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = [n.encode() for n in names]
            for name, w in zip(names, layer.weights, strict=True):
                group[name] = keras.ops.convert_to_numpy(w)


@pytest.fixture(scope="module")
def imagenet_keras() -> object:
    model = keras.applications.Xception(weights=None)
    randomize(model)
    return model


def test_keras2_imagenet_layout_matches_keras(
    tmp_path: Path, imagenet_keras: object, samples: list[Path]
) -> None:
    weights = tmp_path / "xception_weights_tf_dim_ordering_tf_kernels.h5"
    write_keras2(imagenet_keras, weights)
    manifest = convert(weights, tmp_path / "models")
    assert manifest.default_head == "imagenet"
    head = Head.load(manifest.head_path("imagenet"))
    assert head.labels[:2] == ["tench", "goldfish"] and len(head.labels) == 1000
    assert (head.input_size, head.resize) == (299, "bilinear")

    x = batch(samples[:6], 299, "bilinear")
    want = run_keras(imagenet_keras, nhwc(x))
    got = head.scores(Engine(manifest.backbone_path, "cpu").features(x))
    assert want.max() > 0.05, "the random model should be confident enough to compare argmax"
    assert np.abs(got - want).max() < TOLERANCE
    assert (got.argmax(1) == want.argmax(1)).all()


def test_keras2_notop_twin_gives_features_only(
    tmp_path: Path, imagenet_keras: object, samples: list[Path]
) -> None:
    notop = keras.applications.Xception(weights=None, include_top=False, pooling="avg")
    notop.set_weights(imagenet_keras.get_weights()[:-2])  # all but predictions' kernel, bias
    weights = tmp_path / "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    write_keras2(notop, weights)
    manifest = convert(weights, tmp_path / "models")
    assert manifest.heads == {} and manifest.default_head is None

    x = batch(samples[:3], 200, "bilinear")  # any size >= 71, here an even one off 299
    want = run_keras(_sized_notop(notop, 200), nhwc(x))
    got = Engine(manifest.backbone_path, "cpu").features(x)
    assert np.abs(got - want).max() < TOLERANCE * max(1.0, float(np.abs(want).max()))


def _sized_notop(notop: object, size: int) -> object:
    model = keras.applications.Xception(
        weights=None, include_top=False, pooling="avg", input_shape=(size, size, 3)
    )
    model.set_weights(notop.get_weights())
    return model
