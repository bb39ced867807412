"""Heads: small classifiers on top of the 2048-d backbone features.

A head is a stack of dense layers run in numpy (a 2048x1000 matmul costs well under a
millisecond, so a second onnxruntime session per head would only add overhead). It records
the labels and the preprocessing (input size, resize filter) it was trained with, because
the backbone features depend on both.

File format (``.npz``, loaded with ``allow_pickle=False``):

- ``meta``: a 0-d unicode array holding JSON: ``{"format": "xception-maya-head",
  "version": 1, "name", "labels", "input_size", "resize", "activations"}``, plus any
  extra keys (provenance, training accuracy) kept as they are;
- ``kernel_0``, ``bias_0``, ``kernel_1``, ``bias_1``, ...: float32 arrays, kernel ``(in, out)``;
- optionally, the novelty model that says "unknown" (:mod:`xception_maya.unknown`): the meta
  field ``novelty`` and ``reference_0``, float16 ``(n, 2048)`` unit rows, ``n`` at most
  ``limits.MAX_HEAD_REFERENCES``. A head without them loads as before and never says unknown
  (``can_say_unknown`` is false).

``activations`` names what follows each dense layer: ``relu``, ``linear`` or ``softmax``.
Scores are always probabilities: a last layer that outputs logits gets a softmax.

A head file is untrusted input: :meth:`Head.load` reads each array's declared shape and
dtype from its header and checks them against the limits and the file's real sizes before
anything is allocated, and refuses NaN or infinite weights.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import fsio
from .errors import ModelError
from .limits import (
    MAX_HEAD_CLASSES,
    MAX_HEAD_ELEMENTS,
    MAX_HEAD_FILE_BYTES,
    MAX_HEAD_LAYERS,
    MAX_JSON_BYTES,
)
from .preprocessing import RESIZE_FILTERS as RESIZE_FILTERS  # re-exported: learn.py, cli.py
from .preprocessing import Preprocessing
from .unknown import Novelty, is_known

FORMAT = "xception-maya-head"
ACTIVATIONS = ("relu", "linear", "softmax")
FEATURES = 2048
MAX_LABEL_LENGTH = 200
REFERENCES = "reference_0"


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
    novelty: Novelty | None = None  # what tells "unknown"; None: the head cannot

    def __post_init__(self) -> None:
        self.validate()

    @property
    def preprocessing(self) -> Preprocessing:
        return Preprocessing(self.input_size, self.resize)

    def validate(self) -> None:
        where = f"head {self.name!r}"
        if not (1 <= len(self.kernels) == len(self.biases) == len(self.activations)):
            raise ModelError(f"{where}: needs as many kernels, biases and activations (>= 1)")
        if len(self.kernels) > MAX_HEAD_LAYERS:
            raise ModelError(f"{where}: {len(self.kernels)} layers, over {MAX_HEAD_LAYERS}")
        try:
            Preprocessing(self.input_size, self.resize)
        except ModelError as exc:
            raise ModelError(f"{where}: {exc}") from None
        width = FEATURES
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
            if not (np.isfinite(k).all() and np.isfinite(b).all()):
                raise ModelError(f"{where}: layer {i} has NaN or infinite weights")
            width = k.shape[1]
        if width != len(self.labels):
            raise ModelError(f"{where}: outputs {width} scores but has {len(self.labels)} labels")

    @property
    def num_classes(self) -> int:
        return len(self.labels)

    @property
    def can_say_unknown(self) -> bool:
        return self.novelty is not None

    def confidence(self, features: np.ndarray) -> np.ndarray | None:
        """Per image, how surely it belongs to one of the classes, in [0, 1] (0.5 at the
        head's threshold); None when the head has no novelty model."""
        if self.novelty is None:
            return None
        return self.novelty.confidence(features, self.logits(features))

    def known(self, features: np.ndarray) -> np.ndarray:
        """Per image, whether it belongs to any class (always, without a novelty model)."""
        confidence = self.confidence(features)
        if confidence is None:
            return np.ones(np.atleast_2d(features).shape[0], dtype=bool)
        return np.array([is_known(float(c)) for c in confidence], dtype=bool)

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
        return self._scores(self.logits(features))

    def scores_and_confidence(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`scores` and :meth:`confidence` from one run of the layers."""
        logits = self.logits(features)
        confidence = None if self.novelty is None else self.novelty.confidence(features, logits)
        return self._scores(logits), confidence

    def _scores(self, logits: np.ndarray) -> np.ndarray:
        last = self.activations[-1]
        return softmax(logits) if last in ("softmax", "linear") else _activate(logits, last)

    def to_bytes(self) -> bytes:
        """The head file's bytes (see the module docstring)."""
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
        if self.novelty is not None:
            meta["novelty"] = self.novelty.meta()
        arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta))}
        for i, (k, b) in enumerate(zip(self.kernels, self.biases, strict=True)):
            arrays[f"kernel_{i}"] = np.asarray(k, dtype=np.float32)
            arrays[f"bias_{i}"] = np.asarray(b, dtype=np.float32)
        if self.novelty is not None:
            arrays[REFERENCES] = self.novelty.references.astype(np.float16)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as bool
        return buffer.getvalue()

    def save(self, path: str | Path) -> Path:
        """Write the head file atomically: a kill leaves the old file or the new one."""
        return fsio.write_atomic(path, self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> Head:
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"head file not found: {path}")
        try:
            size = path.stat().st_size
            if size > MAX_HEAD_FILE_BYTES:
                raise ModelError(f"{path}: {size} bytes is over the head limit")
            with zipfile.ZipFile(path) as archive:
                arrays = _read_arrays(archive, path)
        except ModelError:
            raise
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
            raise ModelError(f"{path} is not an xception-maya head file: {exc}") from None
        except MemoryError:
            raise ModelError(f"{path}: not enough memory to load this head") from None
        return cls.from_arrays(arrays, str(path))

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], where: str) -> Head:
        meta = _meta(arrays.pop("meta", None), where)
        n = len(meta["activations"])
        try:
            kernels = [arrays[f"kernel_{i}"] for i in range(n)]
            biases = [arrays[f"bias_{i}"] for i in range(n)]
        except KeyError as exc:
            raise ModelError(f"{where}: missing array {exc}") from None
        # "novelty" is read into Head.novelty, the rest of meta is kept in extra as it is.
        known = {
            "format",
            "version",
            "name",
            "labels",
            "input_size",
            "resize",
            "activations",
            "novelty",
        }
        try:
            novelty = _novelty(meta.get("novelty"), arrays.get(REFERENCES))
            return cls(
                name=meta["name"],
                labels=list(meta["labels"]),
                input_size=meta["input_size"],
                resize=meta["resize"],
                kernels=kernels,
                biases=biases,
                activations=list(meta["activations"]),
                extra={k: v for k, v in meta.items() if k not in known},
                novelty=novelty,
            )
        except ModelError as exc:
            raise ModelError(f"{where}: {exc}") from None


