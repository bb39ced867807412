"""The classifiers the node and the commands share, a few at a time.

Nodes name a head in many spellings ("", "default", "kitchenware", a path, the same path
written another way), so classifiers are kept by what a spelling resolves to: the head file
(with its size and mtime, so a head learned again under the same name is reloaded), the
device and the models folder; and only the ``MAX_CLASSIFIERS`` used last (the engine below
them is shared per device and the feature cache per process, so one dropped costs a head
load, not a network).

compute() calls ``classifier_for`` on whatever thread the Evaluation Manager gives it, so
nothing here calls Maya: the folder of learned heads is handed in by ``configure``, which
the plug-in calls on the main thread when it loads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from .. import registry
from ..classifier import Classifier
from ..manifest import MANIFEST, Manifest, default_models_dir

MAX_CLASSIFIERS = 8

Key = tuple[str, str, str, int, int]

_lock = threading.RLock()  # a command (main thread) and a compute (worker) may ask at once
_classifiers: OrderedDict[Key, Classifier] = OrderedDict()
_manifests: dict[Path, tuple[tuple[int, int], Manifest]] = {}
_user_heads: Path | None = None


def configure(user_heads: Path | None) -> None:
    """The folder of heads learned in Maya (``settings.user_heads_dir()``, read on the main
    thread). Forgets the classifiers made with the previous one."""
    global _user_heads
    with _lock:
        _user_heads = user_heads
        _classifiers.clear()


def user_heads() -> Path | None:
    return _user_heads


def classifier_for(head: str, device: str) -> Classifier:
    """The shared classifier for a head spec (see :mod:`xception_maya.registry`) on a device.
    Raises XceptionMayaError (an unknown head, no models) like Classifier does."""
    models = default_models_dir()
    with _lock:
        manifest = _manifest(models)
        path = registry.head_path(head or None, manifest, user_heads=_user_heads)
        key = (str(models.resolve()), device, *_file_key(path))
        found = _classifiers.get(key)
        if found is not None:
            _classifiers.move_to_end(key)
            return found
        found = Classifier(
            "none" if path is None else str(path),
            device=device,
            models_dir=models,
            user_heads=_user_heads,
        )
        _classifiers[key] = found
        while len(_classifiers) > MAX_CLASSIFIERS:
            _classifiers.popitem(last=False)
        return found


def cached() -> list[Classifier]:
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
