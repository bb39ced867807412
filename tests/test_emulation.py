"""Tests of the Maya emulation, driven through a toy plug-in written here.

Everything not marked ``emulation_only`` uses Maya's public API and commands only, so the
same tests also run (and must pass) on real Maya under ``mayapy -m pytest``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from maya_session import IS_EMULATION, Session, maya_session

pytestmark = pytest.mark.maya
emulation_only = pytest.mark.skipif(not IS_EMULATION, reason="inspects the emulation itself")

TOY_PLUGIN = '''
import maya.api.OpenMaya as om


def maya_useNewAPI():
    pass


COMPUTED = []  # (node, plug name, is element) per compute() call


class ToyNode(om.MPxNode):
    TYPE_ID = om.MTypeId(0x0007F001)

    def compute(self, plug, block):
        COMPUTED.append((self.name(), plug.partialName(useLongNames=True), plug.isElement))
        cls = ToyNode
        if plug != cls.scores and plug != cls.labels and plug != cls.total:
            return None  # not my plug: "untouched" keeps its datablock value
        x = block.inputValue(cls.inValue).asDouble()
        n = block.inputValue(cls.count).asInt()
        scores = block.outputArrayValue(cls.scores)
        builder = scores.builder()
        for i in range(n):
            builder.addElement(i).setDouble(x * (i + 1))
        scores.set(builder)
        scores.setAllClean()
        labels = om.MFnStringArrayData().create(["c%d" % i for i in range(n)])
        block.outputValue(cls.labels).setMObject(labels)
        block.setClean(cls.labels)
        total = block.outputValue(cls.total)
        total.setDouble(x * n * (n + 1) / 2)
        total.setClean()
        return None


def initialize():
    numeric, typed = om.MFnNumericAttribute(), om.MFnTypedAttribute()
    ToyNode.inValue = numeric.create("inValue", "iv", om.MFnNumericData.kDouble, 1.0)
    numeric.keyable = True
    ToyNode.count = numeric.create("count", "cnt", om.MFnNumericData.kInt, 3)
    ToyNode.total = numeric.create("total", "tot", om.MFnNumericData.kDouble, 0.0)
    numeric.writable, numeric.storable = False, False
    ToyNode.untouched = numeric.create("untouched", "ut", om.MFnNumericData.kDouble, 7.0)
    numeric.writable, numeric.storable = False, False
    ToyNode.scores = numeric.create("scores", "sc", om.MFnNumericData.kDouble, 0.0)
    numeric.array, numeric.usesArrayDataBuilder = True, True
    numeric.writable, numeric.storable = False, False
    ToyNode.labels = typed.create("labels", "lb", om.MFnData.kStringArray)
    typed.writable, typed.storable = False, False
    for attr in (ToyNode.inValue, ToyNode.count, ToyNode.total, ToyNode.untouched,
                 ToyNode.scores, ToyNode.labels):
        om.MPxNode.addAttribute(attr)
    for output in (ToyNode.total, ToyNode.untouched, ToyNode.scores, ToyNode.labels):
        om.MPxNode.attributeAffects(ToyNode.inValue, output)
        om.MPxNode.attributeAffects(ToyNode.count, output)


class ToyTag(om.MPxCommand):
    """emuToyTag OBJECTS -tag T: adds a string attribute 'toyTag' and a network node."""

    def __init__(self):
        om.MPxCommand.__init__(self)
        self.modifier = om.MDGModifier()

    @staticmethod
    def syntax_creator():
        syntax = om.MSyntax()
        syntax.addFlag("-tag", "-tagName", om.MSyntax.kString)
        syntax.setObjectType(om.MSyntax.kSelectionList, 1)
        syntax.useSelectionAsDefault(True)
        syntax.enableQuery = True
        return syntax

    def doIt(self, args):
        db = om.MArgDatabase(self.syntax(), args)
        self.query = db.isQuery
        objects = db.getObjectList()
        if self.query:
            fn = om.MFnDependencyNode(objects.getDependNode(0))
            if fn.hasAttribute("toyTag"):
                om.MPxCommand.setResult(fn.findPlug("toyTag", False).asString())
            return
        tag = db.flagArgumentString("tag", 0) if db.isFlagSet("tag") else "untagged"
        for i in range(objects.length()):
            node = objects.getDependNode(i)
            attr = om.MFnTypedAttribute().create("toyTag", "tt", om.MFnData.kString)
            self.modifier.addAttribute(node, attr)
        self.modifier.doIt()
        for i in range(objects.length()):
            plug = om.MFnDependencyNode(objects.getDependNode(i)).findPlug("toyTag", False)
            self.modifier.newPlugValueString(plug, tag)
        record = self.modifier.createNode("network")
        self.modifier.renameNode(record, "toyRecord")
        self.modifier.doIt()
        om.MPxCommand.setResult(om.MFnDependencyNode(record).name())

    def redoIt(self):
        self.modifier.doIt()

    def undoIt(self):
        self.modifier.undoIt()

    def isUndoable(self):
        return not self.query


def initializePlugin(obj):
    plugin = om.MFnPlugin(obj, "emulation tests", "1.0")
    plugin.registerNode("emuToyNode", ToyNode.TYPE_ID, ToyNode, initialize)
    plugin.registerCommand("emuToyTag", ToyTag, ToyTag.syntax_creator)


def uninitializePlugin(obj):
    plugin = om.MFnPlugin(obj)
    plugin.deregisterCommand("emuToyTag")
    plugin.deregisterNode(ToyNode.TYPE_ID)
'''


@pytest.fixture(scope="module")
def toy_plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plugins") / "emuToyPlugin.py"
    path.write_text(TOY_PLUGIN)
    return path


@pytest.fixture
def maya() -> Iterator[Session]:
    with maya_session() as session:
        yield session


@pytest.fixture
def toy(maya: Session, toy_plugin_path: Path) -> Iterator[Any]:
    """The loaded toy plug-in's module (for its COMPUTED log); unloaded afterwards."""
    cmds = maya.cmds
    assert cmds.loadPlugin(str(toy_plugin_path)) == ["emuToyPlugin"]
    from maya.api import OpenMaya as om

    plugin = om.MFnPlugin.findPlugin("emuToyPlugin") if IS_EMULATION else None
    module = plugin._ref.module if plugin is not None else None
    if module is not None:
        module.COMPUTED.clear()
    yield module
    cmds.file(new=True, force=True)
    cmds.unloadPlugin("emuToyPlugin")


