"""``xception-maya``: the command-line tool on the same core as the Maya plugin.

Why one module of ~850 lines: every subcommand's options and its output (table, JSON,
report, footer, exit code) are the CLI's contract and are read together; the library
subcommands and ``import`` live in ``cli_library.py`` and ``cli_import.py``.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from . import __version__, cli_import, cli_library
from .errors import XceptionMayaError
from .heads import RESIZE_FILTERS
from .text import json_safe, shown
from .unknown import shown_label

if TYPE_CHECKING:
    import numpy as np

    from .classifier import Classifier
    from .imported import ImportedClassifier
    from .manifest import Manifest


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
        eta = f" ETA {(total - done) / rate:.0f} s" if 0 < done < total else ""
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {rate:.1f}/s{eta}   ")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


class Parser(argparse.ArgumentParser):
    """argparse with options anywhere on the line (``classify a.png --json b.png``: each
    sub-command parses its options and file names intermixed) and a usage error as one line
    on stderr, exit status 2."""

    _intermixing = False

    def parse_known_args(  # type: ignore[override]  # typeshed's overloads; same behaviour
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing or self._has_sub_commands():
            return super().parse_known_args(args, namespace)
        self._intermixing = True  # parse_known_intermixed_args calls back here, twice
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False

    def _has_sub_commands(self) -> bool:
        return any(isinstance(a, argparse._SubParsersAction) for a in self._actions)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {shown(message)} (see {self.prog} --help)\n")


# Type functions: each option's rule is checked while parsing, before any image is read,
# by the one function that owns the rule (preprocessing.check_size, images.check_color_space).


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None


def _positive(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _size(text: str) -> int:
    from .preprocessing import check_size

    try:
        return check_size(_whole(text), "--size")
    except XceptionMayaError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _color_space(text: str) -> str:
    from .images import check_color_space

    try:
        check_color_space(text)
    except XceptionMayaError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 1, not {text!r}") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"must be from 0 to 1, not {text}")
    return value


def _add_batch_size(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--batch-size",
        type=_positive,
        default=8,
        metavar="N",
        help="images per network run (default 8); larger is a little faster and takes more memory",
    )


def _add_output_args(p: argparse.ArgumentParser) -> None:
    """classify's and tag's shared output options."""
    p.add_argument(
        "--top-k",
        type=_positive,
        metavar="N",
        help="labels per image (default: 5 in JSON and reports, 1 in the table)",
    )
    p.add_argument(
        "--known-only",
        action="store_true",
        help="leave out the images the head calls 'unknown' (nothing it knows fits); "
        "images that could not be read are still listed",
    )
    p.add_argument(
        "--report", type=Path, metavar="FILE", help="also write an HTML report with thumbnails"
    )


def _add_model_args(p: argparse.ArgumentParser, head: bool = True) -> None:
    p.add_argument("--model", help="a model added with `import`, by name (default: Xception)")
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
    _add_precision_arg(p)
    p.add_argument(
        "--size", type=_size, metavar="PX", help="input side in pixels (default: the head's own)"
    )
    p.add_argument("--resize", choices=RESIZE_FILTERS, help="resize filter (default: the head's)")
    p.add_argument(
        "--color-space",
        type=_color_space,
        metavar="NAME",
        help="colour space of the images, as Maya names it (default: sRGB)",
    )


def _add_precision_arg(p: argparse.ArgumentParser) -> None:
    from .precision import PRECISIONS

    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="fp32",
        help="fp32 (default, exact), bf16 or int8 (faster on recent CPUs), or auto",
    )


def _add_folder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--recursive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="look in sub-folders too (default: yes)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _add_batch_size(p)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="xception-maya",
        description="Classify images with an ImageNet-trained Xception (ONNX, onnxruntime).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("classify", help="top labels (and features) of images")
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    _add_model_args(p)
    _add_output_args(p)
    p.add_argument(
        "--features", action="store_true", help="include the 2048-d features (with --json)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON list, a record per image")
    _add_batch_size(p)

    p = sub.add_parser("tag", help="classify every image under a folder")
    p.add_argument("folder", type=Path, metavar="DIR")
    _add_model_args(p)
    _add_output_args(p)
    p.add_argument(
        "--threshold",
        type=_threshold,
        default=0.0,
        metavar="T",
        help="keep only labels scoring at least T, 0 to 1 (default 0: the top-k); "
        "'unknown' stays shown",
    )
    _add_folder_args(p)

    p = sub.add_parser("similar", help="the images under a folder that look most like IMAGE")
    p.add_argument("image", type=Path, metavar="IMAGE")
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("-k", type=_positive, default=10, help="how many to list (default 10)")
    _add_model_args(p, head=False)
    _add_folder_args(p)

    p = sub.add_parser("learn", help="learn a head from example images, one sub-folder per tag")
    p.add_argument("folder", type=Path, metavar="DIR", help="one sub-folder of examples per tag")
    p.add_argument("-o", "--output", type=Path, required=True, help="head file to write (.npz)")
    p.add_argument("--name", help="head name (default: the output file's name without .npz)")
    p.add_argument(
        "--base-head",
        help="take the input size and resize filter of this head (default: 299 bilinear)",
    )
    p.add_argument("--size", type=_size, help="input side in pixels (overrides --base-head)")
    p.add_argument("--resize", choices=RESIZE_FILTERS, help="resize filter (overrides --base-head)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, gpu, cuda, ...")
    _add_precision_arg(p)
    p.add_argument("--models", type=Path, help="models folder (default: the module's models/)")
    p.add_argument(
        "--install",
        action="store_true",
        help="also add the head to the models folder, to use it as --head NAME",
    )
    _add_batch_size(p)

    p = sub.add_parser("convert", help="convert Keras Xception weights to ONNX + head")
    p.add_argument("weights", type=Path, help=".keras archive or Keras 2 .h5 weights file")
    p.add_argument("-o", "--output", type=Path, required=True, help="models folder to write")
    p.add_argument("--name", help="head name (default: imagenet, or the file's name)")
    p.add_argument("--labels", help="class labels, comma-separated or a text file, one a line")
    p.add_argument(
        "--size", type=_size, help="the head's input size (default: the model's, or 299)"
    )
    p.add_argument(
        "--resize", choices=RESIZE_FILTERS, help="the head's resize filter (default bilinear)"
    )
    p.add_argument("--no-default", action="store_true", help="do not make it the default head")

    p = sub.add_parser(
        "setup", help="download and convert the default model, or ImageNet's (idempotent)"
    )
    p.add_argument("--models", type=Path, help="models folder (default: the module's models/)")
    p.add_argument("--cache", type=Path, help="where downloads are kept (default: build/download)")
    p.add_argument("--force", action="store_true", help="convert again even if up to date")
    p.add_argument(
        "--imagenet",
        action="store_true",
        help="instead: Keras's ImageNet Xception weights (about 92 MB), checked, converted and "
        "installed as the 1000-class head 'imagenet', the new default head",
    )
    p.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="FILE",
        help="with --imagenet: this copy of xception_weights_tf_dim_ordering_tf_kernels.h5 "
        "instead of downloading (offline machines)",
    )
    p.add_argument(
        "--url",
        help="with --imagenet: download from this mirror (default: $XCEPTION_MAYA_IMAGENET_URL, "
        "else Keras's URL)",
    )
    p.add_argument(
        "--hash",
        dest="file_hash",
        metavar="HEX",
        help="with --imagenet: the file's md5 or sha256 (default: the md5 Keras publishes)",
    )
    p.add_argument("--int8", action="store_true", help="also build the int8 backbone")
    p.add_argument("--calibration", type=Path, help="photos to calibrate int8 on (a folder)")

    p = sub.add_parser("doctor", help="versions, execution providers, the manifest checked")
    p.add_argument("--models", type=Path)
    p.add_argument("--device", default="auto")
    _add_precision_arg(p)
    p.add_argument("--json", action="store_true")
    cli_library.add_parsers(sub)
    cli_import.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    _complete(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (2) or --help (0), already printed
        return exc.code if isinstance(exc.code, int) else 2
    for stream in (sys.stdout, sys.stderr):  # a name the console cannot encode: escaped
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        code = int(COMMANDS[args.command](args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:  # `... | head`: the reader has what it wants
        _silence_stdout()
        return 141  # as a shell reports a tool that a closed pipe ended (128 + SIGPIPE)
    except XceptionMayaError as exc:
        print(f"xception-maya: error: {shown(str(exc))}", file=sys.stderr)
        return 2
    except MemoryError:
        print("xception-maya: error: not enough memory", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xception-maya: interrupted", file=sys.stderr)
        return 130


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion when argcomplete is installed (the completion extra); it acts only
    when the shell asks (``eval "$(register-python-argcomplete xception-maya)"``)."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


def _silence_stdout() -> None:
    """Point stdout at the null device, so that Python's last flush at exit, into the
    closed pipe, raises nothing either."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass  # not a real file (tests capture it): nothing to flush later


