"""Building and updating the index from folders: ``index_folders``.

One pass, in this order:

1. **Walk** the folders (one ``stat`` per file, nothing opened). A file whose path, size and
   mtime match its row is unchanged and costs nothing more.
2. **Prune**: rows under the folders whose files are gone are deleted (not marked); at the end
   of the run, so are the contents, features and tags no file holds any more. A missing folder
   is an error, never "everything deleted" (an unmounted share must not empty the index).
3. **Hash** new and changed files (blake2b of the bytes). A hash already in the index with
   features for this model is reused: a copied, moved or renamed file is not decoded.
4. **Extract** the rest through an :data:`Extractor` (the local :class:`Classifier`, or the Ray
   pipeline; or an imported model's outputs, tagged by its own labels: :mod:`.models`), each
   distinct content once. Results are committed every
   :data:`COMMIT_EVERY` images or :data:`COMMIT_SECONDS`, each batch one transaction, so a kill
   keeps every finished batch and the next run picks up the rest.

Unreadable files are recorded with their reason and are not retried until they change.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import XceptionMayaError
from ..learn import IMAGE_EXTENSIONS
from . import ann
from .api import Library, top_tags
from .search import ANN_ABOVE, Searcher
from .store import LibraryError, Model, content_hash, from_blobs

if TYPE_CHECKING:
    from ..classifier import Classifier
    from ..heads import Head
    from ..imported import ImportedClassifier
    from .models import OwnLabels

Result = np.ndarray | XceptionMayaError
# paths -> (position in paths, features or the error), in any order, as they are ready.
Extractor = Callable[[Sequence[str]], Iterator[tuple[int, Result]]]
Progress = Callable[[int, int], None]

COMMIT_EVERY = 64
COMMIT_SECONDS = 2.0
LOCAL_CHUNK = 32  # images per Classifier.features call: decoding overlaps the network within it
HASH_THREADS = 4


@dataclass(frozen=True)
class FileStat:
    path: str
    size: int
    mtime_ns: int


@dataclass
class IndexReport:
    found: int = 0
    unchanged: int = 0
    extracted: int = 0  # distinct contents run through the network
    reused: int = 0  # new or changed files whose bytes were already indexed
    retagged: int = 0  # contents tagged from stored features
    pruned: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    approximate_index: str = ""
    seconds: float = 0.0


def local_extractor(classifier: Classifier) -> Extractor:
    """Features through ``Classifier.features``: its decoding, memory budget and batching."""
    return _chunked(classifier.features)


def outputs_extractor(classifier: ImportedClassifier) -> Extractor:
    """An imported model's scores and features through ``ImportedClassifier.outputs``
    (index them with ``labels=`` :class:`.models.OwnLabels`)."""
    return _chunked(classifier.outputs)


def _chunked(run: Callable[[Sequence[str]], list[Result]]) -> Extractor:
    def extract(paths: Sequence[str]) -> Iterator[tuple[int, Result]]:
        for start in range(0, len(paths), LOCAL_CHUNK):
            part = list(paths[start : start + LOCAL_CHUNK])
            for i, result in enumerate(run(part)):
                yield start + i, result

    return extract


def walk(roots: Sequence[Path]) -> tuple[list[FileStat], list[tuple[str, str]]]:
    """Image files under ``roots`` (hidden ones left out) and the folders that could not be
    listed, with why."""
    found: list[FileStat] = []
    errors: list[tuple[str, str]] = []
    stack = list(roots)
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            errors.append((str(folder), f"cannot list this folder ({exc.strerror or exc})"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
                    info = entry.stat()
                    found.append(FileStat(entry.path, info.st_size, info.st_mtime_ns))
            except OSError as exc:
                errors.append((entry.path, f"cannot access it ({exc.strerror or exc})"))
    return found, errors


def _under(db: Library, root: Path) -> dict[str, tuple[int, int, int | None, str | None]]:
    # A range over the path index, not LIKE: '%' and '_' may be in folder names.
    low = str(root).rstrip(os.sep) + os.sep
    high = low[:-1] + chr(ord(os.sep) + 1)
    rows = db.store.db.execute(
        "SELECT path, size, mtime_ns, content_id, error FROM files WHERE path >= ? AND path < ?",
        (low, high),
    )
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def _dimensions(path: str) -> tuple[int | None, int | None]:
    from PIL import Image

    try:
        with Image.open(path) as image:  # the header only
            width, height = image.size
            return int(width), int(height)
    except Exception:  # EXR and friends: Pillow cannot say; the size is optional
        return None, None


@dataclass
class _Hashed:
    stat: FileStat
    digest: str = ""
    width: int | None = None
    height: int | None = None
    error: str | None = None


def _hash(item: FileStat) -> _Hashed:
    try:
        info = os.stat(item.path)  # the state the features will belong to
        stat = FileStat(item.path, info.st_size, info.st_mtime_ns)
        if info.st_size == 0:
            return _Hashed(stat, error=f"cannot read image '{item.path}': empty file (0 bytes)")
        digest = content_hash(item.path)
    except OSError as exc:
        return _Hashed(item, error=f"cannot read image '{item.path}': {exc.strerror or exc}")
    width, height = _dimensions(item.path)
    return _Hashed(stat, digest, width, height)


class _Writer:
    """Collects finished files and commits them in batches."""

    def __init__(
        self,
        library: Library,
        model: Model,
        model_id: int,
        head: Head | None,
        labels: OwnLabels | None,
        head_id: int | None,
    ):
        self.library = library
        self.dim = model.dim
        self.model_id = model_id
        self.head = head
        self.labels = labels
        self.head_id = head_id
        self.pending: list[tuple[list[_Hashed], Result | int]] = []
        self.count = 0
        self.last = time.monotonic()

    def add(self, files: list[_Hashed], result: Result | int) -> None:
        """``result``: new features, the error, or the id of an indexed content to reuse."""
        self.pending.append((files, result))
        self.count += len(files)
        if self.count >= COMMIT_EVERY or time.monotonic() - self.last >= COMMIT_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        lib = self.library
        with lib.store.write():
            for files, result in self.pending:
                first = files[0]
                cid: int | None = None
                error: str | None = None
                if isinstance(result, XceptionMayaError):
                    error = str(result)
                elif isinstance(result, int):
                    cid = result
                else:
                    cid = lib.content_id(first.digest, first.width, first.height)
                    self._put(cid, result)
                for f in files:
                    lib.put_file(f.stat.path, f.stat.size, f.stat.mtime_ns, cid, error)
        self.pending.clear()
        self.count = 0
        self.last = time.monotonic()

    def _put(self, cid: int, result: np.ndarray) -> None:
        lib = self.library
        if self.labels is not None and self.head_id is not None:
            features, tags = self.labels.split(result)
            if features is not None:
                lib.put_features(cid, self.model_id, features, self.dim)
            lib.write_tags(self.head_id, [cid], [tags])
            return
        lib.put_features(cid, self.model_id, result, self.dim)
        if self.head is not None and self.head_id is not None:
            lib.write_tags(self.head_id, [cid], top_tags(self.head, result))


def index_folders(
    library: Library,
    roots: Sequence[str | os.PathLike[str]],
    model: Model,
    extract: Extractor,
    *,
    head: Head | None = None,
    labels: OwnLabels | None = None,
    progress: Progress | None = None,
) -> IndexReport:
    """Bring the index up to date with ``roots`` for ``model`` (and tags by ``head``).

    ``labels``: ``extract`` gives an imported model's outputs (:func:`outputs_extractor`),
    stored as its features (when ``model.dim``) and its own top labels, not a head's."""
    if head is not None and labels is not None:
        raise LibraryError("index with a head or with a model's own labels, not both")
    start = time.perf_counter()
    report = IndexReport()
    folders = [Path(r).expanduser().resolve() for r in roots]
    for folder in folders:
        if not folder.is_dir():
            raise LibraryError(f"folder not found: {folder} (nothing was changed in the index)")
    found, walk_errors = walk(folders)
    report.found = len(found)
    store = library.store
    with store.write():
        mid = store.model_id(model, create=True)
        assert mid is not None
        if labels is not None:
            hid: int | None = library.labeller_id(labels.name, labels.fingerprint, mid)
        else:
            hid = library.head_id(head, mid) if head is not None else None
    known: dict[str, tuple[int, int, int | None, str | None]] = {}
    for folder in folders:
        known.update(_under(library, folder))
    with_features = {
        r[0] for r in store.db.execute("SELECT content_id FROM features WHERE model_id = ?", (mid,))
    }
    tagged = (
        {r[0] for r in store.db.execute("SELECT content_id FROM tags WHERE head_id = ?", (hid,))}
        if hid is not None
        else set()
    )
    # Done: features for this model; a model's own labels come with its features, or alone.
    complete = with_features
    if labels is not None:
        complete = tagged & with_features if model.dim else tagged

    todo: list[FileStat] = []
    untagged: set[int] = set()
    for item in found:
        row = known.get(item.path)
        if row is not None and (row[0], row[1]) == (item.size, item.mtime_ns):
            if row[3] is not None:
                report.unchanged += 1
                continue
            cid = row[2]
            if cid is not None and cid in complete:
                if head is not None and cid not in tagged:
                    untagged.add(cid)
                report.unchanged += 1
                continue
        todo.append(item)

    seen = {item.path for item in found}
    gone = [path for path in known if path not in seen]
    if gone:
        with store.write():
            store.db.executemany("DELETE FROM files WHERE path = ?", ((p,) for p in gone))
        report.pruned = len(gone)
    if head is not None and hid is not None and untagged:
        report.retagged = _tag_stored(library, sorted(untagged), mid, head, hid)

    total = len(todo)
    if progress:
        progress(0, total)
    writer = _Writer(library, model, mid, head, labels, hid)
    done = 0
    try:
        groups: dict[str, list[_Hashed]] = {}
        with ThreadPoolExecutor(HASH_THREADS, thread_name_prefix="xception-hash") as pool:
            for hashed in pool.map(_hash, todo):
                if hashed.error is not None:
                    writer.add([hashed], XceptionMayaError(hashed.error))
                    done += 1
                    if progress:
                        progress(done, total)
                    continue
                groups.setdefault(hashed.digest, []).append(hashed)
        need: list[list[_Hashed]] = []
        for digest, files in groups.items():
            if labels is None:
                row = store.db.execute(
                    "SELECT c.id FROM contents AS c JOIN features AS f ON f.content_id = c.id "
                    "WHERE c.hash = ? AND f.model_id = ?",
                    (digest, mid),
                ).fetchone()
            else:
                sql = "SELECT id FROM contents WHERE hash = ?"
                row = store.db.execute(sql, (digest,)).fetchone()
                row = row if row is not None and row[0] in complete else None
            if row is None:
                need.append(files)
                continue
            cid = int(row[0])
            if head is not None and hid is not None and cid not in tagged:
                report.retagged += _tag_stored(library, [cid], mid, head, hid)
                tagged.add(cid)
            writer.add(files, cid)
            report.reused += len(files)
            done += len(files)
            if progress:
                progress(done, total)
        for position, result in extract([files[0].stat.path for files in need]):
            files = need[position]
            writer.add(files, result)
            report.extracted += 0 if isinstance(result, XceptionMayaError) else 1
            done += len(files)
            if progress:
                progress(done, total)
        writer.flush()
    except KeyboardInterrupt:
        writer.flush()  # keep what is finished; the next run resumes after it
        raise
    with store.write():
        # Only now: a renamed file's content had no file between its prune and its new row.
        library.drop_orphans()
    report.approximate_index = update_approximate_index(library, mid)
    report.failed = walk_errors + library.errors(folders)
    report.seconds = time.perf_counter() - start
    return report


