"""How well heads say "unknown": the curve of kept kitchen photos against unknown others.

    .venv/bin/python benchmarks/bench_unknown.py [--crops 10] [--models models]

In distribution: the 18 kitchenware sample photos, each held out (its model is fitted on
the other 17: references, spreads and threshold; xception_maya/unknown.py). A photo is kept
when it is known and its top label is its label (labels.json, else the head's own top 1).
Out of distribution: scikit-image's sample photos and textures that ship in its wheel (no
download), plus ``--crops`` seeded random crops of each; ``coffee`` is a cup on a saucer,
so it is reported on its own, not counted as non-kitchen.

Prints, for the kitchenware head (kNN + energy) and for a head learned from the 18 photos
(kNN alone, as every learned head): kept and unknown rates as the threshold moves around
the chosen one (margin 0.25 below the 5% quantile of held-out scores, in z units), then the
non-kitchen images still taken for kitchenware at the chosen threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xception_maya import cpu, default_model, unknown  # noqa: E402
from xception_maya.classifier import Classifier  # noqa: E402
from xception_maya.errors import XceptionMayaError  # noqa: E402
from xception_maya.heads import Head  # noqa: E402
from xception_maya.learn import train_head  # noqa: E402
from xception_maya.manifest import Manifest, default_models_dir  # noqa: E402

# scikit-image's images in its wheel (skimage/data/*.png|jpg): no download. "cat" is chelsea.
SKIMAGE_IMAGES = (
    "astronaut",
    "brick",
    "camera",
    "cell",
    "chelsea",
    "checkerboard",
    "clock",
    "coins",
    "colorwheel",
    "grass",
    "gravel",
    "horse",
    "hubble_deep_field",
    "immunohistochemistry",
    "logo",
    "microaneurysms",
    "moon",
    "page",
    "retina",
    "rocket",
    "text",
    "shepp_logan_phantom",
)
KITCHEN_LOOKALIKE = "coffee"  # a cup: neither kitchen reference nor non-kitchen
MARGINS = (-0.5, -0.25, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)


def cpu_line() -> str:
    return cpu.benchmark_line().removeprefix("CPU: ")


def skimage_image(name: str) -> np.ndarray:
    """One of scikit-image's sample images as (H, W, 3) float32 display RGB in [0, 1]."""
    import skimage.data

    a = np.asarray(getattr(skimage.data, name)())
    if a.dtype == np.uint8:
        x = a.astype(np.float32) / 255
    else:  # bool or float images: stretch to [0, 1]
        x = a.astype(np.float32)
        x = (x - x.min()) / max(float(x.max() - x.min()), 1e-9)
    if x.ndim == 2:
        x = np.stack([x] * 3, axis=-1)
    return np.ascontiguousarray(x[..., :3])


