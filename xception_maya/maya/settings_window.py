"""The Settings window: device, default head, top-k, score threshold and library index."""

from __future__ import annotations

import functools

import maya.api.OpenMaya as om
from maya import cmds

from .. import registry
from ..errors import XceptionMayaError
from ..library import ENV_INDEX
from ..manifest import Manifest
from . import classifiers, settings
from .feedback import first_line, reported
from .node import MAX_TOP_K
from .uikit import PROBLEM_COLOR, close_window

WINDOW = "xceptionMayaSettings"
DEFAULT_HEAD = "default"  # the label for "the manifest's default head" (head "")
# Controls (names unique inside the window, so tests can find them).
DEVICE_MENU = "xceptionMayaDevice"
HEAD_MENU = "xceptionMayaHead"
TOP_K_SLIDER = "xceptionMayaTopK"
THRESHOLD_SLIDER = "xceptionMayaThreshold"
LIBRARY_FIELD = "xceptionMayaLibraryIndex"
SAVE_BUTTON = "xceptionMayaSave"
IMAGENET_BUTTON = "xceptionMayaImagenet"


def clamp_top_k(value: int) -> int:
    return max(1, min(MAX_TOP_K, int(value)))


def head_choices(current: str = "") -> tuple[list[str], str]:
    """The heads Settings offers ("default", then registry.list_heads: the manifest's and
    the learned ones, then the current one), and a note when the models cannot be read
    ("" when they can; without a backbone no head works, so none is listed)."""
    names = [DEFAULT_HEAD]
    note = ""
    try:
        manifest = Manifest.load()
        found = registry.list_heads(manifest, user_heads=classifiers.user_heads())
        names += [c.name for c in found if c.name not in names]
    except (XceptionMayaError, OSError, KeyError, ValueError) as exc:
        note = f"No models found: {first_line(exc)}"
    if current and current not in names:
        names.append(current)
    return names, note


def show() -> str:
    close_window(WINDOW)
    prefs = settings.load()
    heads, note = head_choices(prefs.head)
    window = str(cmds.window(WINDOW, title="Xception settings", widthHeight=(460, 260)))
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
            TOP_K_SLIDER, label="Top-k", field=True, minValue=1, maxValue=MAX_TOP_K,
            value=clamp_top_k(prefs.top_k), annotation="Labels kept per image",
        )
    )  # fmt: skip
    threshold = str(
        cmds.floatSliderGrp(
            THRESHOLD_SLIDER, label="Score threshold", field=True, minValue=0.0, maxValue=1.0,
            precision=2, step=0.01, value=min(1.0, max(0.0, prefs.threshold)),
            annotation="Tag scene writes no tag scoring below this",
        )
    )  # fmt: skip
    library = str(
        cmds.textFieldGrp(
            LIBRARY_FIELD, label="Library index", text=prefs.library,
            placeholderText=f"${ENV_INDEX} when empty",
            annotation="The index file (xception-maya index --db FILE) that tagging, Select "
            f"similar and the Library window use; empty: ${ENV_INDEX}, else none",
        )
    )  # fmt: skip
    cmds.button(
        IMAGENET_BUTTON, label="Download ImageNet's 1000 classes (92 MB)",
        annotation="What `xception-maya setup --imagenet` does: download, check, convert; "
        "the new default head. Esc stops; the next start resumes.",
        command=functools.partial(_download_imagenet, window),
    )  # fmt: skip
    cmds.rowLayout(numberOfColumns=2, adjustableColumn=1, columnAlign2=("right", "right"))
    cmds.button(
        SAVE_BUTTON, label="Save", width=90,
        command=functools.partial(_save, window, device, head, top_k, threshold, library),
    )  # fmt: skip
    cmds.button(label="Close", width=90, command=functools.partial(close_from_button, window))
    cmds.showWindow(window)
    return window


def _save(
    window: str, device: str, head: str, top_k: str, threshold: str, library: str, *_: object
) -> None:
    with reported("Save settings"):
        chosen = str(cmds.optionMenu(head, query=True, value=True) or DEFAULT_HEAD)
        settings.Settings(
            device=str(cmds.optionMenu(device, query=True, value=True)),
            head="" if chosen == DEFAULT_HEAD else chosen,
            top_k=int(cmds.intSliderGrp(top_k, query=True, value=True)),
            threshold=float(cmds.floatSliderGrp(threshold, query=True, value=True)),
            library=str(cmds.textFieldGrp(library, query=True, text=True) or "").strip(),
        ).save()
        # The node reads the index named here from now on (main thread, as compute never asks).
        classifiers.configure(settings.user_heads_dir(), library=settings.library_path())
        om.MGlobal.displayInfo("Xception: settings saved")
        close_window(window)


def _download_imagenet(window: str, *_: object) -> None:
    from .imagenet_download import download_imagenet

    with reported("Download ImageNet classes"):
        om.MGlobal.displayInfo(f"Xception: {download_imagenet()}")
        close_window(window)  # its head list is out of date now


def close_from_button(window: str, *_: object) -> None:
    with reported("Close"):
        close_window(window)
