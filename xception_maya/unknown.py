"""Does an image belong to any class of a head? The novelty model behind "unknown".

A head's softmax always picks one of its classes, so a brick wall comes out "fork". The
novelty model answers the other question, from the same 2048-d features:

- **Nearest references (every head that has a model):** the mean cosine similarity of the
  image's L2-normalised features to its ``k`` nearest reference images, the head's own
  in-distribution examples (a learned head's training examples; the kitchenware head's
  sample photos). Cosine kNN on normalised features is a strong, assumption-free baseline.
- **Energy (heads trained on a large set only):** ``logsumexp(logits)``, high when the head
  recognises something as one of its classes. For the kitchenware head (trained on
  thousands of photos) it is the better signal: it tells the 18 sample photos from
  scikit-image's photos and textures with an AUC of 0.99, kNN (held out) 0.94, both 0.998.
  For a head learned from a few examples it is a poor one (AUC 0.73, held out: a linear
  head gives large logits far from its examples too), so learned heads use kNN alone.

Each signal becomes a z-score against its own in-distribution scores (held out: each
reference judged against the others), and the novelty **score** is their mean (0: a typical
image of the head's classes). The **threshold** is the 5% quantile of the references'
held-out scores minus a margin of 0.25 z (a quarter of their spread): a new image a little
less typical than the least typical reference is still known. On the kitchenware head
(benchmarks/bench_unknown.py) all 18 sample photos stay known held out from a margin of
0.25 (the least typical 0.21 above its threshold) and 96% of non-kitchen images are
unknown; at 0.5, 89% are, and scikit-image's astronaut is taken for kitchenware.
**confidence** = ``sigmoid((score - threshold) / 0.3)`` is in [0, 1], 0.5 exactly at the
threshold: an image is known when its confidence is at least 0.5 (:func:`is_known`, the one rule).

Stored in the head file (see :mod:`xception_maya.heads`): the references as ``reference_0``
(float16, unit rows) and the numbers as the meta field ``novelty``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ModelError
from .limits import MAX_HEAD_REFERENCES

FEATURES = 2048
UNKNOWN_LABEL = "unknown"
KNOWN_AT = 0.5  # confidence at the threshold
DEFAULT_K = 3
QUANTILE = 0.05
MARGIN = 0.25  # in units of the references' spread (z); why: the docstring
SCALE = 0.3  # z units per logistic unit of confidence
MIN_REFERENCES = 2  # leave-one-out needs another reference to compare with
# A signal's spread is floored: with a handful of references it can come out near zero,
# and every new image would then be "unknown".
KNN_STD_FLOOR = 0.05  # cosine similarity
ENERGY_STD_FLOOR = 0.5  # logit units
METHODS = ("knn-cosine", "knn-cosine+energy")


def is_known(confidence: float | None) -> bool:
    """The one rule: known unless the head can judge and its confidence is under 0.5."""
    return confidence is None or confidence >= KNOWN_AT


def shown_label(labels: Sequence[str], unknown: bool) -> str | None:
    """The top label a user sees: "unknown" where nothing fits, else the head's top label
    (None without labels). The CLI table, the report and the node all show this one."""
    if unknown:
        return UNKNOWN_LABEL
    return labels[0] if labels else None


@dataclass(frozen=True)
class Calibration:
    """Mean and spread of one signal over held-out in-distribution images."""

    mean: float
    std: float

    def z(self, values: np.ndarray) -> np.ndarray:
        out: np.ndarray = (np.asarray(values, np.float64) - self.mean) / self.std
        return out

    def record(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std}


@dataclass
class Novelty:
    references: np.ndarray  # (n, 2048) float32 unit rows (float16 values)
    k: int
    knn: Calibration
    energy: Calibration | None
    threshold: float
    scale: float = SCALE
    info: dict[str, Any] = field(default_factory=dict)  # how it was calibrated, kept as is

    def __post_init__(self) -> None:
        self.validate()

    @property
    def method(self) -> str:
        return METHODS[1] if self.energy else METHODS[0]

    def validate(self) -> None:
        r = self.references
        if r.ndim != 2 or r.shape[1] != FEATURES:
            raise ModelError(f"reference_0 has shape {r.shape}; expected (n, {FEATURES})")
        if not MIN_REFERENCES <= r.shape[0] <= MAX_HEAD_REFERENCES:
            raise ModelError(
                f"reference_0 holds {r.shape[0]} references; "
                f"{MIN_REFERENCES} to {MAX_HEAD_REFERENCES} allowed"
            )
        if not np.isfinite(r).all():
            raise ModelError("reference_0 holds NaN or infinite values")
        if isinstance(self.k, bool) or not 1 <= self.k < r.shape[0]:
            raise ModelError(f"novelty k {self.k!r} must be 1 to {r.shape[0] - 1}")
        numbers = [self.threshold, self.scale, self.knn.mean, self.knn.std]
        if self.energy:
            numbers += [self.energy.mean, self.energy.std]
        if not all(math.isfinite(x) for x in numbers):
            raise ModelError("novelty numbers must be finite")
        if self.scale <= 0 or self.knn.std <= 0 or (self.energy and self.energy.std <= 0):
            raise ModelError("novelty scale and spreads must be positive")

    def score(self, features: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """Novelty score per image (0: typical of the references; lower: further away)."""
        parts = [self.knn.z(knn_similarity(features, self.references, self.k))]
        if self.energy:
            parts.append(self.energy.z(energy(logits)))
        out: np.ndarray = np.mean(parts, axis=0)
        return out

    def confidence(self, features: np.ndarray, logits: np.ndarray) -> np.ndarray:
        """Per image, in [0, 1]: 0.5 at the threshold (see :func:`is_known`)."""
        return _sigmoid((self.score(features, logits) - self.threshold) / self.scale)

    def meta(self) -> dict[str, Any]:
        return {
            **self.info,
            "method": self.method,
            "references": int(self.references.shape[0]),
            "k": self.k,
            "knn": self.knn.record(),
            "energy": self.energy.record() if self.energy else None,
            "threshold": self.threshold,
            "scale": self.scale,
        }

    @classmethod
    def from_meta(cls, meta: object, references: np.ndarray) -> Novelty:
        """From a head file's ``novelty`` meta and ``reference_0``; one ModelError if bad."""
        if not isinstance(meta, Mapping):
            raise ModelError("meta field 'novelty' must be a JSON object")
        if meta.get("method") not in METHODS:
            raise ModelError(f"novelty method {meta.get('method')!r:.40} is not one of {METHODS}")
        if references.ndim != 2 or references.shape[1] != FEATURES:
            raise ModelError(f"reference_0 has shape {references.shape}; expected (n, {FEATURES})")
        if meta.get("references") != references.shape[0]:
            raise ModelError(
                f"novelty meta says {meta.get('references')!r:.20} references, "
                f"reference_0 holds {references.shape[0]}"
            )
        energy_meta = meta.get("energy")
        if (energy_meta is not None) != (meta["method"] == METHODS[1]):
            raise ModelError("novelty 'energy' must be given exactly for method " + METHODS[1])
        known = {"method", "references", "k", "knn", "energy", "threshold", "scale"}
        return cls(
            references=references,
            k=_whole(meta.get("k"), "k"),
            knn=_calibration(meta.get("knn"), "knn"),
            energy=None if energy_meta is None else _calibration(energy_meta, "energy"),
            threshold=_number(meta.get("threshold"), "threshold"),
            scale=_number(meta.get("scale"), "scale"),
            info={k: v for k, v in meta.items() if k not in known},
        )


