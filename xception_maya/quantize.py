"""The int8 backbone: a statically quantized copy of the fp32 model (QDQ, per-channel).

Calibration photos are scikit-image's bundled sample photos (they ship inside its wheel, so
nothing is downloaded): portraits, animals, objects, textures, scientific images, none of
them the kitchenware samples, which stay the held-out set the result is judged on. A
studio can calibrate on its own textures instead (``setup --int8 --calibration DIR``).

The settings (:data:`CHOSEN`) come from ``benchmarks/bench_quantize.py``: min-max ranges keep
every top-1 label but not the features (cosine 0.71), percentile ranges do better, and the
rest of the error comes from a few places that stay in float: the stem (it sees the pixels),
the convolutions that write into the residual stream (their 8-bit outputs add up over the 8
middle blocks), and six layers of the entry and exit flows found one at a time. Those float
layers are why int8 runs barely faster than fp32. Quantizing only the convolutions' inputs runs
every convolution in int8 on OpenVINO (2-4x fp32) but misses the bound (cosine 0.97), and so
does quantizing only the 1x1 convolutions (0.985): the activations' 8-bit grid costs it, even
with ranges taken from the held-out photos; the weights' rounding alone keeps 0.995.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import fsio, images
from .errors import ModelError
from .fsio import atomic_file
from .heads import Head
from .manifest import Manifest, content_name, sha256_of, transaction

INT8_FILE = "xception_backbone.int8.onnx"
# The kitchenware head's input (150 nearest) and the no-head one (299 bilinear): the two
# inputs the product runs, so both are calibrated and both are checked.
SIZES: tuple[tuple[int, str], ...] = ((150, "nearest"), (299, "bilinear"))
# The accuracy bound on the held-out photos: every top-1 label kept, features this close.
MIN_COSINE = 0.99
# scikit-image's colour and grey photos (skimage/data/*), no synthetic test patterns.
SKIMAGE_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "ihc.png",
    "brick.png",
    "grass.png",
    "gravel.png",
    "camera.png",
    "coins.png",
    "moon.png",
)


_PHOTO_EXT = (".jpg", ".jpeg", ".png", ".tif", ".tiff")


# Kept in float beyond the two rules below: the layers whose quantization alone cost the
# most feature cosine in the sweep of benchmarks/bench_quantize.py (one layer at a time).
SENSITIVE = [
    "block2_sepconv1_depthwise",
    "block13_sepconv2_depthwise",
    "block14_sepconv1_depthwise",
    "block14_sepconv2_depthwise",
    "block14_sepconv1",
    "block14_sepconv2",
]


@dataclass
class Settings:
    """How the int8 model is made; recorded in the manifest with the result."""

    method: str = "percentile"  # minmax, entropy or percentile (onnxruntime's calibrators)
    percentile: float = 99.999
    per_channel: bool = True
    reduce_range: bool = False  # 7-bit weights: only for CPUs without VNNI
    symmetric_activations: bool = False
    op_types: list[str] | None = None  # the op types quantized (None: all onnxruntime can)
    conv_outputs: bool = True  # quantize convolutions' outputs too, not only their inputs
    keep_stem: bool = False  # block1's two convolutions, which see the pixels
    keep_residual_writers: bool = False  # convolutions whose output joins a residual Add
    # Convolutions that read a residual Add: their quantized input is shared with the next
    # block's ReLU, so the residual stream itself would be rounded to 8 bits.
    keep_residual_readers: bool = False
    skip_depthwise: bool = False  # every depthwise convolution
    keep_shortcuts: bool = False  # the strided 1x1 convolutions of the residual shortcuts
    exclude: list[str] = field(default_factory=list)  # more node names kept in float


# What setup --int8 builds: the only setting of the sweep that kept min cosine >= 0.99.
CHOSEN = Settings(
    op_types=["Conv"], keep_stem=True, keep_residual_writers=True, exclude=list(SENSITIVE)
)


def skimage_photos() -> list[Path]:
    """The calibration photos that ship with scikit-image."""
    try:
        import skimage
    except ImportError:
        raise ModelError(
            "calibrating the int8 model needs scikit-image's sample photos: pip install "
            "scikit-image, or give your own photos with --calibration DIR"
        ) from None
    folder = Path(skimage.__file__).parent / "data"
    found = [folder / name for name in SKIMAGE_PHOTOS if (folder / name).is_file()]
    if len(found) < 8:
        raise ModelError(f"scikit-image's sample photos are missing from {folder}")
    return found


def calibration_inputs(photos: Sequence[Path]) -> list[np.ndarray]:
    """Each photo preprocessed at each of SIZES, one (1, 3, S, S) array per run, grouped by
    size (the histogram calibrators take one shape at a time)."""
    pixels = [images.load_image(p) for p in photos]
    return [images.preprocess(p, s, r)[None] for s, r in SIZES for p in pixels]


def _nodes_to_exclude(model_path: Path, settings: Settings) -> list[str]:
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    readers: dict[str, list[Any]] = {}
    producers = {out: node for node in graph.node for out in node.output}
    kernels = {w.name: list(w.dims[2:]) for w in graph.initializer}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    def joins_residual(tensor: str) -> bool:
        # Xception's residual Adds, reached directly or through the block's MaxPool.
        return any(
            r.op_type == "Add" or (r.op_type == "MaxPool" and joins_residual(r.output[0]))
            for r in readers.get(tensor, [])
        )

    names = list(settings.exclude)
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        group = next((a.i for a in node.attribute if a.name == "group"), 1)
        strides = next((list(a.ints) for a in node.attribute if a.name == "strides"), [1])
        shortcut = kernels.get(node.input[1]) == [1, 1] and max(strides) > 1
        if (
            (settings.skip_depthwise and group > 1)
            or (settings.keep_shortcuts and shortcut)
            or (settings.keep_stem and node.name.startswith("block1_"))
            or (settings.keep_residual_writers and joins_residual(node.output[0]))
            or (settings.keep_residual_readers and _op(producers.get(node.input[0])) == "Add")
        ):
            names.append(node.name)
    return names


def _op(node: Any) -> str | None:
    return None if node is None else str(node.op_type)


def build_int8(
    fp32_path: str | Path,
    out_path: str | Path,
    calibration_images: Sequence[Path],
    settings: Settings | None = None,
    *,
    ranges_cache: Path | None = None,
) -> dict[str, Any]:
    """Quantize ``fp32_path`` into ``out_path`` (atomically) and return its manifest entry:
    ``{"file", "sha256", "calibration": {...}}`` (``file`` is the name only).

    ``ranges_cache``: a JSON file of calibrated ranges to reuse (the benchmark's grid)."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    settings = settings or Settings()
    fp32_path, out_path = Path(fp32_path), Path(out_path)
    methods = {
        "minmax": CalibrationMethod.MinMax,
        "entropy": CalibrationMethod.Entropy,
        "percentile": CalibrationMethod.Percentile,
    }
    if settings.method not in methods:
        raise ModelError(f"calibration method {settings.method!r}: use {', '.join(methods)}")
    if not calibration_images:
        raise ModelError("no calibration photos")
    inputs = calibration_inputs(calibration_images)

    class Reader(CalibrationDataReader):  # type: ignore[misc]  # untyped base class
        def __init__(self) -> None:
            self.set_range(0, len(inputs))

        def __len__(self) -> int:
            return len(inputs)

        def set_range(self, start_index: int, end_index: int) -> None:
            self._it: Iterator[np.ndarray] = iter(inputs[start_index:end_index])

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self._it, None)
            return None if x is None else {"images": x}

    extra: dict[str, Any] = {
        "ActivationSymmetric": settings.symmetric_activations,
        "CalibStridedMinMax": len(calibration_images),  # one size per pass, ranges merged
    }
    if not settings.conv_outputs:
        extra["OpTypesToExcludeOutputQuantization"] = ["Conv"]
    if settings.method == "percentile":
        extra["CalibPercentile"] = settings.percentile
    with tempfile.TemporaryDirectory(prefix="xception-int8-") as tmp:
        quantized = Path(tmp) / "int8.onnx"
        quantize_static(
            str(fp32_path),
            str(quantized),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=settings.per_channel,
            reduce_range=settings.reduce_range,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            op_types_to_quantize=settings.op_types,
            nodes_to_exclude=_nodes_to_exclude(fp32_path, settings),
            calibrate_method=methods[settings.method],
            extra_options=extra,
            calibration_cache_path=ranges_cache,
        )
        with open(quantized, "rb") as src, atomic_file(out_path) as dst:
            shutil.copyfileobj(src, dst)
    return {
        "file": out_path.name,
        "sha256": sha256_of(out_path),
        "fp32_sha256": sha256_of(fp32_path),
        "calibration": {
            **asdict(settings),
            "photos": [p.name for p in calibration_images],
            "sizes": [f"{s} {r}" for s, r in SIZES],
        },
    }


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (N, D) arrays."""
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    return np.asarray((a * b).sum(axis=1) / np.maximum(na * nb, 1e-12))


def held_out_inputs(photos: Sequence[Path]) -> dict[tuple[int, str], np.ndarray]:
    """The held-out photos as one (N, 3, S, S) batch per entry of SIZES."""
    pixels = [images.load_image(p) for p in photos]
    return {(s, r): images.preprocess_batch(pixels, s, r) for s, r in SIZES}


def accuracy_bound(
    reference: Callable[[np.ndarray], np.ndarray],
    candidate: Callable[[np.ndarray], np.ndarray],
    inputs: dict[tuple[int, str], np.ndarray],
    head: Head | None,
    head_size: tuple[int, str] = SIZES[0],
) -> dict[str, Any]:
    """How far ``candidate``'s features are from ``reference``'s on the same inputs: the
    minimum cosine at each size, and (with a head, at its input) the top-1 labels changed."""
    result: dict[str, Any] = {"images": 0, "min_cosine": {}, "top1_changed": None}
    worst = 1.0
    for (size, resize), batch in inputs.items():
        ref = np.concatenate([reference(batch[i : i + 1]) for i in range(len(batch))])
        new = np.concatenate([candidate(batch[i : i + 1]) for i in range(len(batch))])
        cos = float(cosines(ref, new).min())
        result["min_cosine"][f"{size} {resize}"] = round(cos, 5)
        result["images"] = len(batch)
        worst = min(worst, cos)
        if head is not None and (size, resize) == head_size:
            changed = np.argmax(head.scores(ref), 1) != np.argmax(head.scores(new), 1)
            result["top1_changed"] = int(changed.sum())
    result["holds"] = worst >= MIN_COSINE and not result["top1_changed"]
    return result


def install_int8(
    models_dir: Path, calibration: Path | None = None, *, force: bool = False
) -> dict[str, Any]:
    """Build the int8 backbone beside the fp32 one, check its accuracy bound on the held-out
    photos (``models/samples`` with the default head) and list both in the manifest.
    Idempotent: an entry built from the current fp32 model whose file matches is kept."""
    from .engine import onnxruntime_session
    from .precision import int8_variant, set_int8_variant

    with transaction(models_dir):
        manifest = Manifest.load(models_dir)
        current = int8_variant(manifest)
        if (
            not force
            and current is not None
            and current.get("fp32_sha256") == manifest.backbone.sha256
            and (models_dir / str(current["file"])).is_file()
            and sha256_of(models_dir / str(current["file"])) == current.get("sha256")
        ):
            print(f"int8 backbone up to date in {models_dir}")
            return current
        if calibration is None:
            photos = skimage_photos()
        else:
            photos = [p for p in sorted(calibration.iterdir()) if p.suffix.lower() in _PHOTO_EXT]
            if not photos:
                raise ModelError(
                    f"no calibration photos ({', '.join(_PHOTO_EXT)}) in {calibration}"
                )
        print(
            f"quantizing {manifest.backbone_path.name} to int8, calibrated on "
            f"{len(photos)} photos ...",
            flush=True,
        )
        # Built under a temporary name, then given its sha256 in its name: the manifest's
        # current int8 file is never overwritten, so a kill leaves the old set or the new one.
        staging = fsio.temp_path(models_dir / INT8_FILE)
        entry = build_int8(manifest.backbone_path, staging, photos, CHOSEN)
        built = models_dir / content_name(INT8_FILE.removesuffix(".onnx"), ".onnx", entry["sha256"])
        fsio.replace(staging, built)
        entry["file"] = built.name
        held_out = sorted((models_dir / "samples").glob("*.jpg"))
        head = (
            Head.load(manifest.head_path(manifest.default_head)) if manifest.default_head else None
        )
        if held_out:
            cpu_only = ["CPUExecutionProvider"]
            ref, new = (onnxruntime_session(p, cpu_only) for p in (manifest.backbone_path, built))
            entry["bound"] = accuracy_bound(
                lambda x: np.asarray(ref.run(["features"], {"images": x})[0]),
                lambda x: np.asarray(new.run(["features"], {"images": x})[0]),
                held_out_inputs(held_out),
                head,
                (head.input_size, head.resize) if head else SIZES[0],
            )
            entry["bound"]["photos"] = "models/samples (held out)"
        else:
            entry["bound"] = {"holds": False, "reason": "no held-out photos in models/samples"}
        set_int8_variant(manifest, entry)
        manifest.save()  # the commit point
    bound = entry["bound"]
    print(
        f"wrote {entry['file']}: min feature cosine {bound.get('min_cosine')}, top-1 changed "
        f"{bound.get('top1_changed')} of {bound.get('images')}: bound "
        f"{'holds' if bound['holds'] else 'does NOT hold (auto keeps fp32)'}"
    )
    return entry
