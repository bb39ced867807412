"""Imported models in the index: their features' key and their own labels as tags.

An imported ONNX model (``xception-maya import``) is indexed as Xception and a head are, with
two differences: its features (when it has a features output, of any width) are keyed by the
model file's sha256 and its recorded preprocessing, so they never mix with Xception's; and its
tags come from its own scores, stored under the "head" ``model:NAME`` (a name no head can have:
:func:`xception_maya.names.validate_name` refuses ``:``). Its scores are not stored, so its tags
cannot be redone from stored features (``index --retag``): it runs again instead.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .api import TAGS_PER_HEAD, Tags
from .store import Model

if TYPE_CHECKING:
    from ..imported import ImportedClassifier

HEAD_PREFIX = "model:"


def head_name(model: str) -> str:
    """The name an imported model's tags are stored under (``search --head``)."""
    return HEAD_PREFIX + model


@dataclass(frozen=True)
class OwnLabels:
    """An imported model's labels as tags. Each of its results is one vector: its scores (one
    per label, as ``ImportedClassifier.outputs`` gives them), then its ``dim`` features."""

    name: str  # the head name: model:NAME
    fingerprint: str
    labels: tuple[str, ...]
    dim: int  # 0: no features output

    def split(self, result: np.ndarray) -> tuple[np.ndarray | None, Tags]:
        """(features or None, the top (label, score), best first, as ``classify`` ranks them)."""
        from ..classifier import top_k

        width = len(self.labels)
        scores = np.asarray(result, np.float32)[:width]
        tags = [(self.labels[i], float(scores[i])) for i in top_k(scores, TAGS_PER_HEAD)]
        return (result[width:] if self.dim else None), tags


def for_imported(classifier: ImportedClassifier) -> tuple[Model, OwnLabels]:
    """The features' key and the labels of an imported model."""
    entry = classifier.entry
    spec = classifier.preprocessing
    dim = _features_width(classifier)
    # size and resize hold the whole input (height x width, filter, mean/std, layout).
    model = Model(entry.sha256, spec.height, spec.key, dim=dim)
    meta = [entry.sha256, list(entry.labels), spec.key, entry.probabilities, entry.features]
    fingerprint = hashlib.blake2b(json.dumps(meta).encode(), digest_size=16).hexdigest()
    return model, OwnLabels(head_name(classifier.name), fingerprint, tuple(entry.labels), dim)


def _features_width(classifier: ImportedClassifier) -> int:
    """The features output's width: the manifest names the output, the model says its width
    (one run on a blank image at the model's input size)."""
    if not classifier.has_features:
        return 0
    spec = classifier.preprocessing
    blank = np.zeros((spec.height, spec.width, 3), np.float32)
    result = classifier.outputs([blank])[0]
    if isinstance(result, Exception):
        raise result
    return int(result.shape[0]) - len(classifier.labels)