def fit(
    features: np.ndarray,
    *,
    logits: np.ndarray | None = None,
    k: int = DEFAULT_K,
    quantile: float = QUANTILE,
    margin: float = MARGIN,
    info: Mapping[str, Any] | None = None,
) -> Novelty:
    """A novelty model whose references are ``features`` (in-distribution images, at most
    MAX_HEAD_REFERENCES). With ``logits`` (the head's, one row per reference) energy is
    used too: pass them only for a head trained on many more images than these."""
    references = as_references(features)
    n = references.shape[0]
    if n < MIN_REFERENCES:
        raise ModelError(f"an unknown-detection model needs {MIN_REFERENCES} references, got {n}")
    k = max(1, min(k, n - 1))
    held_out = leave_one_out_similarity(references, k)
    knn = Calibration(float(held_out.mean()), max(float(held_out.std()), KNN_STD_FLOOR))
    parts = [knn.z(held_out)]
    energy_cal = None
    if logits is not None:
        e = energy(np.asarray(logits, np.float64))
        if e.shape != (n,):
            raise ModelError(f"{e.shape[0]} rows of logits for {n} references")
        energy_cal = Calibration(float(e.mean()), max(float(e.std()), ENERGY_STD_FLOOR))
        parts.append(energy_cal.z(e))
    scores = np.mean(parts, axis=0)
    threshold = float(np.quantile(scores, quantile)) - margin
    details = {
        **(info or {}),
        "calibration": "leave-one-out",
        "quantile": quantile,
        "margin": margin,
    }
    return Novelty(references, k, knn, energy_cal, threshold, SCALE, details)


