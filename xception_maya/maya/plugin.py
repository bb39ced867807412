"""What the plug-in registers, and unregisters on unload: node type, commands, the
Evaluation Manager setting, the shelf and menu; and what it reads from Maya once, on the
main thread, for compute() to use on any thread (the folder of learned heads, the library
index, whether the session is interactive: the node's ``async`` default).

Loading also starts the network session on a background thread, so the first
classification does not pay for it; closing the scene or unloading cancels the node's
background work (:mod:`.background`)."""

from __future__ import annotations

import contextlib
import threading

import maya.api.OpenMaya as om
from maya import cmds

from .. import __version__
from . import background, classifiers, node, settings, shelf
from .commands import COMMANDS as SETUP_COMMANDS
from .tagging import TAGGING_COMMANDS

COMMANDS = [*SETUP_COMMANDS, *TAGGING_COMMANDS]

VENDOR = "xception-maya"

_scene_callbacks: list[int] = []
warming: threading.Thread | None = None  # the session being created at load (tests wait on it)


def interactive() -> bool:
    """An interactive Maya (not batch, mayapy or -prompt): the node evaluates in the
    background there. Main thread, at load: never asked in compute()."""
    return bool(om.MGlobal.mayaState() == om.MGlobal.kInteractive)


def initialize(mobject: om.MObject) -> None:
    global warming
    fn = om.MFnPlugin(mobject, VENDOR, __version__, "Any")
    classifiers.configure(settings.user_heads_dir(), library=settings.library_path())
    node.async_default = interactive()
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
    _scene_callbacks.clear()  # ids left by a Maya that quit without unloading are gone
    for message in (om.MSceneMessage.kBeforeNew, om.MSceneMessage.kBeforeOpen):
        _scene_callbacks.append(om.MSceneMessage.addCallback(message, _scene_closing))
    warming = classifiers.warm_up(settings.DEVICES[0])  # what a new node uses by default
    shelf.install()  # shelf and menu, interactive Maya only; a UI failure is one warning


def uninitialize(mobject: om.MObject) -> None:
    background.cancel()  # a run in progress finishes on its thread; its result is dropped
    for callback in _scene_callbacks:
        with contextlib.suppress(RuntimeError):  # already removed: nothing left to do
            om.MMessage.removeCallback(callback)
    _scene_callbacks.clear()
    shelf.uninstall()  # never raises
    fn = om.MFnPlugin(mobject)
    _unregister(fn, [node.TYPE_NAME] + [c.NAME for c in COMMANDS])
    classifiers.forget()


def _scene_closing(client_data: object = None) -> None:
    background.cancel()


def _unregister(fn: om.MFnPlugin, names: list[str]) -> None:
    for command in COMMANDS:
        if command.NAME in names:
            fn.deregisterCommand(command.NAME)
    if node.TYPE_NAME in names:
        cmds.evaluationManager(node.TYPE_NAME, nodeTypeGloballySerialize=False)
        fn.deregisterNode(node.type_id())
