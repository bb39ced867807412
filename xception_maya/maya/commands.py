"""Commands that set classifiers up: ``xceptionCreate`` and ``xceptionCapture``.

Each command does its scene changes through one MDGModifier, so undo and redo replay exactly
what doIt did, and restores the selection it changed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import maya.api.OpenMaya as om
import numpy as np
from maya import cmds

from .. import images
from ..errors import XceptionMayaError
from . import node as node_module
from .node import TYPE_NAME, classifier_for

FILE_NODE = "file"
CAPTURE_MAX_SIDE = 512  # pixels kept from a viewport capture; the head resizes anyway


class CommandError(Exception):
    """A user error: shown as one line in the script editor, not as a traceback."""


def depend_node(name: str) -> om.MObject:
    selection = om.MSelectionList()
    try:
        selection.add(name)
    except RuntimeError as exc:
        raise CommandError(f"no node named {name!r}") from exc
    return selection.getDependNode(0)


def plug(node_name: str, attribute: str) -> om.MPlug:
    fn = om.MFnDependencyNode(depend_node(node_name))
    if not fn.hasAttribute(attribute):
        raise CommandError(f"{node_name} has no attribute {attribute!r}")
    found: om.MPlug = fn.findPlug(attribute, False)
    return found


def selected_names() -> list[str]:
    return list(om.MGlobal.getActiveSelectionList().getSelectionStrings())


class UndoableCommand(om.MPxCommand):
    """doIt parses and builds ``self.modifier``; redo/undo replay it. Subclasses implement
    ``build(args)`` returning the command's result; a CommandError becomes displayError."""

    NAME = ""
    HELP = ""

    def __init__(self) -> None:
        super().__init__()
        self.modifier = om.MDGModifier()
        self.selection_before = om.MSelectionList()
        self.selection_after: om.MSelectionList | None = None
        self.result: list[str] = []

    def isUndoable(self) -> bool:
        return True

    def doIt(self, arg_list: om.MArgList) -> None:
        try:
            args = om.MArgDatabase(self.syntax(), arg_list)
        except RuntimeError as exc:
            raise RuntimeError(f"{self.NAME}: {exc}. See `{self.NAME} -help`.") from exc
        if args.isFlagSet("-h"):
            self.clearResult()
            self.setResult(self.HELP)
            return
        self.selection_before = om.MGlobal.getActiveSelectionList()
        try:
            self.result = self.build(args)
        except (CommandError, XceptionMayaError) as exc:
            self.modifier.undoIt()  # leave the scene as it was
            om.MGlobal.displayError(f"{self.NAME}: {exc}")
            raise RuntimeError(f"{self.NAME}: {exc}") from None
        self.redoIt()  # executes what build queued and not yet executed

    def build(self, args: om.MArgDatabase) -> list[str]:
        raise NotImplementedError

    @classmethod
    def syntax_creator(cls) -> om.MSyntax:
        return cls.base_syntax()

    def redoIt(self) -> None:
        self.modifier.doIt()  # after an undo, MDGModifier.doIt replays every operation
        if self.selection_after is not None:
            om.MGlobal.setActiveSelectionList(self.selection_after)
        self.clearResult()
        self.setResult(self.result)

    def undoIt(self) -> None:
        self.modifier.undoIt()
        om.MGlobal.setActiveSelectionList(self.selection_before)

    @classmethod
    def base_syntax(cls) -> om.MSyntax:
        syntax = om.MSyntax()
        syntax.addFlag("-h", "-help")
        syntax.setObjectType(om.MSyntax.kStringObjects)
        syntax.useSelectionAsDefault(True)
        return syntax


def flag_string(args: om.MArgDatabase, name: str, default: str) -> str:
    return str(args.flagArgumentString(name, 0)) if args.isFlagSet(name) else default


def flag_int(args: om.MArgDatabase, name: str, default: int) -> int:
    return int(args.flagArgumentInt(name, 0)) if args.isFlagSet(name) else default


def objects(args: om.MArgDatabase) -> list[str]:
    """The named objects, else the selection."""
    try:
        named = list(args.getObjectStrings())
    except RuntimeError:
        named = []
    return named or selected_names()


