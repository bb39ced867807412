"""The approximate nearest-neighbour index: usearch's HNSW graph (the optional extra ``ann``).

Chosen over hnswlib on this workload (2048-d features, 20k synthetic clustered vectors, two
cores; benchmarks/bench_index.py repeats it): usearch with float16 storage builds in 20 s
against hnswlib's 28 s, answers in 0.4 ms against 0.9 ms, at recall@10 0.998 against 1.0,
in half the memory (hnswlib keeps float32), and saves to a byte buffer, so the side file is
written through :mod:`xception_maya.fsio` like every other file of ours.

The graph keeps float16 vectors. 8-bit ones, with the best 100 re-ranked by the stored
features, were faster at 100k (recall@10 0.982 in 5.2 ms against 0.972 in 7.1 ms) but worse at
1M (0.936 in 107 ms at breadth 12500, against 0.968 in 100 ms), and the re-ranking reads 100
rows of the database per query, from disk when they are not cached.

The side file sits next to the database (``library.db.ann1`` for model 1): one JSON header
line (format, the database's id, the model, the last feature ``seq`` it holds, the count),
then usearch's own serialized index. No pickle. A header that does not match the database is
a stale file: it is ignored and rebuilt, never trusted. Keys are content ids.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..fsio import write_atomic_with

FORMAT = "xception-maya-ann"
VERSION = 1
# Graph degree, build breadth and search breadth, measured on synthetic clustered vectors
# (bench_index.py), 2 cores. At 1M a graph of degree 16 built at breadth 128 needed a search
# breadth of 12288 for recall@10 0.968 (100 ms). At 250k, degree 24 built at breadth 200 took
# 1.5x as long to build and gave 0.948 at search breadth 1024 (10.7 ms) and 0.988 at 2048,
# against 0.868 and 0.950 for the old graph; degree 32 at 128: 0.900 and 0.976. At 1M the new
# graph (29 min to build) gives 0.922 at 4096 (47 ms), 0.966 at 5000 (56 ms), 0.968 at 6144
# (68 ms). The search breadth grows with the index: n / 200, within [1024, 16384].
CONNECTIVITY = 24
EXPANSION_ADD = 200
EXPANSION_SEARCH = 1024
MAX_EXPANSION_SEARCH = 16384


def search_breadth(count: int) -> int:
    """How many candidates a query visits in an index of ``count`` vectors."""
    return max(EXPANSION_SEARCH, min(MAX_EXPANSION_SEARCH, count // 200))


def available() -> bool:
    """True when usearch is installed (``pip install "xception-maya[ann]"``)."""
    return importlib.util.find_spec("usearch") is not None


def side_path(db_path: Path, model_id: int) -> Path:
    return db_path.with_name(f"{db_path.name}.ann{model_id}")


class AnnIndex:
    """An HNSW index over unit vectors keyed by content id, covering features up to ``max_seq``."""

    def __init__(self, index: Any, max_seq: int = 0) -> None:
        self.index = index
        self.max_seq = max_seq
        self.breadth: int | None = None  # None: search_breadth of the size (a bench sets it)

    @classmethod
    def new(cls, dim: int) -> AnnIndex:
        from usearch.index import Index

        index = Index(
            ndim=dim,
            metric="cos",
            dtype="f16",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        return cls(index)

    def __len__(self) -> int:
        return len(self.index)

    def add(self, keys: np.ndarray, vectors: np.ndarray, max_seq: int) -> None:
        if len(keys):
            ids = keys.astype(np.uint64)
            known = ids[np.asarray(self.index.contains(ids), dtype=bool)]
            if len(known):
                self.index.remove(known)  # a re-extracted content replaces its vector
            self.index.add(ids, vectors.astype(np.float32), threads=0)
        self.max_seq = max(self.max_seq, max_seq)

    def remove(self, keys: np.ndarray) -> None:
        if len(keys):
            self.index.remove(keys.astype(np.uint64))

    def keys(self) -> np.ndarray:
        return np.asarray(self.index.keys, dtype=np.int64)

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(content ids, cosine similarities), best first."""
        if len(self.index) == 0 or k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        self.index.expansion_search = self.breadth or search_breadth(len(self.index))
        found = self.index.search(vector.astype(np.float32), min(k, len(self.index)))
        keys = np.asarray(found.keys, dtype=np.int64)
        return keys, (1.0 - np.asarray(found.distances, dtype=np.float32))

    def save(self, path: Path, library_id: str, model_id: int) -> Path:
        header = {
            "format": FORMAT,
            "version": VERSION,
            "library": library_id,
            "model": model_id,
            "max_seq": self.max_seq,
            "count": len(self.index),
        }
        payload = self.index.save()

        def write(f: Any) -> None:
            f.write(json.dumps(header).encode() + b"\n")
            f.write(payload)

        return write_atomic_with(path, write)

    @classmethod
    def load(cls, path: Path, library_id: str, model_id: int) -> AnnIndex | None:
        """The saved index, or None when it is missing, stale or damaged (then rebuild it)."""
        from usearch.index import Index

        try:
            data = path.read_bytes()
            line, _, payload = data.partition(b"\n")
            header = json.loads(line)
            if (
                header.get("format") != FORMAT
                or header.get("version") != VERSION
                or header.get("library") != library_id
                or header.get("model") != model_id
            ):
                return None
            index = Index.restore(payload)
        except (OSError, ValueError, RuntimeError, AttributeError, TypeError):
            return None
        if index is None or len(index) != header.get("count"):
            return None
        # The file does not keep it. usearch has the setter; its stubs order hides it from mypy.
        index.expansion_search = EXPANSION_SEARCH  # type: ignore[misc]
        return cls(index, int(header["max_seq"]))
