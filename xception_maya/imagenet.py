"""ImageNet's 1000 classes: the weights ``keras.applications.Xception`` downloads, checked and
converted into the ``imagenet`` head, which becomes the default head.

The URL and hash are Keras's own (``keras/src/applications/xception.py``, Keras 3.x:
``WEIGHTS_PATH`` and the ``file_hash`` it gives ``get_file``). Keras publishes an md5 for this
file; the sha256 of what was installed is recorded in the manifest.

Used by ``xception-maya setup --imagenet`` and open to the Maya installer and Settings window:
:func:`install_imagenet` takes a progress callback and a log callback and never prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import download as dl
from . import manifest as mf
from .convert import convert, imagenet_labels
from .default_model import default_cache_dir
from .errors import ModelError
from .keras_weights import read_weights

WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/"
    "xception/xception_weights_tf_dim_ordering_tf_kernels.h5"
)
WEIGHTS_FILE = "xception_weights_tf_dim_ordering_tf_kernels.h5"
WEIGHTS_HASH = "0a58e3b7378bc2990ea3b43d5981f1f6"  # md5, as Keras gives it to get_file
WEIGHTS_MB = 92  # about (decimal MB, as the progress line counts), for messages
ENV_URL = "XCEPTION_MAYA_IMAGENET_URL"  # a studio mirror
HEAD_NAME = "imagenet"
CLASSES = 1000


@dataclass
class Installed:
    manifest: mf.Manifest
    weights: Path | None  # the file converted (the cached download, or the given file)
    up_to_date: bool = False  # nothing was done: the head was already installed
    dropped: list[str] = field(default_factory=list)  # heads made for other backbone weights


def weights_url(url: str | None = None) -> str:
    """``url``, else ``$XCEPTION_MAYA_IMAGENET_URL``, else Keras's URL."""
    return url or os.environ.get(ENV_URL) or WEIGHTS_URL


def is_installed(models_dir: Path, file_hash: str = WEIGHTS_HASH) -> bool:
    """The imagenet head is there, converted from a file with this hash, on the backbone in
    the folder, and every file matches the manifest."""
    try:
        manifest = mf.Manifest.load(models_dir)
    except ModelError:
        return False
    entry = manifest.heads.get(HEAD_NAME)
    if entry is None:
        return False
    return (
        entry.source.get(dl.hash_algorithm(file_hash)) == file_hash.lower()
        and entry.backbone_sha256 == manifest.backbone.sha256
        and not manifest.verify()
    )


def install_imagenet(
    models_dir: str | os.PathLike[str] | None = None,
    source: str | os.PathLike[str] | None = None,
    progress: dl.Progress | None = None,
    *,
    url: str | None = None,
    file_hash: str = WEIGHTS_HASH,
    cache_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    log: Callable[[str], object] | None = None,
) -> Installed:
    """Install the ``imagenet`` head (and its backbone) into ``models_dir`` and make it the
    default head. ``source``: a copy of Keras's weights file already on this machine;
    otherwise it is downloaded (resumably, into ``cache_dir``) from :func:`weights_url`.
    The file must have ``file_hash`` (md5 or sha256) before anything in ``models_dir`` is
    touched. ``progress(done_bytes, total_bytes)`` follows the download, ``log(line)`` the
    steps. Idempotent unless ``force``."""
    root = Path(models_dir) if models_dir is not None else mf.default_models_dir()
    say = log or (lambda line: None)
    expected = file_hash.strip().lower()
    if not force and is_installed(root, expected):
        say(f"ImageNet head up to date in {root}")
        return Installed(mf.Manifest.load(root), None, up_to_date=True)

    algorithm = dl.hash_algorithm(expected)
    origin: dict[str, str]
    if source is not None:
        weights = Path(source).expanduser()
        if not weights.is_file():
            raise ModelError(f"weights file not found: {weights}")
        say(f"checking {weights} ...")
        got = dl.file_digest(weights, algorithm)
        if got != expected:
            raise ModelError(
                f"{weights} has {algorithm} {got}, not {expected} (Keras's {WEIGHTS_FILE}); "
                "nothing was installed"
            )
        origin = {"file": weights.name}
    else:
        link = weights_url(url)
        cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        say(f"downloading {link} (about {WEIGHTS_MB} MB) ...")
        weights = dl.download(link, cache / WEIGHTS_FILE, expected, progress)
        origin = {"file": WEIGHTS_FILE, "url": link}

    read = read_weights(weights)  # refuse a file without the classifier before converting
    classes = read.head[-1].kernel.shape[1] if read.head else 0
    if classes != CLASSES:
        what = f"a {classes}-class head" if classes else "no classifier (a _notop file?)"
        raise ModelError(f"{weights} has {what}, not ImageNet's {CLASSES} classes")

    try:
        before = set(mf.Manifest.load(root).heads)
    except ModelError:
        before = set()
    say(f"converting {weights.name} ({read.layout} layout) -> {root} ...")
    manifest = convert(
        weights,
        root,
        head_name=HEAD_NAME,
        labels=imagenet_labels(),
        source={
            "kind": "imagenet",
            **origin,
            algorithm: expected,
            "sha256": mf.sha256_of(weights),
            "layout": read.layout,
        },
        make_default=True,
    )
    dropped = sorted(before - set(manifest.heads))
    return Installed(manifest, weights, dropped=dropped)
