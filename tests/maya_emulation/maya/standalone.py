"""Emulated ``maya.standalone``: there is nothing to start, the emulation is ready on import."""

from __future__ import annotations

from typing import Any


def initialize(*args: Any, **kwargs: Any) -> None:
    from maya import cmds  # noqa: F401  (the scene and built-in types exist from here on)


def uninitialize(*args: Any, **kwargs: Any) -> None:
    return None
