"""Scene tagging, similar textures and learned tags, on real Maya or the emulation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from maya_session import IS_EMULATION, Session

from xception_maya.heads import Head
from xception_maya.maya import node as node_module

pytestmark = pytest.mark.maya


def file_node(maya: Session, path: Path | str) -> str:
    name = maya.cmds.shadingNode("file", asTexture=True)
    maya.cmds.setAttr(f"{name}.fileTextureName", str(path), type="string")
    return name


def engine_runs() -> int:
    return sum(c.engine.runs for c in node_module._classifiers.values())


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
    with pytest.raises(RuntimeError, match="give the head a name"):
        cmds.xceptionLearn(name="bad name!")


def test_tag_help(maya: Session) -> None:
    assert "-threshold (-th)" in maya.cmds.xceptionTag(help=True)
    assert np.isfinite(1.0)
