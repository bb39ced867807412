"""The library index inside Maya: tagging reads and fills it, xceptionSimilar -library
searches it, the Library window searches it and creates file nodes (undoable)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from maya_session import Session

from xception_maya.classifier import Classifier
from xception_maya.library import ENV_INDEX, Library, Model
from xception_maya.library.scan import index_folders, local_extractor
from xception_maya.maya import classifiers, library_window, settings, tagging

pytestmark = pytest.mark.maya

LIBRARY_VAR = settings.PREFIX + "library"


def file_node(maya: Session, path: Path | str) -> str:
    name: str = maya.cmds.shadingNode("file", asTexture=True)
    maya.cmds.setAttr(f"{name}.fileTextureName", str(path), type="string")
    return name


def engine_runs() -> int:
    engines = {id(c.engine): c.engine for c in classifiers.cached()}
    return sum(e.runs for e in engines.values())


def tagging_classifier() -> Classifier:
    return classifiers.classifier_for("", "auto")


def model_of(clf: Classifier) -> Model:
    return Model(str(clf.manifest.backbone.sha256), clf.size, clf.resize)


@pytest.fixture(autouse=True)
def no_library_setting(maya: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(ENV_INDEX, raising=False)
    cmds = maya.cmds
    saved = cmds.optionVar(q=LIBRARY_VAR) if cmds.optionVar(exists=LIBRARY_VAR) else None
    cmds.optionVar(remove=LIBRARY_VAR)
    yield
    cmds.optionVar(remove=LIBRARY_VAR)
    if saved is not None:
        cmds.optionVar(stringValue=(LIBRARY_VAR, saved))


@pytest.fixture
def indexed(maya: Session, samples: list[Path], tmp_path: Path) -> tuple[Path, list[Path]]:
    """An index of 6 sample photos (copies), tagged by the tagging head, named in Settings;
    the feature cache emptied, so only the index can spare the network."""
    folder = tmp_path / "library"
    folder.mkdir()
    files = []
    for i in (16, 12, 3, 0, 5, 8):
        files.append(folder / f"photo{i:02d}.jpg")
        shutil.copy(samples[i], files[-1])
    db = tmp_path / "library.db"
    clf = tagging_classifier()
    with Library.open(db) as library:
        report = index_folders(
            library, [folder], model_of(clf), local_extractor(clf), head=clf.head
        )
    assert report.found == 6
    clf.cache.clear()
    maya.cmds.optionVar(stringValue=(LIBRARY_VAR, str(db)))
    return db, files


def test_the_library_path_is_the_setting_else_the_environment_else_none(
    maya: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings.library_path() is None
    monkeypatch.setenv(ENV_INDEX, str(tmp_path / "farm.db"))
    assert settings.library_path() == tmp_path / "farm.db"
    settings.Settings(library=str(tmp_path / "mine.db")).save()
    assert settings.library_path() == tmp_path / "mine.db"
    assert settings.load().library == str(tmp_path / "mine.db")


def test_tag_takes_indexed_features_and_writes_new_ones_back(
    maya: Session, indexed: tuple[Path, list[Path]], samples: list[Path], tmp_path: Path
) -> None:
    db, files = indexed
    cmds = maya.cmds
    old = [file_node(maya, f) for f in files[:3]]
    fresh_path = tmp_path / "new.jpg"
    shutil.copy(samples[14], fresh_path)
    fresh = file_node(maya, fresh_path)
    runs = engine_runs()
    assert sorted(cmds.xceptionTag()) == sorted([*old, fresh])
    assert engine_runs() == runs + 1, "only the texture not in the index runs the network"
    assert cmds.getAttr(f"{old[0]}.xceptionTopTag") == "fork"  # photo16, from the index
    assert cmds.getAttr(f"{old[2]}.xceptionTopTag") == "plate"
    clf = tagging_classifier()
    with Library.open(db, create=False) as library:
        stored = library.features_for(fresh_path, model_of(clf))
        assert stored is not None
        (computed,) = clf.features([fresh_path])
        assert isinstance(computed, np.ndarray)
        # The index keeps float16 (see xception_maya/library/store.py): equal to that precision.
        np.testing.assert_allclose(stored, computed.astype(np.float16), rtol=1e-3, atol=1e-3)
        assert clf.head is not None and clf.head.name in library.tags_for(fresh_path)

    # A new scene on the same files: every one now comes from the index.
    cmds.file(new=True, force=True)
    clf.cache.clear()
    for path in [*files[:3], fresh_path]:
        file_node(maya, path)
    runs = engine_runs()
    assert len(cmds.xceptionTag()) == 4
    assert engine_runs() == runs


def test_a_broken_index_is_one_warning_and_tagging_goes_on(
    maya: Session, samples: list[Path], tmp_path: Path
) -> None:
    bad = tmp_path / "not-an-index.db"
    bad.write_bytes(b"this is not SQLite" * 100)
    maya.cmds.optionVar(stringValue=(LIBRARY_VAR, str(bad)))
    node = file_node(maya, samples[16])
    assert maya.cmds.xceptionTag() == [node]
    assert any("library index not used" in w for w in maya.messages.warnings)


def test_similar_with_library_returns_paths_from_the_whole_library(
    maya: Session, indexed: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    _, files = indexed
    cmds = maya.cmds
    query = file_node(maya, files[0])
    other = file_node(maya, files[1])
    twin = files[0].parent / "twin.jpg"  # the same bytes under another name, indexed
    shutil.copy(files[0], twin)
    clf = tagging_classifier()
    with Library.open(indexed[0]) as library:
        index_folders(library, [twin.parent], model_of(clf), local_extractor(clf), head=clf.head)
    cmds.select(other)
    result = cmds.xceptionSimilar(query, library=True, k=3)
    assert len(result) == 6
    paths, scores = result[::2], [float(s) for s in result[1::2]]
    assert paths[0] == str(twin.resolve()) and scores[0] == pytest.approx(1.0, abs=1e-4)
    assert str(files[0].resolve()) not in paths  # the query itself is left out
    assert set(paths) <= {str(f.resolve()) for f in [*files, twin]}
    assert scores == sorted(scores, reverse=True)
    assert cmds.ls(selection=True) == [other], "-library selects nothing"
    # The scene-only search is unchanged: it sees the two scene textures only.
    assert cmds.xceptionSimilar(query, k=3)[0] == other


def test_similar_with_library_needs_an_index(maya: Session, samples: list[Path]) -> None:
    node = file_node(maya, samples[0])
    with pytest.raises(RuntimeError, match="no library index: name one in Settings"):
        maya.cmds.xceptionSimilar(node, library=True)
    assert "-library (-lib)" in maya.cmds.xceptionSimilar(help=True)


def test_library_file_node_undoes_and_redoes_exactly(maya: Session, samples: list[Path]) -> None:
    cmds = maya.cmds
    before = maya.snapshot()
    (name,) = cmds.xceptionLibraryFile(path=str(samples[3]))
    assert cmds.nodeType(name) == "file" and name == tagging.file_node_name(samples[3])
    assert cmds.getAttr(f"{name}.fileTextureName") == str(samples[3])
    assert cmds.ls(selection=True) == [name]
    after = maya.snapshot()
    cmds.undo()
    assert maya.snapshot() == before
    cmds.redo()
    assert maya.snapshot() == after
    with pytest.raises(RuntimeError, match="no such file"):
        cmds.xceptionLibraryFile(path=str(samples[3].with_name("gone.jpg")))
    assert maya.snapshot() == after
    with pytest.raises(RuntimeError, match="give the image"):
        cmds.xceptionLibraryFile()


def test_file_node_names_are_legal() -> None:
    assert tagging.file_node_name(Path("/t/oak bark.png")) == "oak_bark"
    assert tagging.file_node_name(Path("/t/0412.jpg")) == "tex_0412"
    assert tagging.file_node_name(Path("/t/ü.png")) == "texture"


def test_the_library_window_searches_and_creates_a_file_node(
    maya: Session, indexed: tuple[Path, list[Path]]
) -> None:
    _, files = indexed
    cmds = maya.cmds
    with maya.interactive():
        try:
            library_window.show()
            assert cmds.window(library_window.WINDOW, exists=True)
            cmds.optionMenu(library_window.MODE_MENU, e=True, value=library_window.TAG)
            cmds.textField(library_window.QUERY_FIELD, e=True, text="fork")
            click(cmds.button(library_window.SEARCH_BUTTON, q=True, command=True))
            items = cmds.textScrollList(library_window.RESULTS_LIST, q=True, allItems=True)
            assert items and str(files[0].resolve()) in items[0]  # photo16 is the fork
            assert cmds.text(library_window.STATUS_TEXT, q=True, label=True) == (
                f"{len(items)} found"
            )

            cmds.optionMenu(library_window.MODE_MENU, e=True, value=library_window.TEXT)
            cmds.textField(library_window.QUERY_FIELD, e=True, text="Plates")  # any case, plural
            click(cmds.button(library_window.SEARCH_BUTTON, q=True, command=True))
            items = cmds.textScrollList(library_window.RESULTS_LIST, q=True, allItems=True)
            with Library.open(indexed[0], create=False) as library:
                expected = library.by_text("plate")
            assert items == [f"{m.score:.3f}  {m.path}" for m in expected]
            assert any(str(files[2].resolve()) in item for item in items)  # photo03: a plate

            before = maya.snapshot()
            cmds.textScrollList(library_window.RESULTS_LIST, e=True, selectIndexedItem=1)
            click(cmds.button(library_window.CREATE_BUTTON, q=True, command=True))
            (created,) = cmds.ls(type="file")
            assert cmds.getAttr(f"{created}.fileTextureName") == expected[0].path
            cmds.undo()
            assert maya.snapshot() == before

            query = file_node(maya, files[0])
            cmds.select(query)
            cmds.optionMenu(library_window.MODE_MENU, e=True, value=library_window.SIMILAR)
            click(cmds.button(library_window.SEARCH_BUTTON, q=True, command=True))
            items = cmds.textScrollList(library_window.RESULTS_LIST, q=True, allItems=True)
            assert items and len(items) == 5  # the six indexed photos but the query's own
        finally:
            if cmds.window(library_window.WINDOW, exists=True):
                cmds.deleteUI(library_window.WINDOW, window=True)


def test_the_library_window_without_an_index_says_how_to_set_one(maya: Session) -> None:
    cmds = maya.cmds
    with maya.interactive():
        try:
            library_window.show()
            cmds.textField(library_window.QUERY_FIELD, e=True, text="fork")
            click(cmds.button(library_window.SEARCH_BUTTON, q=True, command=True))
            assert any(
                "no library index" in e for e in maya.messages.errors + maya.messages.warnings
            )
            assert not cmds.textScrollList(library_window.RESULTS_LIST, q=True, allItems=True)
            click(cmds.button(library_window.CREATE_BUTTON, q=True, command=True))
            assert any(
                "choose a result" in m for m in maya.messages.errors + maya.messages.warnings
            )
        finally:
            if cmds.window(library_window.WINDOW, exists=True):
                cmds.deleteUI(library_window.WINDOW, window=True)


def click(command: object) -> None:
    assert callable(command)
    command()