# --- plug-in registration -----------------------------------------------------------------


def test_load_and_unload_register_and_deregister(maya: Session, toy_plugin_path: Path) -> None:
    cmds = maya.cmds
    assert not cmds.pluginInfo("emuToyPlugin", query=True, loaded=True)
    assert cmds.loadPlugin(str(toy_plugin_path)) == ["emuToyPlugin"]
    assert cmds.pluginInfo("emuToyPlugin", query=True, loaded=True)
    assert cmds.pluginInfo("emuToyPlugin", query=True, dependNode=True) == ["emuToyNode"]
    assert cmds.pluginInfo("emuToyPlugin", query=True, command=True) == ["emuToyTag"]
    assert cmds.pluginInfo("emuToyPlugin", query=True, vendor=True) == "emulation tests"

    node = cmds.createNode("emuToyNode")
    assert node == "emuToyNode1"
    with pytest.raises(RuntimeError):
        cmds.unloadPlugin("emuToyPlugin")  # still in use
    cmds.delete(node)
    cmds.flushUndo()
    cmds.unloadPlugin("emuToyPlugin")
    assert not cmds.pluginInfo("emuToyPlugin", query=True, loaded=True)
    with pytest.raises(RuntimeError):
        cmds.createNode("emuToyNode")


def test_names_are_unique_like_maya(maya: Session) -> None:
    cmds = maya.cmds
    assert [cmds.createNode("file") for _ in range(2)] == ["file1", "file2"]
    assert cmds.createNode("network", name="tags") == "tags"
    assert cmds.createNode("network", name="tags") == "tags1"
    assert cmds.rename("tags1", "file1") == "file3"
    assert cmds.nodeType("file3") == "network"
    assert cmds.objExists("file1.fileTextureName")
    assert not cmds.objExists("file1.noSuchAttribute")