def classifier_from(
    args: argparse.Namespace,
    head: str | None,
    size: int | None = None,
    resize: str | None = None,
) -> Classifier | ImportedClassifier:
    """The Classifier that a command's model options ask for."""
    from .classifier import Classifier

    if imported := cli_import.imported_classifier(args, head, size, resize):
        return imported
    return Classifier(
        head,
        device=args.device,
        models_dir=args.models,
        size=size or args.size,
        resize=resize or args.resize,
        batch_size=args.batch_size,
        precision=args.precision,
    )


def print_json(records: Any) -> None:
    """JSON on stdout; names with bytes that are not UTF-8 are shown as ``\\xff``."""
    indent = 1 if not isinstance(records, list) or len(records) < 50 else None
    json.dump(json_safe(records), sys.stdout, indent=indent)
    sys.stdout.write("\n")


def check_output(path: Path | None) -> None:
    """Refuse an output file that is a folder or a special file before any work is done."""
    if path is not None:
        from .fsio import check_writable

        check_writable(path)


JSON_TOP_K = 5  # labels per image in JSON and reports when --top-k is not given
TABLE_TOP_K = 1  # and in the table, one line per image


def cmd_classify(args: argparse.Namespace) -> int:
    if args.features and not args.json:
        raise XceptionMayaError(
            "--features gives 2048 numbers per image, too many for a table: add --json"
        )
    folders = [path for path in args.images if path.is_dir()]
    if folders:
        raise XceptionMayaError(
            f"{folders[0]} is a folder; for the images in it use: xception-maya tag {folders[0]}"
        )
    check_output(args.report)
    classifier = classifier_from(args, args.head)
    results = classifier.classify(
        args.images, args.top_k or JSON_TOP_K, args.color_space, progress=ProgressBar("classifying")
    )
    ran = sum(1 for r in results if r.error is None)
    records = _kept([r.record(with_features=args.features) for r in results], args.known_only)
    if args.json:
        print_json(records)
    else:
        print_table(records, args.top_k or TABLE_TOP_K)
    print_footer(ran, classifier.engine.summary)
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
        print(f"report: {shown(str(path))}", file=sys.stderr)
    if classifier.engine.fallback:
        print(f"xception-maya: warning: {classifier.engine.fallback}", file=sys.stderr)
    return 0 if all(r["error"] is None for r in records) else 1