def _novelty(meta: object, references: np.ndarray | None) -> Novelty | None:
    if meta is None and references is None:
        return None  # a head from before "unknown": it never says unknown
    if meta is None or references is None:
        have, missing = (
            ("meta 'novelty'", REFERENCES) if references is None else (REFERENCES, "meta 'novelty'")
        )
        raise ModelError(f"has {have} but no {missing}")
    return Novelty.from_meta(meta, references)


def _read_arrays(archive: zipfile.ZipFile, path: Path) -> dict[str, np.ndarray]:
    """Every array of the npz, each checked from its header before it is read."""
    members = archive.infolist()
    declared = sum(m.file_size for m in members)
    if declared > MAX_HEAD_ELEMENTS * 4 + MAX_JSON_BYTES:
        raise ModelError(f"{path}: declares {declared} bytes of arrays, over the head limit")
    arrays: dict[str, np.ndarray] = {}
    for member in members:
        if not member.filename.endswith(".npy") or len(members) > 4 * MAX_HEAD_LAYERS + 1:
            raise ModelError(f"{path}: unexpected member {member.filename!r:.80}")
        name = member.filename[: -len(".npy")]
        with archive.open(member) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ModelError(f"{path}: {name}: npy format {version} is not supported")
            expected = _expected_dtype(name, dtype, path)
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if count * dtype.itemsize > member.file_size:
                raise ModelError(f"{path}: {name} declares more data than the file holds")
            if dtype.hasobject:
                raise ModelError(f"{path}: {name} holds Python objects (refused: no pickle)")
            data = f.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise ModelError(f"{path}: {name} is truncated")
        array = np.frombuffer(data, dtype=dtype)
        array = array.reshape(shape[::-1]).T if fortran else array.reshape(shape)
        arrays[name] = array.astype(expected, copy=True)
    return arrays


