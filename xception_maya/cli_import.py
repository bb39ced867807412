"""``xception-maya import`` and ``--model NAME``: ONNX image models beside the default one."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import XceptionMayaError
from .preprocessing import LAYOUTS, RESIZE_FILTERS
from .text import shown

if TYPE_CHECKING:
    from .imported import ImportedClassifier

# "-1,1" and "-0.5" are values, not options (argparse only knows plain negative numbers).
_NUMBERS = re.compile(r"^-[\d.]+(?:[,\s]+-?[\d.]+)*$")


def _numbers(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in re.split(r"[,\s]+", text.strip()) if v)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not numbers: {text!r}") from None
    if not values:
        raise argparse.ArgumentTypeError("no numbers given")
    return values


def _range(text: str) -> tuple[float, float]:
    values = _numbers(text)
    if len(values) != 2 or not values[0] < values[1]:
        raise argparse.ArgumentTypeError(f"give LOW,HIGH with LOW < HIGH, e.g. -1,1; not {text!r}")
    return values[0], values[1]


def _joined(groups: list[tuple[float, ...]] | None) -> tuple[float, ...] | None:
    return None if groups is None else tuple(v for group in groups for v in group)


def add_parser(sub: Any) -> None:
    """Add ``import`` to the CLI's sub-command parsers."""
    p = sub.add_parser(
        "import",
        help="add an ONNX image classifier to the models folder (then: --model NAME)",
        description="Check an ONNX image classifier and add it beside the default model, "
        "with its labels and preprocessing. Numbers for --mean/--std apply to pixel "
        "values in 0..1 (torchvision's convention); without them or --range the model "
        "gets 0..1.",
    )
    p._negative_number_matcher = _NUMBERS  # argparse has no public hook for "-1,1"
    p.add_argument("model", type=Path, metavar="MODEL.onnx")
    p.add_argument(
        "--labels",
        type=Path,
        required=True,
        help="class names in output order: a text file, one a line, or a JSON list",
    )
    p.add_argument("--features", metavar="OUTPUT", help="the output that gives 2-D features")
    p.add_argument(
        "--logits",
        metavar="OUTPUT",
        help="the output that gives the scores (default: the only other output)",
    )
    p.add_argument(
        "--probabilities",
        action="store_true",
        help="the scores output is already probabilities (softmax inside the model)",
    )
    p.add_argument(
        "--size",
        nargs=2,
        type=int,
        metavar=("H", "W"),
        help="input height and width (default: the model's fixed size)",
    )
    p.add_argument("--resize", choices=RESIZE_FILTERS, default="bilinear")
    p.add_argument(
        "--mean", nargs="+", type=_numbers, help="per RGB channel, e.g. 0.485 0.456 0.406"
    )
    p.add_argument(
        "--std", nargs="+", type=_numbers, help="per RGB channel, e.g. 0.229 0.224 0.225"
    )
    p.add_argument("--range", type=_range, help="map 0..1 onto LOW,HIGH, e.g. -1,1")
    p.add_argument("--layout", type=str.upper, choices=LAYOUTS, default="NCHW")
    p.add_argument("--name", help="the model's name (default: the file's name)")
    p.add_argument("--replace", action="store_true", help="replace a model of that name")
    p.add_argument("--models", type=Path, help="models folder (default: the module's models/)")


def cmd_import(args: argparse.Namespace) -> int:
    from .imported import ImportOptions, import_model, read_labels
    from .manifest import default_models_dir

    if args.range is not None and (args.mean is not None or args.std is not None):
        raise XceptionMayaError("give either --range or --mean/--std, not both")
    options = ImportOptions(
        labels=read_labels(args.labels),
        features=args.features,
        logits=args.logits,
        size=None if args.size is None else (args.size[0], args.size[1]),
        layout=args.layout,
        resize=args.resize,
        mean=_joined(args.mean),
        std=_joined(args.std),
        value_range=args.range,
        probabilities=args.probabilities,
    )
    root = args.models or default_models_dir()
    name, entry = import_model(root, args.model, options, name=args.name, replace=args.replace)
    p = entry.preprocessing
    features = f", features {entry.features!r}" if entry.features else ", no features"
    print(
        f"imported {shown(name)}: {len(entry.labels)} labels, {p.height}x{p.width} "
        f"{p.layout} {p.resize}{features}. Use it with --model {shown(name)}"
    )
    return 0


def imported_classifier(
    args: argparse.Namespace, head: str | None, size: int | None, resize: str | None
) -> ImportedClassifier | None:
    """The imported model ``--model`` names, or None for the default backbone and heads."""
    model = getattr(args, "model", None)
    if model is None:
        return None
    from .imported import ImportedClassifier, open_classifier
    from .manifest import Manifest
    from .registry import resolve_model

    if resolve_model(model, Manifest.load(args.models)) is None:
        return None  # the default: the command builds its Classifier as always
    classifier = open_classifier(
        model,
        head,
        device=args.device,
        models_dir=args.models,
        size=size or getattr(args, "size", None),
        resize=resize or getattr(args, "resize", None),
        precision=getattr(args, "precision", "fp32"),
        batch_size=args.batch_size,
    )
    return classifier if isinstance(classifier, ImportedClassifier) else None
