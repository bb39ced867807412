"""Read Xception weights out of Keras files, with h5py only (no TensorFlow, no Keras).

Three layouts:

- Keras 3 ``.keras`` archives: a zip of ``config.json`` and ``model.weights.h5``. The h5 groups
  are named by layer class and position (``conv2d_3``, ``separable_conv2d_17``), not by the
  Keras layer name, so names come from walking ``config.json`` in layer order, the way Keras
  numbers them when saving. The Xception base may be nested inside the saved model.
- Keras 2 h5 files (``xception_weights_tf_dim_ordering_tf_kernels[_notop].h5`` or a whole saved
  model): groups named by layer, each listing its ``weight_names``.
- Keras 1 h5 files: Keras's own ``xception_weights_tf_dim_ordering_tf_kernels.h5`` (October
  2016). Layers carry Keras 1's automatic names (``convolution2d_3``,
  ``batchnormalization_17``: the class name lowercased, numbered per class in creation order)
  and weights ``{layer}_W:0``, ``{layer}_depthwise_kernel:0``, ``{layer}_running_std:0`` (which
  holds the variance). Keras loads such files by position, not by name: the n-th layer with
  weights in the file goes to the n-th layer with weights of ``model.layers``. So does this
  reader, in :data:`KERAS_LAYER_ORDER`, checking each layer's kind and shapes.

Whatever the layout, the result is the backbone weights keyed by the names in
``xception.LAYERS`` plus the dense layers of the head that follows global average pooling,
if any.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import xception
from .errors import ModelError

CONV_CLASSES = {"Conv2D": "conv", "SeparableConv2D": "sepconv", "BatchNormalization": "bn"}
PASS_THROUGH = {"Dropout", "Activation", "InputLayer", "Flatten"}
Group = tuple[str, list[tuple[str, np.ndarray]]]  # an h5 layer: its name, (weight name, array)


@dataclass
class DenseLayer:
    name: str
    kernel: np.ndarray
    bias: np.ndarray
    activation: str


@dataclass
class _Base:
    layers: list[dict[str, Any]]  # the Xception layers
    h5_path: str  # where their weights are
    container: list[dict[str, Any]]  # the layers of the model holding the base
    end: int  # index in container of the base's last layer: the head follows it
    container_h5_path: str


@dataclass
class KerasWeights:
    backbone: dict[str, list[np.ndarray]]
    head: list[DenseLayer] = field(default_factory=list)
    input_size: int | None = None
    layout: str = ""


def read_weights(path: str | Path) -> KerasWeights:
    """Read a ``.keras`` archive or a Keras 2 ``.h5`` file."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"weights file not found: {path}")
    if zipfile.is_zipfile(path):
        return read_keras3(path)
    try:
        import h5py
    except ImportError as exc:
        raise ModelError("converting needs h5py: pip install 'xception-maya[build]'") from exc
    if not h5py.is_hdf5(path):
        raise ModelError(
            f"{path} is neither a Keras 3 .keras archive nor a Keras 2 .h5 weights file"
        )
    return read_keras2(path)


# --- Keras 3 ---------------------------------------------------------------------------


