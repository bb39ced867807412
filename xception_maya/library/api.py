"""``Library``: the index's Python API, for the CLI and the Maya layer."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from ..heads import Head, top_k_rows
from ..unknown import UNKNOWN_LABEL, is_known
from .search import Searcher
from .store import FEATURE_DIM, LibraryError, Model, Store, content_hash, from_blobs, to_blob
from .text import matching_labels

if TYPE_CHECKING:
    from ..classifier import Classifier

ENV_INDEX = "XCEPTION_MAYA_INDEX"
DB_NAME = "library.db"
TAGS_PER_HEAD = 5  # top labels kept per image and head
_RETAG_CHUNK = 8192


def default_db_path() -> Path:
    """``$XCEPTION_MAYA_INDEX``, else ``library.db`` in the per-user data folder:
    ``%LOCALAPPDATA%\\xception-maya`` on Windows, ``~/Library/Application Support/xception-maya``
    on macOS, ``$XDG_DATA_HOME/xception-maya`` (default ``~/.local/share``) elsewhere."""
    env = os.environ.get(ENV_INDEX)
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "xception-maya" / DB_NAME


def file_key(path: str | os.PathLike[str]) -> str:
    """How a file is named in the index: its resolved absolute path."""
    return str(Path(path).expanduser().resolve())


def head_fingerprint(head: Head) -> str:
    """Changes when anything that decides a head's labels does."""
    digest = hashlib.blake2b(digest_size=16)
    meta = [head.labels, head.input_size, head.resize, head.activations]
    digest.update(json.dumps(meta).encode())
    for array in (*head.kernels, *head.biases):
        digest.update(np.ascontiguousarray(array, np.float32).tobytes())
    return digest.hexdigest()


Tags = list[tuple[str, float]]  # (label, score), best first


# Formats Pillow always decodes to integers: an sRGB colour space on them (Maya's default for
# 8-bit files) decodes exactly as no colour space, which is what `xception-maya index` stores.
_INTEGER_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga", ".webp"})
REFERENCE_ENGINE = "fp32/onnxruntime"


def features_id(backbone_sha256: str, engine_key: str) -> str:
    """Whose features a model entry holds: the backbone's sha256, followed by the engine's
    key for any precision or runtime but the fp32 reference (``<sha256>/bf16/openvino``), so
    each gets entries of its own, and fp32 entries keep the plain sha256 they always had."""
    if engine_key == REFERENCE_ENGINE:
        return backbone_sha256
    return f"{backbone_sha256}/{engine_key}"


def precision_flag(precision: str) -> str:
    """`` --precision P`` for the index command a message suggests; empty for fp32."""
    return "" if precision == "fp32" else f" --precision {precision}"


def model_for(
    classifier: Classifier,
    path: str | os.PathLike[str] | None = None,
    color_space: str | None = None,
) -> Model:
    """Which index entries hold this file's features for this classifier: its backbone,
    precision, runtime and preprocessing. The one rule the CLI, the node and Maya's tagging
    use, so they read and write the same entries."""
    space = (color_space or "").strip()
    suffix = Path(path).suffix.casefold() if path else ""
    if space and _is_srgb(space) and suffix in _INTEGER_SUFFIXES:
        space = ""
    sha = features_id(classifier.manifest.backbone.sha256, classifier.engine.key)
    return Model(sha, classifier.size, classifier.resize, space)


def _is_srgb(color_space: str) -> bool:
    from ..images import COLOR_SPACES

    srgb = {name.casefold() for name, encoding in COLOR_SPACES.items() if encoding == "sRGB"}
    return color_space.casefold() in srgb


def top_tags(head: Head, features: np.ndarray, k: int = TAGS_PER_HEAD) -> list[Tags]:
    """Each row's top ``k`` (label, score) by ``head``, best first; ties keep class order."""
    scores, confidence = head.scores_and_confidence(features)
    top = top_k_rows(scores, min(k, scores.shape[1]))
    picked = np.take_along_axis(scores, top, axis=1)
    found = [
        [(head.labels[i], float(s)) for i, s in zip(row, vals, strict=True)]
        for row, vals in zip(top.tolist(), picked.tolist(), strict=True)
    ]
    # An image the head says fits none of its classes is also tagged "unknown", first, with
    # how surely it is unknown (1 - confidence): `search --tag unknown` finds it.
    if confidence is not None:
        for tags, sure in zip(found, confidence.tolist(), strict=True):
            if not is_known(sure):
                tags.insert(0, (UNKNOWN_LABEL, 1.0 - sure))
    return found


