"""What the shelf buttons and menu items do: each action runs the plug-in's commands with
the saved settings, and reports a failure as one line (``run``), never as a traceback.

Modal dialogs are shown by ``prompt`` alone, so tests can answer them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import maya.api.OpenMaya as om
from maya import cmds

from . import doctor_window, library_window, settings, settings_window
from .feedback import UserError, reported
from .node import TYPE_NAME
from .settings_window import clamp_top_k
from .uikit import option_int

SETS_VAR = settings.PREFIX + "sets"  # int: xceptionTag makes one object set per tag
SIMILAR_K_VAR = settings.PREFIX + "similarK"  # int: how many textures Select similar selects
SIMILAR_K_DEFAULT = 5


def command(name: str) -> Callable[..., Any]:
    """A plug-in command by name (registered when the plug-in loads)."""
    found: Callable[..., Any] | None = getattr(cmds, name, None)
    if found is None:
        raise UserError(f"the {name} command is missing: load the xception_classifier plug-in")
    return found


def prompt(title: str, message: str, text: str = "") -> str | None:
    """Ask for one line of text; None when cancelled."""
    answer = cmds.promptDialog(
        title=title, message=message, text=text, button=["OK", "Cancel"],
        defaultButton="OK", cancelButton="Cancel", dismissString="Cancel",
    )  # fmt: skip
    if answer != "OK":
        return None
    return str(cmds.promptDialog(query=True, text=True))


def classify_selected() -> None:
    """An xceptionClassifier for each selected texture, with the saved settings."""
    prefs = settings.load()
    flags: dict[str, Any] = {"topK": clamp_top_k(prefs.top_k), "device": prefs.device}
    if prefs.head:
        flags["head"] = prefs.head
    created = command("xceptionCreate")(**flags)
    om.MGlobal.displayInfo(f"Xception: created {', '.join(created or [])}")


def capture_viewport() -> None:
    """The viewport into the selected classifier, or into a new one when none is selected."""
    chosen = cmds.ls(selection=True, type=TYPE_NAME) or []
    if len(chosen) > 1:
        raise UserError("select one xceptionClassifier, or none to make a new one")
    capture = command("xceptionCapture")
    created: str | None = None
    cmds.undoInfo(openChunk=True, chunkName="xceptionCaptureViewport")  # one undo step
    try:
        if chosen:
            target = str(chosen[0])
        else:
            target = created = _new_classifier("viewport_xception")
        capture(target, viewport=True)
        cmds.select(target, replace=True)
    except Exception:
        if created and cmds.objExists(created):
            cmds.delete(created)
        raise
    finally:
        cmds.undoInfo(closeChunk=True)
    om.MGlobal.displayInfo(f"Xception: captured the viewport into {target}")


def _new_classifier(name: str) -> str:
    prefs = settings.load()
    created = str(cmds.createNode(TYPE_NAME, name=name))
    cmds.setAttr(f"{created}.topK", clamp_top_k(prefs.top_k))
    cmds.setAttr(f"{created}.device", settings.DEVICES.index(prefs.device))
    if prefs.head:
        cmds.setAttr(f"{created}.head", prefs.head, type="string")
    return created


def _tag(selection: bool) -> None:
    flags: dict[str, Any] = {}
    if selection:
        flags["selection"] = True
    if option_int(SETS_VAR, 0):
        flags["sets"] = True
    command("xceptionTag")(**flags)


def tag_scene() -> None:
    _tag(selection=False)


def tag_selected() -> None:
    _tag(selection=True)


def select_similar() -> None:
    command("xceptionSimilar")(k=max(1, option_int(SIMILAR_K_VAR, SIMILAR_K_DEFAULT)))


def similar_options() -> None:
    """The option box of Select similar: how many textures it selects."""
    current = max(1, option_int(SIMILAR_K_VAR, SIMILAR_K_DEFAULT))
    answer = prompt("Select similar", "How many similar textures to select:", str(current))
    if answer is None:
        return
    try:
        k = int(answer.strip())
    except ValueError:
        raise UserError(f"{answer.strip()!r} is not a whole number") from None
    if k < 1:
        raise UserError("select at least 1 texture")
    cmds.optionVar(intValue=(SIMILAR_K_VAR, k))
    select_similar()


def label_selection() -> None:
    """Give the selected file textures a tag of the user's, for Train head to learn from."""
    textures = cmds.ls(selection=True, type="file") or []
    if not textures:
        raise UserError("select the file textures that show the tag first")
    answer = prompt("Learn tags", f"Tag for the {len(textures)} selected textures:")
    if answer is None:
        return
    tag = answer.strip()
    if not tag:
        raise UserError("no tag given")
    command("xceptionLabel")(*textures, tag=tag)
    om.MGlobal.displayInfo(
        f"Xception: {len(textures)} textures tagged {tag!r}; tag examples of other tags too, "
        "then Train head from labelled textures"
    )


