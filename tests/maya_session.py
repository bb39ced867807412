"""One Maya session for the Maya-layer tests: real ``maya.standalone`` when it is importable
(``mayapy -m pytest tests``), the emulation in ``tests/maya_emulation`` otherwise.

Importing this module decides which, and on the emulation puts ``tests/maya_emulation`` first
on ``sys.path`` so that ``import maya`` finds it. Everything below uses only Maya's public API
and commands, so the same helpers work on both.

In ``tests/conftest.py``::

    import pytest
    from maya_session import maya_session

    @pytest.fixture
    def maya():
        with maya_session() as session:
            yield session
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EMULATION_PATH = Path(__file__).resolve().parent / "maya_emulation"


def _real_maya_importable() -> bool:
    if str(EMULATION_PATH) in sys.path:
        return False
    try:
        spec = importlib.util.find_spec("maya.standalone")
    except (ImportError, ValueError):
        return False
    return spec is not None and EMULATION_PATH not in Path(spec.origin or "").resolve().parents


IS_EMULATION: bool = not _real_maya_importable()
if IS_EMULATION and str(EMULATION_PATH) not in sys.path:
    sys.path.insert(0, str(EMULATION_PATH))
    # An unrelated package named "maya" may have been imported by the check above.
    for _name in [m for m in sys.modules if m == "maya" or m.startswith("maya.")]:
        if EMULATION_PATH not in Path(getattr(sys.modules[_name], "__file__", "") or "/").parents:
            del sys.modules[_name]

_STARTED = False
_STARTUP_NODES: set[str] = set()


def start() -> None:
    """Initialize Maya once per process (a no-op for the emulation beyond importing it)."""
    global _STARTED
    if _STARTED:
        return
    import maya.standalone

    maya.standalone.initialize(name="python")
    _STARTED = True


def new_scene() -> None:
    """An empty scene (plug-ins stay loaded); remembers the nodes every new scene has."""
    from maya import cmds

    cmds.file(new=True, force=True)
    cmds.select(clear=True)
    cmds.flushUndo()
    _STARTUP_NODES.clear()
    _STARTUP_NODES.update(cmds.ls())


# --- messages -----------------------------------------------------------------------------

_DECORATION = re.compile(r"^(?://|#)?\s*(?:Warning|Error|Info|Result):\s*|\s*(?://|#)\s*$")


@dataclass
class Messages:
    """What Maya reported (MGlobal.display*, cmds.warning/error) while the session ran."""

    records: list[tuple[int, str]] = field(default_factory=list)

    def _on_output(self, message: str, kind: int, client_data: Any = None) -> None:
        text = _DECORATION.sub("", str(message).rstrip("\n")).strip()
        if text:
            self.records.append((kind, text))

    def _of(self, kind_name: str) -> list[str]:
        from maya.api import OpenMaya as om

        kind = getattr(om.MCommandMessage, kind_name)
        return [text for k, text in self.records if k == kind]

    @property
    def warnings(self) -> list[str]:
        return self._of("kWarning")

    @property
    def errors(self) -> list[str]:
        return self._of("kError")

    @property
    def infos(self) -> list[str]:
        return self._of("kInfo")

    def clear(self) -> None:
        self.records.clear()


_CURRENT: list[Messages] = []


def warnings() -> list[str]:
    """Warnings reported since the current session began."""
    return _CURRENT[-1].warnings if _CURRENT else []


# --- compute counting ---------------------------------------------------------------------


def compute_counter(node: str) -> Callable[[], int]:
    """Count node's compute() calls from now on, with Maya's per-node DG timer."""
    from maya.api import OpenMaya as om

    if not IS_EMULATION:
        from maya import cmds

        cmds.dgtimer(on=True)
    selection = om.MSelectionList()
    selection.add(node)
    fn = om.MFnDependencyNode(selection.getDependNode(0))
    fn.dgTimerOn()
    fn.dgTimerReset()
    metric, kind = om.MFnDependencyNode.kTimerMetric_compute, om.MFnDependencyNode.kTimerType_count
    return lambda: int(fn.dgTimer(metric, kind))


# --- scene snapshots ----------------------------------------------------------------------


def _storable(node: str, plug_path: str) -> bool:
    from maya import cmds

    base = re.sub(r"\[\d+\]", "", plug_path).split(".")[-1]
    try:
        return bool(cmds.attributeQuery(base, node=node, storable=True))
    except (RuntimeError, ValueError, TypeError):
        return False


def scene_snapshot(include_startup_nodes: bool = False) -> dict[str, Any]:
    """Nodes, their storable attribute values, connections and selection, through cmds only.

    Outputs (non-storable) are left out so that taking a snapshot computes nothing. Nodes every
    new scene has are left out unless asked for (real Maya has dozens)."""
    from maya import cmds

    nodes = sorted(n for n in cmds.ls() if include_startup_nodes or n not in _STARTUP_NODES)
    snapshot: dict[str, Any] = {"nodes": {}, "connections": set(), "selection": cmds.ls(sl=True)}
    for node in nodes:
        values: dict[str, Any] = {}
        for attr in cmds.listAttr(node, multi=True) or []:
            if not _storable(node, attr):
                continue
            try:
                values[attr] = cmds.getAttr(f"{node}.{attr}")
            except (RuntimeError, ValueError, TypeError):
                continue
        snapshot["nodes"][node] = {"type": cmds.nodeType(node), "attrs": values}
        pairs = cmds.listConnections(node, connections=True, plugs=True, destination=False) or []
        for i in range(0, len(pairs), 2):
            snapshot["connections"].add((pairs[i + 1], pairs[i]))
        pairs = cmds.listConnections(node, connections=True, plugs=True, source=False) or []
        for i in range(0, len(pairs), 2):
            snapshot["connections"].add((pairs[i], pairs[i + 1]))
    return snapshot


# --- the session --------------------------------------------------------------------------


@dataclass
class Session:
    is_emulation: bool
    messages: Messages
    cmds: Any
    om: Any

    snapshot = staticmethod(scene_snapshot)
    compute_counter = staticmethod(compute_counter)

    def idle(self) -> None:
        """Let Maya run what waits for it to be idle (maya.utils.executeDeferred), as the
        UI's event loop does between events. The emulation runs the queue only here."""
        import maya.utils

        maya.utils.processIdleEvents()

    @contextlib.contextmanager
    def compute_on_worker_thread(self) -> Iterator[None]:
        """Every compute() on a worker thread, where commands, MEL and UI raise, as under the
        Evaluation Manager in parallel mode. On real Maya the Evaluation Manager decides."""
        if not self.is_emulation:
            yield
            return
        from maya import _emulation

        _emulation.compute_on_worker_thread(True)
        try:
            yield
        finally:
            _emulation.compute_on_worker_thread(False)

    def restart(self, how: str = "exit-first") -> None:
        """Quit Maya and start it again (emulation only: skips on real Maya). What survives
        is what Maya keeps on disk: the shelves saved in the user's prefs. ``how``: see
        ``_emulation.quit_maya`` ("exit-first", "save-first", "crash")."""
        if not self.is_emulation:
            import pytest

            pytest.skip("restarting needs the emulation")
        from maya import _emulation

        _emulation.restart_maya(how)

    @contextlib.contextmanager
    def interactive(self) -> Iterator[None]:
        """Run the block as in an interactive Maya (UI, views, playblast); skip on batch Maya."""
        if not self.is_emulation:
            if self.cmds.about(batch=True):
                import pytest

                pytest.skip("needs an interactive Maya session")
            yield
            return
        from maya import _emulation

        _emulation.set_interactive(True)
        try:
            yield
        finally:
            _emulation.set_interactive(False)


@contextlib.contextmanager
def maya_session() -> Iterator[Session]:
    """A fresh scene with message capture; on the emulation also fresh logs and UI."""
    start()
    if IS_EMULATION:
        from maya import _emulation

        _emulation.reset_session()
    new_scene()
    from maya import cmds
    from maya.api import OpenMaya as om

    messages = Messages()
    callback = om.MCommandMessage.addCommandOutputCallback(messages._on_output)
    _CURRENT.append(messages)
    try:
        yield Session(IS_EMULATION, messages, cmds, om)
    finally:
        _CURRENT.remove(messages)
        om.MMessage.removeCallback(callback)