# --- evaluation ---------------------------------------------------------------------------


def test_pull_evaluation_calls_compute_once(maya: Session, toy: Any) -> None:
    cmds = maya.cmds
    node = cmds.createNode("emuToyNode")
    count = maya.compute_counter(node)
    cmds.setAttr(f"{node}.inValue", 2.0)
    assert cmds.getAttr(f"{node}.total") == pytest.approx(12.0)
    assert count() == 1
    assert cmds.getAttr(f"{node}.total") == pytest.approx(12.0)
    assert cmds.getAttr(f"{node}.scores") == [(2.0, 4.0, 6.0)]  # cleaned by the same compute
    assert cmds.getAttr(f"{node}.labels") == ["c0", "c1", "c2"]
    assert count() == 1

    cmds.setAttr(f"{node}.count", 4)  # dirties every affected output
    assert cmds.getAttr(f"{node}.scores", size=True) == 4
    assert cmds.getAttr(f"{node}.scores[3]") == pytest.approx(8.0)
    assert count() == 2


@emulation_only
def test_compute_gets_the_requested_plug(maya: Session, toy: Any) -> None:
    cmds = maya.cmds
    node = cmds.createNode("emuToyNode")
    cmds.getAttr(f"{node}.scores[1]")
    assert list(toy.COMPUTED) == [(node, "scores[1]", True)]
    cmds.setAttr(f"{node}.inValue", 3.0)
    cmds.getAttr(f"{node}.scores")
    assert toy.COMPUTED[-1] == (node, "scores", False)
    from maya import _emulation

    assert _emulation.compute_count(node) == 2


def test_none_from_compute_means_not_my_plug(maya: Session, toy: Any) -> None:
    cmds = maya.cmds
    node = cmds.createNode("emuToyNode")
    count = maya.compute_counter(node)
    assert cmds.getAttr(f"{node}.untouched") == pytest.approx(7.0)  # the datablock value
    assert count() == 1
    assert cmds.getAttr(f"{node}.untouched") == pytest.approx(7.0)
    assert count() == 1  # clean after compute returned, even though it handled nothing


def test_multi_element_drives_a_transform(maya: Session, toy: Any) -> None:
    cmds = maya.cmds
    node = cmds.createNode("emuToyNode")
    xform = cmds.createNode("transform")
    cmds.setAttr(f"{node}.inValue", 0.5)
    cmds.connectAttr(f"{node}.scores[2]", f"{xform}.translateX")
    assert cmds.getAttr(f"{xform}.translateX") == pytest.approx(1.5)
    assert cmds.getAttr(f"{xform}.translate") == [(pytest.approx(1.5), 0.0, 0.0)]
    cmds.setAttr(f"{node}.inValue", 2.0)  # dirt flows through the element connection
    assert cmds.getAttr(f"{xform}.translateX") == pytest.approx(6.0)
    assert cmds.listConnections(f"{xform}.translateX", plugs=True) == [f"{node}.scores[2]"]
    assert cmds.isConnected(f"{node}.scores[2]", f"{xform}.translateX")
    with pytest.raises(RuntimeError):
        cmds.setAttr(f"{xform}.translateX", 1.0)  # connected destinations are not settable


def test_dirty_propagates_downstream(maya: Session, toy: Any) -> None:
    cmds = maya.cmds
    first, second = cmds.createNode("emuToyNode"), cmds.createNode("emuToyNode")
    cmds.setAttr(f"{second}.count", 1)
    cmds.connectAttr(f"{first}.total", f"{second}.inValue")
    counts = maya.compute_counter(first), maya.compute_counter(second)
    assert cmds.getAttr(f"{second}.total") == pytest.approx(6.0)
    assert (counts[0](), counts[1]()) == (1, 1)
    cmds.setAttr(f"{first}.inValue", 2.0)
    assert cmds.getAttr(f"{second}.total") == pytest.approx(12.0)
    assert (counts[0](), counts[1]()) == (2, 2)
    cmds.disconnectAttr(f"{first}.total", f"{second}.inValue")
    assert cmds.getAttr(f"{second}.inValue") == pytest.approx(12.0)  # keeps the last value


