"""The Xception shelf and menu, the Settings and About / doctor windows, and the Attribute
Editor template, on real interactive Maya or the emulation.

UI needs an interactive session: ``with maya.interactive()`` (the ``ui_maya`` fixture) skips
on batch Maya (mayapy). Modal dialogs (promptDialog) cannot be answered by a test, on any
Maya: the tests replace ``actions.prompt``, the one function that shows them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PLUGIN, ROOT
from maya_session import Session

from xception_maya.engine import available_providers
from xception_maya.maya import (
    actions,
    ae,
    classifiers,
    doctor_window,
    feedback,
    settings,
    settings_window,
    shelf,
    tagging,
    uikit,
)

pytestmark = pytest.mark.maya

TEMPLATE = ROOT / "scripts" / "AExceptionClassifierTemplate.mel"
SHELF_LABELS = [
    "Classify selected textures",
    "Capture viewport",
    "Tag scene",
    "Select similar",
    "Learn tags from selection...",
    "Settings...",
    "About / doctor...",
]
SHELF_ICONS = {
    "Classify selected textures": "xceptionClassify.png",
    "Capture viewport": "xceptionCapture.png",
    "Tag scene": "xceptionTag.png",
    "Select similar": "xceptionSimilar.png",
    "Learn tags from selection...": "xceptionLearn.png",
    "Settings...": "xceptionSettings.png",
    "About / doctor...": "xceptionDoctor.png",
}
MENU_LABELS = [
    "Classify selected textures",
    "Capture viewport",
    "Tag scene",
    "Tag selected textures",
    "Make a set per tag",
    "Select similar",
    "Library...",
    "Learn tags from selection...",
    "Train head from labelled textures...",
    "Settings...",
    "About / doctor...",
]
OUR_OPTION_VARS = [
    settings.PREFIX + name
    for name in ("device", "head", "topK", "threshold", "library", "sets", "similarK")
]


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def option_vars(maya: Session) -> Iterator[None]:
    """Our optionVars start unset and are put back afterwards (on real Maya they are the
    user's preferences)."""
    cmds = maya.cmds
    saved = {n: cmds.optionVar(q=n) for n in OUR_OPTION_VARS if cmds.optionVar(exists=n)}
    cmds.optionVar(remove=OUR_OPTION_VARS)
    yield
    cmds.optionVar(remove=OUR_OPTION_VARS)
    for name, value in saved.items():
        flag = {int: "intValue", float: "floatValue"}.get(type(value), "stringValue")
        cmds.optionVar(**{flag: (name, value)})


@pytest.fixture
def ui_maya(maya: Session) -> Iterator[Session]:
    """An interactive session; whatever the test built is removed afterwards."""
    feedback._warned_once.clear()
    with maya.interactive():
        try:
            yield maya
        finally:
            shelf.uninstall()


def file_node(maya: Session, path: Path | str) -> str:
    name: str = maya.cmds.shadingNode("file", asTexture=True)
    maya.cmds.setAttr(f"{name}.fileTextureName", str(path), type="string")
    return name


def main_window() -> str:
    from maya import mel

    return str(mel.eval("$tmp = $gMainWindow"))


def invoke(command: Any) -> None:
    """Do what clicking does: call a callable, run a Python string."""
    if callable(command):
        command()
    else:
        exec(str(command), {"__name__": "__main__"})


def shelf_buttons(maya: Session) -> list[dict[str, Any]]:
    cmds = maya.cmds
    path = shelf.shelf_path()
    assert path and cmds.shelfLayout(path, exists=True)
    found = []
    for child in cmds.shelfLayout(path, q=True, childArray=True) or []:
        full = f"{path}|{child}"
        found.append(
            {
                flag: cmds.shelfButton(full, q=True, **{flag: True})
                for flag in ("label", "image", "command", "sourceType", "annotation")
            }
        )
    return found


def menu_path() -> str:
    return f"{main_window()}|{shelf.MENU}"


def menu_items(maya: Session) -> list[str]:
    """Full paths of the Xception menu's items, in order."""
    if maya.is_emulation:  # the emulation answers no `menu -q -itemArray`: read its record
        from maya import _emulation

        path = menu_path()
        return [p for p, e in _emulation.UI.items() if e["parent"] == path]
    names = maya.cmds.menu(shelf.MENU, q=True, itemArray=True) or []
    return [f"{menu_path()}|{name}" for name in names]


def menu_labels(maya: Session) -> list[str]:
    cmds = maya.cmds
    return [
        cmds.menuItem(item, q=True, label=True)
        for item in menu_items(maya)
        if not cmds.menuItem(item, q=True, divider=True)
        and not cmds.menuItem(item, q=True, optionBox=True)
    ]


def menu_item(maya: Session, label: str) -> str:
    cmds = maya.cmds
    for item in menu_items(maya):
        if cmds.menuItem(item, q=True, label=True) == label and not cmds.menuItem(
            item, q=True, optionBox=True
        ):
            return item
    raise AssertionError(f"no menu item {label!r}")


def click(maya: Session, label: str) -> None:
    invoke(maya.cmds.menuItem(menu_item(maya, label), q=True, command=True))


def ui_type(maya: Session, path: str) -> str:
    if maya.is_emulation:
        from maya import _emulation

        kind = str(_emulation.UI[path]["type"])
        return {"text": "staticText"}.get(kind, kind)
    return str(maya.cmds.objectTypeUI(path))


def texts_in(maya: Session, window: str) -> list[tuple[str, str]]:
    """(path, label) of every static text in a window."""
    cmds = maya.cmds
    if maya.is_emulation:
        from maya import _emulation

        paths = [p for p, e in _emulation.UI.items() if e["type"] == "text"]
    else:
        paths = cmds.lsUI(type="staticText", long=True) or []
    return [(p, cmds.text(p, q=True, label=True)) for p in paths if p.startswith(window + "|")]


class Recorder:
    """Stands in for actions.command: records the plug-in commands an action runs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, name: str) -> Callable[..., list[str]]:
        def command(*args: Any, **flags: Any) -> list[str]:
            self.calls.append((name, args, flags))
            return []

        return command


# --- shelf and menu -----------------------------------------------------------------------


def test_install_builds_the_shelf_and_the_menu(ui_maya: Session) -> None:
    cmds = ui_maya.cmds
    shelf.install()
    buttons = shelf_buttons(ui_maya)
    assert [b["label"] for b in buttons] == SHELF_LABELS
    assert {b["label"]: b["image"] for b in buttons} == SHELF_ICONS
    assert all(b["sourceType"] == "python" and b["annotation"] for b in buttons)
    assert all(b["command"].startswith(actions.SHELF_IMPORT) for b in buttons)
    assert cmds.menu(shelf.MENU, exists=True)
    assert cmds.menu(shelf.MENU, q=True, label=True) == "Xception"
    assert cmds.menu(shelf.MENU, q=True, tearOff=True)
    assert menu_labels(ui_maya) == MENU_LABELS
    assert not cmds.menuItem(menu_item(ui_maya, "Make a set per tag"), q=True, checkBox=True)
    assert not ui_maya.messages.warnings and not ui_maya.messages.errors


def test_shelf_commands_are_strings_that_run(ui_maya: Session) -> None:
    """Shelves are saved to the user's prefs: the commands must be self-contained strings."""
    shelf.install()
    classify = shelf_buttons(ui_maya)[0]["command"]
    assert isinstance(classify, str)
    invoke(classify)  # nothing selected: xceptionCreate says so, once
    assert len(ui_maya.messages.errors) == 1
    assert "select file or texture nodes" in ui_maya.messages.errors[0]


def test_the_library_item_and_shelf_popup_open_the_library_window(ui_maya: Session) -> None:
    from xception_maya.maya import library_window

    cmds = ui_maya.cmds
    shelf.install()
    click(ui_maya, "Library...")
    assert cmds.window(library_window.WINDOW, exists=True)
    similar = next(b for b in shelf_buttons(ui_maya) if b["label"] == "Select similar")
    path = f"{shelf.shelf_path()}|" + next(
        c
        for c in cmds.shelfLayout(shelf.shelf_path(), q=True, childArray=True)
        if cmds.shelfButton(f"{shelf.shelf_path()}|{c}", q=True, label=True) == "Select similar"
    )
    popups = cmds.shelfButton(path, q=True, menuItem=True)
    assert ("Library...", actions.shelf_command("library")) in [tuple(p) for p in popups]
    assert similar["command"] == actions.shelf_command("similar")
    shelf.uninstall()
    assert not cmds.window(library_window.WINDOW, exists=True)


def test_install_twice_does_not_duplicate(ui_maya: Session) -> None:
    shelf.install()
    shelf.install()
    assert [b["label"] for b in shelf_buttons(ui_maya)] == SHELF_LABELS
    assert menu_labels(ui_maya) == MENU_LABELS
    assert ui_maya.cmds.menu(shelf.MENU, exists=True)


def test_uninstall_removes_what_install_built(ui_maya: Session) -> None:
    cmds = ui_maya.cmds
    shelf.install()
    actions.run("doctor")
    assert cmds.window(doctor_window.WINDOW, exists=True)
    shelf.uninstall()
    path = shelf.shelf_path()
    assert path and not cmds.shelfLayout(path, exists=True)
    assert not cmds.menu(shelf.MENU, exists=True)
    assert not cmds.window(doctor_window.WINDOW, exists=True)
    shelf.uninstall()  # twice: nothing left to remove, no complaint
    assert not ui_maya.messages.warnings and not ui_maya.messages.errors


def test_a_shelf_we_did_not_create_keeps_the_users_buttons_and_stays(ui_maya: Session) -> None:
    """A Xception shelf loaded from the user's prefs (Maya saves shelves when it quits):
    only our buttons are rebuilt, the user's own stay, and unloading leaves the shelf."""
    cmds = ui_maya.cmds
    shelf.uninstall()  # on real interactive Maya, loading the plug-in built ours already
    top = main_shelf_top()
    tab = cmds.shelfLayout(shelf.SHELF, parent=top)
    cmds.shelfButton(parent=tab, label="mine", command="print('mine')", sourceType="python")
    shelf.install()
    shelf.install()
    labels = [b["label"] for b in shelf_buttons(ui_maya)]
    assert labels == ["mine", *SHELF_LABELS]
    shelf.uninstall()
    assert cmds.shelfLayout(f"{top}|{shelf.SHELF}", exists=True)
    cmds.deleteUI(f"{top}|{shelf.SHELF}", layout=True)


def xception_tab_exists(maya: Session) -> bool:
    return bool(maya.cmds.shelfLayout(f"{main_shelf_top()}|{shelf.SHELF}", exists=True))


@pytest.mark.parametrize("how", ["exit-first", "save-first"])
def test_quitting_maya_saves_no_shelf_of_ours(ui_maya: Session, how: str) -> None:
    """Maya saves every shelf tab to the prefs when it quits and loads them at start; in
    either order of saving and our exit callback, nothing of ours is left for the start."""
    shelf.install()  # what loading the plug-in in an interactive Maya does
    ui_maya.restart(how)
    assert not xception_tab_exists(ui_maya)
    assert not shelf.saved_shelf_file().exists()
    ui_maya.cmds.loadPlugin(str(PLUGIN))  # autoload at start; the fixture unloads it
    assert [b["label"] for b in shelf_buttons(ui_maya)] == SHELF_LABELS


def test_a_shelf_restored_from_the_prefs_is_rebuilt_then_removed(ui_maya: Session) -> None:
    """Saved with Save All Shelves, then Maya crashed: the tab comes back at start. Loading
    the plug-in replaces our buttons (not doubled); unloading it (install.uninstall()) takes
    the tab and its file away, so the next start has no broken Xception shelf."""
    from maya import _emulation

    cmds = ui_maya.cmds
    saved = shelf.saved_shelf_file()
    shelf.install()
    _emulation.save_all_shelves()
    ui_maya.restart("crash")
    assert xception_tab_exists(ui_maya) and saved.is_file()
    cmds.loadPlugin(str(PLUGIN))
    assert [b["label"] for b in shelf_buttons(ui_maya)] == SHELF_LABELS
    cmds.unloadPlugin("xception_classifier")
    assert not xception_tab_exists(ui_maya) and not saved.exists()
    ui_maya.restart("crash")
    assert not xception_tab_exists(ui_maya)
    assert not ui_maya.messages.errors
    cmds.loadPlugin(str(PLUGIN))  # the fixture unloads it


def test_a_users_buttons_on_the_restored_tab_survive_an_unload(ui_maya: Session) -> None:
    from maya import _emulation

    cmds = ui_maya.cmds
    shelf.install()
    path = shelf.shelf_path()
    cmds.shelfButton(parent=path, label="mine", command="print('mine')", sourceType="python")
    _emulation.save_all_shelves()
    ui_maya.restart("crash")
    cmds.loadPlugin(str(PLUGIN))
    assert [b["label"] for b in shelf_buttons(ui_maya)] == ["mine", *SHELF_LABELS]
    cmds.unloadPlugin("xception_classifier")
    assert [b["label"] for b in shelf_buttons(ui_maya)] == ["mine"]
    assert shelf.saved_shelf_file().is_file()  # it holds the user's button; Maya rewrites it
    cmds.deleteUI(path, layout=True)
    cmds.loadPlugin(str(PLUGIN))  # the fixture unloads it


def main_shelf_top() -> str:
    from maya import mel

    return str(mel.eval("$tmp = $gShelfTopLevel"))


def test_batch_mode_builds_nothing(maya: Session) -> None:
    cmds = maya.cmds
    if not cmds.about(batch=True):
        pytest.skip("needs a batch session (mayapy)")
    shelf.install()
    assert not cmds.menu(shelf.MENU, exists=True)
    assert shelf.shelf_path() is None  # no shelves in batch: $gShelfTopLevel is undeclared
    shelf.uninstall()
    assert not maya.messages.warnings and not maya.messages.errors


def test_loading_the_plugin_interactively_builds_the_ui_and_unloading_removes_it(
    ui_maya: Session,
) -> None:
    cmds = ui_maya.cmds
    cmds.unloadPlugin("xception_classifier")
    assert not cmds.menu(shelf.MENU, exists=True)
    cmds.loadPlugin(str(PLUGIN))
    assert cmds.menu(shelf.MENU, exists=True)
    assert [b["label"] for b in shelf_buttons(ui_maya)] == SHELF_LABELS
    cmds.unloadPlugin("xception_classifier")
    assert not cmds.menu(shelf.MENU, exists=True)
    path = shelf.shelf_path()
    assert path and not cmds.shelfLayout(path, exists=True)
    cmds.loadPlugin(str(PLUGIN))  # the fixture unloads it


def test_a_ui_failure_never_fails_the_plugin_load_and_warns_once(
    ui_maya: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = ui_maya.cmds

    def broken() -> None:
        raise RuntimeError("no shelves today")

    monkeypatch.setattr(shelf, "_build", broken)
    for _ in range(2):
        cmds.unloadPlugin("xception_classifier")
        cmds.loadPlugin(str(PLUGIN))
        assert cmds.pluginInfo("xception_classifier", q=True, loaded=True)
        assert "xceptionClassifier" in cmds.pluginInfo(
            "xception_classifier", q=True, dependNode=True
        )
    assert [w for w in ui_maya.messages.warnings if "no shelves today" in w] == [
        "xception-maya: the Xception shelf and menu were not built: no shelves today"
    ]
    assert not ui_maya.messages.errors


# --- actions ------------------------------------------------------------------------------


def test_classify_selected_textures_creates_a_classifier_with_the_settings(
    ui_maya: Session, samples: list[Path]
) -> None:
    cmds = ui_maya.cmds
    settings.Settings(device="cpu", top_k=3).save()
    texture = file_node(ui_maya, samples[0])
    cmds.select(texture)
    shelf.install()
    click(ui_maya, "Classify selected textures")
    created = cmds.ls(type="xceptionClassifier")
    assert len(created) == 1
    clf = created[0]
    assert cmds.isConnected(f"{texture}.computedFileTextureNamePattern", f"{clf}.imageFile")
    assert cmds.getAttr(f"{clf}.topK") == 3
    assert cmds.getAttr(f"{clf}.device") == 1  # cpu
    assert cmds.getAttr(f"{clf}.status") == "ok"
    assert len(cmds.getAttr(f"{clf}.labels")) == 3
    assert not ui_maya.messages.errors


def test_capture_viewport_makes_a_classifier_when_none_is_selected(ui_maya: Session) -> None:
    cmds = ui_maya.cmds
    cmds.select(clear=True)
    shelf.install()
    click(ui_maya, "Capture viewport")
    created = cmds.ls(type="xceptionClassifier")
    assert len(created) == 1
    clf = created[0]
    assert cmds.getAttr(f"{clf}.pixelWidth") > 0 and cmds.getAttr(f"{clf}.pixelHeight") > 0
    assert cmds.ls(selection=True) == [clf]
    assert cmds.getAttr(f"{clf}.status") == "ok"
    click(ui_maya, "Capture viewport")  # it is selected now: captured into again
    assert cmds.ls(type="xceptionClassifier") == [clf]
    cmds.undo()  # the second capture
    cmds.undo()  # the first: node, settings and capture are one undo step
    assert cmds.ls(type="xceptionClassifier") == []
    assert not ui_maya.messages.errors


def test_capture_viewport_with_two_classifiers_selected_warns(ui_maya: Session) -> None:
    cmds = ui_maya.cmds
    first = cmds.createNode("xceptionClassifier")
    second = cmds.createNode("xceptionClassifier")
    cmds.select(first, second)
    actions.run("capture")
    assert ui_maya.messages.warnings == [
        "Xception: Capture viewport: select one xceptionClassifier, or none to make a new one"
    ]
    assert not ui_maya.messages.errors


def test_tag_items_and_the_set_per_tag_checkbox(
    ui_maya: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = ui_maya.cmds
    calls = Recorder()
    monkeypatch.setattr(actions, "command", calls)
    shelf.install()
    click(ui_maya, "Tag scene")
    click(ui_maya, "Tag selected textures")
    checkbox = menu_item(ui_maya, "Make a set per tag")
    cmds.menuItem(checkbox, e=True, checkBox=True)  # what a click does to the check mark
    invoke(cmds.menuItem(checkbox, q=True, command=True))
    assert cmds.optionVar(q=actions.SETS_VAR) == 1
    click(ui_maya, "Tag scene")
    assert calls.calls == [
        ("xceptionTag", (), {}),
        ("xceptionTag", (), {"selection": True}),
        ("xceptionTag", (), {"sets": True}),
    ]
    shelf.install()  # rebuilt: the check mark shows the saved choice
    assert cmds.menuItem(menu_item(ui_maya, "Make a set per tag"), q=True, checkBox=True)


def test_tag_selected_textures_tags_only_them_and_makes_sets(
    ui_maya: Session, samples: list[Path]
) -> None:
    cmds = ui_maya.cmds
    chosen, other = file_node(ui_maya, samples[0]), file_node(ui_maya, samples[1])
    cmds.optionVar(intValue=(actions.SETS_VAR, 1))
    cmds.select(chosen)
    actions.run("tagSelected")
    top = cmds.getAttr(f"{chosen}.{tagging.TOP_TAG}")
    assert top
    assert cmds.objExists(tagging.set_name(top))
    assert not cmds.attributeQuery(tagging.TOP_TAG, node=other, exists=True)
    assert not ui_maya.messages.errors


def test_select_similar_takes_k_from_its_option(
    ui_maya: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = ui_maya.cmds
    calls = Recorder()
    monkeypatch.setattr(actions, "command", calls)
    shelf.install()
    click(ui_maya, "Select similar")
    cmds.optionVar(intValue=(actions.SIMILAR_K_VAR, 3))
    click(ui_maya, "Select similar")
    monkeypatch.setattr(actions, "prompt", lambda *args: "7")
    option_box = next(i for i in menu_items(ui_maya) if cmds.menuItem(i, q=True, optionBox=True))
    invoke(cmds.menuItem(option_box, q=True, command=True))
    assert cmds.optionVar(q=actions.SIMILAR_K_VAR) == 7
    assert [flags for _, _, flags in calls.calls] == [{"k": 5}, {"k": 3}, {"k": 7}]
    monkeypatch.setattr(actions, "prompt", lambda *args: "many")
    invoke(cmds.menuItem(option_box, q=True, command=True))
    assert ui_maya.messages.warnings == [
        "Xception: Select similar options: 'many' is not a whole number"
    ]
    assert len(calls.calls) == 3


def test_learn_tags_from_selection_labels_the_selected_textures(
    ui_maya: Session, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = ui_maya.cmds
    textures = [file_node(ui_maya, p) for p in samples[:2]]
    cmds.select(textures)
    asked: list[str] = []

    def prompt(title: str, message: str, text: str = "") -> str:
        asked.append(message)
        return " wood "

    monkeypatch.setattr(actions, "prompt", prompt)
    shelf.install()
    click(ui_maya, "Learn tags from selection...")
    assert asked == ["Tag for the 2 selected textures:"]
    assert [cmds.getAttr(f"{t}.{tagging.USER_TAG}") for t in textures] == ["wood", "wood"]
    assert not ui_maya.messages.errors and not ui_maya.messages.warnings

    monkeypatch.setattr(actions, "prompt", lambda *args: None)  # Cancel: nothing happens
    before = ui_maya.snapshot()
    click(ui_maya, "Learn tags from selection...")
    assert ui_maya.snapshot() == before
    cmds.select(clear=True)
    click(ui_maya, "Learn tags from selection...")
    assert ui_maya.messages.warnings == [
        "Xception: Learn tags from selection...: select the file textures that show the tag first"
    ]


def test_train_head_asks_for_a_name(ui_maya: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Recorder()
    monkeypatch.setattr(actions, "command", calls)
    monkeypatch.setattr(actions, "prompt", lambda *args: "materials ")
    shelf.install()
    click(ui_maya, "Train head from labelled textures...")
    assert calls.calls == [("xceptionLearn", (), {"name": "materials"})]
    monkeypatch.setattr(actions, "prompt", lambda *args: None)
    click(ui_maya, "Train head from labelled textures...")
    assert len(calls.calls) == 1


def test_a_failing_action_shows_one_line_and_does_not_raise(
    ui_maya: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = ui_maya.messages
    actions.run("classify")  # nothing selected: the command's own error line, nothing more
    assert len(messages.errors) == 1 and not messages.warnings
    messages.clear()

    def boom() -> None:
        raise ValueError("boom\nand a second line")

    monkeypatch.setitem(actions.ACTIONS, "boom", actions.Action("Boom", "", "", boom))
    actions.run("boom")
    assert messages.errors == ["Xception: Boom: boom"] and not messages.warnings
    messages.clear()

    monkeypatch.setattr(actions.cmds, "xceptionTag", None, raising=False)  # as if not registered
    actions.run("tag")
    assert messages.warnings == [
        "Xception: Tag scene: the xceptionTag command is missing: "
        "load the xception_classifier plug-in"
    ]
    assert not messages.errors


# --- Settings window ----------------------------------------------------------------------


def test_head_choices_list_the_manifest_and_learned_heads(
    maya: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names, note = settings_window.head_choices()
    assert names == ["default", "kitchenware"] and note == ""
    folder = settings.user_heads_dir()
    folder.mkdir(parents=True)
    for name in ("mine", "none", "bad name"):  # the registry lists only valid names
        (folder / f"{name}.npz").write_bytes(b"")
    assert settings_window.head_choices()[0] == ["default", "kitchenware", "mine"]
    monkeypatch.setenv("XCEPTION_MAYA_MODELS", str(tmp_path / "nowhere"))
    names, note = settings_window.head_choices("custom.npz")
    assert names == ["default", "custom.npz"]  # without a backbone no head can run
    assert "no model manifest" in note


def test_the_settings_window_saves_what_settings_load_reads(ui_maya: Session) -> None:
    cmds = ui_maya.cmds
    missing = [c for c in ("intSliderGrp", "floatSliderGrp") if not hasattr(cmds, c)]
    if missing:
        pytest.skip(f"the emulation has no {' or '.join(missing)} (asked for; see test_ui.py)")
    actions.run("settings")
    assert cmds.window(settings_window.WINDOW, exists=True)
    assert cmds.optionMenu(settings_window.DEVICE_MENU, q=True, value=True) == "auto"
    heads = [
        cmds.menuItem(item, q=True, label=True)
        for item in cmds.optionMenu(settings_window.HEAD_MENU, q=True, itemListLong=True)
    ]
    assert heads == ["default", "kitchenware"]
    assert cmds.optionMenu(settings_window.HEAD_MENU, q=True, value=True) == "default"
    assert cmds.intSliderGrp(settings_window.TOP_K_SLIDER, q=True, value=True) == 5
    assert cmds.intSliderGrp(settings_window.TOP_K_SLIDER, q=True, maxValue=True) == 50
    cmds.optionMenu(settings_window.DEVICE_MENU, e=True, value="cpu")
    cmds.optionMenu(settings_window.HEAD_MENU, e=True, value="kitchenware")
    cmds.intSliderGrp(settings_window.TOP_K_SLIDER, e=True, value=7)
    cmds.floatSliderGrp(settings_window.THRESHOLD_SLIDER, e=True, value=0.25)
    assert cmds.textFieldGrp(settings_window.LIBRARY_FIELD, q=True, text=True) == ""
    cmds.textFieldGrp(settings_window.LIBRARY_FIELD, e=True, text=" /studio/library.db ")
    invoke(cmds.button(settings_window.SAVE_BUTTON, q=True, command=True))
    assert settings.load() == settings.Settings(
        "cpu", "kitchenware", 7, 0.25, library="/studio/library.db"
    )
    assert settings.library_path() == Path("/studio/library.db")
    assert classifiers.library() == Path("/studio/library.db"), "the node reads it from now on"
    assert not cmds.window(settings_window.WINDOW, exists=True)
    actions.run("settings")  # shows what was saved
    assert cmds.optionMenu(settings_window.HEAD_MENU, q=True, value=True) == "kitchenware"
    assert cmds.intSliderGrp(settings_window.TOP_K_SLIDER, q=True, value=True) == 7
    assert cmds.floatSliderGrp(
        settings_window.THRESHOLD_SLIDER, q=True, value=True
    ) == pytest.approx(0.25)
    assert cmds.textFieldGrp(settings_window.LIBRARY_FIELD, q=True, text=True) == (
        "/studio/library.db"
    )
    assert not ui_maya.messages.errors


def test_the_settings_window_downloads_imagenet(
    ui_maya: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xception_maya.maya import imagenet_download

    calls: list[object] = []
    monkeypatch.setattr(
        imagenet_download, "download_imagenet", lambda: calls.append(1) or "installed"
    )
    actions.run("settings")
    invoke(ui_maya.cmds.button(settings_window.IMAGENET_BUTTON, q=True, command=True))
    assert calls == [1] and not ui_maya.messages.errors
    assert not ui_maya.cmds.window(settings_window.WINDOW, exists=True)


# --- About / doctor window ----------------------------------------------------------------


def test_the_doctor_window_lists_the_provider_that_runs(ui_maya: Session) -> None:
    cmds = ui_maya.cmds
    shelf.install()
    click(ui_maya, "About / doctor...")
    assert cmds.window(doctor_window.WINDOW, exists=True)
    labels = [label for _, label in texts_in(ui_maya, doctor_window.WINDOW)]
    running = [line for line in labels if line.startswith("running on: ")]
    assert len(running) == 1
    assert running[0].removeprefix("running on: ") in available_providers()
    assert any(line.startswith("providers: ") for line in labels)
    assert any(line.startswith("xception-maya: ") for line in labels)
    assert "No problems found." in labels
    assert not ui_maya.messages.errors


def test_the_doctor_window_highlights_problems(
    ui_maya: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = ui_maya.cmds
    monkeypatch.setenv("XCEPTION_MAYA_MODELS", str(tmp_path))
    actions.run("doctor")
    problems = [
        (path, label)
        for path, label in texts_in(ui_maya, doctor_window.WINDOW)
        if "no model manifest" in label
    ]
    assert len(problems) == 1
    color = cmds.text(problems[0][0], q=True, backgroundColor=True)
    assert list(color) == pytest.approx(list(uikit.PROBLEM_COLOR), abs=0.01)
    assert not ui_maya.messages.errors


# --- Attribute Editor template ------------------------------------------------------------


def test_the_ae_template_places_or_hides_every_attribute_once(maya: Session) -> None:
    cmds = maya.cmds
    text = TEMPLATE.read_text(encoding="utf8")
    assert re.search(r"global proc AExceptionClassifierTemplate\(string \$nodeName\)", text)
    sections = re.findall(r'-beginLayout "([^"]+)"', text)
    assert sections == ["Image", "Model", "Results"]
    added = re.findall(r'-addControl "(\w+)"', text)
    suppressed = re.findall(r'-suppress "(\w+)"', text)
    custom = re.findall(r'-callCustom\s+"(\w+)"\s+"(\w+)"\s+"(\w+)"', text)
    assert len(custom) == 1
    new, replace, attribute = custom[0]
    for proc in (new, replace):  # the procs -callCustom names are defined here
        assert re.search(rf"global proc {proc}\(string \$plug\)", text)
    for function in re.findall(r"_xae\.(\w+)\(", text):  # and call what ae.py has
        assert callable(getattr(ae, function))

    clf = cmds.createNode("xceptionClassifier")
    own = set(cmds.listAttr(clf)) - set(cmds.listAttr(cmds.createNode("network")))
    handled = [*added, *suppressed, attribute]
    assert sorted(handled) == sorted(own)  # each exactly once
    assert added == [
        "imageFile", "colorSpace", "frame", "pixelWidth", "pixelHeight", "head", "model",
        "device", "precision", "topK", "enable", "async", "confident", "confidence",
    ]  # fmt: skip
    assert {"pixels", "features", "classScores"} <= set(suppressed)


def results_rows(maya: Session, layout: str) -> tuple[str, list[tuple[str, int, str]]]:
    """The Results control: its status line and (label, bar progress, score text) rows."""
    cmds = maya.cmds
    status = ""
    rows = []
    for child in cmds.layout(layout, q=True, childArray=True) or []:
        path = f"{layout}|{child}"
        kind = ui_type(maya, path)
        if kind == "staticText":
            status = cmds.text(path, q=True, label=True)
        elif kind == "rowLayout":
            parts = [f"{path}|{c}" for c in cmds.layout(path, q=True, childArray=True)]
            assert [ui_type(maya, p) for p in parts] == ["staticText", "progressBar", "staticText"]
            rows.append(
                (
                    cmds.text(parts[0], q=True, label=True),
                    cmds.progressBar(parts[1], q=True, progress=True),
                    cmds.text(parts[2], q=True, label=True),
                )
            )
    return status, rows


def test_the_ae_results_control_shows_the_top_labels_as_bars(
    ui_maya: Session, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = ui_maya.cmds
    watched: list[tuple[str, str]] = []
    if not hasattr(cmds, "scriptJob"):  # the emulation has none: record what would be watched
        monkeypatch.setattr(ae, "watch", lambda layout, node: watched.append((layout, node)))
    first = cmds.xceptionCreate(file_node(ui_maya, samples[0]), topK=3)[0]
    second = cmds.xceptionCreate(file_node(ui_maya, samples[1]))[0]
    cmds.setAttr(f"{second}.enable", False)

    window = cmds.window()
    parent = cmds.columnLayout()  # stands in for the AE's layout
    ae.results_new(f"{first}.status")  # what AExceptionClassifierResultsNew calls
    layout = f"{parent}|{ae.RESULTS_LAYOUT}"
    status, rows = results_rows(ui_maya, layout)
    labels, scores = cmds.getAttr(f"{first}.labels"), cmds.getAttr(f"{first}.scores")
    assert status.startswith("ok (") and status.endswith(" ms)")
    assert [r[0] for r in rows] == labels and len(rows) == 3
    assert [r[1] for r in rows] == [round(s * 1000) for s in scores]
    assert [r[2] for r in rows] == [f"{s:.1%}" for s in scores]

    cmds.setAttr(f"{first}.topK", 2)
    ae.refresh_now(layout, first)  # what the attributeChange job runs, once idle
    assert len(results_rows(ui_maya, layout)[1]) == 2

    cmds.setParent(parent)  # the AE shows another node: replace, in the same layout
    ae.results_replace(f"{second}.status")
    assert results_rows(ui_maya, layout) == ("disabled", [])
    if watched:
        assert watched == [(layout, first), (layout, second)]
    assert not ui_maya.messages.errors
    cmds.deleteUI(window, window=True)