def _kept(records: list[dict[str, Any]], known_only: bool) -> list[dict[str, Any]]:
    """``records`` less the unknown images with --known-only (errors always stay)."""
    return [r for r in records if not (known_only and r.get("unknown"))]


def print_table(
    records: list[dict[str, Any]],
    top_k: int = TABLE_TOP_K,
    *,
    root: Path | None = None,
    no_labels: str = "(no head: features only)",
) -> None:
    """Image, label, score: ``top_k`` lines per image, the first its shown label ("unknown",
    scored by the head's confidence, where nothing the head knows fits); images under
    ``root`` by their path inside it."""
    names = [_display_name(r["image"], root) for r in records]
    width = max([len("image")] + [len(n) for n in names])
    print(f"{'image':<{width}}  {'label':<24} {'score':>6}")
    for name, r in zip(names, records, strict=True):
        if r["error"]:
            print(f"{name:<{width}}  error: {shown(str(r['error']))}")
            continue
        rows = list(zip(r["labels"], r["scores"], strict=False))
        if r.get("unknown"):
            rows.insert(0, (shown_label(r["labels"], True), r["confidence"]))
        if not rows:
            print(f"{name:<{width}}  {no_labels}")
        for i, (label, score) in enumerate(rows[:top_k]):
            print(f"{name if i == 0 else '':<{width}}  {shown(str(label)):<24} {score:>6.3f}")


