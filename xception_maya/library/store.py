"""The library index on disk: one SQLite file, versioned, safe across processes.

SQLite in WAL mode gives many readers and one writer at a time across processes; every write
is one transaction, so a reader sees a batch whole or not at all, and a killed writer loses at
most the batch it was writing. ``busy_timeout`` makes a second writer wait its turn instead of
failing.

Tables (schema version :data:`SCHEMA_VERSION`):

- ``files``: path (resolved, absolute), size, mtime_ns, the content it holds, the error that
  stopped it (then no content);
- ``contents``: one row per distinct content hash (blake2b-128 of the bytes), width, height;
  files with equal bytes share one, so a copied or renamed file reuses its features;
- ``models``: a backbone sha256 + preprocessing (input size, resize filter, colour space) and
  the width of its features (``dim``, schema 2: 2048 for Xception, any for an imported model,
  0 for one without features); features of different models never mix;
- ``features``: one float16 vector per (content, model) (see :data:`FEATURE_DTYPE`);
- ``heads`` and ``tags``: per head (by name, with a fingerprint of its weights), each content's
  top labels and scores.

A file that is not SQLite, an SQLite file of another program, and an index written by a newer
version are each refused with one :class:`LibraryError`; older versions migrate forward.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import XceptionMayaError

# 'XMLI': marks the file as ours, so an unrelated SQLite database is never written to.
APPLICATION_ID = 0x584D4C49
SCHEMA_VERSION = 2
# float16 halves the file and the memory of a loaded index; over the 18 sample photos its
# cosine to float32 is at least 0.999999 and no top label changes (benchmarks/bench_index.py).
FEATURE_DTYPE = np.dtype("<f2")
FEATURE_DIM = 2048
BUSY_TIMEOUT_MS = 60_000

_SCHEMA_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    backbone_sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    resize TEXT NOT NULL,
    color_space TEXT NOT NULL,
    UNIQUE (backbone_sha256, size, resize, color_space)
);
CREATE TABLE contents (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    width INTEGER,
    height INTEGER
);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_id INTEGER REFERENCES contents(id) ON DELETE SET NULL,
    error TEXT
);
CREATE INDEX files_content ON files (content_id);
CREATE TABLE features (
    seq INTEGER PRIMARY KEY,
    content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
    model_id INTEGER NOT NULL REFERENCES models(id),
    vector BLOB NOT NULL,
    UNIQUE (content_id, model_id)
);
CREATE INDEX features_model ON features (model_id, seq);
CREATE TABLE heads (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    model_id INTEGER NOT NULL REFERENCES models(id)
);
CREATE TABLE tags (
    content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
    head_id INTEGER NOT NULL REFERENCES heads(id) ON DELETE CASCADE,
    rank INTEGER NOT NULL,
    label TEXT NOT NULL COLLATE NOCASE,
    score REAL NOT NULL,
    PRIMARY KEY (content_id, head_id, rank)
) WITHOUT ROWID;
CREATE INDEX tags_label ON tags (label, head_id, score);
"""

# Version 2: imported models have features of their own width. Rows of version 1 are Xception's.
_SCHEMA_V2 = f"ALTER TABLE models ADD COLUMN dim INTEGER NOT NULL DEFAULT {FEATURE_DIM}"

# MIGRATIONS[v] takes a database at version v to v + 1. Version 0 is an empty file.
MIGRATIONS: dict[int, str] = {0: _SCHEMA_V1, 1: _SCHEMA_V2}


class LibraryError(XceptionMayaError):
    """The library index file cannot be used (not ours, damaged, or too new)."""


@dataclass(frozen=True)
class Model:
    """Which features: the backbone file's sha256 (followed by the engine's key for a precision
    other than fp32: :func:`.api.features_id`), the preprocessing that fed it, and how many
    values each has (0: a model that gives labels only)."""

    backbone_sha256: str
    size: int
    resize: str
    color_space: str = ""  # "" = what the file says (sRGB integers, linear floats)
    dim: int = FEATURE_DIM