class CreateCommand(UndoableCommand):
    NAME = "xceptionCreate"
    HELP = """xceptionCreate [flags] [textureNode ...]
Creates an xceptionClassifier for each file or texture node (default: the selection),
connects it, selects the new classifiers and returns their names.
  -head (-hd) string    head name or head file (default: the manifest's default head)
  -topK (-tk) int       labels to keep, 1..50 (default 5)
  -device (-dv) string  auto, cpu or gpu (default auto)
  -help (-h)            this text
A file node drives imageFile, colorSpace and frame; any other texture (checker, ramp, a
network's last node) is rasterized to pixels with xceptionCapture -texture."""

    @classmethod
    def syntax_creator(cls) -> om.MSyntax:
        syntax = cls.base_syntax()
        syntax.addFlag("-hd", "-head", om.MSyntax.kString)
        syntax.addFlag("-tk", "-topK", om.MSyntax.kLong)
        syntax.addFlag("-dv", "-device", om.MSyntax.kString)
        return syntax

    def build(self, args: om.MArgDatabase) -> list[str]:
        textures = objects(args)
        if not textures:
            raise CommandError("select file or texture nodes, or name them")
        head = flag_string(args, "-hd", "")
        top_k = flag_int(args, "-tk", 5)
        device = flag_string(args, "-dv", "auto")
        if device not in node_module.DEVICES:
            raise CommandError(f"device must be one of {', '.join(node_module.DEVICES)}")
        if not 1 <= top_k <= node_module.MAX_TOP_K:
            raise CommandError(f"topK must be between 1 and {node_module.MAX_TOP_K}")

        created = []
        captures: list[tuple[str, str]] = []
        for texture in textures:
            texture_obj = depend_node(texture)
            texture_fn = om.MFnDependencyNode(texture_obj)
            is_file = texture_fn.typeName == FILE_NODE
            if not is_file and not texture_fn.hasAttribute("outColor"):
                raise CommandError(f"{texture} is not a file or texture node (no outColor)")
            new = self.modifier.createNode(TYPE_NAME)
            self.modifier.renameNode(new, f"{texture_fn.name()}_xception")
            self.modifier.doIt()  # names (and plugs) exist only once executed
            name = om.MFnDependencyNode(new).name()
            if is_file:
                for source, target in (
                    ("computedFileTextureNamePattern", "imageFile"),
                    ("colorSpace", "colorSpace"),
                    ("frameExtension", "frame"),
                ):
                    self.modifier.connect(plug(texture, source), plug(name, target))
            else:
                captures.append((name, texture))
            if head:
                self.modifier.newPlugValueString(plug(name, "head"), head)
            self.modifier.newPlugValueInt(plug(name, "topK"), top_k)
            self.modifier.newPlugValueInt(plug(name, "device"), node_module.DEVICES.index(device))
            created.append(name)
        for name, texture in captures:
            size = classifier_for(head, device).size
            write_pixels(self.modifier, name, rasterize_texture(texture, size))
        self.selection_after = om.MSelectionList()
        for name in created:
            self.selection_after.add(name)
        return created


