"""Learn new tags from a few examples: a linear softmax head on the backbone features.

Why one module of ~530 lines: the model, its optimiser and the held-out estimate are one
algorithm whose parts are only used together.

The backbone stays frozen; only a single dense layer is trained, in numpy:

- **Model:** multinomial logistic regression on standardised features. The standardisation
  (per-feature mean and scale of the training examples) is folded into the kernel and bias
  afterwards, so the saved :class:`~xception_maya.heads.Head` is one dense layer with
  activation ``"linear"`` whose logits go through a softmax.
- **Objective:** class-balanced mean cross-entropy + ``l2 / 2 * ||W||^2`` (the bias is not
  penalised). Balancing weighs each tag equally however many examples it has, because users
  tag 40 wood textures and 3 metal ones. ``l2`` is per example (it does not shrink as examples
  are added); the default 1e-2 suits 2048 standardised features with a few to a few thousand
  examples.
- **Optimiser:** L-BFGS (10 pairs, Armijo backtracking) written here, started from zeros, so
  training is deterministic and needs no scipy. The problem is strongly convex; 1000x2048
  with 10 tags converges in well under a second.
- **Held-out accuracy:** leave-one-out when there are at most 30 examples, else stratified
  k-fold with ``k = min(5, fewest examples of a tag)``; folds are shuffled with ``seed``.
  It needs two examples of every tag (a tag's only example, held out, would leave the tag
  with nothing to learn from), otherwise it is ``None`` with the reason.
- **Unknown:** the head keeps its training examples' features as references (a seeded sample
  of ``limits.MAX_HEAD_REFERENCES`` when there are more) and says "unknown" for an image far
  from all of them: kNN cosine similarity (k = 3), its threshold set from the references'
  leave-one-out similarities (each judged against the others: their 5% quantile less
  a quarter of their spread; :mod:`xception_maya.unknown`). The head's own logits are not
  used: trained on a few examples they are large far from them too.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import unknown
from .errors import ImageError, ModelError, XceptionMayaError
from .fsio import kind_of
from .heads import Head
from .limits import MAX_HEAD_REFERENCES
from .preprocessing import Preprocessing

log = logging.getLogger(__name__)

FEATURES = 2048
DEFAULT_L2 = 1e-2
DEFAULT_MAX_ITERATIONS = 500
# At or below this many examples the held-out estimate is leave-one-out, above it k-fold.
LEAVE_ONE_OUT_UP_TO = 30
MAX_FOLDS = 5
IMAGE_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".bmp",
    ".tga",
    ".webp",
    ".exr",
    ".hdr",
)

ExtractFeatures = Callable[[list[Path]], np.ndarray]


def train_head(
    features: np.ndarray,
    labels: Sequence[str],
    *,
    name: str,
    input_size: int,
    resize: str,
    l2: float = DEFAULT_L2,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    balance: bool = True,
    holdout: bool = True,
    seed: int = 0,
) -> Head:
    """Train a head that tells the tags in ``labels`` apart.

    ``features`` is (N, 2048) backbone features, ``labels`` the tag of each row. The head's
    labels are the sorted unique tags. ``input_size`` and ``resize`` must be those the
    features were extracted with. ``holdout=False`` skips the held-out estimate (which
    trains the model once per fold) and records ``holdout_accuracy: None``.
    """
    Preprocessing(input_size, resize)  # the same checks as every head
    x, names = _check_examples(features, labels)
    kernel, bias, tags = _train(x, names, l2=l2, max_iterations=max_iterations, balance=balance)
    counts = Counter(names)
    extra: dict[str, Any] = {
        "kind": "learned",
        "trained_on": len(names),
        "examples_per_tag": {tag: counts[tag] for tag in tags},
        "holdout_accuracy": None,
        "l2": l2,
    }
    if holdout:
        result = evaluate_holdout(
            x, names, l2=l2, max_iterations=max_iterations, balance=balance, seed=seed
        )
        extra["holdout_accuracy"] = result["accuracy"]
        extra["holdout_scheme"] = result["scheme"]
        extra["holdout_per_tag"] = result["per_tag"]
        extra["holdout_reason"] = result["reason"]  # why there is no accuracy, if there is none
    references = _references(x, seed)
    novelty = unknown.fit(references, info={"references_from": "training examples"})
    return Head(
        name=name,
        labels=tags,
        input_size=input_size,
        resize=resize,
        kernels=[kernel.astype(np.float32)],
        biases=[bias.astype(np.float32)],
        activations=["linear"],
        extra=extra,
        novelty=novelty,
    )


def _references(x: np.ndarray, seed: int) -> np.ndarray:
    """The examples a learned head keeps to say "unknown": all, or a seeded sample."""
    if len(x) <= MAX_HEAD_REFERENCES:
        return x
    keep = np.random.default_rng(seed).choice(len(x), MAX_HEAD_REFERENCES, replace=False)
    return x[np.sort(keep)]


def evaluate_holdout(
    features: np.ndarray,
    labels: Sequence[str],
    *,
    l2: float = DEFAULT_L2,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    balance: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Estimate how often a new example gets the right tag.

    Leave-one-out for at most 30 examples, else stratified k-fold with
    ``k = min(5, fewest examples of a tag)``. Returns ``{"accuracy": float | None,
    "scheme": "leave-one-out" | "k-fold" | None, "folds": int, "per_tag": {tag: accuracy},
    "predictions": [tag per example, "" when not evaluated], "reason": str | None}``.
    """
    x, names = _check_examples(features, labels)
    counts = Counter(names)
    fewest_tag, fewest = min(sorted(counts.items()), key=lambda item: item[1])
    if fewest < 2:
        return {
            "accuracy": None,
            "scheme": None,
            "folds": 0,
            "per_tag": {},
            "predictions": [""] * len(names),
            "reason": f"tag {fewest_tag!r} has a single example; held-out accuracy needs two",
        }
    if len(names) <= LEAVE_ONE_OUT_UP_TO:
        scheme = "leave-one-out"
        folds = [np.array([i]) for i in range(len(names))]
    else:
        scheme = "k-fold"
        folds = _stratified_folds(names, min(MAX_FOLDS, fewest), seed)
    predictions = _predict_folds(x, names, folds, l2, max_iterations, balance)
    right = np.array([p == t for p, t in zip(predictions, names, strict=True)])
    tags = np.array(names)
    return {
        "accuracy": float(right.mean()),
        "scheme": scheme,
        "folds": len(folds),
        "per_tag": {tag: float(right[tags == tag].mean()) for tag in sorted(counts)},
        "predictions": predictions,
        "reason": None,
    }


