"""The pipeline every front end uses: images -> features (cached) -> head -> top labels.

The CLI, the Maya node and the Maya commands all call ``Classifier``; none of them touches
onnxruntime or Pillow directly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Hashable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import budget, images
from .cache import FeatureCache
from .engine import Engine, get_engine
from .errors import XceptionMayaError
from .heads import top_k_rows
from .manifest import Manifest
from .preprocessing import Preprocessing, check_size
from .registry import resolve_head
from .unknown import is_known, shown_label

Source = str | os.PathLike[str] | np.ndarray  # a file, or (H, W, 3) display pixels in [0, 1]
Progress = Callable[[int, int], None]  # (done, total)
ColorSpaces = str | None | Sequence[str | None]  # one for all sources, or one per source

NO_HEAD_SIZE = 299
NO_HEAD_RESIZE = "bilinear"
shared_cache = FeatureCache()  # one per process: every node and command shares it


@dataclass
class Prediction:
    image: str
    labels: list[str]
    scores: list[float]
    indices: list[int]
    class_scores: np.ndarray | None = None  # one score per class of the head
    features: np.ndarray | None = None
    error: str | None = None
    # Nothing the head knows fits (its labels and scores stay as they are). The confidence,
    # in [0, 1], is None when the head cannot say unknown (a head file from before it).
    unknown: bool = False
    confidence: float | None = None

    @property
    def shown_label(self) -> str | None:
        """The top label to show: "unknown" where nothing fits (see unknown.shown_label)."""
        return shown_label(self.labels, self.unknown)

    def record(self, with_features: bool = False) -> dict[str, Any]:
        """The JSON record the CLI prints."""
        out: dict[str, Any] = {
            "image": self.image,
            "labels": self.labels,
            "scores": [round(s, 6) for s in self.scores],
            "indices": self.indices,
            "unknown": self.unknown,
            "confidence": None if self.confidence is None else round(self.confidence, 6),
        }
        if with_features:
            out["features"] = None if self.features is None else self.features.tolist()
        out["error"] = self.error
        return out


def top_k(scores: np.ndarray, k: int) -> list[int]:
    """One row's ``k`` best class indices (at least 1), best first, ties in class order."""
    k = max(1, min(int(k), scores.shape[-1]))
    return [int(i) for i in top_k_rows(np.asarray(scores)[None], k)[0]]


class Pipeline:
    """A model's run through :func:`run_batched`: what :class:`Classifier` and
    :class:`~xception_maya.imported.ImportedClassifier` share. They give ``cache_key``,
    ``_prepare`` and ``_run``; out of memory is handled by the pipeline, not by them."""

    cache: FeatureCache
    batch_size: int

    def cache_key(self, source: Source, color_space: str | None = None) -> Hashable:
        raise NotImplementedError

    def _prepare(self, source: Source, color_space: str | None) -> np.ndarray:
        raise NotImplementedError

    def _run(self, sources: Sequence[Source], batch: Batch) -> list[np.ndarray | XceptionMayaError]:
        raise NotImplementedError

    def _outputs(
        self, sources: Sequence[Source], color_space: ColorSpaces, progress: Progress | None
    ) -> list[np.ndarray | XceptionMayaError]:
        return run_batched(
            sources,
            _per_source(color_space, len(sources)),
            key=self.cache_key,
            prepare=self._prepare,
            run=self._run,
            cache=self.cache,
            batch_size=self.batch_size,
            progress=progress,
        )


