"""The node's async mode: compute never waits for the network; the result lands from the
main thread's deferred queue (``session.idle()``); newer requests supersede older ones;
closing the scene or unloading cancels cleanly; batch sessions stay synchronous."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import PLUGIN
from maya_session import Session

from xception_maya.cache import FeatureCache
from xception_maya.classifier import Classifier
from xception_maya.engine import Engine
from xception_maya.maya import background, classifiers, plugin

pytestmark = pytest.mark.maya

WAIT_S = 120.0  # the loaded build machine; a landing normally takes well under a second


@pytest.fixture(autouse=True)
def on_worker_thread(maya: Session) -> Iterator[None]:
    with maya.compute_on_worker_thread():
        yield


class Gate:
    """Holds every network run until opened, so a test controls when inference ends."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.open_event = threading.Event()
        self.started = threading.Semaphore(0)
        self.runs = 0
        real = Engine.features

        def features(engine: Engine, images: np.ndarray) -> np.ndarray:
            self.runs += 1
            self.started.release()
            assert self.open_event.wait(WAIT_S), "the test never opened the gate"
            return real(engine, images)

        monkeypatch.setattr(Engine, "features", features)

    def wait_started(self) -> None:
        assert self.started.acquire(timeout=WAIT_S), "the network never started"

    def open(self) -> None:
        self.open_event.set()


def fresh_copy(sample: Path, folder: Path, name: str) -> Path:
    """A path the process-wide feature cache has never seen (its key is path + stat)."""
    copy = folder / name
    shutil.copy(sample, copy)
    return copy


def async_classifier(maya: Session, path: Path) -> tuple[str, str]:
    cmds = maya.cmds
    texture = cmds.shadingNode("file", asTexture=True)
    cmds.setAttr(f"{texture}.fileTextureName", str(path), type="string")
    clf = cmds.createNode("xceptionClassifier")
    cmds.setAttr(f"{clf}.async", True)
    cmds.connectAttr(f"{texture}.computedFileTextureNamePattern", f"{clf}.imageFile")
    return texture, clf


def direct_labels(path: Path) -> list[str]:
    return Classifier(cache=FeatureCache()).classify([path], 5)[0].labels


def land(maya: Session) -> None:
    assert background.wait(WAIT_S), "the background inference did not finish"
    maya.idle()