def test_api_plugs_and_datablock_types(maya: Session, toy: Any) -> None:
    om = maya.om
    node = maya.cmds.createNode("emuToyNode")
    sel = om.MSelectionList()
    sel.add(node)
    fn = om.MFnDependencyNode(sel.getDependNode(0))
    assert fn.typeName == "emuToyNode" and fn.typeId == om.MTypeId(0x0007F001)
    scores = fn.findPlug("scores", True)
    assert scores.isArray and not scores.isElement
    element = scores.elementByLogicalIndex(1)
    assert element.isElement and element.logicalIndex() == 1
    assert element.asDouble() == pytest.approx(2.0)
    assert element.name() == f"{node}.scores[1]"
    assert scores.numElements() == 3
    labels = om.MFnStringArrayData(fn.findPlug("labels", False).asMObject()).array()
    assert labels == ["c0", "c1", "c2"]
    fn.findPlug("inValue", False).setDouble(4.0)
    assert fn.findPlug("total", False).asDouble() == pytest.approx(24.0)
    with pytest.raises(RuntimeError):
        fn.findPlug("noSuchAttribute", False)


# --- undo ---------------------------------------------------------------------------------


def test_undo_and_redo_of_builtin_commands_restore_the_scene(maya: Session) -> None:
    cmds = maya.cmds
    before = maya.snapshot()
    cmds.undoInfo(openChunk=True, chunkName="build")
    file_node = cmds.createNode("file")
    cmds.setAttr(f"{file_node}.fileTextureName", "/textures/a.png", type="string")
    shader = cmds.createNode("lambert")
    cmds.connectAttr(f"{file_node}.outColor", f"{shader}.color")
    cmds.addAttr(file_node, longName="tags", dataType="stringArray")
    cmds.setAttr(f"{file_node}.tags", 2, "cup", "fork", type="stringArray")
    tag_set = cmds.sets(file_node, name="cupTextures")
    cmds.undoInfo(closeChunk=True)
    after = maya.snapshot()
    assert after != before
    assert cmds.sets(tag_set, query=True) == [file_node]
    assert cmds.getAttr(f"{file_node}.tags") == ["cup", "fork"]

    cmds.undo()
    assert maya.snapshot() == before
    cmds.redo()
    assert maya.snapshot() == after
    cmds.delete(shader)
    cmds.undo()
    assert maya.snapshot() == after


def test_each_command_is_one_undo_step(maya: Session) -> None:
    cmds = maya.cmds
    node = cmds.createNode("network")
    cmds.addAttr(node, longName="weight", attributeType="double", defaultValue=1.0)
    cmds.setAttr(f"{node}.weight", 3.0)
    cmds.undo()
    assert cmds.getAttr(f"{node}.weight") == pytest.approx(1.0)
    cmds.undo()
    assert not cmds.attributeQuery("weight", node=node, exists=True)
    cmds.undo()
    assert not cmds.objExists(node)


def test_plugin_command_undo_restores_the_scene(maya: Session, toy: Any) -> None:
    cmds = maya.cmds
    file_node = cmds.createNode("file")
    cmds.select(clear=True)
    before = maya.snapshot()
    record = cmds.emuToyTag(file_node, tag="cup")
    assert record == "toyRecord"
    assert cmds.getAttr(f"{file_node}.toyTag") == "cup"
    assert cmds.emuToyTag(file_node, query=True) == "cup"
    after = maya.snapshot()
    cmds.undo()
    assert maya.snapshot() == before
    cmds.redo()
    assert maya.snapshot() == after

    cmds.select(file_node)
    with pytest.raises(RuntimeError):
        cmds.emuToyTag(tag="again")  # toyTag exists already: the modifier fails
    with pytest.raises(TypeError):
        cmds.emuToyTag(file_node, noSuchFlag=True)


