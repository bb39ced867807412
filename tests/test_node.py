"""The xceptionClassifier node and its commands, on real Maya or the emulation."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import PLUGIN
from maya_session import Session

from xception_maya import images
from xception_maya.cli import main
from xception_maya.manifest import Manifest
from xception_maya.maya import ae, classifiers, dependencies, framework

pytestmark = pytest.mark.maya


@pytest.fixture(autouse=True)
def on_worker_thread(maya: Session) -> Iterator[None]:
    """Every compute() here runs on a worker thread, where commands, MEL, UI and the Script
    Editor raise, as under the Evaluation Manager in parallel mode."""
    with maya.compute_on_worker_thread():
        yield


def file_node(maya: Session, path: Path | str) -> str:
    name = maya.cmds.shadingNode("file", asTexture=True)
    maya.cmds.setAttr(f"{name}.fileTextureName", str(path), type="string")
    return name


def classifier_on(maya: Session, path: Path | str) -> str:
    texture = file_node(maya, path)
    return maya.cmds.xceptionCreate(texture)[0]


def engine_runs() -> int:
    engines = {id(c.engine): c.engine for c in classifiers.cached()}
    return sum(e.runs for e in engines.values())


def test_load_and_unload_register_and_remove_everything(maya: Session) -> None:
    cmds = maya.cmds
    assert "xceptionClassifier" in cmds.pluginInfo("xception_classifier", q=True, dependNode=True)
    assert {"xceptionCreate", "xceptionCapture"} <= set(
        cmds.pluginInfo("xception_classifier", q=True, command=True)
    )
    assert cmds.evaluationManager("xceptionClassifier", q=True, nodeTypeGloballySerialize=True)[0]
    cmds.unloadPlugin("xception_classifier")
    assert not cmds.pluginInfo("xception_classifier", q=True, loaded=True)
    with pytest.raises(RuntimeError):
        cmds.createNode("xceptionClassifier")
    assert not hasattr(cmds, "xceptionCreate") or _fails(cmds.xceptionCreate)
    cmds.loadPlugin(str(PLUGIN))  # the fixture unloads it again


def _fails(command: object) -> bool:
    try:
        command()  # type: ignore[operator]
    except (RuntimeError, NameError, TypeError):
        return True
    return False


def test_a_file_node_gives_what_the_cli_gives(
    maya: Session, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    photo = samples[16]
    clf = classifier_on(maya, photo)
    cmds = maya.cmds
    assert cmds.getAttr(f"{clf}.status") == "ok"
    main(["classify", "--json", "--features", "--top-k", "5", str(photo)])
    record = json.loads(capsys.readouterr().out)[0]
    assert cmds.getAttr(f"{clf}.labels") == record["labels"]
    np.testing.assert_allclose(cmds.getAttr(f"{clf}.scores"), record["scores"], atol=1e-6)
    np.testing.assert_allclose(cmds.getAttr(f"{clf}.features"), record["features"], atol=1e-6)
    assert cmds.getAttr(f"{clf}.topLabel") == record["labels"][0] == "fork"
    assert cmds.getAttr(f"{clf}.topIndex") == record["indices"][0]
    assert cmds.getAttr(f"{clf}.topScore") == pytest.approx(record["scores"][0], abs=1e-6)
    assert cmds.getAttr(f"{clf}.classNames") == ["cup", "fork", "glass", "knife", "plate", "spoon"]
    assert cmds.getAttr(f"{clf}.classScores", size=True) == 6
    assert cmds.getAttr(f"{clf}.evalMs") > 0


def test_top_k_rereads_the_cache_and_a_new_image_reruns(
    maya: Session, samples: list[Path], tmp_path: Path
) -> None:
    cmds = maya.cmds
    photo = tmp_path / "texture.jpg"
    shutil.copy(samples[0], photo)
    clf = classifier_on(maya, photo)
    cmds.getAttr(f"{clf}.labels")
    runs = engine_runs()
    computes = maya.compute_counter(clf)

    cmds.getAttr(f"{clf}.labels")  # nothing changed: Maya does not even call compute
    assert computes() == 0

    cmds.setAttr(f"{clf}.topK", 2)
    assert len(cmds.getAttr(f"{clf}.labels")) == 2
    assert computes() == 1 and engine_runs() == runs, "topK must not run the network"

    texture = cmds.listConnections(f"{clf}.imageFile", source=True)[0]
    cmds.setAttr(f"{texture}.fileTextureName", str(samples[5]), type="string")
    cmds.getAttr(f"{clf}.labels")
    assert engine_runs() == runs + 1


def test_class_scores_drive_other_attributes(maya: Session, samples: list[Path]) -> None:
    cmds = maya.cmds
    clf = classifier_on(maya, samples[16])
    target = cmds.createNode("transform")
    cmds.connectAttr(f"{clf}.classScores[1]", f"{target}.translateX")
    cmds.connectAttr(f"{clf}.classScores[3]", f"{target}.translateY")
    names = cmds.getAttr(f"{clf}.classNames")
    labels, scores = cmds.getAttr(f"{clf}.labels"), cmds.getAttr(f"{clf}.scores")
    by_label = dict(zip(labels, scores, strict=True))
    assert cmds.getAttr(f"{target}.translateX") == pytest.approx(by_label[names[1]], abs=1e-6)
    assert cmds.getAttr(f"{target}.translateY") == pytest.approx(by_label[names[3]], abs=1e-6)


def test_pixels_give_the_features_of_the_same_image_from_a_file(
    maya: Session, tmp_path: Path
) -> None:
    cmds = maya.cmds
    rng = np.random.default_rng(3)
    picture = np.kron(rng.integers(0, 256, (12, 10, 3)), np.ones((16, 16, 1))).astype(np.uint8)
    path = tmp_path / "synthetic.png"
    from PIL import Image

    Image.fromarray(picture).save(path)
    from_file = classifier_on(maya, path)
    from_pixels = cmds.createNode("xceptionClassifier")
    height, width = picture.shape[:2]
    cmds.setAttr(f"{from_pixels}.pixelWidth", width)
    cmds.setAttr(f"{from_pixels}.pixelHeight", height)
    values = (picture / 255.0).reshape(-1).tolist()
    cmds.setAttr(f"{from_pixels}.pixels", values, type="doubleArray")
    assert cmds.getAttr(f"{from_pixels}.status") == "ok"
    np.testing.assert_allclose(
        cmds.getAttr(f"{from_pixels}.features"), cmds.getAttr(f"{from_file}.features"), atol=1e-5
    )


def assert_failed_cleanly(maya: Session, clf: str, reason: str) -> None:
    cmds = maya.cmds
    status = cmds.getAttr(f"{clf}.status")
    assert reason in status
    assert not cmds.getAttr(f"{clf}.labels")
    assert not cmds.getAttr(f"{clf}.features")
    assert cmds.getAttr(f"{clf}.topLabel") == "" and cmds.getAttr(f"{clf}.topIndex") == -1
    assert cmds.getAttr(f"{clf}.classScores", size=True) == 0
    cmds.getAttr(f"{clf}.scores")  # evaluating again must not warn again
    cmds.setAttr(f"{clf}.topK", 3)
    cmds.getAttr(f"{clf}.scores")
    if maya.is_emulation:  # compute only queued the warning for the main thread
        assert not [w for w in maya.messages.warnings if clf in w]
    maya.idle()
    warnings = [w for w in maya.messages.warnings if clf in w]
    assert len(warnings) == 1 and reason in warnings[0]
    assert not maya.messages.errors, "no exception may escape compute"


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda tmp, sample: tmp / "missing.jpg", "file not found"),
        (lambda tmp, sample: _write(tmp / "cut.jpg", sample.read_bytes()[:3000]), "truncated"),
        (lambda tmp, sample: _write(tmp / "empty.jpg", b""), "empty file"),
    ],
    ids=["missing", "truncated", "zero-bytes"],
)
def test_bad_files(maya: Session, samples: list[Path], tmp_path: Path, make, reason) -> None:  # type: ignore[no-untyped-def]
    clf = classifier_on(maya, make(tmp_path, samples[0]))
    assert_failed_cleanly(maya, clf, reason)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_wrong_pixel_count(maya: Session) -> None:
    cmds = maya.cmds
    clf = cmds.createNode("xceptionClassifier")
    cmds.setAttr(f"{clf}.pixelWidth", 4)
    cmds.setAttr(f"{clf}.pixelHeight", 4)
    cmds.setAttr(f"{clf}.pixels", [0.5] * 47, type="doubleArray")
    assert_failed_cleanly(maya, clf, "expected 4 x 4 x 3 = 48 values, got 47")


def test_unknown_head(maya: Session, samples: list[Path]) -> None:
    clf = classifier_on(maya, samples[0])
    maya.cmds.setAttr(f"{clf}.head", "wood", type="string")
    assert_failed_cleanly(maya, clf, "unknown head 'wood'")


def test_a_new_node_waits_for_an_image_without_warning(maya: Session) -> None:
    clf = maya.cmds.createNode("xceptionClassifier")
    assert maya.cmds.getAttr(f"{clf}.status").startswith("no image")
    assert not maya.messages.warnings


def test_udim_pattern_from_the_file_node(
    maya: Session, samples: list[Path], tmp_path: Path
) -> None:
    cmds = maya.cmds
    for tile, sample in ((1002, samples[0]), (1001, samples[16])):
        shutil.copy(sample, tmp_path / f"wood.{tile}.jpg")
    texture = file_node(maya, tmp_path / "wood.1001.jpg")
    cmds.setAttr(f"{texture}.uvTilingMode", 3)  # UDIM (Mari)
    clf = cmds.xceptionCreate(texture)[0]
    assert "<UDIM>" in cmds.getAttr(f"{clf}.imageFile")
    assert cmds.getAttr(f"{clf}.topLabel") == "fork"  # tile 1001 holds the fork


def test_create_connects_selects_and_undoes_exactly(maya: Session, samples: list[Path]) -> None:
    cmds = maya.cmds
    textures = [file_node(maya, samples[0]), file_node(maya, samples[16])]
    cmds.select(textures)
    before = maya.snapshot()
    created = cmds.xceptionCreate(topK=3, head="kitchenware")
    assert created == [f"{textures[0]}_xception", f"{textures[1]}_xception"]
    assert cmds.ls(selection=True) == created
    assert cmds.isConnected(
        f"{textures[0]}.computedFileTextureNamePattern", f"{created[0]}.imageFile"
    )
    assert cmds.getAttr(f"{created[1]}.topK") == 3
    after = maya.snapshot()
    cmds.undo()
    assert maya.snapshot() == before
    cmds.redo()
    assert maya.snapshot() == after


def test_create_refuses_what_is_not_a_texture(maya: Session) -> None:
    cmds = maya.cmds
    before = maya.snapshot()
    with pytest.raises(RuntimeError, match="not a file or texture node"):
        cmds.xceptionCreate(cmds.createNode("transform"))
    cmds.undo()  # the createNode above
    assert maya.snapshot() == before
    with pytest.raises(RuntimeError, match="topK must be between 1 and 50"):
        cmds.xceptionCreate(file_node(maya, "x.jpg"), topK=99)


def test_capture_a_texture_network_and_undo(maya: Session) -> None:
    cmds = maya.cmds
    checker = cmds.shadingNode("checker", asTexture=True)
    clf = cmds.xceptionCreate(checker)[0]
    size = cmds.getAttr(f"{clf}.pixelWidth")
    assert size == cmds.getAttr(f"{clf}.pixelHeight") == 150  # the kitchenware head's input
    pixels = np.asarray(cmds.getAttr(f"{clf}.pixels")).reshape(size, size, 3)
    assert {round(v, 3) for v in np.unique(pixels)} == {0.0, 1.0}  # white and black cells
    assert cmds.getAttr(f"{clf}.status") == "ok"

    cmds.setAttr(f"{checker}.color1", 1, 0, 0, type="double3")
    before = maya.snapshot()
    cmds.xceptionCapture(clf, texture=checker)
    red = np.asarray(cmds.getAttr(f"{clf}.pixels")).reshape(size, size, 3)
    assert red[..., 0].max() == pytest.approx(1.0) and red[..., 1].max() == pytest.approx(0.0)
    after = maya.snapshot()
    cmds.undo()
    assert maya.snapshot() == before
    cmds.redo()
    assert maya.snapshot() == after


def test_capture_the_viewport(maya: Session) -> None:
    cmds = maya.cmds
    clf = cmds.createNode("xceptionClassifier")
    with maya.interactive():
        cmds.xceptionCapture(clf, viewport=True)
    width, height = cmds.getAttr(f"{clf}.pixelWidth"), cmds.getAttr(f"{clf}.pixelHeight")
    assert 0 < max(width, height) <= 512
    assert len(cmds.getAttr(f"{clf}.pixels")) == width * height * 3
    assert cmds.getAttr(f"{clf}.status") == "ok"


def test_capture_refuses_a_classifier_that_reads_a_file(maya: Session, samples: list[Path]) -> None:
    clf = classifier_on(maya, samples[0])
    with pytest.raises(RuntimeError, match="reads a file"):
        maya.cmds.xceptionCapture(clf, viewport=True)


def test_help_flags_are_not_undoable_and_keep_the_selection(maya: Session) -> None:
    cmds = maya.cmds
    text = cmds.xceptionCreate(help=True)
    assert "-topK (-tk) int" in text and "(default: 5)" in text
    assert "-viewport (-vp)" in cmds.xceptionCapture(help=True)
    texture = file_node(maya, "x.jpg")
    cmds.select(texture)
    cmds.flushUndo()
    cmds.xceptionCreate(help=True)
    assert cmds.undoInfo(q=True, undoQueueEmpty=True)
    assert cmds.ls(selection=True) == [texture]


def test_every_flag_follows_mayas_naming_rule() -> None:
    from xception_maya.maya.plugin import COMMANDS

    for command in COMMANDS:
        for flag in (framework.HELP, *command.FLAGS):
            assert 1 <= len(flag.short) <= 3 and len(flag.long) >= 4, (command.NAME, flag)
            assert f"-{flag.long} (-{flag.short})" in command.help_text()
    with pytest.raises(ValueError, match="naming rule"):
        framework.Flag("t", "tag", str, "three letters are a short name")


def test_a_failing_create_rolls_back_what_it_did(maya: Session, samples: list[Path]) -> None:
    """The lambert passes the texture check (it has outColor), its classifier is created and
    connected... then colorAtPoint refuses it: everything goes, nothing is queued for undo."""
    cmds = maya.cmds
    texture = file_node(maya, samples[0])
    shader = cmds.shadingNode("lambert", asShader=True)
    cmds.select(shader)
    cmds.flushUndo()
    before = maya.snapshot()
    with pytest.raises(RuntimeError, match=r"^xceptionCreate: lambert\d+ cannot be sampled"):
        cmds.xceptionCreate(texture, shader)
    assert maya.snapshot() == before
    assert cmds.undoInfo(q=True, undoQueueEmpty=True)
    assert len(maya.messages.errors) == 1 and "\n" not in maya.messages.errors[0]


def test_any_exception_rolls_back_and_is_one_line(
    maya: Session, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from xception_maya.maya import commands

    def broken(modifier: object, node_name: str, pixels: object) -> None:
        raise MemoryError("out of memory\nsecond line")

    monkeypatch.setattr(commands, "write_pixels", broken)
    cmds = maya.cmds
    texture, checker = file_node(maya, samples[0]), cmds.shadingNode("checker", asTexture=True)
    before = maya.snapshot()
    with pytest.raises(RuntimeError) as raised:
        cmds.xceptionCreate(texture, checker)
    assert str(raised.value) == ("xceptionCreate: MemoryError: out of memory (nothing was changed)")
    assert maya.snapshot() == before


def test_capture_viewport_in_batch_is_one_line(maya: Session) -> None:
    cmds = maya.cmds
    if not cmds.about(batch=True):
        pytest.skip("needs a batch session (mayapy)")
    clf = cmds.createNode("xceptionClassifier")
    with pytest.raises(RuntimeError) as raised:
        cmds.xceptionCapture(clf, viewport=True)
    assert str(raised.value) == (
        "xceptionCapture: -viewport needs an interactive Maya with a viewport"
    )


def test_one_classifier_per_head_file_however_it_is_spelled(
    maya: Session, models_dir: Path
) -> None:
    head_file = Manifest.load(models_dir).head_path("kitchenware")
    spellings = ["", "default", "kitchenware", str(head_file)]
    spellings += [str(head_file.parent / ("." + "/." * i) / head_file.name) for i in range(296)]
    found = {id(classifiers.classifier_for(s, "cpu")) for s in spellings}
    assert len(found) == 1
    assert len(classifiers.cached()) <= classifiers.MAX_CLASSIFIERS


def test_the_classifier_map_is_bounded(maya: Session, models_dir: Path, tmp_path: Path) -> None:
    for i in range(classifiers.MAX_CLASSIFIERS + 3):
        copy = tmp_path / f"head{i}.npz"
        shutil.copy(Manifest.load(models_dir).head_path("kitchenware"), copy)
        classifiers.classifier_for(str(copy), "cpu")
    assert len(classifiers.cached()) == classifiers.MAX_CLASSIFIERS


def test_loading_without_pillow_names_it_and_the_fix(
    maya: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "PIL" else real(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    absent = dependencies.missing()
    assert [r.name for r in absent] == ["Pillow"]
    message = dependencies.load_error(absent, PLUGIN.parent.parent, "xception_classifier")
    assert "\n" not in message and "lacks Pillow" in message
    assert "install.py" in message and "mayapy -m pip install --user" in message
    if maya.is_emulation:
        maya.cmds.unloadPlugin("xception_classifier")
        with pytest.raises(RuntimeError, match=r"lacks Pillow\. Drag .*install\.py"):
            maya.cmds.loadPlugin(str(PLUGIN))
        monkeypatch.undo()
        maya.cmds.loadPlugin(str(PLUGIN))  # the fixture unloads it


def test_display_pixels_round_trip_through_the_image_loader() -> None:
    values = np.linspace(0, 1, 2 * 3 * 3)
    image = images.pixels_to_image(values, 3, 2)
    assert image.shape == (2, 3, 3) and image[0, 0, 1] == pytest.approx(values[1])


def test_compute_runs_where_maya_commands_raise(
    maya: Session, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker-thread mode is real: a compute that called a command would fail."""
    if not maya.is_emulation:
        pytest.skip("the Evaluation Manager decides where compute runs on real Maya")
    from xception_maya.maya import node

    real_resolve = node.texture_paths.resolve

    def calls_a_command(pattern: str, frame: float) -> Path:
        maya.cmds.about(batch=True)
        return real_resolve(pattern, frame)

    monkeypatch.setattr(node.texture_paths, "resolve", calls_a_command)
    clf = classifier_on(maya, samples[0])
    assert "main thread" in maya.cmds.getAttr(f"{clf}.status")