def test_a_new_image_returns_running_then_lands_from_the_main_thread(
    maya: Session, samples: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = maya.cmds
    photo = fresh_copy(samples[16], tmp_path, "fork.jpg")
    expected = direct_labels(photo)
    gate = Gate(monkeypatch)
    _, clf = async_classifier(maya, photo)

    # The network is held: a compute that waited for it would never return.
    assert cmds.getAttr(f"{clf}.status") == "running"
    assert cmds.getAttr(f"{clf}.labels") in (None, [])
    assert cmds.getAttr(f"{clf}.topLabel") in (None, "")
    gate.wait_started()
    gate.open()
    assert background.wait(WAIT_S)
    computes = maya.compute_counter(clf)
    assert cmds.getAttr(f"{clf}.status") == "running", "nothing lands before the main thread runs"
    assert computes() == 0
    generation = cmds.getAttr(f"{clf}.generation")

    maya.idle()  # the deferred call dirties the node
    assert cmds.getAttr(f"{clf}.generation") == generation + 1
    assert cmds.getAttr(f"{clf}.status") == "ok"
    assert cmds.getAttr(f"{clf}.labels") == expected
    assert cmds.getAttr(f"{clf}.topLabel") == "fork"
    assert cmds.getAttr(f"{clf}.evalMs") > 0, "evalMs reports the background inference"
    assert gate.runs == 1

    cmds.setAttr(f"{clf}.topK", 2)  # the landed features answer: no new run, no "running"
    assert cmds.getAttr(f"{clf}.status") == "ok" and len(cmds.getAttr(f"{clf}.labels")) == 2
    assert gate.runs == 1
    assert not maya.messages.errors and not maya.messages.warnings


def test_running_shows_the_last_result_and_only_the_latest_request_lands(
    maya: Session, samples: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = maya.cmds
    first = fresh_copy(samples[16], tmp_path, "first.jpg")
    texture, clf = async_classifier(maya, first)
    cmds.getAttr(f"{clf}.status")
    land(maya)
    assert cmds.getAttr(f"{clf}.status") == "ok"
    shown = cmds.getAttr(f"{clf}.labels")

    second, third = (fresh_copy(samples[i], tmp_path, f"{i}.jpg") for i in (0, 5))
    expected = direct_labels(third)[:3]
    gate = Gate(monkeypatch)
    cmds.setAttr(f"{texture}.fileTextureName", str(second), type="string")
    assert cmds.getAttr(f"{clf}.status") == "running"
    assert cmds.getAttr(f"{clf}.labels") == shown, "running keeps the last result"
    gate.wait_started()  # the second image is in the network now
    cmds.setAttr(f"{texture}.fileTextureName", str(third), type="string")
    assert cmds.getAttr(f"{clf}.status") == "running"
    cmds.setAttr(f"{clf}.topK", 3)  # asked again while it runs: no second request
    assert cmds.getAttr(f"{clf}.status") == "running"
    generation = cmds.getAttr(f"{clf}.generation")
    gate.open()
    land(maya)
    assert cmds.getAttr(f"{clf}.generation") == generation + 1, "one landing: the latest"
    assert gate.runs == 2  # the second (already running) and the third, once
    assert cmds.getAttr(f"{clf}.status") == "ok"
    assert cmds.getAttr(f"{clf}.labels") == expected


def test_unloading_during_inference_cancels_cleanly(
    maya: Session, samples: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = maya.cmds
    gate = Gate(monkeypatch)
    _, clf = async_classifier(maya, fresh_copy(samples[3], tmp_path, "a.jpg"))
    assert cmds.getAttr(f"{clf}.status") == "running"
    gate.wait_started()
    cmds.file(new=True, force=True)
    cmds.unloadPlugin("xception_classifier", force=True)
    gate.open()
    land(maya)
    assert not maya.messages.errors and not maya.messages.warnings
    cmds.loadPlugin(str(PLUGIN))  # the fixture unloads it


def test_closing_the_scene_or_deleting_the_node_drops_the_result(
    maya: Session, samples: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmds = maya.cmds
    gate = Gate(monkeypatch)
    _, deleted = async_classifier(maya, fresh_copy(samples[3], tmp_path, "a.jpg"))
    assert cmds.getAttr(f"{deleted}.status") == "running"
    gate.wait_started()
    cmds.delete(deleted)
    gate.open()
    land(maya)
    assert not cmds.objExists(deleted)

    gate = Gate(monkeypatch)
    _, closed = async_classifier(maya, fresh_copy(samples[4], tmp_path, "b.jpg"))
    assert cmds.getAttr(f"{closed}.status") == "running"
    gate.wait_started()
    cmds.file(new=True, force=True)
    gate.open()
    land(maya)
    assert not maya.messages.errors and not maya.messages.warnings


def test_a_bad_file_lands_as_its_status_with_one_warning(maya: Session, tmp_path: Path) -> None:
    cmds = maya.cmds
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff not really a jpeg")
    _, clf = async_classifier(maya, broken)
    assert cmds.getAttr(f"{clf}.status") == "running"
    land(maya)
    status = cmds.getAttr(f"{clf}.status")
    assert "broken.jpg" in status and not cmds.getAttr(f"{clf}.labels")
    maya.idle()  # the warning compute queued
    assert len([w for w in maya.messages.warnings if clf in w]) == 1
    assert not maya.messages.errors


def test_batch_sessions_are_synchronous_and_interactive_ones_async(
    maya: Session, samples: list[Path], tmp_path: Path
) -> None:
    cmds = maya.cmds
    if cmds.about(batch=True):
        clf = cmds.createNode("xceptionClassifier")
        assert cmds.getAttr(f"{clf}.async") is False
        cmds.setAttr(
            f"{clf}.imageFile", str(fresh_copy(samples[16], tmp_path, "b.jpg")), type="string"
        )
        assert cmds.getAttr(f"{clf}.status") == "ok", "batch: the result is there at once"
        assert cmds.getAttr(f"{clf}.topLabel") == "fork"
    cmds.unloadPlugin("xception_classifier", force=True)
    with maya.interactive():
        cmds.loadPlugin(str(PLUGIN))
        try:
            clf = cmds.createNode("xceptionClassifier")
            assert cmds.getAttr(f"{clf}.async") is True
            path = fresh_copy(samples[16], tmp_path, "i.jpg")
            cmds.setAttr(f"{clf}.imageFile", str(path), type="string")
            assert cmds.getAttr(f"{clf}.status") == "running"
            land(maya)
            assert cmds.getAttr(f"{clf}.topLabel") == "fork"
        finally:
            cmds.file(new=True, force=True)
            cmds.unloadPlugin("xception_classifier", force=True)
    cmds.loadPlugin(str(PLUGIN))  # the fixture unloads it


def test_loading_creates_the_session_in_the_background(maya: Session) -> None:
    from xception_maya import engine

    cmds = maya.cmds
    cmds.unloadPlugin("xception_classifier", force=True)
    engine.clear_engines()
    cmds.loadPlugin(str(PLUGIN))
    assert plugin.warming is not None
    plugin.warming.join(WAIT_S)
    clf = classifiers.classifier_for("", "auto")
    assert clf.engine._session is not None, "the default session exists before any compute"
    assert clf.engine.runs == 0
