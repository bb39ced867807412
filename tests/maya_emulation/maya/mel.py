"""Emulated ``maya.mel``: only reading the global UI variables scripts commonly ask for."""

from __future__ import annotations

import re
from typing import Any

from maya import _emulation

_GLOBALS = {
    "gMainWindow": "MayaWindow",
    "gShelfTopLevel": "MayaWindow|ShelfLayout",
    "gMainProgressBar": "MayaWindow|MainProgressBar",
}


def eval(command: str) -> Any:
    """``$gMainProgressBar`` or ``$tmp = $gMainProgressBar``: the value; anything else fails."""
    _emulation.require_main_thread("mel.eval")
    match = re.fullmatch(r"\s*(?:\$\w+\s*=\s*)?\$(\w+)\s*;?\s*", command)
    if match is None:
        raise RuntimeError(
            f"Error occurred during execution of MEL script: {command!r} (MEL is not emulated)"
        )
    name = match.group(1)
    if name not in _GLOBALS or _emulation.is_batch():
        # In batch sessions the UI globals are undeclared.
        raise RuntimeError(
            f'Error occurred during execution of MEL script: "${name}" is an undeclared variable.'
        )
    return _GLOBALS[name]
