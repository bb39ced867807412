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
    the manifest (existing heads of the same backbone are kept)."""
    weights = Path(weights)
    out_dir = Path(out_dir)
    if resize is not None and resize not in RESIZE_FILTERS:
        raise ModelError(f"resize {resize!r} is not one of {', '.join(RESIZE_FILTERS)}")
    read = read_weights(weights)
    source = dict(source or {"file": weights.name})

    out_dir.mkdir(parents=True, exist_ok=True)
    backbone_path = out_dir / mf.BACKBONE_FILE
    _write_onnx(xception.build_backbone(read.backbone), backbone_path)
    backbone_sha = mf.sha256_of(backbone_path)

    try:
        manifest = mf.Manifest.load(out_dir)
    except ModelError:
        manifest = mf.Manifest(out_dir, {})
    # Heads trained on other backbone weights would give wrong scores on this one.
    manifest.heads = {
        n: h for n, h in manifest.heads.items() if h.get("backbone_sha256") == backbone_sha
    }
    manifest.backbone = {
        "file": mf.BACKBONE_FILE,
        "sha256": backbone_sha,
        "opset": xception.OPSET,
        "input": "images: float32 (N, 3, H, W), RGB, x/127.5 - 1, H and W >= 71",
        "output": "features: float32 (N, 2048)",
        "source": source,
    }
    if read.head:
        head = head_from_keras(read, head_name, labels, input_size, resize, weights)
        head.extra["source"] = source
        add_head(manifest, head, make_default=make_default)
    if manifest.default_head not in manifest.heads:
        manifest.default_head = next(iter(manifest.heads), None)
    manifest.save()
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


def add_head(manifest: mf.Manifest, head: Head, *, make_default: bool = False) -> Path:
    """Save a head into the models folder and list it in the manifest (not saved here)."""
    path = head.save(manifest.root / "heads" / f"{head.name}.npz")
    manifest.heads[head.name] = {
        "file": path.relative_to(manifest.root).as_posix(),
        "sha256": mf.sha256_of(path),
        "labels": head.labels,
        "input_size": head.input_size,
        "resize": head.resize,
        "backbone_sha256": manifest.backbone.get("sha256"),
        "source": head.extra.get("source", {}),
    }
    if make_default or manifest.default_head is None:
        manifest.default_head = head.name
    return path


def _write_onnx(model: Any, path: Path) -> None:
    import onnx

    tmp = path.with_suffix(".onnx.tmp")
    onnx.save(model, str(tmp))
    tmp.replace(path)
