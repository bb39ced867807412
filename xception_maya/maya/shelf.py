"""The Xception shelf tab and main menu: built when the plug-in loads in an interactive Maya,
removed when it unloads, and never left behind.

Maya writes every shelf tab to ``<userShelfDir>/shelf_<name>.mel`` when it quits and loads
every file there when it starts, so a tab once shown outlives the module unless someone
removes both. The choice here: the shelf is rebuilt by the plug-in at each start, and removed
with its saved file when the plug-in unloads (``install.uninstall()`` unloads it) and when
Maya quits (kMayaExiting, so normally nothing is saved at all). Shipping a shelf_Xception.mel
on the module's MAYA_SHELF_PATH instead would not avoid the saved copy (Maya saves the shelves
it loaded to the user's prefs too), and could not follow the plug-in's version.

Which tab and buttons are ours is read from the shelf, not remembered: our buttons run
``import xception_maya.maya...`` strings, so a tab restored from the prefs after a restart
(Maya saved it before our exit callback ran, or crashed) is recognised too. A user's own
buttons on the Xception tab stay, and so does the tab then.
"""

from __future__ import annotations

import contextlib
import functools
import re
from pathlib import Path
from typing import Any

import maya.api.OpenMaya as om
from maya import cmds

from . import actions, doctor_window, library_window, settings_window
from .actions import ACTIONS, SETS_VAR, menu_command, shelf_command
from .feedback import first_line, reported, warn_once
from .uikit import close_window, interactive, mel_global, option_int

MENU = "xceptionMayaMenu"
SHELF = "Xception"
OUR_COMMANDS = "import xception_maya.maya."  # what every command of our buttons starts with
SHELF_ACTIONS = ("classify", "capture", "tag", "similar", "label", "settings", "doctor")
# A shelf button's right-click menu: the menu's other actions, so the shelf has them all.
SHELF_POPUPS = {
    "tag": ("tagSelected",), "similar": ("similarOptions", "library"), "label": ("learn",),
}  # fmt: skip
MENU_ACTIONS = (
    "classify", "capture", "|Tags", "tag", "tagSelected", "setsCheckbox", "similar",
    "similarOptionBox", "library", "|Learn", "label", "learn", "|", "settings", "doctor",
)  # fmt: skip

_state: dict[str, Any] = {"wanted": False, "exit_callback": None}


def install() -> None:
    """Build the shelf and the menu (interactive Maya only). Never raises: a failure is one
    warning, once. When Maya is still starting (the plug-in autoloads before the shelves
    exist) the build waits until Maya is idle."""
    if not interactive():
        return
    _state["wanted"] = True
    try:
        if _ui_ready():
            _build()
        else:
            cmds.evalDeferred(_build_deferred, lowestPriority=True)
    except Exception as exc:
        warn_once(f"xception-maya: the Xception shelf and menu were not built: {first_line(exc)}")


def uninstall() -> None:
    """Remove the menu, the windows, our shelf buttons, the tab when nothing else is on it,
    and its saved file. Never raises."""
    _state["wanted"] = False
    callback = _state["exit_callback"]
    if callback is not None:
        _state["exit_callback"] = None
        with contextlib.suppress(RuntimeError):  # gone with a previous session of the plug-in
            om.MMessage.removeCallback(callback)
    if not interactive():
        return
    try:
        for window in (settings_window.WINDOW, doctor_window.WINDOW, library_window.WINDOW):
            close_window(window)
        if cmds.menu(MENU, exists=True):
            cmds.deleteUI(MENU, menu=True)
        remove_shelf()
    except Exception as exc:
        warn_once(f"xception-maya: the Xception shelf or menu was not removed: {first_line(exc)}")


def _ui_ready() -> bool:
    try:
        mel_global("gMainWindow")
        top = mel_global("gShelfTopLevel")
    except RuntimeError:
        return False
    return bool(cmds.shelfTabLayout(top, exists=True)) and bool(
        cmds.shelfTabLayout(top, query=True, numberOfChildren=True)
    )


def _build_deferred() -> None:
    if not _state["wanted"]:
        return  # unloaded before Maya got to it
    try:
        _build()
    except Exception as exc:
        warn_once(f"xception-maya: the Xception shelf and menu were not built: {first_line(exc)}")


def _build() -> None:
    build_menu(mel_global("gMainWindow"))
    build_shelf(mel_global("gShelfTopLevel"))
    previous = _state["exit_callback"]
    if previous is not None:  # built again: one callback, not one per build
        with contextlib.suppress(RuntimeError):
            om.MMessage.removeCallback(previous)
    _state["exit_callback"] = om.MSceneMessage.addCallback(om.MSceneMessage.kMayaExiting, _on_exit)