def test_unknown_shows_in_top_label_confident_and_confidence(
    maya: Session, samples: list[Path], tmp_path: Path
) -> None:
    skimage_data = pytest.importorskip("skimage.data", reason="scikit-image (the test extra)")
    from PIL import Image

    from xception_maya.classifier import Classifier

    cmds = maya.cmds
    brick = tmp_path / "brick.png"
    Image.fromarray(np.asarray(skimage_data.brick())).save(brick)
    core = Classifier()
    for path, unknown in ((samples[16], False), (brick, True)):
        expected = core.classify([path], 5)[0]
        assert expected.unknown is unknown
        clf = classifier_on(maya, path)
        assert cmds.getAttr(f"{clf}.status") == "ok"
        assert cmds.getAttr(f"{clf}.labels") == expected.labels  # the head's labels stay
        assert cmds.getAttr(f"{clf}.topLabel") == ("unknown" if unknown else expected.labels[0])
        assert cmds.getAttr(f"{clf}.confident") is (not unknown)
        assert expected.confidence is not None
        assert cmds.getAttr(f"{clf}.confidence") == pytest.approx(expected.confidence, abs=1e-9)
        assert ("unknown: no class fits" in ae.results_of(clf)[1]) is unknown  # the AE's line
    # confidence drives other attributes, as classScores do
    target = cmds.createNode("transform")
    cmds.connectAttr(f"{clf}.confidence", f"{target}.translateX")
    cmds.connectAttr(f"{clf}.confident", f"{target}.visibility")
    assert cmds.getAttr(f"{target}.translateX") == pytest.approx(expected.confidence, abs=1e-6)
    assert cmds.getAttr(f"{target}.visibility") is False
    empty = cmds.createNode("xceptionClassifier")
    assert cmds.getAttr(f"{empty}.confident") is False and cmds.getAttr(f"{empty}.confidence") == 0


