"""The plug-in Maya loads: registers the xceptionClassifier node and the xception commands.

Thin on purpose: everything lives in the xception_maya package (xception_maya/maya/). The
package's heavy dependencies (numpy, Pillow, onnxruntime) are checked before anything
imports them, so a mayapy without them gets one line saying how to install them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import maya.api.OpenMaya as om

# loadPlugin by path, without the module on Maya's paths: find the package next to plug-ins/.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

PLUGIN = "xception_classifier"


def maya_useNewAPI() -> None:
    """Tells Maya this plug-in uses the Python API 2.0."""


def initializePlugin(mobject: om.MObject) -> None:
    from xception_maya.maya import dependencies

    absent = dependencies.missing()
    if absent:
        raise RuntimeError(dependencies.load_error(absent, Path(_ROOT), PLUGIN))
    from xception_maya.maya import plugin

    plugin.initialize(mobject)


def uninitializePlugin(mobject: om.MObject) -> None:
    from xception_maya.maya import plugin

    plugin.uninitialize(mobject)