def test_dg_modifier_do_and_undo(maya: Session) -> None:
    om, cmds = maya.om, maya.cmds
    before = maya.snapshot()
    modifier = om.MDGModifier()
    checker = modifier.createNode("checker")
    xform = modifier.createNode("transform")
    modifier.doIt()
    fn_checker, fn_xform = om.MFnDependencyNode(checker), om.MFnDependencyNode(xform)
    modifier.connect(fn_checker.findPlug("outAlpha", False), fn_xform.findPlug("scaleY", False))
    modifier.newPlugValueDouble(fn_xform.findPlug("translateZ", False), 5.0)
    modifier.doIt()
    assert cmds.getAttr(f"{fn_xform.name()}.translateZ") == pytest.approx(5.0)
    assert cmds.isConnected(f"{fn_checker.name()}.outAlpha", f"{fn_xform.name()}.scaleY")
    modifier.undoIt()
    assert maya.snapshot() == before


# --- textures, images, viewport -----------------------------------------------------------


def test_color_at_point_samples_a_texture(maya: Session) -> None:
    cmds = maya.cmds
    checker = cmds.createNode("checker")
    values = cmds.colorAtPoint(checker, output="RGB", samplesU=8, samplesV=8)
    colors = {tuple(values[i : i + 3]) for i in range(0, len(values), 3)}
    assert len(values) == 8 * 8 * 3
    assert colors == {(1.0, 1.0, 1.0), (0.0, 0.0, 0.0)}  # color1 and color2 only


@emulation_only
def test_color_at_point_formulas(maya: Session) -> None:
    cmds = maya.cmds
    checker = cmds.createNode("checker")
    white, black = [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]
    assert cmds.colorAtPoint(checker, output="RGB", u=[0.1, 0.3], v=[0.1, 0.1]) == white + black
    cmds.setAttr(f"{checker}.color2", 0.0, 0.0, 1.0, type="double3")
    assert cmds.colorAtPoint(checker, o="RGBA", u=0.3, v=0.1) == [0.0, 0.0, 1.0, 1.0]
    assert len(cmds.colorAtPoint(checker, o="A", su=4, sv=3)) == 12

    place = cmds.createNode("place2dTexture")
    cmds.connectAttr(f"{place}.outUV", f"{checker}.uvCoord")
    cmds.setAttr(f"{place}.repeatUV", 2.0, 2.0)
    assert cmds.colorAtPoint(checker, o="RGB", u=0.15, v=0.05) == [0.0, 0.0, 1.0]

    ramp = cmds.createNode("ramp")
    assert cmds.colorAtPoint(ramp, o="RGB", u=0.5, v=0.0) == pytest.approx([1.0, 0.0, 0.0])
    assert cmds.colorAtPoint(ramp, o="RGB", u=0.5, v=0.5) == pytest.approx([0.0, 1.0, 0.0])
    assert cmds.colorAtPoint(ramp, o="RGB", u=0.5, v=0.75) == pytest.approx([0.0, 0.5, 0.5])


def _write_png(path: Path) -> None:
    from PIL import Image

    image = Image.new("RGBA", (3, 2))
    image.putdata([(255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)] * 1 + [(9, 9, 9, 128)] * 3)
    image.save(path)


def test_mimage_reads_png_bottom_row_first(maya: Session, tmp_path: Path) -> None:
    om = maya.om
    path = tmp_path / "pixels.png"
    _write_png(path)
    image = om.MImage()
    image.readFromFile(str(path))
    assert image.getSize() == (3, 2)
    data = ctypes.string_at(image.pixels(), 3 * 2 * 4)
    assert data[:12] == bytes([9, 9, 9, 128] * 3)  # Maya's images start at the bottom row
    assert data[12:] == bytes([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255])
    image.verticalFlip()
    assert ctypes.string_at(image.pixels(), 4) == bytes([255, 0, 0, 255])
    image.verticalFlip()

    copy = tmp_path / "copy.png"
    image.writeToFile(str(copy), "png")
    again = om.MImage()
    again.readFromFile(str(copy))
    assert ctypes.string_at(again.pixels(), 24) == data


