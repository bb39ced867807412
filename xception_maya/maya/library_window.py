"""The Library window: search the texture library index (Settings, else
``$XCEPTION_MAYA_INDEX``) by tag, by text or by similarity to the selected texture, and create
a file node from a result (``xceptionLibraryFile``: one undo step). Main thread only."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import maya.api.OpenMaya as om
from maya import cmds

from ..library import LibraryError
from ..text import shown
from . import actions, settings, tagging
from .feedback import UserError, reported
from .settings_window import close_from_button
from .uikit import PROBLEM_COLOR, close_window

WINDOW = "xceptionMayaLibrary"
# Controls (names unique inside the window, so tests can find them).
MODE_MENU = "xceptionMayaLibraryMode"
QUERY_FIELD = "xceptionMayaLibraryQuery"
SEARCH_BUTTON = "xceptionMayaLibrarySearch"
RESULTS_LIST = "xceptionMayaLibraryResults"
STATUS_TEXT = "xceptionMayaLibraryStatus"
CREATE_BUTTON = "xceptionMayaLibraryCreate"
TAG, TEXT, SIMILAR = "Tag", "Text", "Similar to selected"
MODES = (TAG, TEXT, SIMILAR)
SHOWN = 50  # results listed: a window, not a report (`xception-maya search` has them all)

_shown: list[str] = []  # the listed files' paths, in list order


@dataclass(frozen=True)
class Result:
    path: str
    score: float

    @property
    def item(self) -> str:
        return f"{self.score:.3f}  {shown(self.path)}"


def search(mode: str, query: str, count: int = SHOWN) -> list[Result]:
    """The library's answer to one search of the window, best first."""
    if mode == SIMILAR:
        return similar_to_selection(count)
    words = query.strip()
    if not words:
        raise UserError(f"type {'a tag' if mode == TAG else 'some words'} to search for")
    try:
        library = tagging.open_library(create=False)
    except LibraryError as exc:
        raise UserError(str(exc)) from None
    if library is None:
        raise UserError(no_index())
    with library:
        matches = library.by_tag(words) if mode == TAG else library.by_text(words)
    best: dict[str, Result] = {}  # a file tagged by several heads is listed once
    for match in matches:
        if match.path not in best or match.score > best[match.path].score:
            best[match.path] = Result(match.path, match.score)
    return sorted(best.values(), key=lambda r: (-r.score, r.path))[:count]


def similar_to_selection(count: int) -> list[Result]:
    textures = cmds.ls(selection=True, type="file") or []
    if len(textures) != 1:
        raise UserError("select one file texture to find the library's most similar ones")
    answer = actions.command("xceptionSimilar")(str(textures[0]), library=True, count=count) or []
    return [Result(answer[i], float(answer[i + 1])) for i in range(0, len(answer) - 1, 2)]


def no_index() -> str:
    return (
        "no library index: name one in Settings (Library index) or set $XCEPTION_MAYA_INDEX; "
        "fill it with `xception-maya index DIR`"
    )


def show() -> str:
    close_window(WINDOW)
    _shown.clear()
    path = settings.library_path()
    window = str(cmds.window(WINDOW, title="Xception library", widthHeight=(600, 440)))
    cmds.columnLayout(adjustableColumn=True, rowSpacing=6, margins=10)
    if path is None:
        cmds.text(label=no_index(), align="left", wordWrap=True, backgroundColor=PROBLEM_COLOR)
    else:
        cmds.text(label=f"Index: {shown(str(path))}", align="left")
    mode = str(cmds.optionMenu(MODE_MENU, label="Search by"))
    for name in MODES:
        cmds.menuItem(parent=mode, label=name)
    search_now = functools.partial(_search_clicked, mode)
    cmds.textField(
        QUERY_FIELD, placeholderText="a tag (cup) or words (sports car)",
        annotation="Tag: a label exactly; Text: label names and their synonyms",
        enterCommand=search_now, alwaysInvokeEnterCommandOnReturn=True,
    )  # fmt: skip
    cmds.button(SEARCH_BUTTON, label="Search", command=search_now)
    cmds.textScrollList(
        RESULTS_LIST, numberOfRows=14, allowMultiSelection=False,
        annotation="Similarity or score, then the file", doubleClickCommand=_create_clicked,
    )  # fmt: skip
    cmds.text(STATUS_TEXT, label="", align="left")
    cmds.rowLayout(numberOfColumns=2, adjustableColumn=1, columnAlign2=("right", "right"))
    cmds.button(
        CREATE_BUTTON, label="Create file node", width=130, command=_create_clicked,
        annotation="A file texture reading the chosen result (undoable)",
    )  # fmt: skip
    cmds.button(label="Close", width=90, command=functools.partial(close_from_button, window))
    cmds.showWindow(window)
    return window


def _search_clicked(mode_menu: str, *_: object) -> None:
    with reported("Library search"):
        mode = str(cmds.optionMenu(mode_menu, query=True, value=True))
        query = str(cmds.textField(QUERY_FIELD, query=True, text=True) or "")
        results = search(mode, query)
        _shown[:] = [r.path for r in results]
        cmds.textScrollList(RESULTS_LIST, edit=True, removeAll=True)
        if results:
            cmds.textScrollList(RESULTS_LIST, edit=True, append=[r.item for r in results])
        cmds.text(STATUS_TEXT, edit=True, label=f"{len(results)} found")


def _create_clicked(*_: object) -> None:
    with reported("Create file node"):
        chosen = cmds.textScrollList(RESULTS_LIST, query=True, selectIndexedItem=True) or []
        if not chosen or not 1 <= int(chosen[0]) <= len(_shown):
            raise UserError("choose a result in the list first")
        created = actions.command("xceptionLibraryFile")(path=_shown[int(chosen[0]) - 1])
        om.MGlobal.displayInfo(f"Xception: created {', '.join(created or [])}")
