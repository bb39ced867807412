"""Emulated ``maya.api.OpenMayaAnim``: the current time (``time1.outTime``)."""

from __future__ import annotations

from maya._dg import SCENE
from maya.api.OpenMaya import MTime


class MAnimControl:
    @staticmethod
    def currentTime() -> MTime:
        return MTime(SCENE.read(SCENE.parse_plug("time1.outTime")))

    @staticmethod
    def setCurrentTime(time: MTime) -> None:
        SCENE.set_value(SCENE.parse_plug("time1.outTime"), time.asUnits(MTime.kFilm))
