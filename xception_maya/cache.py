"""An in-memory LRU cache of feature vectors, bounded in bytes.

Maya re-evaluates nodes often; when neither the image nor the model nor the preprocessing
changed, the features come from here and the network does not run.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

import numpy as np

DEFAULT_BYTES = 256 * 1024 * 1024  # 2048 floats are 8 KiB: about 32,000 images


class FeatureCache:
    """Thread-safe. A value is kept only while it fits: callers use what they computed and
    let the cache remember it, never read back what they just put (a cache smaller than
    one vector, or another thread's put, may have dropped it already)."""

    def __init__(self, max_bytes: int = DEFAULT_BYTES) -> None:
        self.max_bytes = max(0, int(max_bytes))
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> np.ndarray | None:
        """The cached (read-only) value, counted as a hit, or None, counted as a miss."""
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: np.ndarray) -> None:
        """Remember a private, read-only copy of ``value``; one larger than the whole cache
        is not kept (and replaces no older value of the key)."""
        copy = np.array(value, dtype=np.float32)
        copy.setflags(write=False)
        with self._lock:
            if copy.nbytes > self.max_bytes:
                return
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old.nbytes
            self._items[key] = copy
            self.bytes += copy.nbytes
            while self.bytes > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self.bytes -= evicted.nbytes

    def stats(self) -> dict[str, int]:
        """Entries, bytes, hits and misses, read together."""
        with self._lock:
            return {
                "entries": len(self._items),
                "bytes": self.bytes,
                "hits": self.hits,
                "misses": self.misses,
            }

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.bytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
