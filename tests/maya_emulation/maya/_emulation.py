"""Test-only hooks into the emulation (no such module exists in Maya).

Everything a test may want to inspect or steer that real Maya exposes only through its UI or
not at all: the message log, the compute log, the application state (batch/interactive), the
viewport size, a simulated progress-bar cancel, and the record of UI elements created.
Portable tests should prefer ``tests/maya_session.py``'s helpers, which work on real Maya too.
"""

from __future__ import annotations

from typing import Any

from maya import _dg

# MGlobal.mayaState() values.
K_INTERACTIVE, K_BATCH, K_LIBRARY_APP, K_BASE_UI_MODE = 0, 1, 2, 3

STATE: dict[str, Any] = {
    # mayapy + maya.standalone.initialize() reports kLibraryApp; about(batch=True) is True.
    "maya_state": K_LIBRARY_APP,
    "viewport_size": (640, 480),
    # mainProgressBar: isCancelled turns True once this many steps were made (None: never).
    "cancel_after_steps": None,
    # colorManagementPrefs -cmEnabled; the rendering space is linear Rec.709 (sRGB primaries).
    "color_management": True,
}

# UI elements created by the UI commands: full path -> {"type", "parent", "flags"}.
UI: dict[str, dict[str, Any]] = {}
UI_PARENT: dict[str, str] = {"layout": "", "menu": ""}  # setParent's current layout and menu


def scene() -> _dg.Scene:
    return _dg.SCENE


def set_interactive(on: bool = True) -> None:
    """Make the emulation behave like an interactive Maya session (UI commands available)."""
    STATE["maya_state"] = K_INTERACTIVE if on else K_LIBRARY_APP
    if on:
        _ensure_main_ui()


def is_batch() -> bool:
    return STATE["maya_state"] != K_INTERACTIVE


def messages(kind: int | None = None) -> list[str]:
    """Texts reported through MGlobal.display*, cmds.warning/error and compute errors."""
    return [text for k, text in _dg.SCENE.messages if kind is None or k == kind]


def warnings() -> list[str]:
    return messages(_dg.K_WARNING)


def errors() -> list[str]:
    return messages(_dg.K_ERROR)


def compute_log() -> list[tuple[str, str]]:
    """(node name, plug path) for every compute() call, in order."""
    return list(_dg.SCENE.compute_log)


def compute_count(node: str, plug: str | None = None) -> int:
    return sum(1 for n, p in _dg.SCENE.compute_log if n == node and (plug is None or p == plug))


def simulate_cancel_after(steps: int | None) -> None:
    """The main progress bar reports isCancelled once ``steps`` steps were made."""
    STATE["cancel_after_steps"] = steps


def reset_session() -> None:
    """Forget messages, logs and UI, return to library (mayapy) state; keeps plug-ins."""
    _dg.SCENE.messages.clear()
    _dg.SCENE.compute_log.clear()
    UI.clear()
    UI_PARENT.update(layout="", menu="")
    STATE.update(
        maya_state=K_LIBRARY_APP,
        viewport_size=(640, 480),
        cancel_after_steps=None,
        color_management=True,
    )


def viewport_rgba(width: int, height: int) -> bytes:
    """What the emulated viewport shows, RGBA rows top first: red grows left to right,
    green grows bottom to top, blue is 64, alpha 255."""
    rows = []
    for top in range(height):
        green = round(255 * (height - 1 - top) / (height - 1)) if height > 1 else 0
        rows.append(
            b"".join(
                bytes((round(255 * x / (width - 1)) if width > 1 else 0, green, 64, 255))
                for x in range(width)
            )
        )
    return b"".join(rows)


def _ensure_main_ui() -> None:
    """The top-level UI an interactive Maya starts with."""
    UI.setdefault("MayaWindow", {"type": "window", "parent": "", "flags": {}})
    UI.setdefault(
        "MayaWindow|ShelfLayout", {"type": "shelfTabLayout", "parent": "MayaWindow", "flags": {}}
    )
    UI.setdefault(
        "MayaWindow|MainProgressBar",
        {"type": "progressBar", "parent": "MayaWindow", "flags": {"minValue": 0, "maxValue": 100}},
    )
