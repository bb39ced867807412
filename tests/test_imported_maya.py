"""An imported ONNX model in Maya: the node's ``model`` attribute, its async mode, and
``xceptionTag -model``, against ``xception-maya classify --model`` on the same files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from maya_session import Session
from test_import import LABELS, build, models, weights  # noqa: F401  (models: its fixture)

from xception_maya import manifest as mf
from xception_maya.cli import main
from xception_maya.maya import background, classifiers

pytestmark = pytest.mark.maya

WAIT_S = 120.0  # the loaded build machine; a landing normally takes well under a second


@pytest.fixture
def tiny(
    maya: Session, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """test_import's copy of the models folder with "tiny" (logits + features) and "bare"
    (logits only) imported, and the plug-in pointed at it."""
    folder: Path = request.getfixturevalue("models")
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(LABELS) + "\n")
    for name, features in (("tiny", ["--features", "feat"]), ("bare", [])):
        onnx_file = build(tmp_path / f"{name}.onnx", weights(seed=3), features=bool(features))
        args = ["import", str(onnx_file), "--labels", str(labels), *features]
        args += ["--size", "64", "64", "--range", "-1,1", "--models", str(folder)]
        assert main(args) == 0
    monkeypatch.setenv(mf.ENV_MODELS, str(folder))
    classifiers.forget()
    yield folder
    classifiers.forget()  # the next test's models folder is another


def cli_record(folder: Path, model: str, photo: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    capsys.readouterr()
    args = ["classify", "--model", model, "--json", "--features", "--top-k", "5"]
    assert main([*args, "--models", str(folder), str(photo)]) == 0
    return json.loads(capsys.readouterr().out)[0]


def assert_node_gives(maya: Session, clf: str, record: Any) -> None:
    cmds = maya.cmds
    assert cmds.getAttr(f"{clf}.status") == "ok"
    assert cmds.getAttr(f"{clf}.labels") == record["labels"]
    np.testing.assert_allclose(cmds.getAttr(f"{clf}.scores"), record["scores"], atol=1e-6)
    assert cmds.getAttr(f"{clf}.topLabel") == record["labels"][0]
    assert cmds.getAttr(f"{clf}.classNames") == LABELS
    assert cmds.getAttr(f"{clf}.classScores", size=True) == len(LABELS)
    assert cmds.getAttr(f"{clf}.confident") is True  # an imported model never says unknown
    assert cmds.getAttr(f"{clf}.confidence") == 1.0
    if record["features"] is None:
        assert not cmds.getAttr(f"{clf}.features")
    else:
        np.testing.assert_allclose(cmds.getAttr(f"{clf}.features"), record["features"], atol=1e-6)


def photo_copy(samples: list[Path], tmp_path: Path, index: int, name: str) -> Path:
    out = tmp_path / name
    shutil.copy(samples[index], out)
    return out


def test_the_node_takes_a_model_by_name_and_back(
    maya: Session,
    tiny: Path,
    samples: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cmds = maya.cmds
    photo = photo_copy(samples, tmp_path, 16, "fork.jpg")
    texture = cmds.shadingNode("file", asTexture=True)
    cmds.setAttr(f"{texture}.fileTextureName", str(photo), type="string")
    clf = cmds.xceptionCreate(texture, model="tiny")[0]
    assert cmds.getAttr(f"{clf}.model") == "tiny"
    record = cli_record(tiny, "tiny", photo, capsys)
    assert record["labels"][0] in LABELS and len(record["features"]) == 4
    assert_node_gives(maya, clf, record)

    cmds.setAttr(f"{clf}.model", "", type="string")  # back to Xception and its head
    assert cmds.getAttr(f"{clf}.status") == "ok"
    assert cmds.getAttr(f"{clf}.topLabel") == "fork"
    assert cmds.getAttr(f"{clf}.classNames") == ["cup", "fork", "glass", "knife", "plate", "spoon"]
    assert len(cmds.getAttr(f"{clf}.features")) == 2048

    cmds.setAttr(f"{clf}.model", "bare", type="string")  # no features output: empty features
    assert_node_gives(maya, clf, cli_record(tiny, "bare", photo, capsys))


def test_a_bad_model_or_a_head_with_one_is_one_status_line(
    maya: Session, tiny: Path, samples: list[Path]
) -> None:
    cmds = maya.cmds
    texture = cmds.shadingNode("file", asTexture=True)
    cmds.setAttr(f"{texture}.fileTextureName", str(samples[0]), type="string")
    clf = cmds.xceptionCreate(texture)[0]
    for attr, value, reason in (
        ("model", "nosuch", "unknown model 'nosuch'; known models: default, tiny, bare"),
        ("head", "none", "head 'none' is for the default model; 'bare' has its own labels"),
    ):
        if attr == "head":
            cmds.setAttr(f"{clf}.model", "bare", type="string")
        cmds.setAttr(f"{clf}.{attr}", value, type="string")
        status = cmds.getAttr(f"{clf}.status")
        assert status == reason, status
        assert not cmds.getAttr(f"{clf}.labels") and cmds.getAttr(f"{clf}.topIndex") == -1
        maya.idle()
        warnings = [w for w in maya.messages.warnings if clf in w and reason in w]
        assert len(warnings) == 1 and "\n" not in warnings[0]
    assert not maya.messages.errors
    with pytest.raises(RuntimeError, match="unknown model 'nosuch'"):
        cmds.xceptionCreate(texture, model="nosuch")


def test_async_mode_runs_the_model_in_the_background(
    maya: Session,
    tiny: Path,
    samples: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cmds = maya.cmds
    photo = photo_copy(samples, tmp_path, 3, "plate.jpg")
    texture = cmds.shadingNode("file", asTexture=True)
    cmds.setAttr(f"{texture}.fileTextureName", str(photo), type="string")
    clf = cmds.createNode("xceptionClassifier")
    cmds.setAttr(f"{clf}.async", True)
    cmds.setAttr(f"{clf}.model", "tiny", type="string")
    cmds.connectAttr(f"{texture}.computedFileTextureNamePattern", f"{clf}.imageFile")
    with maya.compute_on_worker_thread():
        assert cmds.getAttr(f"{clf}.status") == "running"
        assert background.wait(WAIT_S), "the background inference did not finish"
        maya.idle()  # the landing dirties the node
        assert_node_gives(maya, clf, cli_record(tiny, "tiny", photo, capsys))


def test_tag_with_a_model_writes_its_top_tag_and_skips_the_index(
    maya: Session,
    tiny: Path,
    samples: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cmds = maya.cmds
    index = tmp_path / "library.db"
    monkeypatch.setenv("XCEPTION_MAYA_INDEX", str(index))
    photos = [photo_copy(samples, tmp_path, i, f"t{i}.jpg") for i in (3, 12, 16)]
    nodes = []
    for photo in photos:
        node = cmds.shadingNode("file", asTexture=True)
        cmds.setAttr(f"{node}.fileTextureName", str(photo), type="string")
        nodes.append(node)
    assert sorted(cmds.xceptionTag(model="tiny", topK=3, threshold=0.0)) == sorted(nodes)
    sha = mf.Manifest.load(tiny).models["tiny"].sha256
    for node, photo in zip(nodes, photos, strict=True):
        record = cli_record(tiny, "tiny", photo, capsys)
        assert cmds.getAttr(f"{node}.xceptionTopTag") == record["labels"][0]
        assert cmds.getAttr(f"{node}.xceptionTags") == record["labels"][:3]
        assert cmds.getAttr(f"{node}.xceptionConfidence") == 1.0
        assert sha in cmds.getAttr(f"{node}.xceptionTaggedWith")
    assert not index.exists(), "the index holds Xception features: an imported model skips it"
    assert cmds.xceptionTag(model="tiny") in ([], None), "a second run is up to date"

    assert sorted(cmds.xceptionTag()) == sorted(nodes), "Xception's tags depend on other things"
    assert cmds.getAttr(f"{nodes[2]}.xceptionTopTag") == "fork"
    assert sha not in cmds.getAttr(f"{nodes[2]}.xceptionTaggedWith")
    assert index.is_file()

    with pytest.raises(RuntimeError) as failed:
        cmds.xceptionTag(model="nosuch")
    assert "unknown model 'nosuch'; known models: default, tiny, bare" in str(failed.value)
    assert "\n" not in str(failed.value).strip()
    with pytest.raises(RuntimeError, match="has its own labels"):
        cmds.xceptionTag(model="tiny", head="none")
