"""Which head a name means: the one lookup the CLI, the node, the UI and the commands use.

A head spec is, in this order:

- ``None``, ``""`` or ``"default"``: the manifest's default head (none if it has none);
- ``"none"``: no head, features only;
- the name of a head in the manifest;
- the name of a head a user learned in Maya, in ``user_heads`` (the Maya layer passes its
  user folder in; the core never asks Maya where it is);
- a path to a head file (``.npz``).

Names follow :func:`xception_maya.names.validate_name`.

A model spec (:func:`resolve_model`) is ``None``, ``""`` or ``"default"`` for the Xception
backbone with its heads, or the name of a model imported with ``xception-maya import``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError
from .heads import Head
from .manifest import ImportedModel, Manifest
from .names import is_valid_name

HEAD_SUFFIX = ".npz"


@dataclass(frozen=True)
class HeadChoice:
    """A head a user can pick by name."""

    name: str
    where: str  # "manifest" or "user"
    path: Path
    is_default: bool = False


def head_path(
    spec: str | os.PathLike[str] | None, manifest: Manifest, *, user_heads: Path | None = None
) -> Path | None:
    """The file a head spec names, or ``None`` for no head. Raises ModelError for an unknown
    name, listing the known ones."""
    text = "" if spec is None else os.fspath(spec).strip()
    if text.lower() == "none":
        return None
    if text.lower() in ("", "default"):
        if not manifest.default_head:
            return None
        text = manifest.default_head
    if text in manifest.heads:
        return manifest.verified_head(text)
    if user_heads is not None and is_valid_name(text):
        learned = user_heads / f"{text}{HEAD_SUFFIX}"
        if learned.is_file():
            return learned
    if text.endswith(HEAD_SUFFIX) or os.sep in text or "/" in text:
        return Path(text).expanduser()
    known = ", ".join(c.name for c in list_heads(manifest, user_heads=user_heads)) or "none"
    raise ModelError(f"unknown head {text!r}; known heads: {known}")


def resolve_head(
    spec: str | os.PathLike[str] | None, manifest: Manifest, *, user_heads: Path | None = None
) -> Head | None:
    """The head a spec names, loaded and validated, or ``None`` for no head."""
    path = head_path(spec, manifest, user_heads=user_heads)
    return None if path is None else Head.load(path)


def list_heads(manifest: Manifest, *, user_heads: Path | None = None) -> list[HeadChoice]:
    """Every head a user can pick by name: the manifest's, then the learned ones."""
    found = [
        HeadChoice(name, "manifest", manifest.root / entry.file, name == manifest.default_head)
        for name, entry in manifest.heads.items()
    ]
    if user_heads is not None and user_heads.is_dir():
        taken = {c.name for c in found}
        for path in sorted(user_heads.glob(f"*{HEAD_SUFFIX}")):
            name = path.name[: -len(HEAD_SUFFIX)]
            if is_valid_name(name) and name not in taken and path.is_file():
                found.append(HeadChoice(name, "user", path))
    return found


def resolve_model(spec: str | None, manifest: Manifest) -> ImportedModel | None:
    """The imported model a spec names, or ``None`` for the default (the Xception backbone
    and its heads). Raises ModelError for an unknown name, listing the known ones."""
    text = (spec or "").strip()
    if text.lower() in ("", "default"):
        return None
    if text in manifest.models:
        return manifest.models[text]
    known = ", ".join(["default", *list_models(manifest)])
    raise ModelError(f"unknown model {text!r}; known models: {known}")


def list_models(manifest: Manifest) -> list[str]:
    """The names of the imported models, in the manifest's order."""
    return list(manifest.models)