def print_footer(ran: int, provider: str) -> None:
    """The line under a table or JSON, on stderr: how many images the network ran on."""
    if ran == 0:
        print("(no image could be read)", file=sys.stderr)
    else:
        print(f"({_count(ran, 'image')} on {provider})", file=sys.stderr)


def _display_name(image: str, root: Path | None) -> str:
    """A file name for a table: inside ``root`` by its path there, else its name; always
    one printable line (see :func:`xception_maya.text.shown`)."""
    path = Path(image)
    if root is not None and path.is_relative_to(root):
        return shown(path.relative_to(root).as_posix())
    return shown(path.name)


def find_images(folder: Path, recursive: bool) -> tuple[list[Path], list[tuple[str, str]]]:
    """The images of a folder for tag and similar, and the entries skipped with why (a
    broken link, a folder named like an image, a FIFO); a missing folder or one with
    nothing that looks like an image is an error."""
    from .learn import IMAGE_EXTENSIONS, scan_images

    if not folder.is_dir():
        raise XceptionMayaError(f"folder not found: {folder}")
    found, skipped = scan_images(folder, recursive)
    if not found and not skipped:
        where = "under" if recursive else "directly in"
        raise XceptionMayaError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) {where} {folder}")
    return found, [(str(path), f"skipped: {why}") for path, why in skipped]


def print_errors(failed: list[tuple[str, str]], total: int) -> None:
    """The images that could not be read, at the end, on stderr (stdout may be JSON)."""
    if not failed:
        return
    print(f"{len(failed)} of {_count(total, 'image')} could not be read:", file=sys.stderr)
    for image, error in failed:
        print(f"  {shown(image)}: {shown(error)}", file=sys.stderr)


def _error_record(image: str, error: str) -> dict[str, Any]:
    return {
        "image": image,
        "labels": [],
        "scores": [],
        "indices": [],
        "unknown": False,
        "confidence": None,
        "error": error,
    }


def cmd_tag(args: argparse.Namespace) -> int:
    check_output(args.report)
    paths, skipped = find_images(args.folder, args.recursive)
    classifier = classifier_from(args, args.head)
    results = classifier.classify(
        paths, args.top_k or JSON_TOP_K, args.color_space, progress=ProgressBar("tagging")
    )
    ran = sum(1 for r in results if r.error is None)
    records = _kept([_above(r.record(), args.threshold) for r in results], args.known_only)
    records += [_error_record(image, error) for image, error in skipped]
    if args.json:
        print_json(records)
    else:
        no_labels = (
            f"(no label scores {args.threshold:g} or more)"
            if classifier.head
            else "(no head: features only)"
        )
        print_table(records, args.top_k or TABLE_TOP_K, root=args.folder, no_labels=no_labels)
    print_footer(ran, classifier.engine.summary)
    if classifier.engine.fallback:
        print(f"xception-maya: warning: {classifier.engine.fallback}", file=sys.stderr)
    report_error = None
    if args.report:
        from .report import write_report

        try:
            path = write_report(
                records,
                args.report,
                title=f"xception-maya tag {args.folder}",
                head=classifier.head.name if classifier.head else "none",
                provider=classifier.engine.provider,
                threshold=args.threshold or None,
            )
            print(f"report: {shown(str(path))}", file=sys.stderr)
        except (XceptionMayaError, OSError) as exc:  # the list of errors still comes
            report_error = f"cannot write the report {args.report}: {exc}"
    failed = [(r["image"], r["error"]) for r in records if r["error"] is not None]
    print_errors(failed, len(records))
    if report_error:
        print(f"xception-maya: error: {shown(report_error)}", file=sys.stderr)
        return 2
    return 1 if failed else 0


def _above(record: dict[str, Any], threshold: float) -> dict[str, Any]:
    """The record with only the labels scoring at least ``threshold`` (scores are sorted)."""
    keep = sum(1 for score in record["scores"] if score >= threshold)
    for key in ("labels", "scores", "indices"):
        record[key] = record[key][:keep]
    return record


