"""Similarity search over one model's stored features: exact, or approximate when large.

The features are read from the database once into memory and kept up to date by reading
only what changed (``seq`` grows with every write). Up to :data:`ANN_ABOVE` vectors the search
is exact, one matrix-vector product over unit rows; above it, and when usearch is installed,
the HNSW index of :mod:`.ann` answers (its side file is written by ``index``; rows added since
are inserted in memory). Without usearch every size is searched exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import ann
from .store import Store, from_blobs

# Exact search of one query is a pass over the whole matrix: 20-24 ms at 10k and 56-138 ms
# at 100k float32 rows on the 2-core build machine, shared (benchmarks/bench_index.py);
# the approximate index answers in about 3 ms. So exact search stops at 10k.
ANN_ABOVE = 10_000
_CHUNK = 8192


def unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = (x / np.where(norms > 0, norms, 1)).astype(np.float32, copy=False)
    return out


class Searcher:
    """Nearest stored features to a query, for one model of one open store."""

    def __init__(self, store: Store, model_id: int, *, approximate: bool | None = None) -> None:
        """``approximate``: None decides by size and by whether usearch is installed."""
        self.store = store
        self.model_id = model_id
        self.approximate = approximate
        self.dim = store.model_dim(model_id)
        self.ids = np.empty(0, np.int64)
        self.unit = np.empty((0, self.dim), np.float32)
        self.ann: ann.AnnIndex | None = None
        self.max_seq = 0
        self._version: int | None = None
        self._loaded = False

    @property
    def count(self) -> int:
        return len(self.ann) if self.ann is not None else len(self.ids)

    @property
    def mode(self) -> str:
        return "approximate" if self.ann is not None else "exact"

    def _db_state(self) -> tuple[int, int]:
        row = self.store.db.execute(
            "SELECT count(*), coalesce(max(seq), 0) FROM features WHERE model_id = ?",
            (self.model_id,),
        ).fetchone()
        return int(row[0]), int(row[1])

    def refresh(self) -> None:
        """Bring the in-memory copy up to date with the database (cheap when unchanged)."""
        version = self.store.data_version()
        if self._loaded and version == self._version:
            return
        with self.store.read():
            count, max_seq = self._db_state()
            if not self._loaded:
                self._load(count)
            elif (count, max_seq) != (self.count, self.max_seq):
                self._update(count)
        self._version = version
        self._loaded = True

    def _use_ann(self, count: int) -> bool:
        if self.approximate is None:
            return count > ANN_ABOVE and ann.available()
        return self.approximate and ann.available()

    def _load(self, count: int) -> None:
        if self._use_ann(count):
            library_id = self.store.meta("id") or ""
            path = ann.side_path(self.store.path, self.model_id)
            self.ann = ann.AnnIndex.load(path, library_id, self.model_id)
            if self.ann is None:
                self.ann = ann.AnnIndex.new(self.dim)
            self.max_seq = self.ann.max_seq  # only the rows written since the file are read
            self._update(count)
            return
        self.ids = np.empty(count, np.int64)
        self.unit = np.empty((count, self.dim), np.float32)
        filled = 0
        for ids, vectors, seq in self._rows_after(0):
            n = min(len(ids), count - filled)  # rows committed since the count are left out
            self.ids[filled : filled + n] = ids[:n]
            self.unit[filled : filled + n] = unit_rows(vectors[:n])
            filled += n
            self.max_seq = max(self.max_seq, int(seq[n - 1]) if n else 0)
        self.ids, self.unit = self.ids[:filled], self.unit[:filled]

    def _update(self, count: int) -> None:
        """Add the rows written since, drop the rows deleted since."""
        new_ids: list[np.ndarray] = []
        new_vectors: list[np.ndarray] = []
        for ids, vectors, seq in self._rows_after(self.max_seq):
            if self.ann is not None:
                self.ann.add(ids, unit_rows(vectors), int(seq[-1]))
            else:
                new_ids.append(ids)
                new_vectors.append(unit_rows(vectors))
            self.max_seq = int(seq[-1])
        if self.ann is not None:
            if len(self.ann) != count:
                alive = self._alive_ids()
                keys = self.ann.keys()
                self.ann.remove(keys[~np.isin(keys, alive)])
            return
        ids = np.concatenate([self.ids, *new_ids])
        unit = np.concatenate([self.unit, *new_vectors]) if new_vectors else self.unit
        if len(ids) != count or len(np.unique(ids)) != len(ids):
            keep = np.isin(ids, self._alive_ids())
            # A re-extracted content appears twice: keep its latest row.
            _, last = np.unique(ids[::-1], return_index=True)
            latest = np.zeros(len(ids), bool)
            latest[len(ids) - 1 - last] = True
            keep &= latest
            ids, unit = ids[keep], unit[keep]
        self.ids, self.unit = ids, unit

    def _alive_ids(self) -> np.ndarray:
        rows = self.store.db.execute(
            "SELECT content_id FROM features WHERE model_id = ?", (self.model_id,)
        ).fetchall()
        return np.array([r[0] for r in rows], np.int64)

    def _rows_after(self, seq: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        cursor = self.store.db.execute(
            "SELECT content_id, vector, seq FROM features WHERE model_id = ? AND seq > ? "
            "ORDER BY seq",
            (self.model_id, seq),
        )
        while rows := cursor.fetchmany(_CHUNK):
            ids = np.array([r[0] for r in rows], np.int64)
            seqs = np.array([r[2] for r in rows], np.int64)
            yield ids, from_blobs((r[1] for r in rows), self.dim), seqs

    def nearest(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest contents to ``vector`` as (content id, cosine), best first;
        equal similarities by content id."""
        self.refresh()
        query = np.asarray(vector, np.float32).reshape(-1)
        norm = float(np.linalg.norm(query))
        if k <= 0 or self.count == 0:
            return []
        query = query / norm if norm > 0 else query
        if self.ann is not None:
            keys, sims = self.ann.search(query, k)
            return [(int(i), float(s)) for i, s in zip(keys, sims, strict=True)]
        sims = self.unit @ query
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        order = top[np.lexsort((self.ids[top], -sims[top]))]
        return [(int(self.ids[i]), float(np.clip(sims[i], -1.0, 1.0))) for i in order]

    def save_ann(self) -> bool:
        """Write the approximate index's side file (by ``index``, the one writer). Returns
        whether there is one to write."""
        if self.ann is None:
            return False
        self.ann.save(
            ann.side_path(self.store.path, self.model_id),
            self.store.meta("id") or "",
            self.model_id,
        )
        return True