def test_precision_is_an_enum_passed_to_the_classifier(maya: Session, samples: list[Path]) -> None:
    from xception_maya.precision import PRECISIONS

    cmds = maya.cmds
    clf = classifier_on(maya, samples[16])
    assert cmds.attributeQuery("precision", node=clf, listEnum=True) == [":".join(PRECISIONS)]
    assert cmds.getAttr(f"{clf}.precision", asString=True) == "fp32"
    fp32 = cmds.getAttr(f"{clf}.features")
    cmds.setAttr(f"{clf}.precision", PRECISIONS.index("int8"))
    status = cmds.getAttr(f"{clf}.status")
    engines = {c.engine.requested_precision for c in classifiers.cached()}
    assert "int8" in engines and "fp32" in engines, "each precision has its own classifier"
    if status != "ok":  # no int8 model built here: one clear line, nothing else
        assert "int8" in status and "\n" not in status
        return
    int8 = np.asarray(cmds.getAttr(f"{clf}.features"))
    assert not np.array_equal(int8, fp32), "int8 features come from the int8 model"
    cosine = float(int8 @ np.asarray(fp32)) / float(np.linalg.norm(int8) * np.linalg.norm(fp32))
    assert cosine > 0.99
    assert cmds.getAttr(f"{clf}.topLabel") == "fork"