def cmd_similar(args: argparse.Namespace) -> int:
    import numpy as np

    from .similarity import most_similar

    if not args.image.is_file():
        raise XceptionMayaError(f"image not found: {args.image}")
    query = args.image.resolve()
    # The query itself is no answer, wherever it lies in the folder.
    found, skipped = find_images(args.folder, args.recursive)
    candidates = [p for p in found if p.resolve() != query]
    if not candidates and not skipped:
        raise XceptionMayaError(f"no images other than {args.image} in {args.folder}")
    classifier = classifier_from(args, "none")
    features = classifier.features(
        [args.image, *candidates], args.color_space, progress=ProgressBar("comparing")
    )
    query_features = features[0]
    if isinstance(query_features, XceptionMayaError):
        raise query_features
    readable: list[tuple[Path, np.ndarray]] = []
    failed: list[tuple[str, str]] = list(skipped)
    for path, f in zip(candidates, features[1:], strict=True):
        if isinstance(f, XceptionMayaError):
            failed.append((str(path), str(f)))
        else:
            readable.append((path, f))
    nearest = []
    if readable:
        rows = np.stack([f for _, f in readable])
        nearest = [(readable[i][0], s) for i, s in most_similar(query_features, rows, args.k)]
    if args.json:
        print_json(
            {
                "query": str(args.image),
                "similar": [{"image": str(p), "similarity": round(s, 6)} for p, s in nearest],
                "errors": [{"image": image, "error": error} for image, error in failed],
            }
        )
    else:
        print(f"{'similarity':>10}  image")
        for path, similarity in nearest:
            print(f"{similarity:>10.4f}  {_display_name(str(path), args.folder)}")
        print(
            f"({len(readable)} images compared with {shown(args.image.name)} on "
            f"{classifier.engine.summary})",
            file=sys.stderr,
        )
    if classifier.engine.fallback:
        print(f"xception-maya: warning: {classifier.engine.fallback}", file=sys.stderr)
    print_errors(failed, len(candidates) + len(skipped))
    return 1 if failed else 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def cmd_learn(args: argparse.Namespace) -> int:
    import numpy as np

    from .classifier import NO_HEAD_RESIZE, NO_HEAD_SIZE
    from .learn import image_files, learn_from_folders
    from .manifest import Manifest
    from .names import validate_name
    from .registry import resolve_head

    if args.output.suffix != ".npz":
        raise XceptionMayaError(f"the head file must end in .npz: {args.output}")
    name = validate_name(args.name or args.output.stem)
    manifest = Manifest.load(args.models)
    if args.install:
        _check_installable(manifest, name)
    base = resolve_head(args.base_head, manifest) if args.base_head else None
    size = args.size or (base.input_size if base else NO_HEAD_SIZE)
    resize = args.resize or (base.resize if base else NO_HEAD_RESIZE)
    classifier = classifier_from(args, "none", size, resize)

    # learn_from_folders reads the tag folders itself; count their images for the bar only.
    tag_folders = [p for p in args.folder.iterdir() if p.is_dir()] if args.folder.is_dir() else []
    total = sum(len(image_files(p)) for p in tag_folders if not p.name.startswith("."))
    seen: set[Path] = set()
    bar = ProgressBar("reading examples")

    def extract(paths: list[Path]) -> np.ndarray:
        features = classifier.features(paths)
        seen.update(paths)  # a set: the one-by-one retries after a failure count once
        bar(len(seen), total)
        rows = []
        for f in features:
            if isinstance(f, XceptionMayaError):
                raise f  # learn_from_folders retries one by one and lists the bad image
            rows.append(f)
        return np.stack(rows)

    # The skipped images are listed below; learn's own warnings would say it twice.
    learn_log = logging.getLogger("xception_maya.learn")
    level = learn_log.level
    learn_log.setLevel(logging.ERROR)
    try:
        head = learn_from_folders(
            args.folder, extract, input_size=size, resize=resize, name=name, batch_size=32
        )
    finally:
        learn_log.setLevel(level)
    head.extra["backbone_sha256"] = classifier.manifest.backbone.sha256
    head.extra["source"] = {"kind": "learned", "examples": str(args.folder)}
    path = head.save(args.output)

    counts: dict[str, int] = head.extra["examples_per_tag"]
    per_tag: dict[str, float] = head.extra.get("holdout_per_tag") or {}
    print(
        f"learned head {name!r} from {args.folder}: {head.extra['trained_on']} examples, "
        f"{size}px {resize}, on {classifier.engine.summary}"
    )
    width = max(len("tag"), *(len(tag) for tag in counts))
    print(f"  {'tag':<{width}}  {'examples':>8}  {'held-out':>8}")
    for tag, count in counts.items():
        right = f"{per_tag[tag]:8.1%}" if tag in per_tag else f"{'-':>8}"
        print(f"  {tag:<{width}}  {count:>8}  {right}")
    accuracy = head.extra.get("holdout_accuracy")
    if accuracy is None:
        print(f"held-out accuracy: not measured ({head.extra.get('holdout_reason')})")
    else:
        scheme = head.extra["holdout_scheme"]
        without = "it" if scheme == "leave-one-out" else "its fold"
        print(
            f"held-out accuracy: {accuracy:.1%} ({scheme}: each example tagged by a head "
            f"trained without {without})"
        )
    skipped: list[dict[str, str]] = head.extra.get("skipped", [])
    if skipped:
        print(f"{_count(len(skipped), 'image')} left out (not learned from):")
        for item in skipped:
            print(f"  {shown(item['image'])}: {shown(item['reason'])}")
    print(f"head: {path}")
    if args.install:
        from .convert import install_head

        installed = install_head(manifest.root, head)
        print(f"installed: {installed} (use --head {name})")
    if classifier.engine.fallback:
        print(f"xception-maya: warning: {classifier.engine.fallback}", file=sys.stderr)
    return 1 if skipped else 0


