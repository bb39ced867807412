"""Test-only hooks into the emulation (no such module exists in Maya).

Everything a test may want to inspect or steer that real Maya exposes only through its UI or
not at all: the message log, the compute log, the application state (batch/interactive), the
viewport size, a simulated progress-bar cancel, and the record of UI elements created.
Portable tests should prefer ``tests/maya_session.py``'s helpers, which work on real Maya too.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
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

# maya.utils.executeDeferred's queue: run by maya.utils.processIdleEvents(), as Maya runs it
# when it is idle. Any thread may add to it; only the main thread runs it.
DEFERRED: list[Callable[[], Any]] = []
DEFERRED_LOCK = threading.Lock()

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


def compute_on_worker_thread(on: bool = True) -> None:
    """Run every compute() on a worker thread, as the Evaluation Manager may in parallel
    mode; there maya.cmds, MEL, UI commands and MGlobal.display* raise RuntimeError."""
    _dg.SCENE.compute_on_worker = on


def require_main_thread(what: str) -> None:
    """What Maya does to a command called off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError(
            f"{what}: Maya commands and UI can only be called from the main thread "
            f"(called from {threading.current_thread().name})"
        )


def deferred_count() -> int:
    with DEFERRED_LOCK:
        return len(DEFERRED)


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
    _dg.SCENE.compute_on_worker = False
    with DEFERRED_LOCK:
        DEFERRED.clear()
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


# --- quitting and starting Maya: shelves persist in the user's prefs ------------------------

SHELF_TOP = "MayaWindow|ShelfLayout"
_MULTI_ARG_FLAGS = {"menuItem": 2}  # shelfButton flags taking several arguments per use


QUIT_ORDERS = ("exit-first", "save-first", "crash")


def quit_maya(how: str = "exit-first") -> None:
    """What quitting an interactive Maya does that outlives it: kMayaExiting callbacks run
    and every shelf tab is written to ``<userShelfDir>/shelf_<name>.mel``. Maya documents no
    order between the two: "exit-first" runs the callbacks first, "save-first" saves first;
    "crash" does neither (shelves saved earlier, e.g. with Save All Shelves, stay). Loaded
    plug-ins are forgotten without their uninitializePlugin (Maya documents no unload at
    exit either). Nothing else survives: the UI, the callbacks and the deferred calls."""
    from maya import cmds
    from maya.api import OpenMaya as om

    if how not in QUIT_ORDERS:
        raise ValueError(f"how must be one of {QUIT_ORDERS}")
    steps = {
        "exiting": lambda: _dg.SCENE.fire(f"scene:{om.MSceneMessage.kMayaExiting}", None),
        "save": save_all_shelves,
    }
    order = {"exit-first": ("exiting", "save"), "save-first": ("save", "exiting")}.get(how, ())
    for step in order:
        steps[step]()
    for plugin in list(om.PLUGINS.values()):
        cmds._forget_plugin(plugin)
    # Callbacks die with the session, but for the command-output ones: the test harness
    # (maya_session) captures messages with one and outlives the emulated Maya.
    for cid, (event, _key, _fn) in list(_dg.SCENE.callbacks.items()):
        if event != "output":
            del _dg.SCENE.callbacks[cid]
    UI.clear()
    UI_PARENT.update(layout="", menu="")
    with DEFERRED_LOCK:
        DEFERRED.clear()


def save_all_shelves() -> None:
    """Shelf Editor > Save All Shelves (and what quitting does): every tab to its file."""
    from maya import cmds

    if not is_batch():
        _save_shelves(cmds.internalVar(userShelfDir=True))


def start_maya() -> None:
    """A new session: a new scene, and in an interactive one the main window with every
    shelf saved in the user's prefs (every shelf_*.mel there is loaded, as Maya does)."""
    from maya import cmds

    cmds.file(new=True, force=True)
    if is_batch():
        return
    _ensure_main_ui()
    folder = cmds.internalVar(userShelfDir=True)
    if os.path.isdir(folder):
        for name in sorted(os.listdir(folder)):
            match = re.fullmatch(r"shelf_(\w+)\.mel", name)
            if match:
                _load_shelf(match.group(1), os.path.join(folder, name))


def restart_maya(how: str = "exit-first") -> None:
    quit_maya(how)
    start_maya()


def _mel_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _mel_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return _mel_string(str(value))


def _save_shelves(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    for path, entry in UI.items():
        if entry["type"] != "shelfLayout" or entry["parent"] != SHELF_TOP:
            continue
        name = path.rsplit("|", 1)[-1]
        lines = [f"global proc shelf_{name} () {{"]
        for button in UI.values():
            if button["parent"] != path or button["type"] != "shelfButton":
                continue
            lines.append("    shelfButton")
            for flag, value in button["flags"].items():
                if flag == "parent":
                    continue
                uses = value if isinstance(value, list) else [value]
                for use in uses:
                    parts = use if isinstance(use, (list, tuple)) else [use]
                    lines.append(f"        -{flag} " + " ".join(_mel_value(p) for p in parts))
            lines.append("    ;")
        lines.append("}")
        with open(os.path.join(folder, f"shelf_{name}.mel"), "w", encoding="utf8") as f:
            f.write("\n".join(lines) + "\n")


_TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\S+)')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def _parse_value(token: tuple[str, str]) -> Any:
    quoted, bare = token
    if not bare:
        return _unescape(quoted)
    try:
        return int(bare)
    except ValueError:
        return float(bare)


def _load_shelf(name: str, path: str) -> None:
    from maya import cmds

    with open(path, encoding="utf8") as f:
        text = f.read()
    shelf = cmds.shelfLayout(name, parent=SHELF_TOP)
    for body in re.findall(r"shelfButton\s(.*?)\n\s*;", text, flags=re.S):
        tokens = [m.groups("") for m in _TOKEN.finditer(body)]
        flags: dict[str, Any] = {}
        i = 0
        while i < len(tokens):
            flag = tokens[i][1].lstrip("-")
            count = _MULTI_ARG_FLAGS.get(flag, 1)
            values = [_parse_value(t) for t in tokens[i + 1 : i + 1 + count]]
            value: Any = tuple(values) if count > 1 else values[0]
            if flag in flags:
                previous = flags[flag]
                flags[flag] = (
                    [*previous, value] if isinstance(previous, list) else [previous, value]
                )
            elif count > 1 or flag.endswith("Python"):
                flags[flag] = [value]  # repeated-use flags are lists even once
            else:
                flags[flag] = value
            i += 1 + count
        cmds.shelfButton(parent=shelf, **flags)
