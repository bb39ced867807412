"""The classifiers the node and the commands share, a few at a time.

Nodes name a head in many spellings ("", "default", "kitchenware", a path, the same path
written another way), so classifiers are kept by what a spelling resolves to: the head file
(with its size and mtime, so a head learned again under the same name is reloaded), the
device, the precision and the models folder; and only the ``MAX_CLASSIFIERS`` used last (the
engine below them is shared per device and precision, the feature cache per process, so one
dropped costs a head load, not a network).

compute() calls ``classifier_for`` on whatever thread the Evaluation Manager gives it, so
nothing here calls Maya: the folder of learned heads and the library index are handed in by
``configure``, which the plug-in calls on the main thread when it loads (and the settings when
they change). The index is only read here (``indexed_features``); it is written by commands.

A model named (``model``, see :func:`xception_maya.registry.resolve_model`) gives an
imported model's classifier instead, kept by its name and file hash. What the node keeps per
image (``vector_of``) is then the model's outputs (scores, then features), not Xception
features, and ``predict`` reads them; the library index never serves an imported model.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Literal, overload

import numpy as np

from .. import registry
from ..classifier import Classifier, Prediction, Source
from ..classifier import top_k as top_indices
from ..errors import ModelError, XceptionMayaError
from ..imported import ImportedClassifier, open_classifier
from ..library import Library, model_for
from ..manifest import MANIFEST, Manifest, default_models_dir
from . import feedback

MAX_CLASSIFIERS = 8

Key = tuple[str | int, ...]
AnyClassifier = Classifier | ImportedClassifier
DEFAULT_SPECS = ("", "default")  # head specs an imported model accepts: it has its own labels

_lock = threading.RLock()  # a command (main thread) and a compute (worker) may ask at once
_classifiers: OrderedDict[Key, AnyClassifier] = OrderedDict()
_manifests: dict[Path, tuple[tuple[int, int], Manifest]] = {}
_user_heads: Path | None = None
_library: Path | None = None
_library_warned: set[str] = set()


def configure(user_heads: Path | None, *, library: Path | None = None) -> None:
    """The folder of heads learned in Maya (``settings.user_heads_dir()``) and the library
    index to read features from (``$XCEPTION_MAYA_INDEX`` or the Settings entry; None: no
    index), read on the main thread. Forgets the classifiers made with the previous ones."""
    global _user_heads, _library
    with _lock:
        _user_heads = user_heads
        _library = library
        _library_warned.clear()
        _classifiers.clear()


def user_heads() -> Path | None:
    return _user_heads


def library() -> Path | None:
    return _library


@overload
def classifier_for(
    head: str, device: str, precision: str = "fp32", model: Literal[""] = ""
) -> Classifier: ...


@overload
def classifier_for(
    head: str, device: str, precision: str = "fp32", model: str = ""
) -> AnyClassifier: ...


def classifier_for(
    head: str, device: str, precision: str = "fp32", model: str = ""
) -> AnyClassifier:
    """The shared classifier for a head spec (see :mod:`xception_maya.registry`) on a device
    at a precision (:data:`xception_maya.precision.PRECISIONS`), or for an imported model
    (``model``; "" or "default": Xception and the head). Raises XceptionMayaError (an
    unknown head or model, a head or precision given with a model, no models) like
    Classifier does."""
    models = default_models_dir()
    with _lock:
        manifest = _manifest(models)
        entry = registry.resolve_model(model or None, manifest)
        if entry is not None:
            if head.strip().lower() not in DEFAULT_SPECS:
                raise ModelError(
                    f"head {head!r} is for the default model; {model!r} has its own labels"
                )
            if precision not in ("fp32", "auto"):
                raise ModelError(
                    f"precision {precision} is for the default model; {model!r} runs fp32"
                )
            key: Key = (str(models.resolve()), device, "model", model, entry.sha256)
        else:
            path = registry.head_path(head or None, manifest, user_heads=_user_heads)
            key = (str(models.resolve()), device, precision, *_file_key(path))
        found = _classifiers.get(key)
        if found is not None:
            _classifiers.move_to_end(key)
            return found
        if entry is not None:
            found = open_classifier(model, None, device=device, models_dir=models)
        else:
            found = Classifier(
                "none" if path is None else str(path),
                device=device,
                models_dir=models,
                user_heads=_user_heads,
                precision=precision,
            )
        _classifiers[key] = found
        while len(_classifiers) > MAX_CLASSIFIERS:
            _classifiers.popitem(last=False)
        return found


def vector_of(
    clf: AnyClassifier, source: Source, color_space: str | None
) -> np.ndarray | XceptionMayaError:
    """What the node keeps per image (in the feature cache under ``clf.cache_key``): the
    Xception features, or an imported model's outputs (scores, then any features)."""
    if isinstance(clf, ImportedClassifier):
        return clf.outputs([source], color_space)[0]
    return clf.features([source], color_space)[0]


