"""The dependency-graph core of the emulation: nodes, attributes, connections, dirty
propagation, pull evaluation, the undo queue and the message log.

Nothing here imports the API layer; ``maya.api.OpenMaya`` and ``maya.cmds`` are thin
faces over this module. Semantics follow Maya's documentation ("The Dependency Graph",
"Dependency graph plug-ins"): setting a plug marks the attributes it affects dirty and
propagates through connections; reading a dirty plug calls the node's ``compute`` with that
plug; after ``compute`` returns the plug is clean; connected inputs pull their source.
"""

from __future__ import annotations

import re
import struct
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# --- constants shared with the API layer ------------------------------------------------

# MFnNumericData types (values as in Maya's Python API 2.0).
BOOLEAN, BYTE, CHAR, SHORT, SHORT2, SHORT3, INT, INT2, INT3, INT64 = range(1, 11)
FLOAT, FLOAT2, FLOAT3, DOUBLE, DOUBLE2, DOUBLE3, DOUBLE4, ADDR = range(11, 19)
INT_TYPES = {BYTE, CHAR, SHORT, INT, INT64, ADDR}
FLOAT_TYPES = {FLOAT, DOUBLE}
COMPOUND_NUMERIC = {
    SHORT2: (SHORT, 2),
    SHORT3: (SHORT, 3),
    INT2: (INT, 2),
    INT3: (INT, 3),
    FLOAT2: (FLOAT, 2),
    FLOAT3: (FLOAT, 3),
    DOUBLE2: (DOUBLE, 2),
    DOUBLE3: (DOUBLE, 3),
    DOUBLE4: (DOUBLE, 4),
}

# MFnData types.
DATA_NUMERIC, DATA_STRING, DATA_STRING_ARRAY, DATA_DOUBLE_ARRAY = 1, 4, 6, 7
DATA_FLOAT_ARRAY, DATA_INT_ARRAY, DATA_MATRIX, DATA_ANY = 8, 9, 5, 24

# MCommandMessage message types.
K_HISTORY, K_DISPLAY, K_INFO, K_WARNING, K_ERROR, K_RESULT, K_STACK_TRACE = range(7)

# MNodeMessage.AttributeMessage bits.
CONNECTION_MADE, CONNECTION_BROKEN, ATTRIBUTE_SET = 0x01, 0x02, 0x08
ATTRIBUTE_ADDED, ATTRIBUTE_REMOVED, INCOMING_DIRECTION = 0x40, 0x80, 0x800
ARRAY_ADDED, OTHER_PLUG_SET = 0x1000, 0x4000

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLUG_PART_RE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?$")


def maya_error(message: str) -> RuntimeError:
    """Maya raises RuntimeError from cmds and from API calls that fail (MStatus)."""
    return RuntimeError(message)


class NoObjectError(ValueError, RuntimeError):
    """ "No object matches name": some Maya commands raise ValueError for it, others
    RuntimeError; the emulation raises both so that neither handler is silently wrong."""


# --- attributes -------------------------------------------------------------------------