class CaptureCommand(UndoableCommand):
    NAME = "xceptionCapture"
    HELP = """xceptionCapture [flags] [classifier]
Writes pixels to a classifier's pixels input (default: the selected classifier):
  -viewport (-vp)        the active viewport, as a single-frame offscreen playblast
  -texture (-tx) string  a texture node (or network's last node), rasterized with
                         colorAtPoint at the classifier's input size
  -size (-s) int         side of the texture raster (default: the head's input size)
  -help (-h)             this text
The classifier must not read a file (imageFile empty). Undo restores its previous pixels."""

    @classmethod
    def syntax_creator(cls) -> om.MSyntax:
        syntax = cls.base_syntax()
        syntax.addFlag("-vp", "-viewport")
        syntax.addFlag("-tx", "-texture", om.MSyntax.kString)
        syntax.addFlag("-s", "-size", om.MSyntax.kLong)
        return syntax

    def build(self, args: om.MArgDatabase) -> list[str]:
        targets = [n for n in objects(args) if cmds.nodeType(n) == TYPE_NAME]
        if len(targets) != 1:
            raise CommandError("name or select exactly one xceptionClassifier")
        target = targets[0]
        if cmds.getAttr(f"{target}.imageFile"):
            raise CommandError(
                f"{target} reads a file (imageFile is set); captured pixels are used only "
                "by a classifier without one: create one with xceptionCreate on a texture"
            )
        viewport, texture = args.isFlagSet("-vp"), flag_string(args, "-tx", "")
        if viewport == bool(texture):
            raise CommandError("give exactly one of -viewport or -texture NODE")
        if texture:
            head = cmds.getAttr(f"{target}.head") or ""
            device = node_module.DEVICES[cmds.getAttr(f"{target}.device")]
            size = flag_int(args, "-s", classifier_for(head, device).size)
            pixels = rasterize_texture(texture, size)
        else:
            pixels = capture_viewport()
        write_pixels(self.modifier, target, pixels)
        return [target]


def write_pixels(modifier: om.MDGModifier, node_name: str, pixels: np.ndarray) -> None:
    """Queue the pixels (H, W, 3 display values) and their size on the node's inputs."""
    height, width = pixels.shape[:2]
    data = om.MFnDoubleArrayData().create(om.MDoubleArray(pixels.reshape(-1).tolist()))
    modifier.newPlugValue(plug(node_name, "pixels"), data)
    modifier.newPlugValueInt(plug(node_name, "pixelWidth"), width)
    modifier.newPlugValueInt(plug(node_name, "pixelHeight"), height)


def rasterize_texture(texture: str, size: int) -> np.ndarray:
    """Sample a texture's outColor on a size x size grid of pixel centres, top row first.

    Explicit u/v lists (rather than -samplesU/-samplesV) because Maya documents no order
    for the grid form."""
    if not cmds.objExists(texture) or not cmds.attributeQuery(
        "outColor", node=texture, exists=True
    ):
        raise CommandError(f"{texture} is not a texture node with outColor")
    centres = (np.arange(size) + 0.5) / size
    us = np.tile(centres, size)
    vs = np.repeat(1.0 - centres, size)  # v grows upwards; rows go downwards
    values = cmds.colorAtPoint(texture, output="RGB", coordU=us.tolist(), coordV=vs.tolist())
    pixels = np.asarray(values, dtype=np.float64).reshape(size, size, 3)
    if cmds.colorManagementPrefs(query=True, cmEnabled=True):
        # Colour-managed scenes sample in the rendering space (ACEScg by default since 2022).
        space = cmds.colorManagementPrefs(query=True, renderingSpaceName=True)
        return images.to_display(pixels, space)
    return np.clip(pixels, 0.0, 1.0)


def capture_viewport(
    playblast: Callable[..., object] | None = None, max_side: int = CAPTURE_MAX_SIDE
) -> np.ndarray:
    """The active viewport at the current frame, display-referred (view transform applied)."""
    playblast = playblast or cmds.playblast
    frame = cmds.currentTime(query=True)
    with tempfile.TemporaryDirectory(prefix="xception_capture_") as tmp:
        target = Path(tmp) / "viewport.png"
        playblast(
            completeFilename=str(target), frame=[frame], format="image", compression="png",
            viewer=False, offScreen=True, showOrnaments=False, percent=100,
            forceOverwrite=True,
        )  # fmt: skip
        if not target.is_file():
            raise CommandError("the viewport capture wrote no image (is a viewport open?)")
        pixels = images.load_image(os.fspath(target))
    height, width = pixels.shape[:2]
    scale = max_side / max(height, width)
    if scale < 1:
        from PIL import Image

        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        channels = [
            np.asarray(
                Image.fromarray(pixels[..., c], mode="F").resize(size, Image.Resampling.BILINEAR)
            )
            for c in range(3)
        ]
        pixels = np.stack(channels, axis=-1)
    clipped: np.ndarray = np.clip(pixels, 0.0, 1.0)
    return clipped


COMMANDS: list[type[UndoableCommand]] = [CreateCommand, CaptureCommand]
