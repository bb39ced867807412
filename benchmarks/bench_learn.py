"""How long `learn` takes: training a head on synthetic 2048-d features, and extracting the
features of the example photos (the part of `learn` that runs the network).

    .venv/bin/python benchmarks/bench_learn.py
    python benchmarks/bench_learn.py --device cuda --repeats 5

Prints two tables: seconds to train for (examples, tags) = (100, 2), (1000, 10), (3000, 50),
without and with the held-out estimate (which trains once more per fold), and that estimate
to show how hard the synthetic tags are; then the median milliseconds per photo to extract
features at `learn`'s default 299x299 bilinear.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from xception_maya.cache import FeatureCache
from xception_maya.classifier import NO_HEAD_RESIZE, NO_HEAD_SIZE, Classifier
from xception_maya.heads import Head
from xception_maya.learn import FEATURES, train_head
from xception_maya.manifest import default_models_dir

SIZES = ((100, 2), (1000, 10), (3000, 50))


def synthetic(examples: int, tags: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Non-negative features (like pooled ReLUs) around one mean per tag. The means differ
    little from a shared one so the tags overlap, as real ones do (far-apart means would be
    learned in a few steps and flatter the timings)."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, size=FEATURES) + rng.normal(0, 0.05, size=(tags, FEATURES))
    labels = np.arange(examples) % tags
    features = np.maximum(centres[labels] + rng.normal(0, 0.5, (examples, FEATURES)), 0)
    return features.astype(np.float32), [f"tag{i}" for i in labels]


def seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", type=Path, default=default_models_dir())
    args = parser.parse_args()

    print(f"training a head: {FEATURES}-d synthetic features, {os.cpu_count()} CPUs, seconds")
    header = (
        f"{'examples':>8} | {'tags':>4} | {'train':>7} | {'+ held-out':>10} | "
        f"{'held-out accuracy':>16}"
    )
    print(header)
    print("-" * len(header))
    for examples, tags in SIZES:
        features, labels = synthetic(examples, tags)

        def train(holdout: bool, f: np.ndarray = features, y: list[str] = labels) -> Head:
            return train_head(
                f, y, name="bench", input_size=NO_HEAD_SIZE, resize=NO_HEAD_RESIZE, holdout=holdout
            )

        plain = seconds(lambda: train(False), args.repeats)
        start = time.perf_counter()
        head = train(True)
        with_holdout = time.perf_counter() - start
        scheme, accuracy = head.extra["holdout_scheme"], head.extra["holdout_accuracy"]
        print(
            f"{examples:>8} | {tags:>4} | {plain:7.2f} | {with_holdout:10.2f} | {scheme:<7}"
            f"{accuracy:>10.1%}"
        )

    photos = sorted((args.models / "samples").glob("*.jpg"))
    times = []
    for batch_size in (1, 8):
        # A fresh cache each run: every photo is decoded, resized and run.
        runs = []
        for _ in range(args.repeats):
            classifier = Classifier(
                "none",
                device=args.device,
                models_dir=args.models,
                cache=FeatureCache(),
                batch_size=batch_size,
            )
            start = time.perf_counter()
            classifier.features(photos)
            runs.append((time.perf_counter() - start) * 1000 / len(photos))
        times.append((batch_size, statistics.median(runs), classifier.engine.provider))

    print()
    print(
        f"extracting features for learn: {len(photos)} sample photos, {NO_HEAD_SIZE}x"
        f"{NO_HEAD_SIZE} {NO_HEAD_RESIZE}, median of {args.repeats} runs"
    )
    header = f"{'batch':>5} | {'ms / photo':>10} | {'photos/s':>8} | provider"
    print(header)
    print("-" * len(header))
    for batch_size, ms, provider in times:
        print(f"{batch_size:>5} | {ms:10.1f} | {1000 / ms:8.1f} | {provider}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