def leave_one_out(
    features: np.ndarray,
    labels: Sequence[str],
    *,
    l2: float = DEFAULT_L2,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    balance: bool = True,
) -> tuple[float, list[str]]:
    """Train once per example without it and predict it: (accuracy, predicted tag per example).

    Any number of examples (it trains N times). An example whose tag has no other example
    cannot be predicted right and counts as a miss.
    """
    x, names = _check_examples(features, labels)
    folds = [np.array([i]) for i in range(len(names))]
    predictions = _predict_folds(x, names, folds, l2, max_iterations, balance)
    accuracy = float(np.mean([p == t for p, t in zip(predictions, names, strict=True)]))
    return accuracy, predictions


class ImageScan(NamedTuple):
    found: list[Path]  # the images, sorted
    skipped: list[tuple[Path, str]]  # image-named entries that cannot be read, with why


def image_files(folder: Path, recursive: bool = True) -> list[Path]:
    """Images under ``folder`` (in its sub-folders too unless ``recursive`` is false), sorted;
    hidden files and folders are left out. :func:`scan_images` also says what was skipped."""
    return scan_images(folder, recursive).found


def scan_images(folder: Path, recursive: bool = True) -> ImageScan:
    """The images under ``folder``, and every entry that looks like one (by its extension)
    or is a folder that could not be searched, with the reason it was skipped: a broken or
    looping symbolic link, a folder named like an image, a FIFO or device, no permission.
    Symbolic links to folders are followed, each folder searched once. Hidden files and
    folders, and files with other extensions, are left out without a word."""
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    searched: dict[tuple[int, int], Path] = {}

    def search(directory: Path, ancestors: frozenset[tuple[int, int]]) -> None:
        try:
            info = directory.stat()
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append((directory, f"cannot search this folder ({_os_reason(exc)})"))
            return
        identity = (info.st_dev, info.st_ino)
        if identity in ancestors:
            skipped.append((directory, "symbolic link loop: a folder it is inside of"))
            return
        if identity in searched:
            skipped.append((directory, f"the same folder as {searched[identity]}, searched once"))
            return
        searched[identity] = directory
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            looks_like_image = path.suffix.lower() in IMAGE_EXTENSIONS
            try:
                mode = os.stat(path).st_mode  # follows symbolic links
            except OSError as exc:
                if looks_like_image or entry.is_symlink():
                    skipped.append((path, _broken_link_reason(exc, entry.is_symlink())))
                continue
            if stat.S_ISDIR(mode):
                if looks_like_image:
                    skipped.append((path, "a folder, not an image file"))
                if recursive:
                    search(path, ancestors | {identity})
            elif looks_like_image:
                if stat.S_ISREG(mode):
                    found.append(path)
                else:
                    skipped.append((path, f"{kind_of(mode)}, not a regular file"))

    search(folder, frozenset())
    return ImageScan(sorted(found), skipped)


