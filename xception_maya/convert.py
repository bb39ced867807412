"""Keras weights -> ONNX backbone + numpy head + manifest entry."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from . import manifest as mf
from . import xception
from .errors import ModelError
from .heads import RESIZE_FILTERS, Head
from .keras_weights import KerasWeights, read_weights
from .limits import MIN_INPUT_SIZE
from .names import validate_name
from .preprocessing import check_size

DEFAULT_SIZE = 299  # Xception's ImageNet training size
DEFAULT_RESIZE = "bilinear"


def imagenet_labels() -> list[str]:
    text = resources.files("xception_maya").joinpath("data/imagenet_classes.txt").read_text("utf8")
    labels = [line.strip() for line in text.splitlines() if line.strip()]
    assert len(labels) == 1000, "data/imagenet_classes.txt must list 1000 classes"
    return labels


def convert(
    weights: str | Path,
    out_dir: str | Path,
    *,
    head_name: str | None = None,
    labels: list[str] | None = None,
    input_size: int | None = None,
    resize: str | None = None,
    source: dict[str, Any] | None = None,
    make_default: bool = True,
) -> mf.Manifest:
    """Convert a Keras file into ``out_dir``: the backbone, the head if the file has one, and
    the manifest (existing heads of the same backbone are kept). One transaction: a kill at
    any point leaves the folder's previous models or the new ones."""
    weights = Path(weights)
    out_dir = Path(out_dir)
    if head_name is not None:
        validate_name(head_name)
    if resize is not None and resize not in RESIZE_FILTERS:
        raise ModelError(f"resize {resize!r} is not one of {', '.join(RESIZE_FILTERS)}")
    if input_size is not None:
        check_size(input_size)
    read = read_weights(weights)
    source = dict(source or {"file": weights.name})
    head = (
        head_from_keras(read, head_name, labels, input_size, resize, weights) if read.head else None
    )
    model_bytes = _onnx_bytes(xception.build_backbone(read.backbone))

    with mf.transaction(out_dir):
        stem = mf.BACKBONE_FILE.removesuffix(".onnx")
        relative, backbone_sha = mf.write_content_file(out_dir, "", stem, ".onnx", model_bytes)
        backbone = mf.ModelEntry(
            file=relative,
            sha256=backbone_sha,
            opset=xception.OPSET,
            input=f"images: float32 (N, 3, H, W), RGB, x/127.5 - 1, H and W >= {MIN_INPUT_SIZE}",
            output="features: float32 (N, 2048)",
            source=source,
        )
        try:
            old = mf.Manifest.load(out_dir)
            # Heads trained on other backbone weights would give wrong scores on this one.
            heads = {n: h for n, h in old.heads.items() if h.backbone_sha256 == backbone_sha}
            manifest = mf.Manifest(out_dir, backbone, heads, old.default_head, old.models)
        except ModelError:
            manifest = mf.Manifest(out_dir, backbone)
        if head is not None:
            head.extra["source"] = source
            manifest = stage_head(manifest, head, make_default=make_default)
        if manifest.default_head not in manifest.heads:
            manifest.default_head = next(iter(manifest.heads), None)
        manifest.save()  # the commit point
    return manifest


def head_from_keras(
    read: KerasWeights,
    name: str | None,
    labels: list[str] | None,
    input_size: int | None,
    resize: str | None,
    weights: Path,
) -> Head:
    classes = read.head[-1].kernel.shape[1]
    is_imagenet = read.head[-1].name == "predictions" and classes == 1000
    if labels is None:
        labels = imagenet_labels() if is_imagenet else [f"class_{i}" for i in range(classes)]
    if len(labels) != classes:
        raise ModelError(
            f"{weights}: the head has {classes} classes but {len(labels)} labels given"
        )
    return Head(
        name=name or ("imagenet" if is_imagenet else weights.stem.split(".")[0]),
        labels=labels,
        input_size=input_size or read.input_size or DEFAULT_SIZE,
        resize=resize or DEFAULT_RESIZE,
        kernels=[np.asarray(d.kernel, np.float32) for d in read.head],
        biases=[np.asarray(d.bias, np.float32) for d in read.head],
        activations=[d.activation for d in read.head],
    )


def stage_head(manifest: mf.Manifest, head: Head, *, make_default: bool = False) -> mf.Manifest:
    """Write a head's file into the models folder and return the manifest listing it (not
    saved: the caller commits it inside :func:`manifest.transaction`)."""
    validate_name(head.name)
    relative, sha = mf.write_content_file(
        manifest.root, mf.HEADS_DIR, head.name, ".npz", head.to_bytes()
    )
    entry = mf.HeadEntry(
        file=relative,
        sha256=sha,
        labels=tuple(head.labels),
        preprocessing=head.preprocessing,
        backbone_sha256=manifest.backbone.sha256,
        source=head.extra.get("source", {}),
    )
    return mf.with_head(manifest, head.name, entry, make_default=make_default)


def install_head(models_dir: str | Path, head: Head, *, make_default: bool = False) -> Path:
    """Add (or replace) one head in a models folder, as one transaction; returns its file."""
    root = Path(models_dir)
    with mf.transaction(root):
        manifest = stage_head(mf.Manifest.load(root), head, make_default=make_default)
        manifest.save()
    return manifest.head_path(head.name)


def _onnx_bytes(model: Any) -> bytes:
    data: bytes = model.SerializeToString()
    return data