@pytest.fixture
def indexed(maya: Session, samples: list[Path], tmp_path: Path) -> tuple[Path, Path]:
    """A folder of two photos indexed by the CLI, and the index file."""
    folder = tmp_path / "library"
    folder.mkdir()
    for i in (0, 16):
        shutil.copy(samples[i], folder / f"photo{i}.jpg")
    db = tmp_path / "library.db"
    assert main(["index", str(folder), "--db", str(db)]) == 0
    return folder, db


def test_an_indexed_texture_evaluates_without_running_the_network(
    maya: Session,
    indexed: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from xception_maya.cache import FeatureCache
    from xception_maya.classifier import Classifier

    folder, db = indexed
    monkeypatch.setenv("XCEPTION_MAYA_INDEX", str(db))
    cmds = maya.cmds
    cmds.unloadPlugin("xception_classifier", force=True)
    cmds.loadPlugin(str(PLUGIN))  # reads the index's path on the main thread
    assert classifiers.library() == db
    photo = folder / "photo16.jpg"
    engine = classifiers.classifier_for("", "auto").engine
    runs = engine.runs
    clf = classifier_on(maya, photo)
    assert cmds.getAttr(f"{clf}.status") == "ok"
    assert engine.runs == runs, "an indexed file needs no network run"
    direct = Classifier(cache=FeatureCache()).classify([photo], 5)[0]
    assert cmds.getAttr(f"{clf}.labels") == direct.labels
    np.testing.assert_allclose(cmds.getAttr(f"{clf}.scores"), direct.scores, atol=1e-5)
    capsys.readouterr()

    # A file changed since it was indexed is not taken from the index.
    stat = photo.stat()
    os.utime(photo, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    runs = engine.runs
    texture = cmds.listConnections(f"{clf}.imageFile", source=True)[0]
    cmds.setAttr(f"{texture}.fileTextureName", str(photo), type="string")
    assert cmds.getAttr(f"{clf}.status") == "ok" and engine.runs == runs + 1


def test_a_broken_index_is_one_warning_and_the_network_runs(
    maya: Session, samples: list[Path], tmp_path: Path
) -> None:
    db = tmp_path / "broken.db"
    db.write_bytes(b"not a database" * 100)
    classifiers.configure(classifiers.user_heads(), library=db)
    photo = tmp_path / "photo.jpg"
    shutil.copy(samples[16], photo)
    clf = classifier_on(maya, photo)
    assert maya.cmds.getAttr(f"{clf}.topLabel") == "fork"
    other = classifier_on(maya, samples[0])
    maya.cmds.getAttr(f"{other}.topLabel")
    maya.idle()
    warned = [w for w in maya.messages.warnings if "library index" in w]
    assert len(warned) == 1 and str(db) in warned[0] and "\n" not in warned[0]
