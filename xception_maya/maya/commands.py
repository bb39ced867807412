"""Commands that set classifiers up: ``xceptionCreate`` and ``xceptionCapture``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import maya.api.OpenMaya as om
import numpy as np
from maya import cmds

from .. import images
from .classifiers import classifier_for, input_side
from .framework import (
    Args,
    CommandError,
    Flag,
    UndoableCommand,
    depend_node,
    node_type,
    plug,
    require_interactive,
)
from .node import MAX_TOP_K, TYPE_NAME
from .settings import DEVICES

FILE_NODE = "file"
CAPTURE_MAX_SIDE = 512  # pixels kept from a viewport capture; the head resizes anyway

HEAD = Flag("hd", "head", str, "head name or head file", "", shown="the manifest's default head")
MODEL = Flag(
    "mdl", "model", str, "a model imported with `xception-maya import`", "",
    shown="Xception and the head",
)  # fmt: skip
TOP_K = Flag("tk", "topK", int, f"labels to keep, 1..{MAX_TOP_K}", 5)
DEVICE = Flag("dv", "device", str, " or ".join(DEVICES), "auto")
VIEWPORT = Flag("vp", "viewport", bool, "the active viewport, as a one-frame offscreen playblast")
TEXTURE = Flag("tx", "texture", str, "a texture node (or a network's last node), rasterized")
SIZE = Flag("s", "size", int, "side of the texture raster", shown="the head's input size")


def check_device(device: str) -> str:
    if device not in DEVICES:
        raise CommandError(f"device must be one of {', '.join(DEVICES)}")
    return device


def check_top_k(top_k: int) -> int:
    if not 1 <= top_k <= MAX_TOP_K:
        raise CommandError(f"topK must be between 1 and {MAX_TOP_K}")
    return top_k


class CreateCommand(UndoableCommand):
    NAME = "xceptionCreate"
    USAGE = "[flags] [textureNode ...]"
    ABOUT = """
Creates an xceptionClassifier for each file or texture node (default: the selection),
connects it, selects the new classifiers and returns their names. A file node drives
imageFile, colorSpace and frame; any other texture (checker, ramp, a network's last node)
is rasterized to pixels with colorAtPoint. -model sets the classifiers' model attribute
(an imported model, used instead of Xception and its head)."""
    FLAGS = (HEAD, MODEL, TOP_K, DEVICE)

    def build(self, args: Args) -> list[str]:
        textures = args.objects()
        if not textures:
            raise CommandError("select file or texture nodes, or name them")
        head = args.get(HEAD)
        model = args.get(MODEL).strip()
        top_k = check_top_k(args.get(TOP_K))
        device = check_device(args.get(DEVICE))
        clf = classifier_for(head, device, model=model)  # an unknown head or model: one error

        created = []
        captures: list[tuple[str, str]] = []
        for texture in textures:
            texture_fn = om.MFnDependencyNode(depend_node(texture))
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
            if model:
                self.modifier.newPlugValueString(plug(name, "model"), model)
            self.modifier.newPlugValueInt(plug(name, "topK"), top_k)
            self.modifier.newPlugValueInt(plug(name, "device"), DEVICES.index(device))
            created.append(name)
        for name, texture in captures:
            size = input_side(clf)
            write_pixels(self.modifier, name, rasterize_texture(texture, size))
        self.selection_after = om.MSelectionList()
        for name in created:
            self.selection_after.add(name)
        return created


class CaptureCommand(UndoableCommand):
    NAME = "xceptionCapture"
    USAGE = "[flags] [classifier]"
    ABOUT = """
Writes pixels to a classifier's pixels input (default: the selected classifier), from
the viewport or from a texture. The classifier must not read a file (imageFile empty).
Undo restores its previous pixels."""
    FLAGS = (VIEWPORT, TEXTURE, SIZE)

    def build(self, args: Args) -> list[str]:
        targets = [n for n in args.objects() if node_type(n) == TYPE_NAME]
        if len(targets) != 1:
            raise CommandError("name or select exactly one xceptionClassifier")
        target = targets[0]
        if plug(target, "imageFile").asString():
            raise CommandError(
                f"{target} reads a file (imageFile is set); captured pixels are used only "
                "by a classifier without one: create one with xceptionCreate on a texture"
            )
        viewport, texture = args.get(VIEWPORT), args.get(TEXTURE, "")
        if viewport == bool(texture):
            raise CommandError("give exactly one of -viewport or -texture NODE")
        if texture:
            head = plug(target, "head").asString()
            model = plug(target, "model").asString().strip()
            device = DEVICES[plug(target, "device").asShort()]
            size = args.get(SIZE, input_side(classifier_for(head, device, model=model)))
            pixels = rasterize_texture(texture, size)
        else:
            require_interactive("-viewport")
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
    if size < 1:
        raise CommandError("the raster size must be at least 1")
    centres = (np.arange(size) + 0.5) / size
    us = np.tile(centres, size)
    vs = np.repeat(1.0 - centres, size)  # v grows upwards; rows go downwards
    try:
        values = cmds.colorAtPoint(texture, output="RGB", coordU=us.tolist(), coordV=vs.tolist())
    except RuntimeError as exc:
        raise CommandError(f"{texture} cannot be sampled: {exc}") from exc
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