def snake_case(class_name: str) -> str:
    """Keras 3's storage name for a layer class: SeparableConv2D -> separable_conv2d."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def storage_names(layers: list[dict[str, Any]]) -> list[str]:
    """The h5 group name of each layer: class name, numbered by order within its model."""
    used: dict[str, int] = {}
    names = []
    for layer in layers:
        base = snake_case(layer["class_name"])
        if base in used:
            used[base] += 1
            names.append(f"{base}_{used[base]}")
        else:
            used[base] = 0
            names.append(base)
    return names


def _layers_of(model_config: dict[str, Any]) -> list[dict[str, Any]]:
    layers = model_config.get("config", {}).get("layers")
    return layers if isinstance(layers, list) else []


def _find_base(config: dict[str, Any], h5_path: str = "layers") -> _Base | None:
    """Locate the Xception layers inside a model config, searching nested models."""
    layers = _layers_of(config)
    names = [layer.get("name") for layer in layers]
    if "block1_conv1" in names:
        last = "block14_sepconv2_act"
        end = names.index(last) if last in names else len(layers) - 1
        return _Base(layers, h5_path, layers, end, h5_path)
    for index, (layer, stored) in enumerate(zip(layers, storage_names(layers), strict=True)):
        if _layers_of(layer):
            found = _find_base(layer, f"{h5_path}/{stored}/layers")
            if found is not None:
                return _Base(found.layers, found.h5_path, layers, index, h5_path)
    return None


def read_keras3(path: Path) -> KerasWeights:
    import h5py

    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
            weights_bytes = archive.read("model.weights.h5")
    except KeyError as exc:
        raise ModelError(f"{path}: not a Keras 3 model archive (missing {exc})") from exc
    except (zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise ModelError(f"{path}: damaged .keras archive ({exc})") from exc

    found = _find_base(config)
    if found is None:
        raise ModelError(f"{path}: no Xception inside (no layer named block1_conv1)")

    with h5py.File(io.BytesIO(weights_bytes), "r") as h5:
        ordered = []
        for layer, stored in zip(found.layers, storage_names(found.layers), strict=True):
            kind = CONV_CLASSES.get(layer["class_name"])
            if kind is None:
                continue
            if kind == "bn":
                _check_epsilon(layer, path)
            ordered.append((layer["name"], kind, _vars(h5, f"{found.h5_path}/{stored}", path)))
        backbone = assign_layers(ordered, str(path))
        head = _keras3_head(h5, found, path)

    input_size = _input_size(found.layers)
    return KerasWeights(backbone, head, input_size, layout="keras3")


def _vars(h5: Any, group: str, path: Path) -> list[np.ndarray]:
    if group not in h5:
        raise ModelError(f"{path}: the weights lack group {group} named by config.json")
    stored = h5[group].get("vars", {})
    return [np.asarray(stored[str(i)]) for i in range(len(stored))]


def _check_epsilon(layer: dict[str, Any], path: Path) -> None:
    eps = layer.get("config", {}).get("epsilon", xception.BN_EPSILON)
    if abs(eps - xception.BN_EPSILON) > 1e-12:
        raise ModelError(
            f"{path}: batch norm {layer['name']} has epsilon {eps}, Xception uses "
            f"{xception.BN_EPSILON}"
        )


def _input_size(layers: list[dict[str, Any]]) -> int | None:
    for layer in layers:
        if layer["class_name"] == "InputLayer":
            cfg = layer.get("config", {})
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
            if shape and len(shape) == 4 and shape[1] and shape[1] == shape[2]:
                return int(shape[1])
    return None


def _keras3_head(h5: Any, base: _Base, path: Path) -> list[DenseLayer]:
    """The dense layers after the base, which must begin with global average pooling."""
    after = base.container[base.end + 1 :]
    stored = storage_names(base.container)[base.end + 1 :]
    head: list[DenseLayer] = []
    pooled = False
    prefix = base.container_h5_path
    for layer, name in zip(after, stored, strict=True):
        cls = layer["class_name"]
        if cls == "GlobalAveragePooling2D":
            pooled = True
        elif cls == "Dense":
            if not pooled:
                raise ModelError(f"{path}: dense layer {layer['name']} before global pooling")
            kernel, bias = _vars(h5, f"{prefix}/{name}", path)
            activation = layer.get("config", {}).get("activation", "linear")
            head.append(DenseLayer(layer["name"], kernel, bias, activation))
        elif cls not in PASS_THROUGH:
            raise ModelError(
                f"{path}: head layer {layer['name']} ({cls}) is not supported; a head may hold "
                "GlobalAveragePooling2D, Dense and Dropout layers"
            )
    return head


# --- Keras 2 ---------------------------------------------------------------------------


def read_keras2(path: Path) -> KerasWeights:
    """A Keras 2 or Keras 1 h5 file (both list ``layer_names`` and ``weight_names``)."""
    import h5py

    with h5py.File(path, "r") as h5:
        root = h5.get("model_weights", h5)
        if "layer_names" not in root.attrs:
            raise ModelError(f"{path}: not a Keras weights file (no layer_names attribute)")
        groups: list[Group] = []
        for layer_name in _strings(root.attrs["layer_names"]):
            if layer_name not in root:
                raise ModelError(f"{path}: layer {layer_name} is listed but has no group")
            group = root[layer_name]
            names = _strings(group.attrs.get("weight_names", []))
            groups.append((layer_name, [(w, np.asarray(group[w])) for w in names]))
        activations = _keras2_activations(h5)

    if is_keras1(groups):
        return read_keras1(groups, activations, path)
    per_layer: dict[str, list[np.ndarray]] = {}
    order: list[str] = []
    for layer_name, weights in groups:
        for weight_name, array in weights:
            # "block1_conv1/kernel:0"; a nested model lists its layers' weights this way too
            owner = weight_name.split("/")[0] if "/" in weight_name else layer_name
            if owner not in per_layer:
                per_layer[owner] = []
                order.append(owner)
            per_layer[owner].append(array)

    ordered = []
    head: list[DenseLayer] = []
    for name in order:
        arrays = per_layer[name]
        kind = _kind_from_shapes(name, arrays)
        if kind == "dense":
            activation = activations.get(name, "softmax" if name == "predictions" else None)
            if activation is None:
                raise ModelError(
                    f"{path}: dense layer {name} has no recorded activation; convert the "
                    "whole saved model (with its config) instead of a weights-only file"
                )
            head.append(DenseLayer(name, arrays[0], arrays[1], activation))
        elif kind:
            ordered.append((name, kind, arrays))
    backbone = assign_layers(ordered, str(path))
    return KerasWeights(backbone, head, None, layout="keras2")


def _strings(values: Iterable[Any]) -> list[str]:
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _kind_from_shapes(name: str, arrays: list[np.ndarray]) -> str | None:
    if name in xception.LAYERS_BY_NAME:
        return xception.LAYERS_BY_NAME[name].kind
    shapes = [a.ndim for a in arrays]
    if shapes == [4]:
        return "conv"
    if shapes == [1, 1, 1, 1]:
        return "bn"
    if shapes == [2, 1]:
        return "dense"
    if shapes == [4, 4]:
        return "sepconv"
    if not arrays:
        return None
    raise ModelError(
        f"layer {name}: weights of shapes {[a.shape for a in arrays]} are not part of Xception"
    )


def _keras2_activations(h5: Any) -> dict[str, str]:
    raw = h5.attrs.get("model_config")
    if raw is None:
        return {}
    config = json.loads(raw.decode("utf8") if isinstance(raw, bytes) else raw)
    found: dict[str, str] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("class_name") == "Dense":
                cfg = node.get("config", {})
                found[cfg.get("name", "")] = cfg.get("activation", "linear")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


# --- Keras 1 ---------------------------------------------------------------------------

# Keras 1's weight names, ``{layer}_{param}:0``, per kind, in the order Keras stores them.
KERAS1_PARAMS = {
    "conv": ("W",),
    "sepconv": ("depthwise_kernel", "pointwise_kernel"),
    "bn": ("gamma", "beta", "running_mean", "running_std"),  # running_std holds the variance
    "dense": ("W", "b"),
}


def _keras_layer_order() -> list[xception.LayerSpec]:
    """Xception's layers with weights in ``keras.applications.Xception().layers`` order.

    That order is topological, by depth from the output, not the order of creation: in a
    downsampling block the source creates the residual conv and its batch norm first, but the
    short branch sits closer to the block's ``add``, so both come after the block's second
    separable conv and its batch norm."""
    order: list[xception.LayerSpec] = []
    residual: list[xception.LayerSpec] = []
    for spec in xception.LAYERS:
        if spec.name.endswith(("_residual", "_residual_bn")):
            residual.append(spec)
            continue
        order.append(spec)
        if residual and spec.name.endswith("_sepconv2_bn"):
            order += residual
            residual = []
    return order


KERAS_LAYER_ORDER: list[xception.LayerSpec] = _keras_layer_order()


def is_keras1(groups: list[Group]) -> bool:
    """Keras 1 names weights ``{layer}_W:0``; Keras 2 and later ``{layer}/kernel:0``."""
    names = [w for _, weights in groups for w, _ in weights]
    return bool(names) and not any("/" in w for w in names)


def _keras1_param(layer: str, weight: str) -> str:
    stem = weight.rsplit(":", 1)[0]
    return stem[len(layer) + 1 :] if stem.startswith(f"{layer}_") else stem


def _keras1_kind(layer: str, weights: list[tuple[str, np.ndarray]], path: Path) -> str:
    params = {_keras1_param(layer, w): a for w, a in weights}
    for kind, names in KERAS1_PARAMS.items():
        if set(params) == set(names):
            if kind in ("conv", "dense") and params["W"].ndim != (4 if kind == "conv" else 2):
                continue
            return kind
    shown = ", ".join(f"{w} {a.shape}" for w, a in weights)
    raise ModelError(f"{path}: layer {layer} ({shown}) is not a layer of Xception")


def read_keras1(groups: list[Group], activations: dict[str, str], path: Path) -> KerasWeights:
    """Keras 1's layout, read by position as Keras reads it."""
    weighted = []
    for layer, weights in groups:
        if weights:
            kind = _keras1_kind(layer, weights, path)
            params = {_keras1_param(layer, w): a for w, a in weights}
            weighted.append((layer, kind, [params[p] for p in KERAS1_PARAMS[kind]]))
    count = len(KERAS_LAYER_ORDER)
    backbone: dict[str, list[np.ndarray]] = {}
    for position, spec in enumerate(KERAS_LAYER_ORDER):
        if position >= len(weighted):
            raise ModelError(
                f"{path}: the file has {len(weighted)} layers with weights, Xception has "
                f"{count} before its classifier"
            )
        layer, kind, arrays = weighted[position]
        if kind != spec.kind:
            raise ModelError(
                f"{path}: layer {layer} (#{position + 1} with weights) is a {kind}; Keras's "
                f"Xception has a {spec.kind} there ({spec.name})"
            )
        got = [tuple(a.shape) for a in arrays]
        want = xception.expected_shapes(spec)
        if got != want:
            raise ModelError(
                f"{path}: layer {layer} (Xception's {spec.name}): weights have shapes {got}, "
                f"Xception expects {want}"
            )
        backbone[spec.name] = arrays
    xception.check_weights(backbone)

    dense = weighted[count:]
    for layer, kind, _ in dense:
        if kind != "dense":
            raise ModelError(f"{path}: layer {layer} ({kind}) follows Xception's last layer")
    head = []
    for layer, _, (kernel, bias) in dense:
        activation = activations.get(layer)
        name = layer
        if activation is None and len(dense) == 1 and kernel.shape == (xception.FEATURES, 1000):
            # A weights-only file: Keras loads this one into its 1000-class softmax
            # classifier, "predictions", by position.
            activation, name = "softmax", "predictions"
        if activation is None:
            raise ModelError(
                f"{path}: dense layer {layer} has no recorded activation; convert the "
                "whole saved model (with its config) instead of a weights-only file"
            )
        head.append(DenseLayer(name, kernel, bias, activation))
    return KerasWeights(backbone, head, None, layout="keras1")


# --- both ------------------------------------------------------------------------------


def assign_layers(
    ordered: list[tuple[str, str, list[np.ndarray]]], source: str
) -> dict[str, list[np.ndarray]]:
    """Key weights by ``xception.LAYERS`` names. Named Keras layers keep their names; the
    unnamed residual convs and batch norms go to blocks 2, 3, 4 and 13 in model order."""
    residual = {
        "conv": [f"block{b}_residual" for b in xception.RESIDUAL_BLOCKS],
        "bn": [f"block{b}_residual_bn" for b in xception.RESIDUAL_BLOCKS],
    }
    out: dict[str, list[np.ndarray]] = {}
    for name, kind, arrays in ordered:
        if name in xception.LAYERS_BY_NAME:
            target = name
        elif residual.get(kind):
            target = residual[kind].pop(0)
        else:
            raise ModelError(f"{source}: layer {name} ({kind}) has no place in Xception")
        if xception.LAYERS_BY_NAME[target].kind != kind:
            raise ModelError(
                f"{source}: layer {name} is a {kind}, Xception's {target} is a "
                f"{xception.LAYERS_BY_NAME[target].kind}"
            )
        out[target] = arrays
    xception.check_weights(out)
    return out
