"""What the plug-in registers, and unregisters on unload: node type, commands, the
Evaluation Manager setting, the shelf and menu; and what it reads from Maya once, on the
main thread, for compute() to use on any thread (the folder of learned heads)."""

from __future__ import annotations

import maya.api.OpenMaya as om
from maya import cmds

from .. import __version__
from . import classifiers, node, settings, shelf
from .commands import COMMANDS as SETUP_COMMANDS
from .tagging import TAGGING_COMMANDS

COMMANDS = [*SETUP_COMMANDS, *TAGGING_COMMANDS]

VENDOR = "xception-maya"


def initialize(mobject: om.MObject) -> None:
    fn = om.MFnPlugin(mobject, VENDOR, __version__, "Any")
    classifiers.configure(settings.user_heads_dir())
    done: list[str] = []
    try:
        fn.registerNode(
            node.TYPE_NAME,
            node.type_id(),
            node.XceptionClassifierNode.creator,
            node.XceptionClassifierNode.initialize,
            om.MPxNode.kDependNode,
        )
        done.append(node.TYPE_NAME)
        # Python API 2.0 cannot declare a scheduling type. Globally serialized, not untrusted:
        # one classifier at a time (onnxruntime already uses every core for one image, and
        # several full-size decodes at once only add memory), while the rest of the graph
        # keeps evaluating in parallel; untrusted would stall the whole graph around it.
        cmds.evaluationManager(node.TYPE_NAME, nodeTypeGloballySerialize=True)
        for command in COMMANDS:
            fn.registerCommand(command.NAME, command, command.syntax_creator)
            done.append(command.NAME)
    except Exception:
        _unregister(fn, done)  # a half-loaded plug-in is worse than none
        raise
    shelf.install()  # shelf and menu, interactive Maya only; a UI failure is one warning


def uninitialize(mobject: om.MObject) -> None:
    shelf.uninstall()  # never raises
    fn = om.MFnPlugin(mobject)
    _unregister(fn, [node.TYPE_NAME] + [c.NAME for c in COMMANDS])
    classifiers.forget()


def _unregister(fn: om.MFnPlugin, names: list[str]) -> None:
    for command in COMMANDS:
        if command.NAME in names:
            fn.deregisterCommand(command.NAME)
    if node.TYPE_NAME in names:
        cmds.evaluationManager(node.TYPE_NAME, nodeTypeGloballySerialize=False)
        fn.deregisterNode(node.type_id())