def train_head() -> None:
    """Train a head on every labelled texture of the scene, under a name the user gives."""
    answer = prompt("Train head", "Name of the new head (letters, digits, _ . -):", "my_tags")
    if answer is None:
        return
    name = answer.strip()
    if not name:
        raise UserError("no head name given")
    command("xceptionLearn")(name=name)
    om.MGlobal.displayInfo(
        f"Xception: head {name!r} trained; choose it in Settings (Default head) or in a "
        "classifier's Head attribute"
    )


@dataclass(frozen=True)
class Action:
    label: str
    annotation: str
    icon: str
    function: Callable[[], object]


ACTIONS: dict[str, Action] = {
    "classify": Action(
        "Classify selected textures",
        "Create an xceptionClassifier for each selected file or texture node",
        "xceptionClassify.png", classify_selected,
    ),
    "capture": Action(
        "Capture viewport",
        "Classify the viewport: into the selected xceptionClassifier, or a new one",
        "xceptionCapture.png", capture_viewport,
    ),
    "tag": Action(
        "Tag scene",
        "Tag every file texture of the scene with its top labels (xceptionTag)",
        "xceptionTag.png", tag_scene,
    ),
    "tagSelected": Action(
        "Tag selected textures",
        "Tag the selected file textures with their top labels (xceptionTag -selection)",
        "xceptionTag.png", tag_selected,
    ),
    "similar": Action(
        "Select similar",
        "Select the file textures that look most like the selected one (xceptionSimilar)",
        "xceptionSimilar.png", select_similar,
    ),
    "similarOptions": Action(
        "Select similar options",
        "How many similar textures Select similar selects",
        "xceptionSimilar.png", similar_options,
    ),
    "library": Action(
        "Library...",
        "Search the texture library index by tag, text or similarity to the selected texture",
        "xceptionSimilar.png", lambda: library_window.show(),
    ),
    "label": Action(
        "Learn tags from selection...",
        "Give the selected file textures a tag of your own, to train a head on",
        "xceptionLearn.png", label_selection,
    ),
    "learn": Action(
        "Train head from labelled textures...",
        "Train a head on the textures you tagged, and save it under a name",
        "xceptionLearn.png", train_head,
    ),
    "settings": Action(
        "Settings...",
        "Device, default head, top-k, score threshold and library index",
        "xceptionSettings.png", lambda: settings_window.show(),
    ),
    "doctor": Action(
        "About / doctor...",
        "Versions, execution providers, which one runs, and model problems",
        "xceptionDoctor.png", lambda: doctor_window.show(),
    ),
}  # fmt: skip


def run(key: str) -> None:
    """What a shelf button or menu item runs: one action; a failure is one line."""
    action = ACTIONS.get(key)
    with reported(action.label if action else key):
        if action is None:
            raise UserError(f"no such action {key!r}")
        action.function()


# A shelf button runs a Python *string*: Maya writes shelves to the user's prefs, where only
# a string survives. Every button of ours starts with this import, which is how the shelf
# code tells our buttons from the user's.
SHELF_IMPORT = f"import {__name__} as _xa; "


def shelf_command(key: str) -> str:
    return f"{SHELF_IMPORT}_xa.run({key!r})"


def menu_command(key: str) -> Callable[..., None]:
    def run_it(*_: object) -> None:
        run(key)

    return run_it
