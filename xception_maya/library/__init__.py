"""The library index: every image seen, its features per backbone and its labels per head.

An embedded SQLite file (WAL: many readers, one writer, safe across processes; see
:mod:`.store`), filled by ``xception-maya index`` (:mod:`.scan`; on Ray: :mod:`.ray_index`)
and searched by similarity (:mod:`.search`, :mod:`.ann`), by tag and by label text
(:mod:`.text`). The core of the product: no ``maya`` import.

The Python API (the Maya layer's)::

    from xception_maya.library import Library, Model

    with Library.open() as library:          # $XCEPTION_MAYA_INDEX or the per-user default
        model = Model(manifest.backbone.sha256, size=150, resize="nearest")
        vector = library.features_for("/tex/oak.png", model)   # None: not indexed as it is now
        library.add_features("/tex/new.png", model, features, head=head)
        library.similar(vector, 10, model, exclude=["/tex/oak.png"])   # [Match(path, similarity)]
        library.by_tag("cup", head="kitchenware", min_score=0.5)      # [TagMatch(path, head, ...)]
        library.by_text("sports car")                                # label names and synonyms
        library.retag(head, Model(sha, head.input_size, head.resize)) # no backbone run

An imported ONNX model indexes through :mod:`.models` (``for_imported``: its features' key, of
its own width, and its own labels as the tags of head ``model:NAME``).

Errors are :class:`LibraryError` (an :class:`~xception_maya.errors.XceptionMayaError`): a file
that is not an index, a damaged one, or one written by a newer version.
"""

from __future__ import annotations

from .api import (
    ENV_INDEX,
    Library,
    Match,
    TagMatch,
    default_db_path,
    model_for,
    precision_flag,
)
from .store import LibraryError, Model

__all__ = [
    "ENV_INDEX",
    "Library",
    "LibraryError",
    "Match",
    "Model",
    "TagMatch",
    "default_db_path",
    "model_for",
    "precision_flag",
]
