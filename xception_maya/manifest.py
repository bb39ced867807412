"""The models folder and its manifest (``models/manifest.json``).

The manifest names the backbone and every head, each with its sha256 and provenance, and for
each head its labels, input size and resize filter. It is written by the converter and the
set-up step, never by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ModelError

FORMAT = "xception-maya-models"
MANIFEST = "manifest.json"
BACKBONE_FILE = "xception_backbone.onnx"
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


@dataclass
class Manifest:
    root: Path
    backbone: dict[str, Any]
    heads: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_head: str | None = None

    @property
    def backbone_path(self) -> Path:
        return self.root / str(self.backbone["file"])

    def head_path(self, name: str) -> Path:
        if name not in self.heads:
            known = ", ".join(sorted(self.heads)) or "none"
            raise ModelError(f"unknown head {name!r}; the manifest has: {known}")
        return self.root / str(self.heads[name]["file"])

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
            data = json.loads(path.read_text(encoding="utf8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path} is unreadable: {exc}") from exc
        if data.get("format") != FORMAT:
            raise ModelError(f"{path} is not an xception-maya manifest")
        return cls(root, data["backbone"], data.get("heads", {}), data.get("default_head"))

    def save(self) -> Path:
        data = {
            "format": FORMAT,
            "version": 1,
            "backbone": self.backbone,
            "heads": self.heads,
            "default_head": self.default_head,
        }
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / MANIFEST
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf8")
        tmp.replace(path)  # atomic: a reader never sees half a manifest
        return path

    def verify(self) -> list[str]:
        """Problems found comparing the manifest with the files on disk (empty: all good)."""
        problems = []
        entries = [("backbone", self.backbone)] + [(f"head {n}", h) for n, h in self.heads.items()]
        for what, entry in entries:
            path = self.root / entry["file"]
            if not path.is_file():
                problems.append(f"{what}: {path} is missing")
            elif sha256_of(path) != entry.get("sha256"):
                problems.append(f"{what}: {path} does not match its sha256 in the manifest")
        if self.default_head and self.default_head not in self.heads:
            problems.append(f"default head {self.default_head!r} is not in the manifest")
        return problems
