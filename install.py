"""Drag this file onto a Maya viewport (Maya 2024 or later) to install xception-maya.

Maya imports it and calls ``onMayaDroppedPythonFile``. It writes ``xception-maya.mod`` into
your modules folder, installs numpy, Pillow and onnxruntime into mayapy's user site, builds
the default model if ``models/`` lacks it, loads the plug-in and sets it to autoload. Running
it again changes nothing. To undo it, in the Script Editor (Python)::

    import xception_maya.maya.install; xception_maya.maya.install.uninstall()

The work is done by ``xception_maya/maya/install.py``; this file only finds it.
"""

from __future__ import annotations

import os
import sys


def onMayaDroppedPythonFile(obj: object) -> bool:
    """Called by Maya with the object under the mouse, which does not matter here."""
    root = os.path.dirname(os.path.abspath(__file__))
    if root not in sys.path:
        # Appended: Maya put this folder first on sys.path to import this file, and takes
        # sys.path[0] off again when the call returns.
        sys.path.append(root)
    from xception_maya.maya import install

    return install.on_drop()
