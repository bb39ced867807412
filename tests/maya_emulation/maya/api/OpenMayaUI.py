"""Emulated ``maya.api.OpenMayaUI``: the active 3D view and reading its colour buffer.

The view shows ``maya._emulation.viewport_rgba`` (a deterministic gradient) at the size in
``maya._emulation.STATE["viewport_size"]``. Views exist only in an interactive session.
"""

from __future__ import annotations

import ctypes

from maya import _emulation
from maya._dg import maya_error
from maya.api.OpenMaya import MImage


class M3dView:
    kViewport2Renderer, kDefaultQualityRenderer, kExternalRenderer = 1, 0, 3

    @staticmethod
    def active3dView() -> M3dView:
        if _emulation.is_batch():
            raise maya_error("(kFailure): There is no active 3D view in batch mode")
        return M3dView()

    @staticmethod
    def numberOf3dViews() -> int:
        return 0 if _emulation.is_batch() else 1

    def portWidth(self) -> int:
        return int(_emulation.STATE["viewport_size"][0])

    def portHeight(self) -> int:
        return int(_emulation.STATE["viewport_size"][1])

    def getRendererName(self) -> int:
        return M3dView.kViewport2Renderer

    def refresh(self, all: bool = False, force: bool = False, offscreen: bool = False) -> M3dView:
        return self

    def readColorBuffer(self, image: MImage, readRGBA: bool = False) -> M3dView:
        """Fills ``image`` (resized to the view) bottom row first; BGRA unless readRGBA."""
        width, height = self.portWidth(), self.portHeight()
        top_first = _emulation.viewport_rgba(width, height)
        row = width * 4
        data = bytearray(
            b"".join(top_first[y * row : (y + 1) * row] for y in reversed(range(height)))
        )
        if not readRGBA:
            data[0::4], data[2::4] = data[2::4], data[0::4]
        image.create(width, height)
        ctypes.memmove(image.pixels(), bytes(data), len(data))
        image.setRGBA(readRGBA)
        return self