class Classifier(Pipeline):
    def __init__(
        self,
        head: str | os.PathLike[str] | None = None,
        *,
        device: str = "auto",
        models_dir: str | os.PathLike[str] | None = None,
        size: int | None = None,
        resize: str | None = None,
        cache: FeatureCache | None = None,
        batch_size: int = 8,
        user_heads: str | os.PathLike[str] | None = None,
        precision: str = "fp32",
    ) -> None:
        """``head``: see :mod:`xception_maya.registry`; ``user_heads``: the folder of heads
        learned in Maya, found by name."""
        self.manifest = Manifest.load(models_dir)
        self.head = resolve_head(
            head, self.manifest, user_heads=Path(user_heads) if user_heads else None
        )
        # The size is checked before anything large exists: a head or --size asking for
        # 20000 px would otherwise cost gigabytes in the network, per image.
        self.preprocessing = Preprocessing(
            check_size(size, "--size")
            if size is not None
            else (self.head.input_size if self.head else NO_HEAD_SIZE),
            resize or (self.head.resize if self.head else NO_HEAD_RESIZE),
        )
        self.size = self.preprocessing.size
        self.resize = self.preprocessing.resize
        self.engine: Engine = get_engine(self.manifest.verified_backbone(), device, precision)
        self.cache = shared_cache if cache is None else cache
        self.batch_size = max(1, batch_size)

    @property
    def labels(self) -> list[str]:
        return self.head.labels if self.head else []

    def cache_key(self, source: Source, color_space: str | None = None) -> Hashable:
        """Image content + model + preprocessing: equal keys give equal features."""
        return (
            images.source_key(source),
            self.manifest.backbone.sha256,
            self.engine.key,  # precision and runtime: their features never mix with fp32's
            self.preprocessing.key,
            color_space,
        )

    def _prepare(self, source: Source, color_space: str | None) -> np.ndarray:
        """The network input of one source."""
        if isinstance(source, np.ndarray):
            return images.preprocess(source, self.size, self.resize)
        return images.load_for_network(source, color_space, self.preprocessing)

    def features(
        self,
        sources: Sequence[Source],
        color_space: ColorSpaces = None,
        progress: Progress | None = None,
    ) -> list[np.ndarray | XceptionMayaError]:
        """Features of each source, or the error that stopped it. Cached images are not
        decoded; the others are decoded on worker threads while the network runs."""
        return self._outputs(sources, color_space, progress)

    def _run(self, sources: Sequence[Source], batch: Batch) -> list[np.ndarray | XceptionMayaError]:
        """Features of a prepared batch."""
        feats = self.engine.features(np.stack([x for _, x in batch]))
        return [np.array(f, dtype=np.float32) for f in feats]

    def predict(self, features: np.ndarray, k: int = 5, image: str = "<features>") -> Prediction:
        """Top-k labels, scores and indices of one feature vector, every class score, and
        whether it fits any class at all."""
        if self.head is None:
            return Prediction(image, [], [], [], features=features)
        all_scores, confidences = self.head.scores_and_confidence(features)
        scores = all_scores[0]
        idx = top_k(scores, k)
        confidence = None if confidences is None else float(confidences[0])
        return Prediction(
            image,
            [self.head.labels[i] for i in idx],
            [float(scores[i]) for i in idx],
            idx,
            scores,
            features,
            unknown=not is_known(confidence),
            confidence=confidence,
        )

    def classify(
        self,
        sources: Sequence[Source],
        top_k: int = 5,
        color_space: ColorSpaces = None,
        progress: Progress | None = None,
    ) -> list[Prediction]:
        out = []
        feats = self.features(sources, color_space, progress)
        for source, f in zip(sources, feats, strict=True):
            name = _name(source)
            if isinstance(f, XceptionMayaError):
                out.append(Prediction(name, [], [], [], error=str(f)))
                continue
            out.append(self.predict(f, top_k, image=name))
        return out


def _name(source: Source) -> str:
    return "<pixels>" if isinstance(source, np.ndarray) else os.fspath(source)


# What a model gives the pipeline: a source's cache key, its network input, a batch's outputs.
Key = Callable[[Source, str | None], Hashable]
Prepare = Callable[[Source, str | None], np.ndarray]
Batch = list[tuple[int, np.ndarray]]  # (source position, network input)
Run = Callable[[Sequence[Source], Batch], list[np.ndarray | XceptionMayaError]]