def _os_reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _broken_link_reason(exc: OSError, is_link: bool) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if is_link and isinstance(exc, FileNotFoundError):
        return "broken symbolic link (its target does not exist)"
    return f"cannot access it ({_os_reason(exc)})"


def learn_from_folders(
    root: str | Path,
    extract_features: ExtractFeatures,
    *,
    input_size: int,
    resize: str,
    name: str | None = None,
    l2: float = DEFAULT_L2,
    holdout: bool = True,
    batch_size: int = 32,
    seed: int = 0,
) -> Head:
    """Learn one tag per sub-folder of ``root`` (the folder name is the tag).

    Each tag folder is searched recursively, so ``wood/oak/*.jpg`` and ``wood/pine/*.jpg``
    are both "wood"; files with other extensions and hidden entries are ignored.
    ``extract_features(paths)`` returns (len(paths), 2048) features and raises
    (ImageError, OSError or ValueError) when an image cannot be read. Images that cannot be
    read are not dropped silently: they are logged and listed in
    ``head.extra["skipped"]`` as ``{"image", "reason"}``, together with images lying
    directly in ``root``. A tag left with no readable image raises ImageError.
    """
    root = Path(root)
    if not root.is_dir():
        raise ModelError(f"examples folder not found: {root}")
    skipped: list[dict[str, str]] = []
    for path in sorted(root.iterdir()):
        if path.is_file() and path.suffix.lower() in IMAGE_EXTENSIONS:
            skipped.append({"image": str(path), "reason": "not inside a tag folder"})
    folders = [p for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    if len(folders) < 2:
        found = ", ".join(repr(p.name) for p in folders) or "none"
        raise ModelError(f"{root}: need one sub-folder per tag, at least two; found {found}")

    rows: list[np.ndarray] = []
    names: list[str] = []
    for folder in folders:
        scan = scan_images(folder)
        paths = scan.found
        skipped.extend({"image": str(p), "reason": why} for p, why in scan.skipped)
        if not paths:
            raise ModelError(
                f"tag folder {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)}); "
                "add examples or remove the folder"
            )
        features, bad = _extract_all(paths, extract_features, batch_size)
        skipped.extend(bad)
        if len(features) == 0:
            reasons = "; ".join(f"{Path(b['image']).name}: {b['reason']}" for b in bad[:5])
            raise ImageError(f"no image of tag {folder.name!r} could be read ({reasons})")
        rows.append(features)
        names.extend([folder.name] * len(features))
    for item in skipped:
        log.warning("skipped %s: %s", item["image"], item["reason"])

    head = train_head(
        np.concatenate(rows),
        names,
        name=name or root.name,
        input_size=input_size,
        resize=resize,
        l2=l2,
        holdout=holdout,
        seed=seed,
    )
    head.extra["skipped"] = skipped
    return head


def _extract_all(
    paths: list[Path], extract_features: ExtractFeatures, batch_size: int
) -> tuple[np.ndarray, list[dict[str, str]]]:
    """Features of the readable images, and the unreadable ones with their reasons."""
    rows: list[np.ndarray] = []
    bad: list[dict[str, str]] = []
    for start in range(0, len(paths), max(1, batch_size)):
        batch = paths[start : start + max(1, batch_size)]
        try:
            rows.append(_extract_checked(batch, extract_features))
            continue
        except (XceptionMayaError, OSError, ValueError):
            pass
        # One bad image fails its whole batch: retry one by one to find it.
        for path in batch:
            try:
                rows.append(_extract_checked([path], extract_features))
            except (XceptionMayaError, OSError, ValueError) as exc:
                bad.append({"image": str(path), "reason": str(exc) or type(exc).__name__})
    features = np.concatenate(rows) if rows else np.zeros((0, FEATURES), np.float32)
    return features, bad


def _extract_checked(paths: list[Path], extract_features: ExtractFeatures) -> np.ndarray:
    features = np.asarray(extract_features(paths))
    if features.shape != (len(paths), FEATURES):
        raise ValueError(f"features of shape {features.shape}, expected ({len(paths)}, 2048)")
    if not np.isfinite(features).all():
        raise ValueError("features are not finite")
    return features


def _check_examples(features: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    x = np.asarray(features, dtype=np.float64)
    names = [str(label) for label in labels]
    if x.ndim != 2 or x.shape[1] != FEATURES:
        raise ModelError(f"features must be (N, {FEATURES}); got {x.shape}")
    if len(names) != len(x):
        raise ModelError(f"{len(x)} feature rows but {len(names)} labels")
    if not np.isfinite(x).all():
        raise ModelError("features hold NaN or infinite values")
    if any(not n for n in names):
        raise ModelError("every example needs a non-empty tag")
    tags = sorted(set(names))
    if len(tags) < 2:
        got = f"only {tags[0]!r}" if tags else "none"
        raise ModelError(f"need at least two tags to tell apart; got {got}")
    return x, names


def _train(
    x: np.ndarray, names: list[str], *, l2: float, max_iterations: int, balance: bool
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Fit on raw features; return the folded kernel (2048, K), bias (K,) and sorted tags."""
    tags = sorted(set(names))
    index = {tag: i for i, tag in enumerate(tags)}
    y = np.array([index[n] for n in names])
    counts = np.bincount(y, minlength=len(tags))
    weights = len(y) / (len(tags) * counts[y]) if balance else np.ones(len(y))
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    # Floor the scale so a (nearly) constant feature cannot blow up on a new image; a constant
    # feature standardises to 0 in training and keeps a zero weight.
    scale = np.maximum(std, 1e-2 * max(float(std.mean()), 1e-12))
    z = (x - mean) / scale
    w, b = _fit_softmax(z, y, len(tags), weights, l2, max_iterations)
    kernel = w / scale[:, None]
    bias = b - mean @ kernel
    return kernel, bias, tags


def _fit_softmax(
    z: np.ndarray,
    y: np.ndarray,
    classes: int,
    weights: np.ndarray,
    l2: float,
    max_iterations: int,
    tolerance: float = 1e-6,
    memory: int = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """L-BFGS on the weighted softmax cross-entropy + l2/2 ||W||^2; returns (W, b)."""
    n, d = z.shape
    onehot = np.zeros((n, classes))
    onehot[np.arange(n), y] = 1.0
    weights = weights / weights.sum()

    def loss_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w = theta[: d * classes].reshape(d, classes)
        b = theta[d * classes :]
        logits = z @ w + b
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        loss = -float(weights @ (log_p * onehot).sum(axis=1)) + 0.5 * l2 * float((w * w).sum())
        g = (np.exp(log_p) - onehot) * weights[:, None]
        grad_w = z.T @ g + l2 * w
        return loss, np.concatenate([grad_w.ravel(), g.sum(axis=0)])

    theta = np.zeros(d * classes + classes)
    loss, grad = loss_and_grad(theta)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    for _ in range(max_iterations):
        if np.abs(grad).max() < tolerance:
            break
        direction = -_two_loop(grad, steps)
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction: forget the curvature pairs
            steps.clear()
            direction, slope = -grad, -float(grad @ grad)
        # The first step has no curvature estimate: keep it small.
        step = 1.0 if steps else min(1.0, 1.0 / float(np.abs(grad).sum()))
        while True:
            new_theta = theta + step * direction
            new_loss, new_grad = loss_and_grad(new_theta)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-12:
                break
            step *= 0.5
        if new_loss >= loss:  # no step lowers the loss: as close to the optimum as floats allow
            break
        s, g_change = new_theta - theta, new_grad - grad
        sy = float(s @ g_change)
        if sy > 1e-12:
            steps.append((s, g_change, 1.0 / sy))
            if len(steps) > memory:
                steps.pop(0)
        converged = loss - new_loss <= 1e-12 * max(1.0, abs(loss))
        theta, loss, grad = new_theta, new_loss, new_grad
        if converged:
            break
    return theta[: d * classes].reshape(d, classes), theta[d * classes :]


def _two_loop(grad: np.ndarray, steps: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """L-BFGS's inverse-Hessian estimate times ``grad``."""
    q: np.ndarray = grad.copy()
    alphas = []
    for s, y, rho in reversed(steps):
        alpha = rho * float(s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if steps:
        s, y, _ = steps[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
        beta = rho * float(y @ q)
        q += (alpha - beta) * s
    return q


def _stratified_folds(names: list[str], k: int, seed: int) -> list[np.ndarray]:
    """k test sets, each tag's examples dealt round-robin after a seeded shuffle."""
    rng = np.random.default_rng(seed)
    tags = np.array(names)
    fold_of = np.empty(len(names), dtype=int)
    offset = 0
    for tag in sorted(set(names)):
        members = rng.permutation(np.flatnonzero(tags == tag))
        # Continue the round-robin where the last tag stopped so folds stay equal in size.
        fold_of[members] = (offset + np.arange(len(members))) % k
        offset += len(members)
    return [np.flatnonzero(fold_of == f) for f in range(k)]


def _predict_folds(
    x: np.ndarray,
    names: list[str],
    folds: list[np.ndarray],
    l2: float,
    max_iterations: int,
    balance: bool,
) -> list[str]:
    """Train without each fold and predict it; the predicted tag per example."""
    predictions = [""] * len(names)
    for test in folds:
        train = np.setdiff1d(np.arange(len(names)), test)
        train_names = [names[i] for i in train]
        tags = sorted(set(train_names))
        if len(tags) == 1:
            guesses = [tags[0]] * len(test)
        else:
            kernel, bias, tags = _train(
                x[train], train_names, l2=l2, max_iterations=max_iterations, balance=balance
            )
            guesses = [tags[i] for i in np.argmax(x[test] @ kernel + bias, axis=1)]
        for i, guess in zip(test, guesses, strict=True):
            predictions[i] = guess
    return predictions