def _on_exit(*_: object) -> None:
    """Maya is quitting: take the tab away before Maya saves the shelves."""
    with contextlib.suppress(Exception):  # Maya is quitting; nobody is left to tell
        remove_shelf()


# --- the shelf ----------------------------------------------------------------------------


def shelf_path() -> str | None:
    try:
        return f"{mel_global('gShelfTopLevel')}|{SHELF}"
    except RuntimeError:
        return None


def saved_shelf_file() -> Path:
    """Where Maya saves the Xception tab when it quits."""
    return Path(cmds.internalVar(userShelfDir=True)) / f"shelf_{SHELF}.mel"


def build_shelf(top: str) -> str:
    """The Xception tab under ``top`` with our buttons: created if missing; on an existing
    one (restored from the prefs, or holding a user's buttons) only our buttons are
    replaced."""
    path = f"{top}|{SHELF}"
    if cmds.shelfLayout(path, exists=True):
        _remove_our_buttons(path)
    else:
        path = str(cmds.shelfLayout(SHELF, parent=top))
    for key in SHELF_ACTIONS:
        action = ACTIONS[key]
        popups = SHELF_POPUPS.get(key, ())
        flags: dict[str, Any] = {}
        if popups:
            flags["menuItem"] = [(ACTIONS[k].label, shelf_command(k)) for k in popups]
            flags["menuItemPython"] = list(range(len(popups)))
        cmds.shelfButton(
            parent=path, label=action.label, annotation=action.annotation, image=action.icon,
            style="iconOnly", command=shelf_command(key), sourceType="python", **flags,
        )  # fmt: skip
    return path


def remove_shelf() -> None:
    """Our buttons go; the tab and its saved file go too unless a user's buttons are on it."""
    path = shelf_path()
    mine_only = True
    if path and cmds.shelfLayout(path, exists=True):
        _remove_our_buttons(path)
        if cmds.shelfLayout(path, query=True, childArray=True):
            mine_only = False
        else:
            cmds.deleteUI(path, layout=True)
    saved = saved_shelf_file()
    if mine_only and saved.is_file() and _is_our_shelf_file(saved):
        saved.unlink()


def _remove_our_buttons(path: str) -> None:
    for child in cmds.shelfLayout(path, query=True, childArray=True) or []:
        if _is_our_button(f"{path}|{child}"):
            cmds.deleteUI(f"{path}|{child}")


def _is_our_button(path: str) -> bool:
    try:
        command = cmds.shelfButton(path, query=True, command=True)
    except (RuntimeError, ValueError):
        return False  # not a shelf button (a separator)
    return isinstance(command, str) and command.startswith(OUR_COMMANDS)


_COMMAND_FLAG = re.compile(r'-command\s+"((?:[^"\\]|\\.)*)"')


def _is_our_shelf_file(path: Path) -> bool:
    """A saved shelf whose every button runs one of our commands."""
    try:
        text = path.read_text(encoding="utf8", errors="replace")
    except OSError:
        return False
    return all(c.startswith(OUR_COMMANDS) for c in _COMMAND_FLAG.findall(text))


# --- the menu -----------------------------------------------------------------------------


def build_menu(main_window: str) -> str:
    """The Xception main menu (tear-off), rebuilt from scratch."""
    if cmds.menu(MENU, exists=True):
        cmds.deleteUI(MENU, menu=True)
    menu = str(cmds.menu(MENU, label="Xception", parent=main_window, tearOff=True))
    for key in MENU_ACTIONS:
        if key.startswith("|"):
            if key[1:]:
                cmds.menuItem(parent=menu, divider=True, dividerLabel=key[1:])
            else:
                cmds.menuItem(parent=menu, divider=True)
        elif key == "setsCheckbox":
            item = str(
                cmds.menuItem(
                    parent=menu, label="Make a set per tag",
                    checkBox=bool(option_int(SETS_VAR, 0)),
                    annotation="Tagging also puts each texture in the object set of its top tag",
                )
            )  # fmt: skip
            cmds.menuItem(item, edit=True, command=functools.partial(_sets_toggled, item))
        elif key == "similarOptionBox":
            cmds.menuItem(
                parent=menu, optionBox=True, annotation=ACTIONS["similarOptions"].annotation,
                command=menu_command("similarOptions"),
            )  # fmt: skip
        else:
            action = ACTIONS[key]
            cmds.menuItem(
                parent=menu, label=action.label, annotation=action.annotation,
                image=action.icon, command=menu_command(key),
            )  # fmt: skip
    return menu


def _sets_toggled(menu_item: str, *_: object) -> None:
    with reported("Make a set per tag"):
        on = bool(cmds.menuItem(menu_item, query=True, checkBox=True))
        cmds.optionVar(intValue=(actions.SETS_VAR, int(on)))
