"""Scene tagging, similar textures and learned tags, on real Maya or the emulation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from maya_session import IS_EMULATION, Session

from xception_maya.heads import Head
from xception_maya.maya import classifiers, tagging

pytestmark = pytest.mark.maya


def file_node(maya: Session, path: Path | str) -> str:
    name = maya.cmds.shadingNode("file", asTexture=True)
    maya.cmds.setAttr(f"{name}.fileTextureName", str(path), type="string")
    return name


def engine_runs() -> int:
    engines = {id(c.engine): c.engine for c in classifiers.cached()}
    return sum(e.runs for e in engines.values())


@pytest.fixture
def scene(maya: Session, samples: list[Path], tmp_path: Path) -> dict[str, str]:
    """Three readable textures (copies, so tests may change them) and one missing."""
    names = {}
    for key, sample in (("fork", samples[16]), ("spoon", samples[12]), ("plate", samples[3])):
        copy = tmp_path / f"{key}.jpg"
        shutil.copy(sample, copy)
        names[key] = file_node(maya, copy)
    names["missing"] = file_node(maya, tmp_path / "gone.png")
    return names


def test_tag_writes_prefixed_attributes_and_lists_failures(
    maya: Session, scene: dict[str, str]
) -> None:
    cmds = maya.cmds
    cmds.addAttr(scene["fork"], longName="myTag", dataType="string")
    cmds.setAttr(f"{scene['fork']}.myTag", "keep me", type="string")
    tagged = cmds.xceptionTag(topK=3)
    assert sorted(tagged) == sorted([scene["fork"], scene["spoon"], scene["plate"]])
    assert cmds.getAttr(f"{scene['fork']}.xceptionTopTag") == "fork"
    assert cmds.getAttr(f"{scene['plate']}.xceptionTopTag") == "plate"
    assert len(cmds.getAttr(f"{scene['spoon']}.xceptionTags")) == 3
    scores = cmds.getAttr(f"{scene['fork']}.xceptionScores")
    assert scores == sorted(scores, reverse=True)
    assert cmds.getAttr(f"{scene['fork']}.xceptionTopScore") == pytest.approx(scores[0])
    assert cmds.getAttr(f"{scene['fork']}.myTag") == "keep me"
    assert not cmds.attributeQuery("xceptionTags", node=scene["missing"], exists=True)
    warning = next(w for w in maya.messages.warnings if "could not be classified" in w)
    assert scene["missing"] in warning and "file not found" in warning
    assert any("tagged 3 of 4 textures" in i for i in maya.messages.infos)


def test_second_run_classifies_only_changed_files(
    maya: Session, scene: dict[str, str], samples: list[Path]
) -> None:
    cmds = maya.cmds
    cmds.xceptionTag()
    runs = engine_runs()
    assert cmds.xceptionTag() in ([], None)
    assert engine_runs() == runs, "nothing changed: the network must not run"
    path = cmds.getAttr(f"{scene['spoon']}.fileTextureName")
    shutil.copy(samples[16], path)  # the spoon texture now shows a fork
    os.utime(path, ns=(10**18, 10**18))
    assert cmds.xceptionTag() == [scene["spoon"]]
    assert cmds.getAttr(f"{scene['spoon']}.xceptionTopTag") == "fork"
    assert engine_runs() == runs + 1


def test_tag_undo_and_redo_restore_the_scene_exactly(maya: Session, scene: dict[str, str]) -> None:
    cmds = maya.cmds
    before = maya.snapshot()
    cmds.xceptionTag(sets=True)
    assert cmds.sets("xceptionTag_fork", q=True) == [scene["fork"]]
    after = maya.snapshot()
    cmds.undo()
    assert maya.snapshot() == before
    assert not cmds.objExists("xceptionTag_fork")
    cmds.redo()
    assert maya.snapshot() == after


def test_threshold_and_selection(maya: Session, scene: dict[str, str]) -> None:
    cmds = maya.cmds
    cmds.select(scene["fork"])
    assert cmds.xceptionTag(selection=True, threshold=0.5) == [scene["fork"]]
    assert cmds.getAttr(f"{scene['fork']}.xceptionTags") == ["fork"]
    assert not cmds.attributeQuery("xceptionTags", node=scene["plate"], exists=True)


def test_an_empty_scene_is_an_error(maya: Session) -> None:
    with pytest.raises(RuntimeError, match="no file textures in the scene"):
        maya.cmds.xceptionTag()


@pytest.mark.skipif(not IS_EMULATION, reason="cancelling needs a person pressing Esc")
def test_cancel_keeps_what_was_tagged(
    maya: Session, samples: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from maya import _emulation

    from xception_maya.maya import tagging

    monkeypatch.setattr(tagging, "CHUNK", 2)
    for i in range(5):
        shutil.copy(samples[i], tmp_path / f"t{i}.jpg")
        file_node(maya, tmp_path / f"t{i}.jpg")
    with maya.interactive():
        _emulation.simulate_cancel_after(1)
        tagged = maya.cmds.xceptionTag()
    assert len(tagged) == 2
    assert any("cancelled" in i for i in maya.messages.infos)


def test_similar_selects_the_copy_first(
    maya: Session, scene: dict[str, str], tmp_path: Path
) -> None:
    cmds = maya.cmds
    twin_path = tmp_path / "twin.jpg"
    shutil.copy(cmds.getAttr(f"{scene['fork']}.fileTextureName"), twin_path)
    twin = file_node(maya, twin_path)
    cmds.select(scene["fork"])
    result = cmds.xceptionSimilar(k=2)
    assert result[0] == twin and float(result[1]) == pytest.approx(1.0, abs=1e-4)
    assert len(result) == 4 and scene["fork"] not in result[::2]
    assert cmds.ls(selection=True) == result[::2]
    assert any(scene["missing"] in w for w in maya.messages.warnings)
    cmds.undo()
    assert cmds.ls(selection=True) == [scene["fork"]]


def test_label_learn_and_use_a_head(
    maya: Session, samples: list[Path], sample_labels: dict[str, str]
) -> None:
    cmds = maya.cmds
    nodes = {}
    for photo in samples:
        if photo.name in sample_labels:
            nodes[photo.name] = file_node(maya, photo)
            cmds.xceptionLabel(nodes[photo.name], tag=sample_labels[photo.name])
    assert cmds.getAttr(f"{nodes['0412.jpg']}.xceptionUserTag") == "fork"
    path, accuracy = cmds.xceptionLearn(name="cutlery")
    head = Head.load(path)
    assert sorted(head.labels) == ["cup", "fork", "knife", "plate", "spoon"]
    assert float(accuracy) == -1  # fork, knife and spoon have one example each
    assert any("head 'cutlery' from 9 textures" in i for i in maya.messages.infos)

    clf = cmds.createNode("xceptionClassifier")
    cmds.connectAttr(f"{nodes['0412.jpg']}.computedFileTextureNamePattern", f"{clf}.imageFile")
    cmds.setAttr(f"{clf}.head", "cutlery", type="string")
    assert cmds.getAttr(f"{clf}.status") == "ok"
    assert cmds.getAttr(f"{clf}.topLabel") == "fork"
    assert cmds.getAttr(f"{clf}.classNames") == head.labels


def test_label_undo_and_learn_needs_two_tags(maya: Session, samples: list[Path]) -> None:
    cmds = maya.cmds
    texture = file_node(maya, samples[0])
    before = maya.snapshot()
    cmds.xceptionLabel(texture, tag="wood")
    cmds.undo()
    assert maya.snapshot() == before
    cmds.xceptionLabel(texture, tag="wood")
    with pytest.raises(RuntimeError, match="need at least two tags"):
        cmds.xceptionLearn(name="materials")
    with pytest.raises(RuntimeError, match="head name 'bad name!' is not allowed"):
        cmds.xceptionLearn(name="bad name!")
    with pytest.raises(RuntimeError, match="head name 'none' is not allowed"):
        cmds.xceptionLearn(name="none")  # "none" means no head: a head may not take it
    with pytest.raises(RuntimeError, match="give the head a name"):
        cmds.xceptionLearn()


def test_tag_help(maya: Session) -> None:
    text = maya.cmds.xceptionTag(help=True)
    assert "-threshold (-th) float" in text and "(default: Settings)" in text
    assert "-count (-k) int" in maya.cmds.xceptionSimilar(help=True)
    assert "-tagName (-tag) string" in maya.cmds.xceptionLabel(help=True)


def test_a_failing_tag_run_rolls_back_the_textures_it_already_tagged(
    maya: Session, scene: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second batch fails (here: memory; on real Maya also a locked node): the first
    batch's attributes go again, nothing is queued for undo, and the error is one line."""
    from xception_maya.classifier import Classifier

    monkeypatch.setattr(tagging, "CHUNK", 1)
    real = Classifier.classify
    calls: list[int] = []

    def classify(self: Classifier, *args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("cannot allocate")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Classifier, "classify", classify)
    cmds = maya.cmds
    cmds.flushUndo()
    before = maya.snapshot()
    with pytest.raises(RuntimeError, match=r"^xceptionTag: MemoryError: cannot allocate"):
        cmds.xceptionTag(sets=True)
    assert maya.snapshot() == before
    assert cmds.undoInfo(q=True, undoQueueEmpty=True)


