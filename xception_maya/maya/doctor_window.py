"""The About / doctor window: versions, execution providers, which one runs, model problems."""

from __future__ import annotations

import functools

import maya.api.OpenMaya as om
from maya import cmds

from .. import doctor
from . import settings
from .feedback import first_line, reported
from .settings_window import close_from_button
from .uikit import FINE_COLOR, PROBLEM_COLOR, close_window, text_of

WINDOW = "xceptionMayaDoctor"


def doctor_lines(device: str = "auto") -> tuple[list[str], list[str]]:
    """doctor.report() as "name: value" lines, and its problems."""
    try:
        info = doctor.report(device=device)
    except Exception as exc:  # the window must open to say what is wrong
        return [], [f"the doctor failed: {type(exc).__name__}: {first_line(exc)}"]
    problems = [str(p) for p in info.pop("problems", [])]
    lines = [f"maya: {cmds.about(version=True)} (API {cmds.about(apiVersion=True)})"]
    lines += [f"{name}: {text_of(value)}" for name, value in info.items()]
    return lines, problems


def show() -> str:
    close_window(WINDOW)
    lines, problems = doctor_lines(settings.load().device)
    window = str(cmds.window(WINDOW, title="Xception: about / doctor", widthHeight=(640, 460)))
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
    cmds.button(label="Close", width=90, command=functools.partial(close_from_button, window))
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
