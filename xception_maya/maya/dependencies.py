"""The Python packages the product imports, with their lowest versions (pyproject.toml), and
the check the plug-in makes before importing any of them.

Standard library only: the plug-in entry imports this first, so a mayapy that lacks numpy,
Pillow or onnxruntime (the module installed by copying module.mod, without install.py)
gets one line naming what is missing and how to install it, not a bare ImportError.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Requirement:
    """A package the product imports, with the lowest version it works with (pyproject.toml)
    and the distributions that provide it (onnxruntime comes in several builds)."""

    name: str
    minimum: str
    provided_by: tuple[str, ...] = ()
    module: str = ""  # the name it is imported by, when not its own

    @property
    def distributions(self) -> tuple[str, ...]:
        return self.provided_by or (self.name,)

    @property
    def import_name(self) -> str:
        return self.module or self.name


ONNXRUNTIME_BUILDS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml")
RUNTIME = (
    Requirement("numpy", "1.24"),
    Requirement("Pillow", "10", module="PIL"),
    Requirement("onnxruntime", "1.16", ONNXRUNTIME_BUILDS),
)
BUILD = (Requirement("onnx", "1.15"), Requirement("h5py", "3.9"))  # the `build` extra


def missing(requirements: tuple[Requirement, ...] = RUNTIME) -> list[Requirement]:
    """The requirements that cannot be imported, without importing any of them."""
    found = []
    for req in requirements:
        try:
            spec = importlib.util.find_spec(req.import_name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            found.append(req)
    return found


def load_error(absent: list[Requirement], root: Path, plugin: str) -> str:
    """One line: what is missing and the two ways to install it."""
    names = ", ".join(r.name for r in absent)
    specs = " ".join(f"{r.name}>={r.minimum}" for r in RUNTIME)
    return (
        f"{plugin}: mayapy lacks {names}. Drag {root / 'install.py'} onto a Maya viewport "
        f"to install them, or run: mayapy -m pip install --user {specs}"
    )