@dataclass(frozen=True)
class Match:
    path: str
    similarity: float


@dataclass(frozen=True)
class TagMatch:
    path: str
    head: str
    label: str
    score: float


class Library:
    """An open library index.

    Reading: :meth:`features_for`, :meth:`similar`, :meth:`by_tag`, :meth:`by_text`,
    :meth:`tags_for`, :meth:`errors`. Writing: :meth:`add_features`, :meth:`retag`; whole folders
    with :func:`xception_maya.library.scan.index_folders`. One ``Library`` per thread.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._searchers: dict[int, Searcher] = {}

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, *, create: bool = True) -> Library:
        """Open (``create``: or create) the index at ``path`` (default: :func:`default_db_path`)."""
        return cls(Store(default_db_path() if path is None else path, create=create))

    @property
    def path(self) -> Path:
        return self.store.path

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- reading -----------------------------------------------------------------------------

    def model_id(self, model: Model) -> int | None:
        return self.store.model_id(model)

    def features_for(self, path: str | os.PathLike[str], model: Model) -> np.ndarray | None:
        """The stored features of the file as it is now (same size and mtime), or None."""
        key = file_key(path)
        try:
            info = os.stat(key)
        except OSError:
            return None
        row = self.store.db.execute(
            "SELECT f.vector FROM files AS fi JOIN features AS f ON f.content_id = fi.content_id "
            "JOIN models AS m ON m.id = f.model_id WHERE fi.path = ? AND fi.size = ? AND "
            "fi.mtime_ns = ? AND m.backbone_sha256 = ? AND m.size = ? AND m.resize = ? AND "
            "m.color_space = ?",
            (key, info.st_size, info.st_mtime_ns, *_model_key(model)),
        ).fetchone()
        return None if row is None else from_blobs([row[0]], model.dim)[0]

    def all_features(self, model: Model) -> tuple[list[int], np.ndarray]:
        """Every stored (content id, features) row of a model, in content id order."""
        mid = self.model_id(model)
        rows = self.store.db.execute(
            "SELECT content_id, vector FROM features WHERE model_id = ? ORDER BY content_id",
            (mid,),
        ).fetchall()
        return [r[0] for r in rows], from_blobs((r[1] for r in rows), model.dim)

    def paths_of(self, content_ids: Iterable[int]) -> dict[int, list[str]]:
        ids = list(content_ids)
        out: dict[int, list[str]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for cid, path in self.store.db.execute(
                f"SELECT content_id, path FROM files WHERE content_id IN ({marks}) ORDER BY path",
                part,
            ):
                out[cid].append(path)
        return out

    def searcher(self, model: Model, *, approximate: bool | None = None) -> Searcher | None:
        mid = self.model_id(model)
        if mid is None:
            return None
        found = self._searchers.get(mid)
        if found is None or (approximate is not None and found.approximate != approximate):
            found = self._searchers[mid] = Searcher(self.store, mid, approximate=approximate)
        return found

    def similar(
        self,
        vector: np.ndarray,
        k: int,
        model: Model,
        *,
        exclude: Sequence[str | os.PathLike[str]] = (),
        approximate: bool | None = None,
    ) -> list[Match]:
        """The ``k`` indexed files most like ``vector`` by cosine similarity, best first.
        Files with equal bytes are each listed. ``exclude``: files to leave out (the query)."""
        searcher = self.searcher(model, approximate=approximate)
        if searcher is None or k <= 0:
            return []
        skip = {file_key(p) for p in exclude}
        want = k + len(skip)
        while True:
            hits = searcher.nearest(vector, want)
            paths = self.paths_of(cid for cid, _ in hits)
            found = [Match(p, s) for cid, s in hits for p in paths[cid] if p not in skip]
            if len(found) >= k or len(hits) < want:
                return found[:k]
            want *= 2  # duplicates and deleted files took places: ask for more

    def _head_filter(self, head: str | None) -> tuple[str, list[str]]:
        return ("AND h.name = ?", [head]) if head else ("", [])

    def by_tag(
        self, label: str, *, head: str | None = None, min_score: float = 0.0
    ) -> list[TagMatch]:
        """Files whose top labels include ``label`` (any case), highest score first."""
        where, args = self._head_filter(head)
        rows = self.store.db.execute(
            "SELECT fi.path, h.name, t.label, t.score FROM tags AS t JOIN heads AS h ON "
            "h.id = t.head_id JOIN files AS fi ON fi.content_id = t.content_id WHERE t.label = ? "
            f"AND t.score >= ? {where} ORDER BY t.score DESC, fi.path",
            [label, min_score, *args],
        ).fetchall()
        return [TagMatch(*r) for r in rows]

    def labels(self, head: str | None = None) -> list[str]:
        where, args = self._head_filter(head)
        rows = self.store.db.execute(
            "SELECT DISTINCT t.label FROM tags AS t JOIN heads AS h ON h.id = t.head_id "
            f"WHERE 1 {where}",
            args,
        ).fetchall()
        return sorted(r[0] for r in rows)

    def by_text(
        self, query: str, *, head: str | None = None, min_score: float = 0.0
    ) -> list[TagMatch]:
        """Files whose top labels are named by ``query`` (label names and synonyms), each
        file once with its best such label, highest score first."""
        labels = matching_labels(query, self.labels(head))
        best: dict[str, TagMatch] = {}
        for label in labels:
            for match in self.by_tag(label, head=head, min_score=min_score):
                if match.path not in best or match.score > best[match.path].score:
                    best[match.path] = match
        return sorted(best.values(), key=lambda m: (-m.score, m.path))

    def tags_for(self, path: str | os.PathLike[str], head: str | None = None) -> dict[str, Tags]:
        """Head name -> the file's stored top (label, score), best first."""
        where, args = self._head_filter(head)
        out: dict[str, list[tuple[str, float]]] = {}
        for name, label, score in self.store.db.execute(
            "SELECT h.name, t.label, t.score FROM files AS fi JOIN tags AS t ON "
            "t.content_id = fi.content_id JOIN heads AS h ON h.id = t.head_id WHERE fi.path = ? "
            f"{where} ORDER BY h.name, t.rank",
            [file_key(path), *args],
        ):
            out.setdefault(name, []).append((label, score))
        return out

    def errors(self, roots: Sequence[str | os.PathLike[str]] = ()) -> list[tuple[str, str]]:
        """(path, reason) of every file that could not be read, under ``roots`` if given."""
        rows = self.store.db.execute(
            "SELECT path, error FROM files WHERE error IS NOT NULL ORDER BY path"
        ).fetchall()
        keys = [file_key(r) for r in roots]
        return [(p, e) for p, e in rows if not keys or any(_is_under(p, k) for k in keys)]

    def counts(self) -> dict[str, int]:
        db = self.store.db
        return {
            name: int(db.execute(f"SELECT count(*) FROM {name}").fetchone()[0])
            for name in ("files", "contents", "features", "tags")
        }

    # --- writing -----------------------------------------------------------------------------

    def head_id(self, head: Head, model_id: int) -> int:
        """The head's row, created, or reset (its tags dropped) when the head changed.
        Call inside a write."""
        return self.labeller_id(head.name, head_fingerprint(head), model_id)

    def labeller_id(self, name: str, fingerprint: str, model_id: int) -> int:
        """The row of what labels (a head, or an imported model's own labels) by name, as
        :meth:`head_id`. Call inside a write."""
        db = self.store.db
        row = db.execute(
            "SELECT id, fingerprint, model_id FROM heads WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            cur = db.execute(
                "INSERT INTO heads (name, fingerprint, model_id) VALUES (?, ?, ?)",
                (name, fingerprint, model_id),
            )
            return int(cur.lastrowid or 0)
        if (row[1], row[2]) != (fingerprint, model_id):
            db.execute("DELETE FROM tags WHERE head_id = ?", (row[0],))
            db.execute(
                "UPDATE heads SET fingerprint = ?, model_id = ? WHERE id = ?",
                (fingerprint, model_id, row[0]),
            )
        return int(row[0])

    def write_tags(self, head_id: int, content_ids: Sequence[int], tags: Sequence[Tags]) -> None:
        self.store.db.executemany(
            "INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?, ?)",
            (
                (cid, head_id, rank, label, score)
                for cid, row in zip(content_ids, tags, strict=True)
                for rank, (label, score) in enumerate(row)
            ),
        )

    def add_features(
        self,
        path: str | os.PathLike[str],
        model: Model,
        features: np.ndarray,
        *,
        head: Head | None = None,
    ) -> None:
        """Record one file's features (and its tags by ``head``), as it is on disk now. For
        callers that computed them themselves (the Maya layer); folders go through ``index``."""
        key = file_key(path)
        try:
            info = os.stat(key)
            digest = content_hash(key)
        except OSError as exc:
            raise LibraryError(f"cannot index {key}: {exc.strerror or exc}") from None
        with self.store.write():
            mid = self.store.model_id(model, create=True)
            assert mid is not None
            cid = self.content_id(digest)
            self.put_features(cid, mid, features, model.dim)
            if head is not None:
                self.write_tags(self.head_id(head, mid), [cid], top_tags(head, features))
            self.put_file(key, info.st_size, info.st_mtime_ns, cid, None)

    def content_id(self, digest: str, width: int | None = None, height: int | None = None) -> int:
        db = self.store.db
        db.execute(
            "INSERT INTO contents (hash, width, height) VALUES (?, ?, ?) ON CONFLICT(hash) DO "
            "UPDATE SET width = coalesce(excluded.width, width), "
            "height = coalesce(excluded.height, height)",
            (digest, width, height),
        )
        return int(db.execute("SELECT id FROM contents WHERE hash = ?", (digest,)).fetchone()[0])

    def put_features(
        self, content_id: int, model_id: int, features: np.ndarray, dim: int = FEATURE_DIM
    ) -> None:
        self.store.db.execute(
            "INSERT OR REPLACE INTO features (content_id, model_id, vector) VALUES (?, ?, ?)",
            (content_id, model_id, to_blob(features, dim)),
        )

    def put_file(
        self, key: str, size: int, mtime_ns: int, content_id: int | None, error: str | None
    ) -> None:
        self.store.db.execute(
            "INSERT INTO files (path, size, mtime_ns, content_id, error) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, "
            "content_id = excluded.content_id, error = excluded.error",
            (key, size, mtime_ns, content_id, error),
        )

    def drop_orphans(self) -> int:
        """Forget contents no file holds any more (their features and tags go with them)."""
        cur = self.store.db.execute(
            "DELETE FROM contents WHERE id NOT IN "
            "(SELECT content_id FROM files WHERE content_id IS NOT NULL)"
        )
        return cur.rowcount

    def retag(self, head: Head, model: Model) -> int:
        """Tag every stored content again with ``head``, from the stored features of
        ``model`` (the backbone never runs). Returns how many were tagged."""
        mid = self.model_id(model)
        if mid is None:
            raise LibraryError(
                f"the index {self.path} has no features for this backbone at "
                f"{model.size}px {model.resize}, which head {head.name!r} needs; run "
                f"`xception-maya index DIR --head {head.name}` to extract them"
            )
        done = 0
        with self.store.write():
            hid = self.head_id(head, mid)
            self.store.db.execute("DELETE FROM tags WHERE head_id = ?", (hid,))
            cursor = self.store.db.execute(
                # In key order: the tags' B-tree is then appended to, not split all over.
                "SELECT content_id, vector FROM features WHERE model_id = ? ORDER BY content_id",
                (mid,),
            )
            while rows := cursor.fetchmany(_RETAG_CHUNK):
                ids = [r[0] for r in rows]
                vectors = from_blobs((r[1] for r in rows), model.dim)
                self.write_tags(hid, ids, top_tags(head, vectors))
                done += len(ids)
        return done


def _model_key(model: Model) -> tuple[str, int, str, str]:
    return (model.backbone_sha256, model.size, model.resize, model.color_space)


def _is_under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