@emulation_only
def test_file_node_samples_its_image(maya: Session, tmp_path: Path) -> None:
    cmds = maya.cmds
    path = tmp_path / "pixels.png"
    _write_png(path)
    file_node = cmds.createNode("file")
    cmds.setAttr(f"{file_node}.fileTextureName", str(path), type="string")
    assert cmds.getAttr(f"{file_node}.computedFileTextureNamePattern") == str(path)
    assert cmds.getAttr(f"{file_node}.outSize") == [(3.0, 2.0)]
    top_left = cmds.colorAtPoint(file_node, o="RGBA", u=0.1, v=0.9)
    assert top_left == pytest.approx([1.0, 0.0, 0.0, 1.0])


def test_playblast_writes_the_requested_size(maya: Session, tmp_path: Path) -> None:
    from PIL import Image

    cmds = maya.cmds
    with maya.interactive():
        target = tmp_path / "capture.png"
        result = cmds.playblast(
            completeFilename=str(target),
            frame=1,
            format="image",
            compression="png",
            viewer=False,
            offScreen=True,
            widthHeight=(64, 32),
            percent=100,
            showOrnaments=False,
            forceOverwrite=True,
        )
        assert result == str(target)
        with Image.open(target) as image:
            assert image.size == (64, 32)
        half = tmp_path / "half.png"
        cmds.playblast(completeFilename=str(half), frame=1, format="image", widthHeight=(64, 32))
        with Image.open(half) as image:
            assert image.size == (32, 16)  # percent defaults to 50


def test_read_color_buffer_fills_the_image(maya: Session) -> None:
    om = maya.om
    from maya.api import OpenMayaUI as omui

    with maya.interactive():
        view = omui.M3dView.active3dView()
        image = om.MImage()
        view.readColorBuffer(image, True)
        assert image.getSize() == (view.portWidth(), view.portHeight())


@emulation_only
def test_batch_mode_has_no_ui(maya: Session) -> None:
    cmds = maya.cmds
    assert cmds.about(batch=True)
    with pytest.raises(RuntimeError):
        cmds.playblast(completeFilename="x.png", format="image")
    assert not cmds.window("someWindow", exists=True)


@emulation_only
def test_viewport_contents_are_a_known_gradient(maya: Session) -> None:
    om = maya.om
    from maya import _emulation
    from maya.api import OpenMayaUI as omui

    with maya.interactive():
        _emulation.STATE["viewport_size"] = (4, 2)
        image = om.MImage()
        omui.M3dView.active3dView().readColorBuffer(image)  # BGRA, bottom row first
        data = ctypes.string_at(image.pixels(), 4 * 2 * 4)
        assert data[:4] == bytes([64, 0, 0, 255])  # bottom-left: no red, no green
        assert data[-4:] == bytes([64, 255, 255, 255])  # top-right: full red and green


# --- messages, UI, misc -------------------------------------------------------------------


def test_warnings_are_captured(maya: Session) -> None:
    maya.om.MGlobal.displayWarning("first warning")
    maya.cmds.warning("second warning")
    maya.om.MGlobal.displayInfo("just info")
    assert maya.messages.warnings == ["first warning", "second warning"]
    assert "just info" in maya.messages.infos


def test_missing_objects_raise(maya: Session) -> None:
    cmds = maya.cmds
    with pytest.raises((RuntimeError, ValueError)):
        cmds.getAttr("nothingHere.translateX")
    node = cmds.createNode("network")
    cmds.addAttr(node, longName="label", dataType="string")
    assert cmds.getAttr(f"{node}.label") is None
    with pytest.raises(RuntimeError):
        cmds.setAttr(f"{node}.label", "no type flag")
    with pytest.raises(TypeError):
        cmds.createNode("network", noSuchFlag=True)