def random_crops(image: np.ndarray, count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Square crops of 30-80% of the short side (at least 75 px), anywhere in the image."""
    h, w = image.shape[:2]
    out = []
    for _ in range(count):
        side = min(max(int(rng.uniform(0.3, 0.8) * min(h, w)), 75), h, w)
        y, x = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        out.append(np.ascontiguousarray(image[y : y + side, x : x + side]))
    return out


def non_kitchen(crops: int, seed: int = 0) -> tuple[list[str], list[np.ndarray]]:
    """Names and pixels: every image of SKIMAGE_IMAGES whole, then ``crops`` crops of each."""
    rng = np.random.default_rng(seed)
    names, pixels = [], []
    wholes = [(name, skimage_image(name)) for name in SKIMAGE_IMAGES]
    for name, image in wholes:
        names.append(name)
        pixels.append(image)
    for name, image in wholes:
        for i, crop in enumerate(random_crops(image, crops, rng)):
            names.append(f"{name} crop {i}")
            pixels.append(crop)
    return names, pixels


def features_of(classifier: Classifier, sources: Sequence[Path | np.ndarray]) -> np.ndarray:
    rows = []
    for result in classifier.features(list(sources)):
        if isinstance(result, XceptionMayaError):
            raise SystemExit(f"bench_unknown: {result}")
        rows.append(result)
    return np.stack(rows).astype(np.float64)


@dataclass
class Data:
    head: Head  # the kitchenware head as converted (its novelty model is refitted here)
    kitchen: np.ndarray  # (18, 2048)
    kitchen_labels: list[str]
    other_names: list[str]
    other: np.ndarray
    lookalike: np.ndarray  # (1, 2048): coffee


def load(models: Path, crops: int) -> Data:
    manifest = Manifest.load(models)
    head = Head.load(manifest.verified_head(default_model.HEAD_NAME))
    classifier = Classifier(
        "none", models_dir=models, size=default_model.INPUT_SIZE, resize=default_model.RESIZE
    )
    photos = sorted((models / "samples").glob("*.jpg"))
    labelled = json.loads((models / "samples" / default_model.SAMPLE_LABELS).read_text())
    kitchen = features_of(classifier, photos)
    top = [head.labels[i] for i in head.scores(kitchen).argmax(axis=1)]
    labels = [labelled.get(p.name, t) for p, t in zip(photos, top, strict=True)]
    names, pixels = non_kitchen(crops)
    other = features_of(classifier, pixels)
    lookalike = features_of(classifier, [skimage_image(KITCHEN_LOOKALIKE)])
    return Data(head, kitchen, labels, names, other, lookalike)


@dataclass
class Curve:
    """Scores relative to the threshold fitted with margin 0: known at margin m if >= -m."""

    kitchen: np.ndarray  # held out, each against its own model
    right_label: np.ndarray  # the held-out photo's top label is its label
    other: np.ndarray
    lookalike: float

    def known(self, margin: float) -> float:
        return float(np.mean(self.kitchen >= -margin))

    def kept(self, margin: float) -> float:
        return float(np.mean((self.kitchen >= -margin) & self.right_label))

    def unknown(self, margin: float, rows: slice = slice(None)) -> float:
        return float(np.mean(self.other[rows] < -margin))


def curve(data: Data, *, with_energy: bool) -> Curve:
    """Held-out kitchen scores and non-kitchen scores, each minus its threshold at margin 0.
    ``with_energy``: the kitchenware head's logits as the second signal; otherwise a head is
    learned from the photos (their labels as tags) and judged by kNN alone, as learn does."""
    held_out = []
    right = []
    n = len(data.kitchen)
    for i in range(n):
        rest = np.arange(n) != i
        head = data.head if with_energy else learned(data.kitchen[rest], data.kitchen_labels, rest)
        novelty = fit(head, data.kitchen[rest], with_energy)
        x = data.kitchen[i : i + 1]
        held_out.append(float(novelty.score(x, head.logits(x))[0] - novelty.threshold))
        right.append(head.labels[int(head.scores(x).argmax())] == data.kitchen_labels[i])
    head = data.head if with_energy else learned(data.kitchen, data.kitchen_labels, None)
    novelty = fit(head, data.kitchen, with_energy)

    def relative(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = novelty.score(x, head.logits(x)) - novelty.threshold
        return out

    return Curve(
        np.array(held_out),
        np.array(right),
        relative(data.other),
        float(relative(data.lookalike)[0]),
    )


def learned(x: np.ndarray, labels: list[str], rows: np.ndarray | None) -> Head:
    tags = labels if rows is None else [t for t, r in zip(labels, rows, strict=True) if r]
    return train_head(x, tags, name="bench", input_size=150, resize="nearest", holdout=False)


def fit(head: Head, x: np.ndarray, with_energy: bool) -> unknown.Novelty:
    return unknown.fit(x, logits=head.logits(x) if with_energy else None, margin=0.0)


def print_curve(title: str, c: Curve, wholes: int) -> None:
    print(title)
    header = (
        f"{'margin':>6} | {'kitchen known':>13} | {'kept':>6} | {'non-kitchen unknown':>19} | "
        f"{'whole':>6} | {'crops':>6} | coffee"
    )
    print(header)
    print("-" * len(header))
    for m in MARGINS:
        mark = "  <- chosen" if m == unknown.MARGIN else ""
        coffee = "known" if c.lookalike >= -m else "unknown"
        print(
            f"{m:>6.2f} | {c.known(m):>13.1%} | {c.kept(m):>6.1%} | {c.unknown(m):>19.1%} | "
            f"{c.unknown(m, slice(0, wholes)):>6.1%} | {c.unknown(m, slice(wholes, None)):>6.1%} |"
            f" {coffee}{mark}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--crops", type=int, default=10, help="random crops per image")
    parser.add_argument("--models", type=Path, default=default_models_dir())
    args = parser.parse_args(argv)
    print(f"CPU: {cpu_line()}")
    data = load(args.models, args.crops)
    wholes = len(SKIMAGE_IMAGES)
    print(
        f"{len(data.kitchen)} kitchen sample photos (held out) against {len(data.other)} "
        f"non-kitchen images: {wholes} of scikit-image's whole, {len(data.other) - wholes} crops. "
        f"margin: how far below the 5% quantile of held-out scores the threshold is (z units)"
    )
    kitchenware = curve(data, with_energy=True)
    print_curve("\nkitchenware head (kNN cosine k=3 + energy)", kitchenware, wholes)
    print_curve(
        "\na head learned from the 18 photos (kNN cosine k=3 alone)",
        curve(data, with_energy=False),
        wholes,
    )
    taken = [
        n for n, s in zip(data.other_names, kitchenware.other, strict=True) if s >= -unknown.MARGIN
    ]
    print(f"\nkitchenware head, chosen threshold: non-kitchen images known: {', '.join(taken)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