def test_sets_follow_the_top_tag(maya: Session, scene: dict[str, str], samples: list[Path]) -> None:
    cmds = maya.cmds
    cmds.xceptionTag(sets=True)
    assert cmds.sets("xceptionTag_plate", q=True) == [scene["plate"]]
    path = cmds.getAttr(f"{scene['plate']}.fileTextureName")
    shutil.copy(samples[16], path)  # the plate texture now shows a fork
    os.utime(path, ns=(10**18, 10**18))
    cmds.xceptionTag(sets=True)
    assert sorted(cmds.sets("xceptionTag_fork", q=True)) == sorted([scene["fork"], scene["plate"]])
    assert not cmds.sets("xceptionTag_plate", q=True)
    cmds.undo()
    assert cmds.sets("xceptionTag_plate", q=True) == [scene["plate"]]
    assert cmds.sets("xceptionTag_fork", q=True) == [scene["fork"]]


def test_unknown_textures_get_the_unknown_tag_set_and_a_low_confidence(
    maya: Session, scene: dict[str, str], tmp_path: Path
) -> None:
    """A brick wall is no kitchenware: its top tag is "unknown" (its labels stay as the head
    ranks them), it joins xceptionTag_unknown, and xceptionConfidence says why."""
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image's sample images")
    from PIL import Image

    Image.fromarray(skimage_data.brick()).convert("RGB").save(tmp_path / "brick.png")
    brick = file_node(maya, tmp_path / "brick.png")
    cmds = maya.cmds
    cmds.xceptionTag(sets=True)
    assert cmds.getAttr(f"{brick}.xceptionTopTag") == "unknown"
    assert cmds.getAttr(f"{brick}.xceptionTags")[0] != "unknown"
    assert 0.0 <= cmds.getAttr(f"{brick}.xceptionConfidence") < 0.5
    assert cmds.sets("xceptionTag_unknown", q=True) == [brick]
    assert cmds.getAttr(f"{scene['fork']}.xceptionTopTag") == "fork"
    assert 0.5 <= cmds.getAttr(f"{scene['fork']}.xceptionConfidence") <= 1.0
    cmds.undo()
    assert not cmds.objExists("xceptionTag_unknown")
    assert not cmds.attributeQuery("xceptionConfidence", node=brick, exists=True)