def test_a_failing_command_changes_nothing(maya: Session) -> None:
    cmds = maya.cmds
    shader = cmds.createNode("lambert")
    before = maya.snapshot()
    with pytest.raises((RuntimeError, ValueError)):
        cmds.connectAttr(f"{shader}.outColor", f"{shader}.noSuchInput")
    with pytest.raises(RuntimeError):
        cmds.connectAttr(f"{shader}.outColor", f"{shader}.diffuse")  # float3 -> float
    assert maya.snapshot() == before


@emulation_only
def test_unset_typed_data_is_a_null_object(maya: Session) -> None:
    om, cmds = maya.om, maya.cmds
    node = cmds.createNode("network")
    cmds.addAttr(node, longName="values", dataType="doubleArray")
    selection = om.MSelectionList()
    selection.add(f"{node}.values")
    data = selection.getPlug(0).asMObject()
    assert data.isNull()
    with pytest.raises(RuntimeError):
        om.MFnDoubleArrayData(data).array()
    cmds.setAttr(f"{node}.values", [0.5, 1.5], type="doubleArray")
    assert list(om.MFnDoubleArrayData(selection.getPlug(0).asMObject()).array()) == [0.5, 1.5]


def test_sets_membership(maya: Session) -> None:
    cmds = maya.cmds
    a, b = cmds.createNode("file"), cmds.createNode("transform")
    tags = cmds.sets(name="tagged", empty=True)
    cmds.sets(a, b, addElement=tags)
    assert sorted(cmds.sets(tags, query=True)) == [a, b]
    assert cmds.sets(a, isMember=tags)
    cmds.sets(a, remove=tags)
    assert cmds.sets(tags, query=True) == [b]
    cmds.select(tags)
    assert cmds.ls(selection=True) == [b]


def test_evaluation_manager_overrides(maya: Session, toy: Any) -> None:
    cmds = maya.cmds
    cmds.evaluationManager("emuToyNode", nodeTypeUntrusted=True)
    assert "emuToyNode" in cmds.evaluationManager(query=True, nodeTypeUntrusted=True)
    assert cmds.evaluationManager("emuToyNode", query=True, nodeTypeUntrusted=True) in (
        [True],
        True,  # the documented return type is boolean[]; accept a bare bool from real Maya
    )
    cmds.evaluationManager("emuToyNode", nodeTypeUntrusted=False)
    assert not any(
        _listed(cmds.evaluationManager("emuToyNode", query=True, nodeTypeUntrusted=True))
    )


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@emulation_only
def test_shelf_menu_and_progress_are_recorded(maya: Session) -> None:
    cmds = maya.cmds
    from maya import _emulation, mel

    with maya.interactive():
        shelf = cmds.shelfLayout("Xception", parent=mel.eval("$tmp = $gShelfTopLevel"))
        button = cmds.shelfButton(label="Classify", command="print(1)", parent=shelf)
        assert _emulation.UI[button]["flags"]["label"] == "Classify"
        menu = cmds.menu("xceptionMenu", label="Xception", parent="MayaWindow")
        cmds.menuItem(label="Tag textures")
        assert cmds.menu(menu, query=True, childArray=True) == ["menuItem1"]

        bar = mel.eval("$tmp = $gMainProgressBar")
        _emulation.simulate_cancel_after(2)
        cmds.progressBar(bar, edit=True, beginProgress=True, isInterruptable=True, maxValue=5)
        cancelled_at = None
        for i in range(5):
            if cmds.progressBar(bar, query=True, isCancelled=True):
                cancelled_at = i
                break
            cmds.progressBar(bar, edit=True, step=1)
        cmds.progressBar(bar, edit=True, endProgress=True)
        assert cancelled_at == 2


def test_option_vars_and_about(maya: Session) -> None:
    cmds = maya.cmds
    cmds.optionVar(intValue=("emuTopK", 5))
    assert cmds.optionVar(query="emuTopK") == 5
    assert cmds.optionVar(exists="emuTopK")
    cmds.optionVar(remove="emuTopK")
    assert not cmds.optionVar(exists="emuTopK")
    assert cmds.about(version=True)