@dataclass(eq=False)
class Attr:
    """What an attribute MObject refers to (shared by every node of a type)."""

    name: str
    short: str
    kind: str  # "numeric" | "typed" | "enum" | "message" | "compound"
    numeric: int = 0
    data: int = 0
    default: Any = None
    children: list[Attr] = field(default_factory=list)
    parent: Attr | None = None
    readable: bool = True
    writable: bool = True
    storable: bool = True
    keyable: bool = False
    connectable: bool = True
    hidden: bool = False
    array: bool = False
    uses_array_data_builder: bool = False
    index_matters: bool = True
    used_as_filename: bool = False
    used_as_color: bool = False
    cached: bool = True
    affects_appearance: bool = False
    channel_box: bool = False
    internal: bool = False
    nice_name: str | None = None
    minimum: Any = None
    maximum: Any = None
    soft_min: Any = None
    soft_max: Any = None
    fields: dict[str, int] = field(default_factory=dict)
    dynamic: bool = False
    from_numeric_fn: bool = False  # children follow the parent's flags (MFnNumericAttribute)

    def leaves(self) -> Iterator[Attr]:
        if self.children:
            for child in self.children:
                yield from child.leaves()
        else:
            yield self

    def family(self) -> Iterator[Attr]:
        yield self
        for child in self.children:
            yield from child.family()

    def type_name(self) -> str:
        """The name ``getAttr -type`` / ``attributeQuery -attributeType`` use."""
        if self.kind == "compound":
            if self.numeric in COMPOUND_NUMERIC:
                base, n = COMPOUND_NUMERIC[self.numeric]
                return {SHORT: "short", INT: "long", FLOAT: "float", DOUBLE: "double"}[base] + str(
                    n
                )
            return "compound"
        if self.kind == "typed":
            return {
                DATA_STRING: "string",
                DATA_STRING_ARRAY: "stringArray",
                DATA_DOUBLE_ARRAY: "doubleArray",
                DATA_FLOAT_ARRAY: "floatArray",
                DATA_INT_ARRAY: "Int32Array",
                DATA_MATRIX: "matrix",
            }.get(self.data, "typed")
        if self.kind in ("enum", "message"):
            return self.kind
        return {
            BOOLEAN: "bool",
            BYTE: "byte",
            CHAR: "char",
            SHORT: "short",
            INT: "long",
            INT64: "int64",
            FLOAT: "float",
            DOUBLE: "double",
            ADDR: "addr",
        }.get(self.numeric, "double")


def coerce(attr: Attr, value: Any) -> Any:
    """Convert a value to what the attribute stores (numeric conversions are implicit in Maya)."""
    if attr.kind == "numeric":
        if attr.numeric == BOOLEAN:
            return bool(value)
        if attr.numeric in INT_TYPES:
            return round(float(value))
        if attr.numeric == FLOAT:  # float attributes hold 32-bit floats
            return struct.unpack("f", struct.pack("f", float(value)))[0]
        return float(value)
    if attr.kind == "enum":
        return int(value)
    if attr.kind == "typed":
        if value is None:
            return None
        if attr.data == DATA_STRING:
            if not isinstance(value, str):
                raise maya_error(f"Cannot store {type(value).__name__} in string attribute")
            return value
        if attr.data == DATA_STRING_ARRAY:
            return [str(v) for v in value]
        if attr.data in (DATA_DOUBLE_ARRAY, DATA_FLOAT_ARRAY):
            return [float(v) for v in value]
        if attr.data == DATA_INT_ARRAY:
            return [int(v) for v in value]
        return value
    return value