def _expected_dtype(name: str, dtype: np.dtype[Any], path: Path) -> type:
    if name == "meta":
        if dtype.kind != "U" or dtype.itemsize > MAX_JSON_BYTES:
            raise ModelError(f"{path}: meta must be a short text array")
        return np.str_
    if dtype.kind != "f" or dtype.itemsize not in (2, 4, 8):
        raise ModelError(f"{path}: {name} has dtype {dtype}; expected float32")
    return np.float32


def _meta(value: np.ndarray | None, where: str) -> dict[str, Any]:
    if value is None or value.shape != ():
        raise ModelError(f"{where}: no 'meta' text; not an xception-maya head file")
    try:
        meta = json.loads(str(value))
    except json.JSONDecodeError as exc:
        raise ModelError(f"{where}: meta is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ModelError(f"{where}: meta must be a JSON object, got {type(meta).__name__}")
    if meta.get("format") != FORMAT:
        raise ModelError(
            f"{where} is not an xception-maya head file (format {meta.get('format')!r:.40})"
        )
    checks: list[tuple[str, type, str]] = [
        ("name", str, "text"),
        ("labels", list, "a list of text"),
        ("input_size", int, "a whole number"),
        ("resize", str, "text"),
        ("activations", list, "a list of text"),
    ]
    for key, kind, words in checks:
        value_ = meta.get(key)
        if not isinstance(value_, kind) or isinstance(value_, bool):
            raise ModelError(f"{where}: meta field '{key}' must be {words}, got {value_!r:.60}")
    labels = meta["labels"]
    if not 1 <= len(labels) <= MAX_HEAD_CLASSES or not all(
        isinstance(label, str) and 0 < len(label) <= MAX_LABEL_LENGTH for label in labels
    ):
        raise ModelError(
            f"{where}: meta field 'labels' must hold 1 to {MAX_HEAD_CLASSES} non-empty texts"
        )
    if not 1 <= len(meta["activations"]) <= MAX_HEAD_LAYERS or not all(
        isinstance(a, str) for a in meta["activations"]
    ):
        raise ModelError(f"{where}: meta field 'activations' must list 1 to 8 names")
    return meta


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


def top_k_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Each row's ``k`` best column indices, best first, ties in column order: what a stable
    argsort of every row gives, without sorting all 1000 classes of 100k rows (re-tagging)."""
    n = scores.shape[0]
    if n == 0:
        return np.zeros((0, k), dtype=np.int64)
    if np.isnan(scores).any():  # last, as argsort puts them (a broken model's output)
        scores = np.where(np.isnan(scores), -np.inf, scores)
    kth = np.partition(scores, -k, axis=1)[:, -k]
    rows, cols = np.nonzero(scores >= kth[:, None])  # k or more per row (ties at the k-th)
    order = np.lexsort((cols, -scores[rows, cols], rows))
    rows, cols = rows[order], cols[order]
    first = np.searchsorted(rows, np.arange(n))
    picked: np.ndarray = cols[first[:, None] + np.arange(k)]
    return picked