def content_hash(path: str | os.PathLike[str]) -> str:
    """blake2b-128 of the file's bytes, read in 1 MiB blocks (hashlib releases the GIL)."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def to_blob(vector: np.ndarray, dim: int = FEATURE_DIM) -> bytes:
    v = np.asarray(vector, dtype=np.float32).reshape(-1)
    if v.shape != (dim,) or dim < 1:
        raise LibraryError(f"features must have {dim} values, got {v.size}")
    return v.astype(FEATURE_DTYPE).tobytes()


def from_blobs(blobs: Iterable[bytes], dim: int = FEATURE_DIM) -> np.ndarray:
    """(N, dim) float32 from stored vectors."""
    joined = b"".join(blobs)
    return np.frombuffer(joined, dtype=FEATURE_DTYPE).reshape(-1, dim).astype(np.float32)


class Store:
    """An open index file: the connection and the schema. Use :class:`Library` for the API."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path).expanduser().absolute()
        if self.path.is_dir():
            raise LibraryError(f"the library index {self.path} is a folder, not a file")
        if not self.path.exists():
            if not create:
                raise LibraryError(
                    f"no library index at {self.path}; build one with `xception-maya index DIR`"
                )
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._check_header()
        try:
            self.db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise LibraryError(f"cannot open the library index {self.path}: {exc}") from None
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise self._damaged(exc) from None
        except BaseException:
            self.db.close()
            raise

    def _check_header(self) -> None:
        # Refuse a file of another kind before SQLite touches it (it would only fail later).
        if not self.path.is_file() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb") as f:
            head = f.read(16)
        if head != b"SQLite format 3\x00":
            raise LibraryError(
                f"{self.path} is not a library index (not an SQLite database); "
                "choose another --db file or move this one away"
            )

    def _damaged(self, exc: sqlite3.DatabaseError) -> LibraryError:
        return LibraryError(
            f"the library index {self.path} is damaged ({exc}); move it away and run "
            "`xception-maya index` again to rebuild it"
        )

    def _setup(self) -> None:
        db = self.db
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        app = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != APPLICATION_ID and (tables or version):
            raise LibraryError(
                f"{self.path} is an SQLite database of another program, not a library index; "
                "choose another --db file"
            )
        if version > SCHEMA_VERSION:
            raise LibraryError(
                f"the library index {self.path} was written by a newer xception-maya (schema "
                f"{version}; this version reads up to {SCHEMA_VERSION}); upgrade xception-maya"
            )
        if db.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise LibraryError(f"the library index {self.path}: its folder does not allow WAL")
        # NORMAL in WAL mode: a killed process loses nothing committed; a power cut may lose
        # the last commits, never consistency.
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        # 64 MiB of page cache (default 2 MiB): re-tagging 100k images writes 500k tag rows.
        db.execute("PRAGMA cache_size = -65536")
        if version < SCHEMA_VERSION:
            self._migrate(version)
        db.execute("SELECT count(*) FROM files").fetchone()  # a damaged file fails here

    def _migrate(self, version: int) -> None:
        with self.write():
            # Re-read inside the write lock: another process may have migrated meanwhile.
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                if version == 0:
                    self.db.execute(
                        "INSERT INTO meta VALUES ('format', 'xception-maya-library'), ('id', ?)",
                        (uuid.uuid4().hex,),
                    )
                version += 1
                self.db.execute(f"PRAGMA user_version = {version}")
            self.db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One consistent snapshot for several queries."""
        self.db.execute("BEGIN")
        try:
            yield self.db
        finally:
            self.db.execute("COMMIT")

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def model_id(self, model: Model, *, create: bool = False) -> int | None:
        key = (model.backbone_sha256, model.size, model.resize, model.color_space)
        sql = (
            "SELECT id, dim FROM models WHERE backbone_sha256 = ? AND size = ? AND resize = ? "
            "AND color_space = ?"
        )
        row = self.db.execute(sql, key).fetchone()
        if row is not None:
            if int(row[1]) != model.dim:  # the same file and input always give one width
                raise LibraryError(
                    f"the library index {self.path} holds {row[1]} values per image for this "
                    f"model, not {model.dim}; move the index away to rebuild it"
                )
            return int(row[0])
        if not create:
            return None
        cur = self.db.execute(
            "INSERT INTO models (backbone_sha256, size, resize, color_space, dim) "
            "VALUES (?,?,?,?,?)",
            (*key, model.dim),
        )
        return int(cur.lastrowid or 0)

    def model_dim(self, model_id: int) -> int:
        """How many values each feature vector of the model has."""
        row = self.db.execute("SELECT dim FROM models WHERE id = ?", (model_id,)).fetchone()
        return FEATURE_DIM if row is None else int(row[0])

    def data_version(self) -> int:
        """Changes whenever another connection commits (cheap: no file read)."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def close(self) -> None:
        self.db.close()
