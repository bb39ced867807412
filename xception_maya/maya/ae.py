"""The Python half of the Attribute Editor template (scripts/AExceptionClassifierTemplate.mel):
the "Results" control, the top labels as score bars with the status line.

Called by the template's MEL procs (editorTemplate -callCustom) with the AE's layout as the
current parent and "node.status" as the plug.
"""

from __future__ import annotations

import functools

from maya import cmds

from .feedback import reported

RESULTS_LAYOUT = "xceptionResults"
# The inputs whose change refreshes the control (generation: a background result landed).
WATCHED = (
    "imageFile", "colorSpace", "frame", "pixels", "pixelWidth", "pixelHeight",
    "topK", "head", "model", "device", "precision", "enable", "async", "generation",
)  # fmt: skip


def results_new(plug: str) -> None:
    with reported("Attribute Editor"):
        parent = str(cmds.setParent(query=True))
        cmds.columnLayout(RESULTS_LAYOUT, adjustableColumn=True, rowSpacing=2)
        cmds.setParent(parent)
    results_replace(plug)


def results_replace(plug: str) -> None:
    with reported("Attribute Editor"):
        layout = f"{cmds.setParent(query=True)}|{RESULTS_LAYOUT}"
        node_name = plug.split(".", 1)[0]
        fill(layout, node_name)
        watch(layout, node_name)


def results_of(node_name: str) -> tuple[list[tuple[str, float]], str]:
    """(label, score) pairs, best first, and a status line, read from the node's outputs."""
    labels = cmds.getAttr(f"{node_name}.labels") or []
    scores = cmds.getAttr(f"{node_name}.scores") or []
    status = str(cmds.getAttr(f"{node_name}.status") or "")
    if status == "ok":
        ms = float(cmds.getAttr(f"{node_name}.evalMs") or 0.0)
        confidence = float(cmds.getAttr(f"{node_name}.confidence") or 0.0)
        fits = "" if cmds.getAttr(f"{node_name}.confident") else "unknown: no class fits, "
        status = f"ok ({fits}confidence {confidence:.0%}, {ms:.0f} ms)"
    return [
        (str(label), float(score)) for label, score in zip(labels, scores, strict=False)
    ], status


def fill(layout: str, node_name: str) -> None:
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
            label="Refresh", command=functools.partial(refresh, layout, node_name), height=20
        )
    finally:
        cmds.setParent(previous)


_pending: set[str] = set()


def refresh(layout: str, node_name: str, *_: object) -> None:
    """Refresh once when Maya is idle: a capture sets three inputs in a row."""
    if layout in _pending:
        return
    _pending.add(layout)
    cmds.evalDeferred(functools.partial(refresh_now, layout, node_name), lowPriority=True)


def refresh_now(layout: str, node_name: str) -> None:
    _pending.discard(layout)
    with reported("Attribute Editor"):
        if cmds.layout(layout, exists=True) and cmds.objExists(node_name):
            fill(layout, node_name)


def watch(layout: str, node_name: str) -> None:
    """Refresh when an input of the node changes. The jobs die with the layout; when the AE
    shows another node, replacePrevious drops the jobs of the one it showed before."""
    job = functools.partial(refresh, layout, node_name)
    for index, attribute in enumerate(WATCHED):
        cmds.scriptJob(
            attributeChange=(f"{node_name}.{attribute}", job), parent=layout,
            replacePrevious=index == 0,
        )  # fmt: skip