def leave_one_out_confidence(
    features: np.ndarray, *, logits: np.ndarray | None = None, **options: Any
) -> np.ndarray:
    """Held-out confidence of each in-distribution image: a model fitted on the others
    (references, spreads and threshold) judges it. ``options`` go to :func:`fit`."""
    x = np.asarray(features)
    out = np.empty(len(x))
    for i in range(len(x)):
        rest = np.arange(len(x)) != i
        novelty = fit(x[rest], logits=None if logits is None else logits[rest], **options)
        row_logits = np.zeros((1, 1)) if logits is None else logits[i : i + 1]
        out[i] = novelty.confidence(x[i : i + 1], row_logits)[0]
    return out


def as_references(features: np.ndarray) -> np.ndarray:
    """Unit rows rounded to float16 (as stored), held as float32."""
    x = np.asarray(features, np.float64)
    if x.ndim != 2 or x.shape[1] != FEATURES or not np.isfinite(x).all():
        raise ModelError(f"reference features must be finite (n, {FEATURES}); got {x.shape}")
    if x.shape[0] > MAX_HEAD_REFERENCES:
        raise ModelError(f"{x.shape[0]} references, over the limit {MAX_HEAD_REFERENCES}")
    return _unit(x).astype(np.float16).astype(np.float32)


def knn_similarity(features: np.ndarray, references: np.ndarray, k: int) -> np.ndarray:
    """Mean cosine similarity of each row to its k most similar references."""
    x = _unit(np.atleast_2d(np.asarray(features, np.float32)))
    similarity = x @ references.T
    return _top_k_mean(similarity, k)


def leave_one_out_similarity(references: np.ndarray, k: int) -> np.ndarray:
    """Each reference's kNN similarity to the others (itself left out)."""
    similarity = references @ references.T
    np.fill_diagonal(similarity, -np.inf)
    return _top_k_mean(similarity, k)


def energy(logits: np.ndarray) -> np.ndarray:
    """logsumexp of each row of logits."""
    x = np.atleast_2d(np.asarray(logits, np.float64))
    top = x.max(axis=1)
    out: np.ndarray = top + np.log(np.exp(x - top[:, None]).sum(axis=1))
    return out


def _top_k_mean(similarity: np.ndarray, k: int) -> np.ndarray:
    k = min(k, similarity.shape[1])
    top = np.partition(similarity, similarity.shape[1] - k, axis=1)[:, -k:]
    out: np.ndarray = top.astype(np.float64).mean(axis=1)
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = x / np.maximum(norms, 1e-12)  # all-zero features stay zero: far from all
    return out


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow for large |x|
    return out


def _number(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelError(f"novelty field '{key}' must be a finite number, got {value!r:.40}")
    return float(value)


def _whole(value: object, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelError(f"novelty field '{key}' must be a whole number, got {value!r:.40}")
    return value


def _calibration(value: object, key: str) -> Calibration:
    if not isinstance(value, Mapping):
        raise ModelError(f"novelty field '{key}' must be a JSON object")
    return Calibration(
        _number(value.get("mean"), f"{key}.mean"), _number(value.get("std"), f"{key}.std")
    )