def run_batched(
    sources: Sequence[Source],
    spaces: list[str | None],
    *,
    key: Key,
    prepare: Prepare,
    run: Run,
    cache: FeatureCache,
    batch_size: int,
    progress: Progress | None = None,
) -> list[np.ndarray | XceptionMayaError]:
    """The one pipeline of every model: cache lookup by ``key``, ``prepare`` on decoding
    threads, ``run`` on batches of ``batch_size``; each source's vector or its error."""
    results: list[np.ndarray | XceptionMayaError | None] = [None] * len(sources)
    keys: list[Hashable | None] = [None] * len(sources)
    todo: list[int] = []
    for i, source in enumerate(sources):
        try:
            keys[i] = key(source, spaces[i])
        except XceptionMayaError as exc:
            results[i] = exc
            continue
        cached = cache.get(keys[i])
        if cached is None:
            todo.append(i)
        else:
            results[i] = cached
    done = len(sources) - len(todo)
    if progress:
        progress(done, len(sources))

    batch: list[tuple[int, np.ndarray]] = []

    def run_fitting(part: Batch) -> list[np.ndarray | XceptionMayaError]:
        # Out of memory, a batch is retried image by image: only an image that does not
        # fit alone fails.
        try:
            return run(sources, part)
        except MemoryError:
            if len(part) == 1:
                return [budget.not_enough_memory(_name(sources[part[0][0]]), "run the network")]
        return [r for item in part for r in run_fitting([item])]

    def flush() -> None:
        nonlocal done
        if not batch:
            return
        for (i, _), f in zip(batch, run_fitting(batch), strict=True):
            # The computed vector is the answer; the cache only remembers it (it may be too
            # small to keep it, or another thread may evict it at once).
            results[i] = f
            if not isinstance(f, XceptionMayaError):
                cache.put(keys[i], f)
        done += len(batch)
        batch.clear()
        if progress:
            progress(done, len(sources))

    prepared_sources = _prefetch(sources, todo, spaces, prepare, batch_size)
    try:
        for i, prepared in prepared_sources:
            if isinstance(prepared, XceptionMayaError):
                results[i] = prepared
                done += 1
                continue
            batch.append((i, prepared))
            if len(batch) == batch_size:
                flush()
        flush()
    finally:
        prepared_sources.close()  # stops the decoding threads now, even on an error
    return [r if r is not None else XceptionMayaError("not processed") for r in results]


def _prefetch(
    sources: Sequence[Source],
    todo: list[int],
    spaces: list[str | None],
    prepare_one: Prepare,
    batch_size: int,
) -> Generator[tuple[int, np.ndarray | XceptionMayaError], None, None]:
    """Decode ahead on threads (Pillow releases the GIL), at most two batches in memory."""

    def prepare(i: int) -> np.ndarray | XceptionMayaError:
        try:
            return prepare_one(sources[i], spaces[i])
        except XceptionMayaError as exc:
            return exc
        except MemoryError:  # raised again while building the error: still this image's
            return budget.not_enough_memory(_name(sources[i]), "prepare it")

    if len(todo) <= 1:
        for i in todo:
            yield i, prepare(i)
        return
    window = 2 * batch_size
    workers = min(4, os.cpu_count() or 1)
    pool = ThreadPoolExecutor(workers, thread_name_prefix="xception-decode")
    try:
        pending: list[tuple[int, Future[np.ndarray | XceptionMayaError]]] = []
        queue = iter(todo)
        for i in queue:
            pending.append((i, pool.submit(prepare, i)))
            if len(pending) >= window:
                break
        while pending:
            i, future = pending.pop(0)
            nxt = next(queue, None)
            if nxt is not None:
                pending.append((nxt, pool.submit(prepare, nxt)))
            yield i, future.result()
    finally:
        # Closed early (an error downstream): drop what has not started, wait for the
        # rest, so no thread outlives the call.
        pool.shutdown(wait=True, cancel_futures=True)


def _per_source(color_space: ColorSpaces, count: int) -> list[str | None]:
    if color_space is None or isinstance(color_space, str):
        return [color_space] * count
    spaces = list(color_space)
    if len(spaces) != count:
        raise ValueError(f"{len(spaces)} colour spaces for {count} images")
    return spaces