def predict(clf: AnyClassifier, vector: np.ndarray, k: int, image: str) -> Prediction:
    """The prediction of one ``vector_of`` result. An imported model cannot say unknown:
    unknown False, confidence None (a head that cannot judge reads the same)."""
    if isinstance(clf, Classifier):
        return clf.predict(vector, k, image)
    width = len(clf.labels)
    scores = vector[:width]
    idx = top_indices(scores, k)
    return Prediction(
        image,
        [clf.labels[i] for i in idx],
        [float(scores[i]) for i in idx],
        idx,
        scores,
        vector[width:] if clf.has_features else None,
    )


def input_side(clf: AnyClassifier) -> int:
    """The side to rasterize a texture at for this classifier: its input's longer side."""
    if isinstance(clf, ImportedClassifier):
        return max(clf.preprocessing.height, clf.preprocessing.width)
    return clf.size


def indexed_features(clf: Classifier, path: str, color_space: str | None) -> np.ndarray | None:
    """The features the library index holds for this file as it is now, for this
    classifier's backbone and preprocessing, or None (no index configured, file not in it,
    changed since). Read only; any thread. Each precision has entries of its own, so the
    node never takes features another precision computed. A broken index is one warning,
    and the network runs instead."""
    where = _library
    model = model_for(clf, path, color_space)
    if where is None:
        return None
    try:
        if not where.is_file():
            return None
        with Library.open(where, create=False) as index:
            return index.features_for(path, model)
    except (XceptionMayaError, sqlite3.Error, OSError) as exc:
        text = feedback.first_line(exc)
        with _lock:
            fresh = text not in _library_warned
            _library_warned.add(text)
        if fresh:
            feedback.warn_from_any_thread(f"Xception: library index {where}: {text}")
        return None


def warm_up(device: str, precision: str = "fp32") -> threading.Thread:
    """Create the default classifier's network session on a background thread, so the
    first classification does not pay for it (the plug-in calls this when it loads)."""

    def create() -> None:
        # A failure is the node's to report, with its name, when it evaluates.
        with contextlib.suppress(Exception):
            _ = classifier_for("", device, precision).engine.session

    thread = threading.Thread(target=create, name="xception-warm-up", daemon=True)
    thread.start()
    return thread


def cached() -> list[AnyClassifier]:
    """The classifiers kept now, least recently used first."""
    with _lock:
        return list(_classifiers.values())


def forget() -> None:
    with _lock:
        _classifiers.clear()
        _manifests.clear()


def _manifest(models: Path) -> Manifest:
    """The models folder's manifest, read again only when its file changed."""
    try:
        stat = (models / MANIFEST).stat()
    except OSError:
        return Manifest.load(models)  # raises the one clear "no model manifest" error
    stamp = (stat.st_mtime_ns, stat.st_size)
    known = _manifests.get(models)
    if known is None or known[0] != stamp:
        known = _manifests[models] = (stamp, Manifest.load(models))
    return known[1]


def _file_key(path: Path | None) -> tuple[str, int, int]:
    if path is None:
        return ("none", 0, 0)
    try:
        stat = path.stat()
    except OSError:
        return (str(path), 0, 0)  # Classifier says what is wrong with it
    return (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
