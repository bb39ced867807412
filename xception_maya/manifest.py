"""The models folder and its manifest (``models/manifest.json``): what is installed, checked.

The manifest names the backbone and every head, each with its file, sha256 and provenance,
and for each head its labels and preprocessing; since version 2 also every imported ONNX
model (``models``: its own input, outputs, labels and preprocessing). Older layouts are
migrated forward when read (:func:`migrate`). It is read through a schema (one clear error
naming the field), every path in it must stay inside the folder, and each file's sha256 is
checked when a process first loads it (:meth:`Manifest.verified`).

Writing is one transaction (:func:`transaction`): new files get new names (their sha256 is in
the name), the manifest is replaced atomically as the commit point, and only then are files
no manifest names removed. A kill at any moment leaves the old set or the new one; the next
write removes what a killed one left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from . import fsio
from .errors import ModelError
from .limits import MAX_JSON_BYTES
from .names import is_valid_name
from .preprocessing import LAYOUTS, ModelInput, Preprocessing, three_numbers

FORMAT = "xception-maya-models"
VERSION = 2  # the newest layout this version reads and writes (1: no imported models)
MANIFEST = "manifest.json"
BACKBONE_FILE = "xception_backbone.onnx"  # the name before files carried their sha256
HEADS_DIR = "heads"
IMPORTED_DIR = "imported"  # imported ONNX models (xception-maya import)
ENV_MODELS = "XCEPTION_MAYA_MODELS"


def default_models_dir() -> Path:
    """``$XCEPTION_MAYA_MODELS``, else the ``models/`` folder of the module this package is in."""
    env = os.environ.get(ENV_MODELS)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parent.parent / "models"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelEntry:
    """The backbone: an ONNX file whose output is the 2048-d features."""

    file: str
    sha256: str
    opset: int | None = None
    input: str = ""
    output: str = ""
    source: Mapping[str, Any] = field(default_factory=dict)
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "sha256": self.sha256,
            "opset": self.opset,
            "input": self.input,
            "output": self.output,
            "source": dict(self.source),
        }
        if self.variants:
            out["variants"] = {k: dict(v) for k, v in self.variants.items()}
        return out


@dataclass(frozen=True)
class HeadEntry:
    file: str
    sha256: str
    labels: tuple[str, ...]
    preprocessing: Preprocessing
    backbone_sha256: str | None = None
    source: Mapping[str, Any] = field(default_factory=dict)

    @property
    def learned(self) -> bool:
        return self.source.get("kind") == "learned"

    def record(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "labels": list(self.labels),
            "input_size": self.preprocessing.size,
            "resize": self.preprocessing.resize,
            "backbone_sha256": self.backbone_sha256,
            "source": dict(self.source),
        }


@dataclass(frozen=True)
class ImportedModel:
    """An ONNX image model imported with its preprocessing: its own labels, no head."""

    file: str
    sha256: str
    input: str  # the input's name
    logits: str  # the output with one score per label
    labels: tuple[str, ...]
    preprocessing: ModelInput
    features: str | None = None  # a 2-D output of features, if the model has one
    probabilities: bool = False  # the scores output is already softmaxed
    batch: int | None = None  # a fixed batch size, or None: any
    source: Mapping[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        p = self.preprocessing
        return {
            "file": self.file,
            "sha256": self.sha256,
            "input": self.input,
            "outputs": {"logits": self.logits, "features": self.features},
            "scores": "probabilities" if self.probabilities else "logits",
            "batch": self.batch,
            "labels": list(self.labels),
            "preprocessing": {
                "height": p.height,
                "width": p.width,
                "resize": p.resize,
                "mean": list(p.mean),
                "std": list(p.std),
                "layout": p.layout,
            },
            "source": dict(self.source),
        }


@dataclass
class Manifest:
    root: Path
    backbone: ModelEntry
    heads: dict[str, HeadEntry] = field(default_factory=dict)
    default_head: str | None = None
    models: dict[str, ImportedModel] = field(default_factory=dict)

    @property
    def backbone_path(self) -> Path:
        return self.path_of(self.backbone.file)

    def head_path(self, name: str) -> Path:
        if name not in self.heads:
            known = ", ".join(sorted(self.heads)) or "none"
            raise ModelError(f"unknown head {name!r}; the manifest has: {known}")
        return self.path_of(self.heads[name].file)

    def path_of(self, relative: str) -> Path:
        """A manifest path, confined to the models folder (checked again here: links)."""
        path = self.root / relative
        try:
            inside = path.resolve().is_relative_to(self.root.resolve())
        except (OSError, RuntimeError):
            inside = False
        if not inside:
            raise ModelError(f"{self.root / MANIFEST}: {relative!r} leads outside {self.root}")
        return path

    def verified(self, relative: str, sha256: str) -> Path:
        """The file, after checking its sha256 (once per process while it is unchanged)."""
        path = self.path_of(relative)
        _check_sha256(path, sha256)
        return path

    def verified_backbone(self) -> Path:
        return self.verified(self.backbone.file, self.backbone.sha256)

    def verified_head(self, name: str) -> Path:
        self.head_path(name)  # the unknown-name error
        entry = self.heads[name]
        return self.verified(entry.file, entry.sha256)

    def verified_model(self, name: str) -> Path:
        """An imported model's file, its sha256 checked (see registry.resolve_model)."""
        if name not in self.models:
            known = ", ".join(sorted(self.models)) or "none"
            raise ModelError(f"unknown model {name!r}; imported models: {known}")
        entry = self.models[name]
        return self.verified(entry.file, entry.sha256)

    @classmethod
    def load(cls, root: str | os.PathLike[str] | None = None) -> Manifest:
        root = Path(root) if root is not None else default_models_dir()
        path = root / MANIFEST
        if not path.is_file():
            raise ModelError(
                f"no model manifest at {path}. Build the default model with "
                "`make models` (or `xception-maya setup`), or point "
                f"{ENV_MODELS} at a models folder."
            )
        try:
            if path.stat().st_size > MAX_JSON_BYTES:
                raise ModelError(f"{path} is over {MAX_JSON_BYTES} bytes: not a manifest")
            data = json.loads(path.read_text(encoding="utf8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path} is unreadable: {exc}") from exc
        return parse(root, data, where=str(path))

    def record(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "backbone": self.backbone.record(),
            "heads": {name: entry.record() for name, entry in self.heads.items()},
            "default_head": self.default_head,
            "models": {name: entry.record() for name, entry in self.models.items()},
        }

    def save(self) -> Path:
        """Replace the manifest atomically (use :func:`transaction` to change the folder)."""
        data = json.dumps(self.record(), indent=2) + "\n"
        return fsio.write_atomic(self.root / MANIFEST, data)

    def verify(self) -> list[str]:
        """Problems found comparing the manifest with the files on disk (empty: all good)."""
        problems = []
        entries = [("backbone", self.backbone.file, self.backbone.sha256)]
        entries += [(f"head {n}", h.file, h.sha256) for n, h in self.heads.items()]
        entries += [(f"model {n}", m.file, m.sha256) for n, m in self.models.items()]
        for what, relative, sha in entries:
            try:
                path = self.path_of(relative)
                if not path.is_file():
                    problems.append(f"{what}: {path} is missing")
                elif sha256_of(path) != sha:
                    problems.append(f"{what}: {path} does not match its sha256 in the manifest")
            except (ModelError, OSError) as exc:
                problems.append(f"{what}: {exc}")
        for name, head in self.heads.items():
            if head.backbone_sha256 and head.backbone_sha256 != self.backbone.sha256:
                problems.append(f"head {name}: trained on another backbone than the installed one")
        return problems


# --- the schema -------------------------------------------------------------------------------


def migrate(top: dict[str, Any], where: str) -> dict[str, Any]:
    """The manifest data in the newest layout (a copy; the file is rewritten at the next
    change). Version 1 had no imported models."""
    version = top.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelError(f"{where}: field 'version' must be a whole number, got {version!r}")
    if version > VERSION:
        raise ModelError(
            f"{where} was written by a newer xception-maya (manifest version {version}; this one "
            f"reads up to {VERSION}): upgrade xception-maya, or run `xception-maya setup --force`"
        )
    top = dict(top)
    if version == 1:
        top.setdefault("models", {})
        version = 2
    top["version"] = version
    return top


def parse(root: Path, data: object, *, where: str) -> Manifest:
    """A Manifest from the JSON data, or one ModelError naming the first bad field."""
    top = _object(data, where, "the manifest")
    if top.get("format") != FORMAT:
        raise ModelError(f"{where} is not an xception-maya manifest (format {top.get('format')!r})")
    top = migrate(top, where)
    backbone = _model(_object(top.get("backbone"), where, "backbone"), where)
    heads_data = _object(top.get("heads", {}), where, "heads")
    heads: dict[str, HeadEntry] = {}
    for name, value in heads_data.items():
        if not is_valid_name(name):
            raise ModelError(f"{where}: head name {name!r} is not a valid name")
        heads[name] = _head(_object(value, where, f"heads.{name}"), where, f"heads.{name}")
    default = top.get("default_head")
    if default is not None and (not isinstance(default, str) or default not in heads):
        raise ModelError(f"{where}: default_head {default!r} is not one of its heads")
    models: dict[str, ImportedModel] = {}
    for name, value in _object(top.get("models"), where, "models").items():
        if not is_valid_name(name):
            raise ModelError(f"{where}: model name {name!r} is not a valid name")
        what = f"models.{name}"
        models[name] = _imported(_object(value, where, what), where, what)
    manifest = Manifest(root, backbone, heads, default, models)
    files = [backbone.file, *(h.file for h in heads.values()), *(m.file for m in models.values())]
    for relative in files:
        manifest.path_of(relative)
    return manifest


def _object(value: object, where: str, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelError(f"{where}: {what} must be a JSON object, got {type(value).__name__}")
    return value


def _field(data: Mapping[str, Any], key: str, kind: type, where: str, what: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ModelError(
            f"{where}: field '{what}.{key}' must be {kind.__name__}, got {value!r:.60}"
        )
    return value


def _relative_file(data: Mapping[str, Any], where: str, what: str) -> str:
    text = _field(data, "file", str, where, what)
    pure = PurePosixPath(text.replace("\\", "/"))
    if not text or pure.is_absolute() or ":" in text or ".." in pure.parts:
        raise ModelError(f"{where}: '{what}.file' {text!r} must be a path inside the models folder")
    return pure.as_posix()


def _sha(data: Mapping[str, Any], key: str, where: str, what: str) -> str:
    value = _field(data, key, str, where, what)
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise ModelError(f"{where}: '{what}.{key}' must be a sha256 in hex, got {value!r:.70}")
    return str(value)


def _model(data: Mapping[str, Any], where: str) -> ModelEntry:
    opset = data.get("opset")
    if opset is not None and (not isinstance(opset, int) or isinstance(opset, bool)):
        raise ModelError(f"{where}: field 'backbone.opset' must be a whole number")
    variants = data.get("variants", {})
    if not isinstance(variants, dict) or not all(isinstance(v, dict) for v in variants.values()):
        raise ModelError(f"{where}: field 'backbone.variants' must map names to objects")
    return ModelEntry(
        file=_relative_file(data, where, "backbone"),
        sha256=_sha(data, "sha256", where, "backbone"),
        opset=opset,
        input=str(data.get("input", "")),
        output=str(data.get("output", "")),
        source=_object(data.get("source", {}), where, "backbone.source"),
        variants=variants,
    )


def _head(data: Mapping[str, Any], where: str, what: str) -> HeadEntry:
    labels = _field(data, "labels", list, where, what)
    if not labels or not all(isinstance(label, str) for label in labels):
        raise ModelError(f"{where}: field '{what}.labels' must be a non-empty list of text")
    size = _field(data, "input_size", int, where, what)
    resize = _field(data, "resize", str, where, what)
    try:
        preprocessing = Preprocessing(size, resize)
    except ModelError as exc:
        raise ModelError(f"{where}: {what}: {exc}") from None
    backbone = data.get("backbone_sha256")
    return HeadEntry(
        file=_relative_file(data, where, what),
        sha256=_sha(data, "sha256", where, what),
        labels=tuple(labels),
        preprocessing=preprocessing,
        backbone_sha256=None if backbone is None else _sha(data, "backbone_sha256", where, what),
        source=_object(data.get("source", {}), where, f"{what}.source"),
    )


def _imported(data: Mapping[str, Any], where: str, what: str) -> ImportedModel:
    labels = _field(data, "labels", list, where, what)
    if not labels or not all(isinstance(label, str) for label in labels):
        raise ModelError(f"{where}: field '{what}.labels' must be a non-empty list of text")
    outputs = _object(data.get("outputs"), where, f"{what}.outputs")
    logits = _field(outputs, "logits", str, where, f"{what}.outputs")
    features = outputs.get("features")
    if features is not None and not isinstance(features, str):
        raise ModelError(f"{where}: field '{what}.outputs.features' must be str or null")
    scores = data.get("scores", "logits")
    if scores not in ("logits", "probabilities"):
        raise ModelError(f"{where}: field '{what}.scores' must be 'logits' or 'probabilities'")
    batch = data.get("batch")
    if batch is not None and (not isinstance(batch, int) or isinstance(batch, bool) or batch < 1):
        raise ModelError(f"{where}: field '{what}.batch' must be a positive whole number or null")
    pre = _object(data.get("preprocessing"), where, f"{what}.preprocessing")
    layout = _field(pre, "layout", str, where, f"{what}.preprocessing")
    if layout not in LAYOUTS:
        raise ModelError(f"{where}: '{what}.preprocessing.layout' must be one of {LAYOUTS}")
    try:
        preprocessing = ModelInput(
            _field(pre, "height", int, where, f"{what}.preprocessing"),
            _field(pre, "width", int, where, f"{what}.preprocessing"),
            _field(pre, "resize", str, where, f"{what}.preprocessing"),
            three_numbers(pre.get("mean"), "mean"),
            three_numbers(pre.get("std"), "std"),
            layout,
        )
    except ModelError as exc:
        raise ModelError(f"{where}: {what}.preprocessing: {exc}") from None
    return ImportedModel(
        file=_relative_file(data, where, what),
        sha256=_sha(data, "sha256", where, what),
        input=_field(data, "input", str, where, what),
        logits=logits,
        labels=tuple(labels),
        preprocessing=preprocessing,
        features=features,
        probabilities=scores == "probabilities",
        batch=batch,
        source=_object(data.get("source", {}), where, f"{what}.source"),
    )


# --- checking files once per process ----------------------------------------------------------

_verified: dict[tuple[str, int, int], str] = {}
_verified_lock = threading.Lock()


def _check_sha256(path: Path, expected: str) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ModelError(f"{path} is missing; run `xception-maya setup` to rebuild") from None
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}") from None
    key = (str(path.resolve()), info.st_size, info.st_mtime_ns)
    with _verified_lock:
        if _verified.get(key) == expected:
            return
    try:
        got = sha256_of(path)
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc}") from None
    if got != expected:
        raise ModelError(
            f"{path} does not match its sha256 in the manifest (changed or damaged); "
            "run `xception-maya setup --force` to rebuild"
        )
    with _verified_lock:
        _verified[key] = expected


# --- changing the folder: one transaction ------------------------------------------------------


def content_name(stem: str, suffix: str, sha256: str) -> str:
    """A file name that changes with the content: the old file stays until the commit."""
    return f"{stem}-{sha256[:12]}{suffix}"


def write_content_file(
    root: Path, folder: str, stem: str, suffix: str, data: bytes
) -> tuple[str, str]:
    """Write ``data`` under a content name in ``root/folder``; returns (relative path, sha256).
    A file of the same content already there is kept as it is."""
    sha = hashlib.sha256(data).hexdigest()
    relative = (
        PurePosixPath(folder, content_name(stem, suffix, sha)).as_posix()
        if folder
        else (content_name(stem, suffix, sha))
    )
    path = root / relative
    if not (path.is_file() and path.stat().st_size == len(data) and sha256_of(path) == sha):
        fsio.write_atomic(path, data)
    return relative, sha


@contextlib.contextmanager
def transaction(root: Path) -> Iterator[None]:
    """Hold the folder's lock while files are added and the manifest replaced; afterwards
    remove what no manifest names and what killed runs left behind."""
    root.mkdir(parents=True, exist_ok=True)
    with fsio.folder_lock(root):
        yield
        collect_garbage(root)


def collect_garbage(root: Path) -> list[Path]:
    """Remove model and head files the manifest does not name, and temporary files. Called
    with the folder's lock held, so no other writer is between writing and committing."""
    try:
        current = Manifest.load(root)
    except ModelError:
        return []  # nothing committed, or unreadable: keep every file for the user to judge
    keep = {
        current.backbone_path.resolve(),
        *(current.head_path(n).resolve() for n in current.heads),
        *(current.path_of(m.file).resolve() for m in current.models.values()),
    }
    keep |= {
        current.path_of(str(v["file"])).resolve()
        for v in current.backbone.variants.values()
        if "file" in v
    }
    removed: list[Path] = []
    candidates = [*root.glob("xception_backbone*.onnx"), *(root / HEADS_DIR).glob("*.npz")]
    candidates += (root / IMPORTED_DIR).glob("*.onnx")
    for folder in (root, root / HEADS_DIR, root / IMPORTED_DIR):
        candidates += folder.glob(f".*{fsio.TEMP_SUFFIX}")
        candidates += folder.glob("*.tmp")  # what versions before 0.2 left when killed
    for path in candidates:
        if path.resolve() in keep or not path.is_file():
            continue
        with contextlib.suppress(OSError):  # open in another process on Windows: next time
            path.unlink()
            removed.append(path)
    return removed


def with_head(manifest: Manifest, name: str, entry: HeadEntry, *, make_default: bool) -> Manifest:
    heads = {**manifest.heads, name: entry}
    default = name if make_default or manifest.default_head is None else manifest.default_head
    return replace(manifest, heads=heads, default_head=default)


def with_model(manifest: Manifest, name: str, entry: ImportedModel) -> Manifest:
    return replace(manifest, models={**manifest.models, name: entry})
