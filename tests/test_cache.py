"""The feature cache: correct at any size, counted right, thread-safe, and decoding on
threads leaves the host's process state (warning filters, threads) as it found it."""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from xception_maya import images
from xception_maya.cache import FeatureCache
from xception_maya.classifier import Classifier
from xception_maya.errors import XceptionMayaError


@pytest.fixture
def fast_switches() -> Iterator[None]:
    """Thread switches every microsecond: races that hide at the default 5 ms show up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def test_a_cache_too_small_for_one_vector_still_gives_labels(
    models_dir: Path, samples: list[Path], sample_labels: dict[str, str]
) -> None:
    for max_bytes in (0, 100):
        cache = FeatureCache(max_bytes=max_bytes)
        clf = Classifier(models_dir=models_dir, device="cpu", cache=cache)
        photos = [samples[0], samples[16]]
        results = clf.classify(photos, top_k=1)
        assert [r.error for r in results] == [None, None]
        for photo, result in zip(photos, results, strict=True):
            if photo.name in sample_labels:
                assert result.labels == [sample_labels[photo.name]]
        assert len(cache) == 0 and cache.bytes == 0


def test_hits_and_misses_are_counted_once_each(models_dir: Path, samples: list[Path]) -> None:
    cache = FeatureCache()
    clf = Classifier("none", models_dir=models_dir, device="cpu", cache=cache)
    first = clf.features(samples[:2])
    assert cache.stats() == {"entries": 2, "bytes": 2 * 2048 * 4, "hits": 0, "misses": 2}
    again = clf.features(samples[:2])
    assert cache.stats()["hits"] == 2 and cache.stats()["misses"] == 2
    for a, b in zip(first, again, strict=True):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
        np.testing.assert_array_equal(a, b)


def test_put_and_get_from_many_threads_never_mix_values(fast_switches: None) -> None:
    cache = FeatureCache(max_bytes=8 * 2048 * 4)  # 8 vectors for 8 threads x 400 keys
    wrong: list[str] = []

    def worker(t: int) -> int:
        kept = 0
        for i in range(400):
            key = (t, i)
            cache.put(key, np.full(2048, t * 1000 + i, np.float32))
            value = cache.get(key)
            if value is not None:
                kept += 1
                if value[0] != t * 1000 + i or value.flags.writeable:
                    wrong.append(f"{key}: {value[0]}")
        return kept

    with ThreadPoolExecutor(8) as pool:
        kept = sum(pool.map(worker, range(8)))
    stats = cache.stats()
    assert wrong == []
    assert stats["hits"] == kept and stats["hits"] + stats["misses"] == 3200
    assert stats["entries"] <= 8 and stats["bytes"] == stats["entries"] * 2048 * 4


def test_threads_sharing_a_small_cache_lose_no_result(
    models_dir: Path, fast_switches: None
) -> None:
    # Raw pixels at the smallest input: real network runs, cheap enough for hundreds.
    cache = FeatureCache(max_bytes=2 * 2048 * 4)
    clf = Classifier("none", models_dir=models_dir, device="cpu", cache=cache, size=71)
    rng = np.random.default_rng(0)
    per_thread = [[rng.random((71, 71, 3), dtype=np.float32) for _ in range(12)] for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(clf.features, per_thread))
    lost = [r for batch in results for r in batch if isinstance(r, XceptionMayaError)]
    assert lost == []
    # And each answer is its own image's: the same pixels alone give the same features.
    alone = Classifier("none", models_dir=models_dir, device="cpu", cache=FeatureCache(0), size=71)
    for batch, pixels in ((results[0], per_thread[0]), (results[3], per_thread[3])):
        expected = alone.features(pixels[:3])
        for got, want in zip(batch[:3], expected, strict=True):
            assert isinstance(got, np.ndarray) and isinstance(want, np.ndarray)
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_decoding_on_threads_leaves_the_warning_filters_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_switches: None
) -> None:
    paths = []
    for i in range(24):
        path = tmp_path / f"{i}.png"
        Image.new("RGB", (40, 30), (i * 10, 0, 0)).save(path)
        paths.append(path)
    # 1200 pixels > 1000: every open is one Pillow would warn about (but not refuse)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    filters_before = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inner_before = list(warnings.filters)
        with ThreadPoolExecutor(8) as pool:
            decoded = list(pool.map(images.load_image, paths * 4))
        inner_after = list(warnings.filters)
    assert [str(w.message) for w in caught] == []
    assert inner_after == inner_before
    assert list(warnings.filters) == filters_before
    assert all(image.shape == (30, 40, 3) for image in decoded)


def test_no_decoding_thread_outlives_a_call(
    models_dir: Path, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    def decoders() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("xception-decode")]

    clf = Classifier("none", models_dir=models_dir, device="cpu", cache=FeatureCache(0))
    clf.batch_size = 2
    assert all(isinstance(f, np.ndarray) for f in clf.features(samples[:5]))
    assert decoders() == []

    def broken(batch: np.ndarray) -> np.ndarray:
        raise RuntimeError("the runtime failed")

    monkeypatch.setattr(clf.engine, "features", broken)
    with pytest.raises(RuntimeError):
        clf.features(samples[:9])
    assert decoders() == []