def test_session_helpers_need_no_real_maya_specifics() -> None:
    # The snapshot of an empty scene is empty, whichever Maya runs.
    with maya_session() as session:
        snapshot = session.snapshot()
        assert snapshot["nodes"] == {} and snapshot["connections"] == set()


def test_commands_mel_and_the_script_editor_raise_off_the_main_thread(maya: Session) -> None:
    if not IS_EMULATION:
        pytest.skip("what real Maya does off the main thread is not safe to try")
    import threading

    from maya import cmds, mel
    from maya.api import OpenMaya as om

    failures: list[str] = []

    def work() -> None:
        for call in (
            lambda: cmds.ls(),
            lambda: mel.eval("$tmp = $gMainWindow"),
            lambda: om.MGlobal.displayWarning("no"),
        ):
            try:
                call()
            except RuntimeError as exc:
                failures.append(str(exc))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert len(failures) == 3 and all("main thread" in f for f in failures)
    assert cmds.ls("time1") == ["time1"]  # the main thread may


def test_execute_deferred_waits_for_idle(maya: Session) -> None:
    import threading

    from maya import utils

    ran: list[str] = []
    worker = threading.Thread(target=lambda: utils.executeDeferred(ran.append, "worker"))
    worker.start()
    worker.join()
    utils.executeDeferred(ran.append, "main")
    if IS_EMULATION:
        assert ran == []
    maya.idle()
    assert ran == ["worker", "main"]


def test_object_handles_see_a_node_deleted_and_undone(maya: Session) -> None:
    from maya.api import OpenMaya as om

    cmds = maya.cmds
    name = cmds.createNode("network")
    sel = om.MSelectionList()
    sel.add(name)
    handle = om.MObjectHandle(sel.getDependNode(0))
    assert handle.isValid() and handle.isAlive()
    assert om.MFnDependencyNode(handle.object()).name() == name
    cmds.delete(name)
    assert not handle.isValid()
    cmds.undo()
    assert handle.isValid()


def test_add_flag_enforces_the_flag_name_rule(maya: Session) -> None:
    from maya.api import OpenMaya as om

    syntax = om.MSyntax()
    syntax.addFlag("-abc", "-abcd")
    for short, long in (("-abcd", "-abcde"), ("-a", "-abc")):
        with pytest.raises(RuntimeError):
            syntax.addFlag(short, long)


def test_set_result_takes_maya_types_only() -> None:
    if not IS_EMULATION:
        pytest.skip("setResult needs a command on real Maya")
    from maya.api import OpenMaya as om

    for good in (True, 3, 0.5, "x", ["a", "b"], [1, 2], []):
        om.MPxCommand.setResult(good)
    for bad in (None, {"a": 1}, ["a", 1], [True, 1.0], object()):
        with pytest.raises(TypeError):
            om.MPxCommand.setResult(bad)


def test_shelves_persist_across_a_restart(maya: Session) -> None:
    if not IS_EMULATION:
        pytest.skip("restarting needs the emulation")
    from maya import cmds, mel

    with maya.interactive():
        top = mel.eval("$tmp = $gShelfTopLevel")
        tab = cmds.shelfLayout("Mine", parent=top)
        command = "print(\"a \\\\ b\"); x = 'y'"
        cmds.shelfButton(parent=tab, label="one", command=command, sourceType="python",
                         menuItem=[("m", "print(1)")], menuItemPython=[0])  # fmt: skip
        maya.restart("exit-first")
        assert not cmds.window("anything", exists=True)
        button = cmds.shelfLayout(f"{top}|Mine", q=True, childArray=True)[0]
        path = f"{top}|Mine|{button}"
        assert cmds.shelfButton(path, q=True, command=True) == command
        assert cmds.shelfButton(path, q=True, label=True) == "one"
        cmds.deleteUI(f"{top}|Mine", layout=True)
        maya.restart("crash")  # no save: the file of the last quit is loaded again
        assert cmds.shelfLayout(f"{top}|Mine", exists=True)
