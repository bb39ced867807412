"""Heads: small classifiers on top of the 2048-d backbone features.

A head is a stack of dense layers run in numpy (a 2048x1000 matmul costs well under a
millisecond, so a second onnxruntime session per head would only add overhead). It records
the labels and the input size and resize filter it was trained with, because the backbone
features depend on both.

File format (``.npz``, loaded with ``allow_pickle=False``):

- ``meta``: a 0-d unicode array holding JSON: ``{"format": "xception-maya-head",
  "version": 1, "name", "labels", "input_size", "resize", "activations"}``, plus any
  extra keys (provenance, training accuracy) kept as they are;
- ``kernel_0``, ``bias_0``, ``kernel_1``, ``bias_1``, ...: float32 arrays, kernel ``(in, out)``.

``activations`` names what follows each dense layer: ``relu``, ``linear`` or ``softmax``.
Scores are always probabilities: a last layer that outputs logits gets a softmax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError
from .images import RESIZE_FILTERS as RESIZE_FILTERS  # re-exported: learn.py, cli.py

FORMAT = "xception-maya-head"
ACTIVATIONS = ("relu", "linear", "softmax")


@dataclass
class Head:
    name: str
    labels: list[str]
    input_size: int
    resize: str
    kernels: list[np.ndarray]
    biases: list[np.ndarray]
    activations: list[str]
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        where = f"head {self.name!r}"
        if not (len(self.kernels) == len(self.biases) == len(self.activations) >= 1):
            raise ModelError(f"{where}: needs as many kernels, biases and activations (>= 1)")
        if self.resize not in RESIZE_FILTERS:
            raise ModelError(f"{where}: resize {self.resize!r} is not one of {RESIZE_FILTERS}")
        if self.input_size < 71:
            raise ModelError(f"{where}: input size {self.input_size} is below Xception's 71")
        width = 2048
        for i, (k, b, a) in enumerate(
            zip(self.kernels, self.biases, self.activations, strict=True)
        ):
            if k.ndim != 2 or k.shape[0] != width or b.shape != (k.shape[1],):
                raise ModelError(
                    f"{where}: layer {i} has kernel {k.shape} and bias {b.shape}; "
                    f"expected ({width}, n) and (n,)"
                )
            if a not in ACTIVATIONS:
                raise ModelError(f"{where}: layer {i} activation {a!r} is not one of {ACTIVATIONS}")
            width = k.shape[1]
        if width != len(self.labels):
            raise ModelError(f"{where}: outputs {width} scores but has {len(self.labels)} labels")

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    def logits(self, features: np.ndarray) -> np.ndarray:
        """Pre-softmax outputs of the last layer, shape (N, classes)."""
        x = np.asarray(features, dtype=np.float32)
        if x.ndim == 1:
            x = x[None]
        for i, (k, b) in enumerate(zip(self.kernels, self.biases, strict=True)):
            x = x @ k + b
            if i < len(self.kernels) - 1:
                x = _activate(x, self.activations[i])
        return x

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (N, classes)."""
        last = self.activations[-1]
        x = self.logits(features)
        return softmax(x) if last in ("softmax", "linear") else _activate(x, last)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        meta = {
            **self.extra,
            "format": FORMAT,
            "version": 1,
            "name": self.name,
            "labels": list(self.labels),
            "input_size": int(self.input_size),
            "resize": self.resize,
            "activations": list(self.activations),
        }
        arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta))}
        for i, (k, b) in enumerate(zip(self.kernels, self.biases, strict=True)):
            arrays[f"kernel_{i}"] = np.asarray(k, dtype=np.float32)
            arrays[f"bias_{i}"] = np.asarray(b, dtype=np.float32)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as bool
        return path

    @classmethod
    def load(cls, path: str | Path) -> Head:
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"head file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            meta = json.loads(str(arrays.pop("meta")))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{path} is not an xception-maya head file: {exc}") from exc
        if meta.get("format") != FORMAT:
            raise ModelError(
                f"{path} is not an xception-maya head file (format {meta.get('format')!r})"
            )
        n = len(meta["activations"])
        try:
            kernels = [arrays[f"kernel_{i}"] for i in range(n)]
            biases = [arrays[f"bias_{i}"] for i in range(n)]
        except KeyError as exc:
            raise ModelError(f"{path}: missing array {exc}") from exc
        known = {"format", "version", "name", "labels", "input_size", "resize", "activations"}
        return cls(
            name=meta["name"],
            labels=list(meta["labels"]),
            input_size=int(meta["input_size"]),
            resize=meta["resize"],
            kernels=kernels,
            biases=biases,
            activations=list(meta["activations"]),
            extra={k: v for k, v in meta.items() if k not in known},
        )


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


def _activate(x: np.ndarray, name: str) -> np.ndarray:
    if name == "relu":
        out: np.ndarray = np.maximum(x, 0)
        return out
    if name == "softmax":
        return softmax(x)
    return x