def _tag_stored(
    library: Library, content_ids: list[int], model_id: int, head: Head | None, head_id: int
) -> int:
    """Tag contents from their stored features: no decoding, no network."""
    if head is None:
        return 0
    db = library.store.db
    for begin in range(0, len(content_ids), 4096):
        part = content_ids[begin : begin + 4096]
        marks = ",".join("?" * len(part))
        rows = db.execute(
            "SELECT content_id, vector FROM features WHERE model_id = ? AND content_id IN "
            f"({marks})",
            [model_id, *part],
        ).fetchall()
        vectors = from_blobs((r[1] for r in rows), library.store.model_dim(model_id))
        with library.store.write():
            library.write_tags(head_id, [r[0] for r in rows], top_tags(head, vectors))
    return len(content_ids)


def update_approximate_index(library: Library, model_id: int) -> str:
    """Bring the approximate index's side file up to date when the model has more than
    :data:`ANN_ABOVE` features and usearch is installed. Says what it did."""
    count = library.store.db.execute(
        "SELECT count(*) FROM features WHERE model_id = ?", (model_id,)
    ).fetchone()[0]
    if count <= ANN_ABOVE:
        return ""
    if not ann.available():
        return f"{count} images: install usearch (xception-maya[ann]) for faster search"
    searcher = Searcher(library.store, model_id, approximate=True)
    searcher.refresh()
    searcher.save_ann()
    return f"approximate index: {ann.side_path(library.path, model_id).name} ({count} images)"
