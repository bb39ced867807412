"""``xception-maya index`` and ``xception-maya search``: the library index on the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import XceptionMayaError
from .text import shown

if TYPE_CHECKING:
    import numpy as np

    from .cache import FeatureCache
    from .imported import ImportedClassifier
    from .library import Library, Model
    from .library.scan import IndexReport
    from .manifest import Manifest

INDEX_CACHE_BYTES = 32 * 1024**2  # the index is the cache; keep only what a batch needs


def add_parsers(sub: Any) -> None:
    """Add ``index`` and ``search`` to the CLI's sub-command parsers."""
    # The one --batch-size and --precision rules; cli imports this module.
    from .cli import _add_batch_size, _add_precision_arg

    db_help = (
        "the library index file (default: $XCEPTION_MAYA_INDEX, else library.db in the "
        "per-user data folder; see the README)"
    )
    p = sub.add_parser("index", help="build or update the library index of folders of images")
    p.add_argument("folders", nargs="*", type=Path, metavar="DIR")
    p.add_argument("--db", type=Path, help=db_help)
    p.add_argument(
        "--head",
        help="the head whose top labels are stored, and whose input size the features use "
        "(default: the manifest's default head; 'none': features only, 299 bilinear)",
    )
    p.add_argument(
        "--model",
        help="a model added with `import`, by name: its top labels are stored as the tags of "
        "head model:NAME, its features (if it has a features output) apart from Xception's",
    )
    p.add_argument(
        "--retag",
        action="store_true",
        help="tag every indexed image again with --head from the stored features "
        "(no DIR, no network run)",
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="decode and extract on a Ray cluster (ADDRESS, e.g. head-node:6379; none: a local "
        "Ray); needs the ray extra",
    )
    p.add_argument("--device", default="auto", help="auto (default), cpu, gpu, cuda, ...")
    p.add_argument("--models", type=Path, help="models folder (default: the module's models/)")
    _add_precision_arg(p)
    _add_batch_size(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")

    p = sub.add_parser("search", help="search the library index by similarity, tag or text")
    p.add_argument("--db", type=Path, help=db_help)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--similar", type=Path, metavar="IMAGE", help="images that look like IMAGE")
    what.add_argument("--tag", metavar="NAME", help="images whose top labels include NAME")
    what.add_argument("--text", metavar="WORDS", help="label names and synonyms, e.g. 'tabby cat'")
    p.add_argument("-k", type=int, default=10, help="how many similar images (default 10)")
    p.add_argument(
        "--head",
        help="--tag/--text: only this head's labels (default: every head's); --similar: the "
        "head whose input size the features use (default: the manifest's default head)",
    )
    p.add_argument(
        "--model",
        help="a model added with `import`: --similar searches its features; --tag/--text "
        "its labels (head model:NAME)",
    )
    p.add_argument("--min-score", type=float, default=0.0, help="--tag/--text: lowest score")
    p.add_argument("--exact", action="store_true", help="never use the approximate index")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--report", type=Path, help="also write an HTML report with thumbnails")
    p.add_argument("--device", default="auto", help="for an IMAGE not in the index")
    p.add_argument("--models", type=Path, help="models folder (default: the module's models/)")
    _add_precision_arg(p)


def _imported(
    args: argparse.Namespace, cache: FeatureCache | None = None
) -> ImportedClassifier | None:
    """The imported model ``--model`` names, or None for Xception (no --model, or default)."""
    if args.model is None:
        return None
    from .imported import ImportedClassifier, open_classifier
    from .manifest import Manifest
    from .registry import resolve_model

    manifest = Manifest.load(args.models)
    if resolve_model(args.model, manifest) is None:
        return None
    classifier = open_classifier(
        args.model,
        args.head,
        device=args.device,
        models_dir=manifest.root,
        batch_size=getattr(args, "batch_size", 8),
        cache=cache,
        precision=args.precision,  # not fp32: refused, an imported model runs fp32
    )
    assert isinstance(classifier, ImportedClassifier)
    return classifier


def _is_imported(args: argparse.Namespace) -> bool:
    """Whether ``--model`` names an imported model (an unknown name: one clear error)."""
    from .manifest import Manifest
    from .registry import resolve_model

    return (
        args.model is not None and resolve_model(args.model, Manifest.load(args.models)) is not None
    )


def _open(args: argparse.Namespace, create: bool) -> Library:
    from .library import Library

    return Library.open(args.db, create=create)


def _model_for(args: argparse.Namespace, manifest: Manifest) -> tuple[Model, str]:
    """The features ``--head`` uses: the backbone and ``--precision``'s engine (which only
    names them: no session is made), and the head's input size and filter."""
    from .classifier import NO_HEAD_RESIZE, NO_HEAD_SIZE
    from .engine import get_engine
    from .library import Model
    from .library.api import features_id
    from .registry import resolve_head

    head = resolve_head(args.head, manifest)
    size, resize = (head.input_size, head.resize) if head else (NO_HEAD_SIZE, NO_HEAD_RESIZE)
    engine = get_engine(manifest.backbone_path, args.device, args.precision)
    sha = features_id(str(manifest.backbone.sha256), engine.key)
    return Model(sha, size, resize), head.name if head else "none"


def cmd_index(args: argparse.Namespace) -> int:
    from .cli import ProgressBar

    if args.retag and _is_imported(args):
        raise XceptionMayaError(
            f"index --retag tags again from stored features with a head; model {args.model!r} "
            f"has its own labels: run `xception-maya index DIR --model {args.model}` instead"
        )
    if args.retag:
        return _retag(args)
    if not args.folders:
        raise XceptionMayaError("index: name at least one folder (DIR), or use --retag --head")
    from .cache import FeatureCache
    from .classifier import Classifier
    from .library import model_for
    from .library.scan import Extractor, index_folders, local_extractor

    if args.model is not None and args.ray is not None:
        raise XceptionMayaError("index --ray runs the default model; give no --model with it")
    imported = _imported(args, FeatureCache(INDEX_CACHE_BYTES))
    if imported is not None:
        return _index_imported(args, imported)

    classifier = Classifier(
        args.head,
        device=args.device,
        models_dir=args.models,
        cache=FeatureCache(INDEX_CACHE_BYTES),
        batch_size=args.batch_size,
        precision=args.precision,
    )
    model = model_for(classifier)
    extract: Extractor
    if args.ray is not None:
        from .library.ray_index import RayExtractor

        extract = RayExtractor(
            args.ray or None,
            classifier.manifest.root,
            model,
            device=args.device,
            precision=classifier.engine.precision,
            batch_size=args.batch_size,
        )
        where = extract.describe()
    else:
        extract = local_extractor(classifier)
        where = "this machine"
    with _open(args, create=True) as library:
        report = index_folders(
            library,
            args.folders,
            model,
            extract,
            head=classifier.head,
            progress=ProgressBar("indexing"),
        )
        db_path = library.path
    return _summary(args, report, db_path, where, None)


def _index_imported(args: argparse.Namespace, classifier: ImportedClassifier) -> int:
    from .cli import ProgressBar
    from .library.models import for_imported
    from .library.scan import index_folders, outputs_extractor

    model, labels = for_imported(classifier)
    with _open(args, create=True) as library:
        report = index_folders(
            library,
            args.folders,
            model,
            outputs_extractor(classifier),
            labels=labels,
            progress=ProgressBar("indexing"),
        )
        db_path = library.path
    return _summary(args, report, db_path, "this machine", labels.name)


def _summary(
    args: argparse.Namespace, report: IndexReport, db_path: Path, where: str, head: str | None
) -> int:
    """The run's summary; ``head``: where an imported model's tags went."""
    from .cli import print_errors

    summary = dataclasses.asdict(report)
    named = {} if head is None else {"head": head}
    if args.json:
        print(json.dumps({"db": str(db_path), **named, **summary}, indent=1))
    else:
        print(
            f"{report.found} images under {', '.join(map(str, args.folders))}: "
            f"{report.unchanged} unchanged, {report.extracted} extracted on {where}, "
            f"{report.reused} already known by content, {report.retagged} tagged from stored "
            f"features, {report.pruned} pruned (deleted from the index), "
            f"{len(report.failed)} unreadable; {report.seconds:.1f} s"
        )
        if report.approximate_index:
            print(report.approximate_index)
        if head is not None:
            print(f"tags: search --tag LABEL --head {shown(head)}")
        print(f"index: {db_path}")
    print_errors(report.failed, report.found)
    return 1 if report.failed else 0


def _retag(args: argparse.Namespace) -> int:
    from .manifest import Manifest
    from .registry import resolve_head

    if args.folders:
        raise XceptionMayaError("index --retag re-tags the whole index: give no DIR")
    manifest = Manifest.load(args.models)
    head = resolve_head(args.head, manifest)
    if head is None:
        raise XceptionMayaError("index --retag needs a head: --head NAME")
    model, _ = _model_for(args, manifest)
    with _open(args, create=False) as library:
        count = library.retag(head, model)
        print(
            f"re-tagged {count} images with head {head.name!r} from stored features "
            f"(no network run); index: {library.path}"
        )
    return 0


def _labels_head(args: argparse.Namespace) -> str | None:
    """--tag/--text: the head to search, ``model:NAME`` for an imported model's labels."""
    head: str | None = args.head
    if args.model in (None, "", "default"):
        return head
    from .library.models import head_name
    from .manifest import Manifest
    from .registry import resolve_model

    if head is not None:
        raise XceptionMayaError(
            f"give --model or --head, not both: model {args.model!r}'s labels are head "
            f"model:{args.model}"
        )
    resolve_model(args.model, Manifest.load(args.models))  # an unknown name: one clear line
    return head_name(args.model)


def cmd_search(args: argparse.Namespace) -> int:
    if args.similar is None:
        args.head = _labels_head(args)
    with _open(args, create=False) as library:
        if args.similar is not None:
            records = _similar(args, library)
            title = f"xception-maya search --similar {args.similar}"
        else:
            query = args.tag if args.tag is not None else args.text
            found = (
                library.by_tag(args.tag, head=args.head, min_score=args.min_score)
                if args.tag is not None
                else library.by_text(args.text, head=args.head, min_score=args.min_score)
            )
            records = [
                {"image": m.path, "head": m.head, "label": m.label, "score": round(m.score, 6)}
                for m in found
            ]
            title = f"xception-maya search --{'tag' if args.tag is not None else 'text'} {query}"
        if args.json:
            json.dump(records, sys.stdout, indent=1)
            sys.stdout.write("\n")
        else:
            _print_table(records)
        if args.report:
            from .report import write_report

            cards = [_card(library, r, args.head) for r in records]
            path = write_report(cards, args.report, title=title)
            print(f"report: {path}", file=sys.stderr)
    return 0 if records else 1


def _similar(args: argparse.Namespace, library: Library) -> list[dict[str, Any]]:
    from .library import precision_flag
    from .manifest import Manifest

    if not args.similar.is_file():
        raise XceptionMayaError(f"image not found: {args.similar}")
    if args.k < 1:
        raise XceptionMayaError(f"-k must be 1 or more, not {args.k}")
    imported = _imported(args)
    if imported is not None:
        return _similar_imported(args, library, imported)
    manifest = Manifest.load(args.models)
    model, head_name = _model_for(args, manifest)
    if library.model_id(model) is None:
        flag = precision_flag(args.precision)
        raise XceptionMayaError(
            f"the index {library.path} has no features of this backbone at {model.size}px "
            f"{model.resize} (head {head_name}{flag}); run `xception-maya index DIR{flag}` first"
        )
    vector = library.features_for(args.similar, model)
    if vector is None:  # not indexed (or changed since): extract it now
        from .classifier import Classifier

        classifier = Classifier(
            args.head,
            device=args.device,
            models_dir=args.models,
            size=model.size,
            resize=model.resize,
            precision=args.precision,
        )
        result = classifier.features([args.similar])[0]
        if isinstance(result, XceptionMayaError):
            raise result
        vector = result
    return _matches(args, library, vector, model)


def _matches(
    args: argparse.Namespace, library: Library, vector: np.ndarray, model: Model
) -> list[dict[str, Any]]:
    matches = library.similar(
        vector, args.k, model, exclude=[args.similar], approximate=False if args.exact else None
    )
    return [{"image": m.path, "similarity": round(m.similarity, 6)} for m in matches]


def _similar_imported(
    args: argparse.Namespace, library: Library, classifier: ImportedClassifier
) -> list[dict[str, Any]]:
    """--similar --model NAME: over that model's own stored features."""
    from .library.models import for_imported

    name = shown(classifier.name)
    if not classifier.has_features:
        raise XceptionMayaError(
            f"model {name!r} has no features output, so nothing to compare; import it again "
            "with --features OUTPUT, then index with --model"
        )
    model, _ = for_imported(classifier)
    if library.model_id(model) is None:
        raise XceptionMayaError(
            f"the index {library.path} has no features of model {name!r}; run "
            f"`xception-maya index DIR --model {name}` first"
        )
    vector = library.features_for(args.similar, model)
    if vector is None:  # not indexed (or changed since): run the model now
        result = classifier.features([args.similar])[0]
        if isinstance(result, XceptionMayaError):
            raise result
        vector = result
    return _matches(args, library, vector, model)


def _print_table(records: list[dict[str, Any]]) -> None:
    if records and "similarity" in records[0]:
        print(f"{'similarity':>10}  image")
        for r in records:
            print(f"{r['similarity']:>10.4f}  {r['image']}")
    elif records:
        width = max(len("label"), *(len(r["label"]) for r in records))
        print(f"{'score':>6}  {'head':<12} {'label':<{width}}  image")
        for r in records:
            print(f"{r['score']:>6.3f}  {r['head']:<12} {r['label']:<{width}}  {r['image']}")
    print(f"({len(records)} images)", file=sys.stderr)


def _card(library: Library, record: dict[str, Any], head: str | None) -> dict[str, Any]:
    """The report's record: the match first, then the image's stored top labels."""
    labels: list[str] = []
    scores: list[float] = []
    if "similarity" in record:
        labels, scores = ["similarity"], [record["similarity"]]
    for name, tags in library.tags_for(record["image"], head).items():
        labels += [f"{label} ({name})" for label, _ in tags[:3]]
        scores += [score for _, score in tags[:3]]
    return {"image": record["image"], "labels": labels, "scores": scores, "error": None}
