"""The plug-in Maya loads: registers the xceptionClassifier node and the xception commands.

Thin on purpose: everything lives in the xception_maya package (xception_maya/maya/).
"""

from __future__ import annotations

import os
import sys

# loadPlugin by path, without the module on Maya's paths: find the package next to plug-ins/.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

import maya.api.OpenMaya as om  # noqa: E402

from xception_maya.maya import plugin  # noqa: E402  (needs the path above)


def maya_useNewAPI() -> None:
    """Tells Maya this plug-in uses the Python API 2.0."""


def initializePlugin(mobject: om.MObject) -> None:
    plugin.initialize(mobject)


def uninitializePlugin(mobject: om.MObject) -> None:
    plugin.uninitialize(mobject)
