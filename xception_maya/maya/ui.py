"""The Xception shelf and main menu, the Settings and About / doctor windows, and the Python
half of the Attribute Editor template (``scripts/AExceptionClassifierTemplate.mel``).

The plug-in builds the shelf and menu when it loads in an interactive Maya and removes them
when it unloads; in batch (mayapy, render farm) nothing here does anything. Every action
reports a failure as one line in the Script Editor (a warning for something the user can fix,
an error otherwise), never as a traceback dialog.

Shelf buttons run Python *strings* (``import xception_maya.maya.ui as _xui; _xui.run(...)``),
not callables: Maya saves every shelf tab to the user's prefs when it quits, and only a string
survives that. Menu items, which are never saved, take callables.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import maya.api.OpenMaya as om
from maya import cmds, mel

from .. import doctor
from ..errors import XceptionMayaError
from ..manifest import Manifest
from . import node, settings

MENU = "xceptionMayaMenu"
SHELF = "Xception"
SETTINGS_WINDOW = "xceptionMayaSettings"
DOCTOR_WINDOW = "xceptionMayaDoctor"
SETS_VAR = settings.PREFIX + "sets"  # int: xceptionTag makes one object set per tag
SIMILAR_K_VAR = settings.PREFIX + "similarK"  # int: how many textures Select similar selects
SIMILAR_K_DEFAULT = 5
DEFAULT_HEAD = "default"  # the Settings label for "the manifest's default head" (head "")
PROBLEM_COLOR = (0.55, 0.18, 0.18)
FINE_COLOR = (0.2, 0.4, 0.2)

# Settings window controls (names unique inside the window, so tests can find them).
DEVICE_MENU = "xceptionMayaDevice"
HEAD_MENU = "xceptionMayaHead"
TOP_K_SLIDER = "xceptionMayaTopK"
THRESHOLD_SLIDER = "xceptionMayaThreshold"
SAVE_BUTTON = "xceptionMayaSave"

# The Attribute Editor's "Results" control and the inputs whose change refreshes it.
RESULTS_LAYOUT = "xceptionResults"
AE_WATCHED = (
    "imageFile", "colorSpace", "frame", "pixels", "pixelWidth", "pixelHeight",
    "topK", "head", "device", "enable",
)  # fmt: skip


class UserError(Exception):
    """Something the user can fix (nothing selected, no name given): one warning line."""


# --- running actions ------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def reported(what: str) -> Iterator[None]:
    """Run the block; a failure becomes exactly one line in the Script Editor, never an
    exception. The plug-in's commands already print their own error line before they raise,
    so an error shown while the block ran is not repeated."""
    shown: list[str] = []

    def listen(message: str, kind: int, client_data: object = None) -> None:
        if kind == om.MCommandMessage.kError:
            shown.append(message)

    callback = om.MCommandMessage.addCommandOutputCallback(listen)
    try:
        yield
    except UserError as exc:
        om.MGlobal.displayWarning(f"Xception: {what}: {exc}")
    except Exception as exc:  # an action must never raise into a button or menu
        if not shown:
            om.MGlobal.displayError(f"Xception: {what}: {_first_line(exc)}")
    finally:
        om.MMessage.removeCallback(callback)


def _command(name: str) -> Callable[..., Any]:
    """A plug-in command by name (some are written alongside this module)."""
    found: Callable[..., Any] | None = getattr(cmds, name, None)
    if found is None:
        raise UserError(f"the {name} command is missing: load the xception_classifier plug-in")
    return found


def _prompt(title: str, message: str, text: str = "") -> str | None:
    """Ask for one line of text; None when cancelled."""
    answer = cmds.promptDialog(
        title=title, message=message, text=text, button=["OK", "Cancel"],
        defaultButton="OK", cancelButton="Cancel", dismissString="Cancel",
    )  # fmt: skip
    if answer != "OK":
        return None
    return str(cmds.promptDialog(query=True, text=True))


def _option_int(name: str, default: int) -> int:
    if not cmds.optionVar(exists=name):
        return default
    try:
        return int(cmds.optionVar(query=name))
    except (TypeError, ValueError):
        return default


# --- the actions ----------------------------------------------------------------------------


def classify_selected() -> None:
    """An xceptionClassifier for each selected texture, with the saved settings."""
    prefs = settings.load()
    flags: dict[str, Any] = {"topK": _top_k(prefs.top_k), "device": prefs.device}
    if prefs.head:
        flags["head"] = prefs.head
    created = _command("xceptionCreate")(**flags)
    om.MGlobal.displayInfo(f"Xception: created {', '.join(created or [])}")


def capture_viewport() -> None:
    """The viewport into the selected classifier, or into a new one when none is selected."""
    chosen = cmds.ls(selection=True, type=node.TYPE_NAME) or []
    if len(chosen) > 1:
        raise UserError("select one xceptionClassifier, or none to make a new one")
    capture = _command("xceptionCapture")
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
    created = str(cmds.createNode(node.TYPE_NAME, name=name))
    cmds.setAttr(f"{created}.topK", _top_k(prefs.top_k))
    cmds.setAttr(f"{created}.device", node.DEVICES.index(prefs.device))
    if prefs.head:
        cmds.setAttr(f"{created}.head", prefs.head, type="string")
    return created


def _top_k(value: int) -> int:
    return max(1, min(node.MAX_TOP_K, int(value)))


def _tag(selection: bool) -> None:
    flags: dict[str, Any] = {}
    if selection:
        flags["selection"] = True
    if _option_int(SETS_VAR, 0):
        flags["sets"] = True
    _command("xceptionTag")(**flags)


def tag_scene() -> None:
    _tag(selection=False)


def tag_selected() -> None:
    _tag(selection=True)


def select_similar() -> None:
    _command("xceptionSimilar")(k=max(1, _option_int(SIMILAR_K_VAR, SIMILAR_K_DEFAULT)))


def similar_options() -> None:
    """The option box of Select similar: how many textures it selects."""
    current = max(1, _option_int(SIMILAR_K_VAR, SIMILAR_K_DEFAULT))
    answer = _prompt("Select similar", "How many similar textures to select:", str(current))
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
    answer = _prompt("Learn tags", f"Tag for the {len(textures)} selected textures:")
    if answer is None:
        return
    tag = answer.strip()
    if not tag:
        raise UserError("no tag given")
    _command("xceptionLabel")(*textures, tag=tag)
    om.MGlobal.displayInfo(
        f"Xception: {len(textures)} textures tagged {tag!r}; tag examples of other tags too, "
        "then Train head from labelled textures"
    )


def train_head() -> None:
    """Train a head on every labelled texture of the scene, under a name the user gives."""
    answer = _prompt("Train head", "Name of the new head (letters, digits, _ . -):", "my_tags")
    if answer is None:
        return
    name = answer.strip()
    if not name:
        raise UserError("no head name given")
    _command("xceptionLearn")(name=name)
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
        "Device, default head, top-k and score threshold",
        "xceptionSettings.png", lambda: show_settings(),
    ),
    "doctor": Action(
        "About / doctor...",
        "Versions, execution providers, which one runs, and model problems",
        "xceptionDoctor.png", lambda: show_doctor(),
    ),
}  # fmt: skip

SHELF_ACTIONS = ("classify", "capture", "tag", "similar", "label", "settings", "doctor")
# A shelf button's right-click menu: the menu's other actions, so the shelf has them all.
SHELF_POPUPS = {"tag": ("tagSelected",), "similar": ("similarOptions",), "label": ("learn",)}


def run(key: str) -> None:
    """What a shelf button or menu item runs: one action; a failure is one line."""
    action = ACTIONS.get(key)
    with reported(action.label if action else key):
        if action is None:
            raise UserError(f"no such action {key!r}")
        action.function()


def _shelf_command(key: str) -> str:
    return f"import {__name__} as _xui; _xui.run({key!r})"


def _menu_command(key: str) -> Callable[..., None]:
    def command(*_: object) -> None:
        run(key)

    return command


# --- install / uninstall --------------------------------------------------------------------

_state = {"wanted": False, "created_shelf": False}
_warned: set[str] = set()


def _interactive() -> bool:
    return bool(om.MGlobal.mayaState() == om.MGlobal.kInteractive)


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        om.MGlobal.displayWarning(message)


def _mel_global(name: str) -> str:
    """A MEL global UI variable ($gMainWindow, $gShelfTopLevel); RuntimeError in batch or
    before Maya has declared it. Asked only once `env` lists it, so that reading an
    undeclared one does not print a MEL error."""
    if not _interactive():
        raise RuntimeError(f"${name}: no UI in batch mode")
    try:
        declared = mel.eval("env")  # type: ignore[no-untyped-call]  # the stubs leave mel.eval unannotated
    except RuntimeError:
        declared = None  # cannot tell: read it and let MEL say
    if declared is not None and f"${name}" not in declared:
        raise RuntimeError(f"${name} is not declared yet")
    value = mel.eval(f"$xceptionMayaTmp = ${name}")  # type: ignore[no-untyped-call]  # the stubs leave mel.eval unannotated
    return str(value)


def install() -> None:
    """Build the shelf and the menu (interactive Maya only). Never raises: a failure is one
    warning, once. When Maya is still starting (the plug-in autoloads before the shelves
    exist) the build waits until Maya is idle."""
    if not _interactive():
        return
    _state["wanted"] = True
    try:
        if _ui_ready():
            _build()
        else:
            cmds.evalDeferred(_build_deferred, lowestPriority=True)
    except Exception as exc:
        _warn_once(f"xception-maya: the Xception shelf and menu were not built: {_first_line(exc)}")


def uninstall() -> None:
    """Remove the menu, the windows, and the shelf if this session created it. Never raises."""
    _state["wanted"] = False
    if not _interactive():
        return
    try:
        _remove()
    except Exception as exc:
        _warn_once(f"xception-maya: the Xception shelf or menu was not removed: {_first_line(exc)}")


def _ui_ready() -> bool:
    try:
        _mel_global("gMainWindow")
        top = _mel_global("gShelfTopLevel")
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
        _warn_once(f"xception-maya: the Xception shelf and menu were not built: {_first_line(exc)}")


def _build() -> None:
    build_menu(_mel_global("gMainWindow"))
    build_shelf(_mel_global("gShelfTopLevel"))


def _remove() -> None:
    for window in (SETTINGS_WINDOW, DOCTOR_WINDOW):
        _close(window)
    if cmds.menu(MENU, exists=True):
        cmds.deleteUI(MENU, menu=True)
    if _state["created_shelf"]:
        _state["created_shelf"] = False
        path = shelf_path()
        if path and cmds.shelfLayout(path, exists=True):
            cmds.deleteUI(path, layout=True)


def shelf_path() -> str | None:
    try:
        return f"{_mel_global('gShelfTopLevel')}|{SHELF}"
    except RuntimeError:
        return None


def build_shelf(top: str) -> str:
    """The Xception shelf tab under ``top``: created if missing; on an existing one (from the
    user's prefs, saved when Maya quit) only our buttons are replaced."""
    path = f"{top}|{SHELF}"
    if cmds.shelfLayout(path, exists=True):
        for child in cmds.shelfLayout(path, query=True, childArray=True) or []:
            if _is_our_button(f"{path}|{child}"):
                cmds.deleteUI(f"{path}|{child}")
    else:
        path = str(cmds.shelfLayout(SHELF, parent=top))
        _state["created_shelf"] = True
    for key in SHELF_ACTIONS:
        action = ACTIONS[key]
        popups = SHELF_POPUPS.get(key, ())
        flags: dict[str, Any] = {}
        if popups:
            flags["menuItem"] = [(ACTIONS[k].label, _shelf_command(k)) for k in popups]
            flags["menuItemPython"] = list(range(len(popups)))
        cmds.shelfButton(
            parent=path, label=action.label, annotation=action.annotation, image=action.icon,
            style="iconOnly", command=_shelf_command(key), sourceType="python", **flags,
        )  # fmt: skip
    return path


def _is_our_button(path: str) -> bool:
    try:
        command = cmds.shelfButton(path, query=True, command=True)
    except (RuntimeError, ValueError):
        return False  # not a shelf button (a separator)
    return isinstance(command, str) and f"import {__name__} " in command


def build_menu(main_window: str) -> str:
    """The Xception main menu (tear-off), rebuilt from scratch."""
    if cmds.menu(MENU, exists=True):
        cmds.deleteUI(MENU, menu=True)
    menu = str(cmds.menu(MENU, label="Xception", parent=main_window, tearOff=True))

    def item(key: str) -> str:
        action = ACTIONS[key]
        return str(
            cmds.menuItem(
                parent=menu,
                label=action.label,
                annotation=action.annotation,
                image=action.icon,
                command=_menu_command(key),
            )
        )

    item("classify")
    item("capture")
    cmds.menuItem(parent=menu, divider=True, dividerLabel="Tags")
    item("tag")
    item("tagSelected")
    sets_item = str(
        cmds.menuItem(
            parent=menu,
            label="Make a set per tag",
            checkBox=bool(_option_int(SETS_VAR, 0)),
            annotation="Tagging also puts each texture in the object set of its top tag",
        )
    )
    cmds.menuItem(sets_item, edit=True, command=functools.partial(_sets_toggled, sets_item))
    item("similar")
    cmds.menuItem(
        parent=menu, optionBox=True, annotation=ACTIONS["similarOptions"].annotation,
        command=_menu_command("similarOptions"),
    )  # fmt: skip
    cmds.menuItem(parent=menu, divider=True, dividerLabel="Learn")
    item("label")
    item("learn")
    cmds.menuItem(parent=menu, divider=True)
    item("settings")
    item("doctor")
    return menu


def _sets_toggled(menu_item: str, *_: object) -> None:
    with reported("Make a set per tag"):
        on = bool(cmds.menuItem(menu_item, query=True, checkBox=True))
        cmds.optionVar(intValue=(SETS_VAR, int(on)))


def _close(window: str) -> None:
    if cmds.window(window, exists=True):
        cmds.deleteUI(window, window=True)


# --- Settings window ------------------------------------------------------------------------


def head_choices(current: str = "") -> tuple[list[str], str]:
    """The heads Settings offers ("default", the manifest's, the user's learned ones, the
    current one), and a note when the manifest cannot be read ("" when it can)."""
    names = [DEFAULT_HEAD]
    note = ""
    try:
        manifest = Manifest.load()
        names += [name for name in manifest.heads if name not in names]
    except (XceptionMayaError, OSError, KeyError, ValueError) as exc:
        note = f"No models found, only learned heads are listed: {_first_line(exc)}"
    folder = settings.user_heads_dir()
    learned = sorted(p.stem for p in folder.glob("*.npz")) if folder.is_dir() else []
    names += [name for name in learned if name not in names]
    if current and current not in names:
        names.append(current)
    return names, note


def show_settings() -> str:
    """The Settings window: device, default head, top-k, score threshold; Save / Close."""
    _close(SETTINGS_WINDOW)
    prefs = settings.load()
    heads, note = head_choices(prefs.head)
    window = str(cmds.window(SETTINGS_WINDOW, title="Xception settings", widthHeight=(460, 220)))
    cmds.columnLayout(adjustableColumn=True, rowSpacing=6, margins=10)
    device = str(
        cmds.optionMenu(
            DEVICE_MENU,
            label="Device",
            annotation="auto: the GPU when onnxruntime has one, else the CPU",
        )
    )
    for name in settings.DEVICES:
        cmds.menuItem(parent=device, label=name)
    cmds.optionMenu(device, edit=True, value=prefs.device)
    head = str(
        cmds.optionMenu(
            HEAD_MENU,
            label="Default head",
            annotation="The head new classifiers and xceptionTag use; default: the manifest's",
        )
    )
    for name in heads:
        cmds.menuItem(parent=head, label=name)
    cmds.optionMenu(head, edit=True, value=prefs.head or DEFAULT_HEAD)
    if note:
        cmds.text(label=note, align="left", wordWrap=True, backgroundColor=PROBLEM_COLOR)
    top_k = str(
        cmds.intSliderGrp(
            TOP_K_SLIDER,
            label="Top-k",
            field=True,
            minValue=1,
            maxValue=node.MAX_TOP_K,
            value=_top_k(prefs.top_k),
            annotation="Labels kept per image",
        )
    )
    threshold = str(
        cmds.floatSliderGrp(
            THRESHOLD_SLIDER,
            label="Score threshold",
            field=True,
            minValue=0.0,
            maxValue=1.0,
            precision=2,
            step=0.01,
            value=min(1.0, max(0.0, prefs.threshold)),
            annotation="Tag scene writes no tag scoring below this",
        )
    )
    cmds.rowLayout(numberOfColumns=2, adjustableColumn=1, columnAlign2=("right", "right"))
    cmds.button(
        SAVE_BUTTON, label="Save", width=90,
        command=functools.partial(_save_settings, window, device, head, top_k, threshold),
    )  # fmt: skip
    cmds.button(label="Close", width=90, command=functools.partial(_close_from_button, window))
    cmds.showWindow(window)
    return window


def _save_settings(
    window: str, device: str, head: str, top_k: str, threshold: str, *_: object
) -> None:
    with reported("Save settings"):
        chosen = str(cmds.optionMenu(head, query=True, value=True) or DEFAULT_HEAD)
        settings.Settings(
            device=str(cmds.optionMenu(device, query=True, value=True)),
            head="" if chosen == DEFAULT_HEAD else chosen,
            top_k=int(cmds.intSliderGrp(top_k, query=True, value=True)),
            threshold=float(cmds.floatSliderGrp(threshold, query=True, value=True)),
        ).save()
        om.MGlobal.displayInfo("Xception: settings saved")
        _close(window)


def _close_from_button(window: str, *_: object) -> None:
    with reported("Close"):
        _close(window)


# --- About / doctor window ------------------------------------------------------------------


def _text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def doctor_lines(device: str = "auto") -> tuple[list[str], list[str]]:
    """doctor.report() as "name: value" lines, and its problems."""
    try:
        info = doctor.report(device=device)
    except Exception as exc:  # the window must open to say what is wrong
        return [], [f"the doctor failed: {type(exc).__name__}: {_first_line(exc)}"]
    problems = [str(p) for p in info.pop("problems", [])]
    lines = [f"maya: {cmds.about(version=True)} (API {cmds.about(apiVersion=True)})"]
    lines += [f"{name}: {_text(value)}" for name, value in info.items()]
    return lines, problems


def show_doctor() -> str:
    """What is installed, which execution provider runs, and the models' problems."""
    _close(DOCTOR_WINDOW)
    lines, problems = doctor_lines(settings.load().device)
    window = str(
        cmds.window(DOCTOR_WINDOW, title="Xception: about / doctor", widthHeight=(640, 460))
    )
    form = str(cmds.formLayout())
    scroll = str(cmds.scrollLayout(childResizable=True))
    cmds.columnLayout(adjustableColumn=True, rowSpacing=2)
    for line in lines:
        bold = line.startswith("running on:")
        cmds.text(label=line, align="left", font="boldLabelFont" if bold else "plainLabelFont")
    cmds.separator(height=12, style="in")
    if problems:
        cmds.text(label=f"Problems ({len(problems)}):", align="left", font="boldLabelFont")
        for problem in problems:
            cmds.text(label=problem, align="left", wordWrap=True, backgroundColor=PROBLEM_COLOR)
    else:
        cmds.text(label="No problems found.", align="left", backgroundColor=FINE_COLOR)
    cmds.setParent(form)
    buttons = str(cmds.rowLayout(numberOfColumns=2, adjustableColumn=1))
    report_text = "\n".join([*lines, *(f"problem: {p}" for p in problems)])
    cmds.button(
        label="Print to Script Editor", width=150,
        command=functools.partial(_print_report, report_text),
        annotation="Print the report to the Script Editor, to copy it from there",
    )  # fmt: skip
    cmds.button(label="Close", width=90, command=functools.partial(_close_from_button, window))
    cmds.setParent(form)
    cmds.formLayout(
        form, edit=True,
        attachForm=[
            (scroll, "top", 6), (scroll, "left", 6), (scroll, "right", 6),
            (buttons, "left", 6), (buttons, "right", 6), (buttons, "bottom", 6),
        ],
        attachControl=[(scroll, "bottom", 6, buttons)],
    )  # fmt: skip
    cmds.showWindow(window)
    return window


def _print_report(text: str, *_: object) -> None:
    with reported("Print to Script Editor"):
        om.MGlobal.displayInfo("xception-maya doctor:\n" + text)


# --- Attribute Editor: the "Results" control --------------------------------------------------
# Called by the MEL procs of scripts/AExceptionClassifierTemplate.mel (editorTemplate
# -callCustom), with the AE's layout as the current parent and "node.status" as the plug.


def ae_results_new(plug: str) -> None:
    with reported("Attribute Editor"):
        parent = str(cmds.setParent(query=True))
        cmds.columnLayout(RESULTS_LAYOUT, adjustableColumn=True, rowSpacing=2)
        cmds.setParent(parent)
    ae_results_replace(plug)


def ae_results_replace(plug: str) -> None:
    with reported("Attribute Editor"):
        layout = f"{cmds.setParent(query=True)}|{RESULTS_LAYOUT}"
        node_name = plug.split(".", 1)[0]
        fill_results(layout, node_name)
        _watch(layout, node_name)


def results_of(node_name: str) -> tuple[list[tuple[str, float]], str]:
    """(label, score) pairs, best first, and a status line, read from the node's outputs."""
    labels = cmds.getAttr(f"{node_name}.labels") or []
    scores = cmds.getAttr(f"{node_name}.scores") or []
    status = str(cmds.getAttr(f"{node_name}.status") or "")
    if status == "ok":
        status = f"ok ({float(cmds.getAttr(f'{node_name}.evalMs') or 0.0):.0f} ms)"
    return [
        (str(label), float(score)) for label, score in zip(labels, scores, strict=False)
    ], status


def fill_results(layout: str, node_name: str) -> None:
    """Rebuild the control: the status line, then one row per label: name, bar, score."""
    for child in cmds.layout(layout, query=True, childArray=True) or []:
        cmds.deleteUI(f"{layout}|{child}")
    previous = str(cmds.setParent(query=True))
    cmds.setParent(layout)
    try:
        rows, status = results_of(node_name)
        cmds.text(label=status or "not evaluated", align="left", wordWrap=True)
        for label, score in rows:
            cmds.rowLayout(
                numberOfColumns=3, adjustableColumn=2, columnWidth3=(150, 160, 56),
                columnAlign3=("right", "left", "right"),
            )  # fmt: skip
            cmds.text(label=label, align="right")
            cmds.progressBar(minValue=0, maxValue=1000, progress=round(score * 1000), height=14)
            cmds.text(label=f"{score:.1%}", align="right")
            cmds.setParent("..")
        cmds.button(
            label="Refresh", command=functools.partial(_refresh, layout, node_name), height=20
        )
    finally:
        cmds.setParent(previous)


_pending: set[str] = set()


def _refresh(layout: str, node_name: str, *_: object) -> None:
    """Refresh once when Maya is idle: a capture sets three inputs in a row."""
    if layout in _pending:
        return
    _pending.add(layout)
    cmds.evalDeferred(functools.partial(_refresh_now, layout, node_name), lowPriority=True)


def _refresh_now(layout: str, node_name: str) -> None:
    _pending.discard(layout)
    with reported("Attribute Editor"):
        if cmds.layout(layout, exists=True) and cmds.objExists(node_name):
            fill_results(layout, node_name)


def _watch(layout: str, node_name: str) -> None:
    """Refresh when an input of the node changes. The jobs die with the layout; when the AE
    shows another node, replacePrevious drops the jobs of the one it showed before."""
    refresh = functools.partial(_refresh, layout, node_name)
    for index, attribute in enumerate(AE_WATCHED):
        cmds.scriptJob(
            attributeChange=(f"{node_name}.{attribute}", refresh), parent=layout,
            replacePrevious=index == 0,
        )  # fmt: skip