def _check_installable(manifest: Manifest, name: str) -> None:
    """Refuse to replace a converted head (the default model's) by a learned one."""
    entry = manifest.heads.get(name)
    if entry is not None and not entry.learned:
        raise XceptionMayaError(
            f"the models folder already has a head {name!r} that was not learned; "
            "choose another --name"
        )


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
    print(f"backbone: {manifest.backbone_path} (opset {manifest.backbone.opset})")
    for name, head in manifest.heads.items():
        mark = " (default)" if name == manifest.default_head else ""
        p = head.preprocessing
        print(f"head {name}{mark}: {len(head.labels)} classes, {p.size}px {p.resize}")
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from . import default_model
    from .manifest import default_models_dir

    models = args.models or default_models_dir()
    if args.imagenet:
        return _setup_imagenet(args, models)
    if args.int8 and args.imagenet:
        raise XceptionMayaError("--int8 builds the kitchenware backbone's int8 copy; run it apart")
    if args.source or args.url or args.file_hash:
        raise XceptionMayaError("--from, --url and --hash go with --imagenet")
    default_model.build(models, args.cache, force=args.force)
    if args.int8:
        from .quantize import install_int8

        install_int8(models, args.calibration, force=args.force)
    return 0


def _setup_imagenet(args: argparse.Namespace, models: Path) -> int:
    from . import imagenet
    from .download import TerminalProgress

    if args.source and args.url:
        raise XceptionMayaError("--from FILE and --url URL exclude each other")
    try:
        installed = imagenet.install_imagenet(
            models,
            args.source,
            TerminalProgress("  "),
            url=args.url,
            file_hash=args.file_hash or imagenet.WEIGHTS_HASH,
            cache_dir=args.cache,
            force=args.force,
            log=lambda line: print(line, flush=True),
        )
    except XceptionMayaError as exc:
        if not str(exc).startswith("could not download"):
            raise
        raise XceptionMayaError(
            f"{exc}; without network, copy {imagenet.WEIGHTS_FILE} from a machine that has it "
            "and run setup --imagenet --from FILE"
        ) from None
    if installed.up_to_date:
        return 0
    classes = len(installed.manifest.heads[imagenet.HEAD_NAME].labels)
    print(
        f"installed head {imagenet.HEAD_NAME!r} ({classes} classes), the default head now; "
        "others stay available with --head NAME"
    )
    if installed.dropped:
        print(
            "removed heads made for other backbone weights: " + ", ".join(installed.dropped),
            file=sys.stderr,
        )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import report

    info = report(args.models, args.device, args.precision)
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
    "tag": cmd_tag,
    "similar": cmd_similar,
    "learn": cmd_learn,
    "convert": cmd_convert,
    "setup": cmd_setup,
    "doctor": cmd_doctor,
    "index": cli_library.cmd_index,
    "search": cli_library.cmd_search,
    "import": cli_import.cmd_import,
}

if __name__ == "__main__":
    raise SystemExit(main())