def copy_value(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


# --- node types and nodes ---------------------------------------------------------------


@dataclass(eq=False)
class NodeType:
    name: str
    type_id: int
    factory: Callable[[], Any] | None  # returns the MPxNode instance
    plugin: str | None = None
    classification: str = ""
    attrs: list[Attr] = field(default_factory=list)  # top level, in creation order
    affects: dict[Attr, list[Attr]] = field(default_factory=dict)
    is_dag: bool = False
    inherits: tuple[str, ...] = ("node",)
    initializing: bool = False

    def find(self, name: str) -> Attr | None:
        for top in self.attrs:
            for a in top.family():
                if a.name == name or a.short == name:
                    return a
        return None

    def add(self, attr: Attr) -> None:
        if not self.initializing:
            raise maya_error("addAttribute only works during the node type's initialization")
        for a in attr.family():
            if self.find(a.name) or (a.short and self.find(a.short)):
                raise maya_error(f"Attribute '{a.name}' already exists on type '{self.name}'")
        self.attrs.append(attr)

    def affected_by(self, attr: Attr) -> list[Attr]:
        out: list[Attr] = []
        for source in (attr, attr.parent):
            if source is not None:
                out.extend(self.affects.get(source, ()))
        return out

    def computed(self) -> set[Attr]:
        """Attributes some input affects: only these are ever dirty."""
        result: set[Attr] = set()
        for targets in self.affects.values():
            for t in targets:
                result.update(t.family())
                if t.parent is not None:
                    result.add(t.parent)
        return result


@dataclass(frozen=True)
class PlugRef:
    """A plug: node, attribute, logical index (None for a non-element plug)."""

    node: Node
    attr: Attr
    index: int | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter((self.node, self.attr, self.index))

    def path(self, long: bool = True) -> str:
        name = self.attr.name if long or not self.attr.short else self.attr.short
        return name if self.index is None else f"{name}[{self.index}]"

    def full(self, long: bool = True) -> str:
        return f"{self.node.name}.{self.path(long)}"


class Node:
    def __init__(self, ntype: NodeType, name: str) -> None:
        self.type = ntype
        self.name = name
        self.dynamic: list[Attr] = []
        self.values: dict[Attr, Any] = {}
        # attr -> logical indices cleaned since the attribute was dirtied (see is_dirty).
        self.dirty: dict[Attr, set[int]] = {a: set() for a in ntype.computed()}
        self.user: Any = None  # the MPxNode instance, when the type has one
        self.evaluate_hook: Callable[[PlugRef], None] | None = None
        self.alive = False
        self.default_node = False
        self.timer_on = False
        self.timer_computes = 0

    def __repr__(self) -> str:
        return f"<Node {self.name} ({self.type.name})>"

    def attr(self, name: str) -> Attr | None:
        found = self.type.find(name)
        if found is not None:
            return found
        for top in self.dynamic:
            for a in top.family():
                if a.name == name or a.short == name:
                    return a
        return None

    def all_attrs(self) -> list[Attr]:
        return [a for top in [*self.type.attrs, *self.dynamic] for a in top.family()]

    # -- storage (no evaluation) --
    def stored(self, attr: Attr, index: int | None) -> Any:
        if attr.kind == "compound":
            return tuple(self.stored(c, index) for c in attr.children)
        if attr.array and index is None:
            return dict(self.values.get(attr, {}))
        if attr.array:
            return copy_value(self.values.get(attr, {}).get(index, attr.default))
        return copy_value(self.values.get(attr, attr.default))

    def store(self, attr: Attr, index: int | None, value: Any) -> None:
        if attr.kind == "compound":
            for child, v in zip(attr.children, value, strict=True):
                self.store(child, index, v)
        elif attr.array and index is None:
            self.values[attr] = {int(i): coerce(attr, v) for i, v in dict(value).items()}
        elif attr.array and index is not None:
            self.values.setdefault(attr, {})[int(index)] = coerce(attr, value)
        else:
            self.values[attr] = coerce(attr, value)

    def element_indices(self, attr: Attr) -> list[int]:
        return sorted(self.values.get(attr, {})) if attr.array else []

    # -- dirty state --
    def is_dirty(self, attr: Attr, index: int | None) -> bool:
        cleaned = self.dirty.get(attr)
        return cleaned is not None and (index is None or index not in cleaned)

    def mark_dirty(self, attr: Attr) -> None:
        for a in attr.family():
            self.dirty[a] = set()
        if attr.parent is not None:
            self.dirty[attr.parent] = set()

    def set_clean(self, attr: Attr, index: int | None = None) -> None:
        if index is not None and attr.array:
            if attr in self.dirty:
                self.dirty[attr].add(index)
            return
        for a in attr.family():
            self.dirty.pop(a, None)
        parent = attr.parent
        if parent is not None and not any(c in self.dirty for c in parent.children):
            self.dirty.pop(parent, None)


# --- undo -------------------------------------------------------------------------------


@dataclass
class Step:
    undo: Callable[[], None]
    redo: Callable[[], None]


@dataclass
class Chunk:
    name: str
    steps: list[Step] = field(default_factory=list)


class UndoQueue:
    """Maya's undo queue: each undoable command is one entry unless a chunk is open."""

    def __init__(self) -> None:
        self.enabled = True
        self.done: list[Chunk] = []
        self.undone: list[Chunk] = []
        self._open: list[Chunk] = []  # command-level and user (undoInfo -openChunk) chunks
        self._suspended = 0
        self.capture: list[list[Step]] = []  # MDGModifier.pythonCommandToExecute captures

    @property
    def recording(self) -> bool:
        return self.enabled and self._suspended == 0

    def add(self, step: Step, name: str = "") -> None:
        if self.capture:
            self.capture[-1].append(step)
            return
        if self._open and self._suspended == 0:  # kept for a rollback even when disabled
            self._open[-1].steps.append(step)
            return
        if not self.recording:
            return
        if self._open:
            self._open[-1].steps.append(step)
        else:
            self.done.append(Chunk(name, [step]))
            self.undone.clear()

    def open(self, name: str) -> None:
        self._open.append(Chunk(name))

    def close(self, failed: bool = False) -> None:
        if not self._open:
            return
        chunk = self._open.pop()
        if failed:  # a command that raises leaves the scene as it found it
            with self.suspended():
                for step in reversed(chunk.steps):
                    step.undo()
            return
        if not chunk.steps:
            return
        if self._open:
            self._open[-1].steps.extend(chunk.steps)
        elif self.recording:
            self.done.append(chunk)
            self.undone.clear()

    def suspended(self) -> _Suspend:
        return _Suspend(self)

    def undo(self) -> str | None:
        if not self.done:
            return None
        chunk = self.done.pop()
        with self.suspended():
            for step in reversed(chunk.steps):
                step.undo()
        self.undone.append(chunk)
        return chunk.name

    def redo(self) -> str | None:
        if not self.undone:
            return None
        chunk = self.undone.pop()
        with self.suspended():
            for step in chunk.steps:
                step.redo()
        self.done.append(chunk)
        return chunk.name

    def flush(self) -> None:
        self.done.clear()
        self.undone.clear()


class _Suspend:
    def __init__(self, queue: UndoQueue) -> None:
        self.queue = queue

    def __enter__(self) -> None:
        self.queue._suspended += 1

    def __exit__(self, *exc: object) -> None:
        self.queue._suspended -= 1


# --- the scene --------------------------------------------------------------------------


class Scene:
    def __init__(self) -> None:
        self.types: dict[str, NodeType] = {}
        self.nodes: dict[str, Node] = {}
        self.src_of: dict[PlugRef, PlugRef] = {}
        self.selection: list[Node] = []
        self.undo = UndoQueue()
        self.messages: list[tuple[int, str]] = []
        self.compute_log: list[tuple[str, str]] = []  # (node name, plug path) per compute call
        self.callbacks: dict[int, tuple[str, Any, Callable[..., None]]] = {}
        self._next_callback = 1
        self._evaluating: set[PlugRef] = set()
        self.scene_name = ""
        self.compute_on_worker = False  # _emulation.compute_on_worker_thread()

    # -- messages and callbacks --
    def emit(self, kind: int, text: str) -> None:
        self.messages.append((kind, text))
        for _cid, (event, _key, fn) in list(self.callbacks.items()):
            if event == "output":
                fn(text, kind)

    def add_callback(self, event: str, key: Any, fn: Callable[..., None]) -> int:
        cid = self._next_callback
        self._next_callback += 1
        self.callbacks[cid] = (event, key, fn)
        return cid

    def fire(self, event: str, key: Any, *args: Any) -> None:
        for _cid, (ev, k, fn) in list(self.callbacks.items()):
            if ev == event and (k is None or k is key):
                fn(*args)

    # -- lookup --
    def node(self, name: str) -> Node:
        found = self.nodes.get(name.lstrip("|"))
        if found is None:
            raise NoObjectError(f"No object matches name: {name}")
        return found

    def parse_plug(self, text: str) -> PlugRef:
        if "." not in text:
            raise NoObjectError(f"No object matches name: {text}")
        node_name, path = text.split(".", 1)
        node = self.node(node_name)
        parts = path.split(".")
        match = _PLUG_PART_RE.match(parts[-1])
        attr = node.attr(match.group(1)) if match else None
        if attr is None or match is None:
            raise NoObjectError(f"No object matches name: {text}")
        index = int(match.group(2)) if match.group(2) is not None else None
        if index is not None and not attr.array:
            raise maya_error(f"Attribute '{attr.name}' is not a multi: {text}")
        return PlugRef(node, attr, index)

    def unique_name(self, wanted: str) -> str:
        if "#" in wanted:
            stem, n = wanted.replace("#", ""), 1
            while f"{stem}{n}" in self.nodes:
                n += 1
            return f"{stem}{n}"
        if wanted not in self.nodes:
            return wanted
        match = re.match(r"^(.*?)(\d+)$", wanted)
        stem, n = (match.group(1), int(match.group(2)) + 1) if match else (wanted, 1)
        while f"{stem}{n}" in self.nodes:
            n += 1
        return f"{stem}{n}"

    # -- node lifetime (primitives; undo is recorded by the callers) --
    def new_node(self, type_name: str, name: str | None = None) -> Node:
        ntype = self.types.get(type_name)
        if ntype is None:
            raise maya_error(f"Unknown object type: {type_name}")
        if name is not None and not _NAME_RE.match(name.replace("#", "")):
            raise maya_error(f"New name has no legal characters: '{name}'")
        return Node(ntype, self.unique_name(name or f"{type_name}#"))

    def insert(self, node: Node) -> None:
        if node.name in self.nodes:
            node.name = self.unique_name(node.name)
        self.nodes[node.name] = node
        node.alive = True
        self.fire("added", None, node)

    def remove(self, node: Node) -> list[tuple[PlugRef, PlugRef]]:
        self.fire("removing", node, node)
        conns = [(s, d) for d, s in self.src_of.items() if node in (s.node, d.node)]
        for src, dst in conns:
            self.disconnect(src, dst)
        del self.nodes[node.name]
        if node in self.selection:
            self.selection.remove(node)
        node.alive = False
        return conns

    def rename(self, node: Node, new: str) -> str:
        if not _NAME_RE.match(new.replace("#", "")):
            raise maya_error(f"New name has no legal characters: '{new}'")
        if new == node.name:
            return new
        del self.nodes[node.name]
        old, node.name = node.name, self.unique_name(new)
        self.nodes[node.name] = node
        self.fire("renamed", node, node, old)
        return node.name

    # -- connections --
    def connections(self, node: Node | None = None) -> list[tuple[PlugRef, PlugRef]]:
        return [(s, d) for d, s in self.src_of.items() if node is None or node in (s.node, d.node)]

    def destinations(self, ref: PlugRef) -> list[PlugRef]:
        return [d for d, s in self.src_of.items() if s == ref]

    def connect(self, src: PlugRef, dst: PlugRef) -> None:
        if not src.attr.connectable or not dst.attr.connectable:
            raise maya_error(f"The attribute '{dst.full()}' is not connectable.")
        if not dst.attr.writable:
            raise maya_error(f"The destination attribute '{dst.full()}' cannot be an output.")
        if not _compatible(src.attr, dst.attr):
            raise maya_error(
                f"The source attribute '{src.full()}' cannot be connected to "
                f"'{dst.full()}' (incompatible types)."
            )
        if dst.attr.array and dst.index is None and not src.attr.array:
            raise maya_error(f"Cannot connect to a multi without an index: '{dst.full()}'.")
        if dst in self.src_of:
            raise maya_error(f"'{dst.full()}' already has an incoming connection.")
        self.src_of[dst] = src
        for end in (src, dst):  # connecting an element makes it exist
            if end.attr.array and end.index is not None:
                end.node.values.setdefault(end.attr, {}).setdefault(end.index, end.attr.default)
        self.fire("attr", dst.node, CONNECTION_MADE | OTHER_PLUG_SET | INCOMING_DIRECTION, dst, src)
        self.fire("attr", src.node, CONNECTION_MADE | OTHER_PLUG_SET, src, dst)
        self.propagate_dirty(dst)

    def disconnect(self, src: PlugRef, dst: PlugRef) -> None:
        if self.src_of.get(dst) != src:
            raise maya_error(f"There is no connection from '{src.full()}' to '{dst.full()}'.")
        # A destination keeps the last value it received (Maya keeps it in its datablock);
        # nothing is evaluated to get it.
        value = self.peek(dst)
        del self.src_of[dst]
        if value is not None and dst.attr.kind != "message":
            dst.node.store(dst.attr, dst.index, value)
        self.fire(
            "attr", dst.node, CONNECTION_BROKEN | OTHER_PLUG_SET | INCOMING_DIRECTION, dst, src
        )
        self.fire("attr", src.node, CONNECTION_BROKEN | OTHER_PLUG_SET, src, dst)
        self.propagate_dirty(dst)

    def incoming(self, ref: PlugRef) -> PlugRef | None:
        """The plug driving ``ref`` directly, through its compound parent or its array."""
        direct = self.src_of.get(ref)
        if direct is not None:
            return direct
        if ref.attr.parent is not None:
            parent_src = self.src_of.get(PlugRef(ref.node, ref.attr.parent, ref.index))
            if parent_src is not None and parent_src.attr.children:
                position = ref.attr.parent.children.index(ref.attr)
                return PlugRef(
                    parent_src.node, parent_src.attr.children[position], parent_src.index
                )
        if ref.index is not None:
            whole = self.src_of.get(PlugRef(ref.node, ref.attr, None))
            if whole is not None and whole.attr.array:
                return PlugRef(whole.node, whole.attr, ref.index)
        return None

    # -- values: writing --
    def set_value(self, ref: PlugRef, value: Any) -> None:
        """Like MPlug.set*: store, then dirty everything the plug affects."""
        if self.incoming(ref) is not None:
            raise maya_error(
                f"setAttr: The attribute '{ref.full()}' is locked or connected and cannot be "
                "modified."
            )
        if not ref.attr.writable:
            raise maya_error(f"setAttr: The attribute '{ref.full()}' is not writable.")
        ref.node.store(ref.attr, ref.index, _clamp(ref.attr, value))
        if ref.node.is_dirty(ref.attr, ref.index):
            ref.node.set_clean(ref.attr, ref.index)
        self.fire("attr", ref.node, ATTRIBUTE_SET, ref, None)
        self.propagate_dirty(ref)

    def propagate_dirty(self, ref: PlugRef, seen: set[PlugRef] | None = None) -> None:
        """Dirty what ``ref`` affects on its node (attributeAffects) and downstream of it."""
        seen = set() if seen is None else seen
        if ref in seen:
            return
        seen.add(ref)
        node = ref.node
        for affected in node.type.affected_by(ref.attr):
            node.mark_dirty(affected)
            self.propagate_dirty(PlugRef(node, affected, None), seen)
        for src, dst in self.connections(node):
            if src.node is node and _overlaps(src, ref):
                self.propagate_dirty(dst, seen)

    # -- values: reading (pull evaluation) --
    def peek(self, ref: PlugRef) -> Any:
        """The value a plug holds now, without evaluating anything."""
        if ref.attr.kind == "compound":
            return tuple(self.peek(PlugRef(ref.node, c, ref.index)) for c in ref.attr.children)
        source = self.incoming(ref)
        return self.peek(source) if source is not None else ref.node.stored(ref.attr, ref.index)

    def read(self, ref: PlugRef) -> Any:
        node, attr, index = ref
        if attr.kind == "compound":
            source = self.incoming(ref)
            if source is not None and source.attr.kind == "compound":
                values = self.read(source)
                return tuple(coerce(c, v) for c, v in zip(attr.children, values, strict=True))
            if node.is_dirty(attr, index):
                self.evaluate(ref)
            return tuple(self.read(PlugRef(node, c, index)) for c in attr.children)
        if attr.array and index is None:
            if node.is_dirty(attr, None):
                self.evaluate(ref)
            return {i: self.read(PlugRef(node, attr, i)) for i in self.indices(ref)}
        source = self.incoming(ref)
        if source is not None:
            return coerce(attr, self.read(source)) if attr.kind != "message" else None
        if node.is_dirty(attr, index):
            self.evaluate(ref)
        return node.stored(attr, index)

    def indices(self, ref: PlugRef) -> list[int]:
        """Existing logical indices of an array plug: stored elements and connected ones."""
        found = set(ref.node.element_indices(ref.attr))
        for dst, src in self.src_of.items():
            for side in (dst, src):
                if side.node is ref.node and side.attr is ref.attr and side.index is not None:
                    found.add(side.index)
        return sorted(found)

    def evaluate(self, ref: PlugRef) -> None:
        """Call compute(plug, dataBlock) for a dirty plug; the plug is clean afterwards."""
        node = ref.node
        if ref in self._evaluating:  # a cycle: Maya warns and uses the current value
            return
        self._evaluating.add(ref)
        try:
            if node.evaluate_hook is not None:
                self.compute_log.append((node.name, ref.path()))
                if node.timer_on:
                    node.timer_computes += 1
                try:
                    self._run_compute(node.evaluate_hook, ref)
                except Exception:  # Maya reports the error; the datablock value stands
                    self.emit(K_ERROR, traceback.format_exc().rstrip())
        finally:
            self._evaluating.discard(ref)
            node.set_clean(ref.attr, ref.index)

    def _run_compute(self, hook: Callable[[PlugRef], Any], ref: PlugRef) -> None:
        """On the calling thread, or (compute_on_worker) on a worker thread that the calling
        thread waits for, as the Evaluation Manager runs a globally serialized node."""
        if not self.compute_on_worker:
            hook(ref)
            return
        failure: list[BaseException] = []

        def work() -> None:
            try:
                hook(ref)
            except BaseException as exc:
                failure.append(exc)

        worker = threading.Thread(target=work, name="EvaluationManager worker")
        worker.start()
        worker.join()
        if failure:
            raise failure[0]


def _compatible(a: Attr, b: Attr) -> bool:
    if a.kind == "message" or b.kind == "message":
        return a.kind == b.kind
    if a.kind in ("numeric", "enum") and b.kind in ("numeric", "enum"):
        return True
    if a.kind == "compound" and b.kind == "compound":
        return len(a.children) == len(b.children)
    if a.kind == "typed" and b.kind == "typed":
        return a.data == b.data or DATA_ANY in (a.data, b.data)
    return False


def _overlaps(a: PlugRef, b: PlugRef) -> bool:
    """True when plugs a and b share data (same plug, element/array, child/parent)."""
    if a.node is not b.node:
        return False
    same_index = a.index is None or b.index is None or a.index == b.index
    if a.attr is b.attr:
        return same_index
    related = a.attr.parent is b.attr or b.attr.parent is a.attr
    return related and same_index


def _clamp(attr: Attr, value: Any) -> Any:
    if attr.kind != "numeric" or isinstance(value, (tuple, list, dict)):
        return value
    if attr.minimum is not None and value < attr.minimum:
        return attr.minimum
    if attr.maximum is not None and value > attr.maximum:
        return attr.maximum
    return value


SCENE = Scene()
