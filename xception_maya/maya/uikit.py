"""Small helpers the shelf, menu and windows share (main thread, interactive Maya)."""

from __future__ import annotations

import maya.api.OpenMaya as om
from maya import cmds, mel

PROBLEM_COLOR = (0.55, 0.18, 0.18)
FINE_COLOR = (0.2, 0.4, 0.2)


def interactive() -> bool:
    return bool(om.MGlobal.mayaState() == om.MGlobal.kInteractive)


def mel_global(name: str) -> str:
    """A MEL global UI variable ($gMainWindow, $gShelfTopLevel); RuntimeError in batch or
    before Maya has declared it. Asked only once `env` lists it, so that reading an
    undeclared one does not print a MEL error."""
    if not interactive():
        raise RuntimeError(f"${name}: no UI in batch mode")
    try:
        declared = mel.eval("env")  # type: ignore[no-untyped-call]  # the stubs leave mel.eval unannotated
    except RuntimeError:
        declared = None  # cannot tell: read it and let MEL say
    if declared is not None and f"${name}" not in declared:
        raise RuntimeError(f"${name} is not declared yet")
    value = mel.eval(f"$xceptionMayaTmp = ${name}")  # type: ignore[no-untyped-call]  # the stubs leave mel.eval unannotated
    return str(value)


def close_window(window: str) -> None:
    if cmds.window(window, exists=True):
        cmds.deleteUI(window, window=True)


def option_int(name: str, default: int) -> int:
    if not cmds.optionVar(exists=name):
        return default
    try:
        return int(cmds.optionVar(query=name))
    except (TypeError, ValueError):
        return default


def text_of(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
