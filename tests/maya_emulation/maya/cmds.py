"""Emulated subset of ``maya.cmds``.

Flags are accepted by long or short name; an unknown flag raises TypeError as in Maya. Scene
edits go through the undo queue (one entry per command, or per open undo chunk). Commands
registered by plug-ins (MFnPlugin.registerCommand) are reachable as ``cmds.<name>``.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import importlib.util
import os
import types
from collections.abc import Callable, Iterable
from typing import Any

from maya import _dg, _emulation, _nodes
from maya._dg import SCENE, Attr, Node, NoObjectError, PlugRef, maya_error
from maya.api import OpenMaya as om

_OPTION_VARS: dict[str, Any] = {}
_EVALUATION: dict[str, Any] = {
    "mode": "parallel",
    "nodeTypeParallel": set(),
    "nodeTypeSerialize": set(),
    "nodeTypeGloballySerialize": set(),
    "nodeTypeUntrusted": set(),
}


# --- helpers ------------------------------------------------------------------------------


def _spec(text: str) -> dict[str, str]:
    """ "longName short, ..." -> {name: longName} for both spellings."""
    out: dict[str, str] = {}
    for entry in text.split(","):
        names = entry.split()
        for name in names:
            out[name] = names[0]
    return out


def _opts(kwargs: dict[str, Any], spec: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key not in spec:
            raise TypeError(f"Invalid flag '{key}'")
        out[spec[key]] = value
    return out


def _flatten(args: Iterable[Any]) -> list[str]:
    out: list[str] = []
    for arg in args:
        if isinstance(arg, (list, tuple)):
            out.extend(_flatten(arg))
        elif arg is not None:
            out.append(str(arg))
    return out


def _command(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An undoable command: its edits form one undo entry; if it raises, they are reverted."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            SCENE.undo.open(name)
            try:
                result = fn(*args, **kwargs)
            except BaseException:
                SCENE.undo.close(failed=True)
                raise
            SCENE.undo.close()
            return result

        return run

    return decorate


def _do(step: _dg.Step) -> None:
    SCENE.undo.add(step)


def _targets(args: Iterable[Any]) -> list[str]:
    names = _flatten(args)
    return names if names else [n.name for n in SCENE.selection]


def _name(node: Node, long: bool = False) -> str:
    return ("|" + node.name) if long and node.type.is_dag else node.name


def _plug_or_node(text: str) -> tuple[Node, PlugRef | None]:
    if "." in text:
        ref = SCENE.parse_plug(text)
        return ref.node, ref
    return SCENE.node(text), None


def _covers(ref: PlugRef, plug: PlugRef) -> bool:
    """``plug`` is ``ref`` itself, one of its elements or one of its children."""
    if plug.node is not ref.node:
        return False
    if plug.attr is ref.attr:
        return ref.index is None or plug.index == ref.index
    return plug.attr.parent is ref.attr and (ref.index is None or plug.index == ref.index)


def _is_type(node: Node, types: Iterable[str]) -> bool:
    return any(t == node.type.name or t in node.type.inherits for t in types)


def _require_ui(command: str) -> None:
    if _emulation.is_batch():
        raise maya_error(f"{command}: this command is not available in batch mode.")


# --- nodes --------------------------------------------------------------------------------


@_command("createNode")
def createNode(nodeType: str, **kwargs: Any) -> str:
    o = _opts(kwargs, _spec("name n, parent p, shared s, skipSelect ss"))
    name = o.get("name")
    if o.get("shared") and name in SCENE.nodes:
        return str(name)
    node = om.create_node(nodeType, name)
    _do(om.step_create(node))
    if not o.get("skipSelect"):
        _do(om.step_select([node]))
    return node.name


@_command("shadingNode")
def shadingNode(nodeType: str, **kwargs: Any) -> str:
    """createNode for shading nodes (the default-list connections Maya adds are not emulated)."""
    o = _opts(
        kwargs,
        _spec(
            "asTexture at, asShader as, asUtility au, asLight al, asPostProcess app, "
            "asRendering ar, name n, isColorManaged icm, skipSelect ss, shared s, parent p"
        ),
    )
    if not any(o.get(f) for f in ("asTexture", "asShader", "asUtility", "asLight", "asRendering")):
        raise maya_error("shadingNode: Must specify one of the -as* flags.")
    keep = {k: o[k] for k in ("name", "skipSelect", "shared") if k in o}
    return str(createNode(nodeType, **keep))


def getClassification(nodeType: str, **kwargs: Any) -> list[str]:
    _opts(kwargs, _spec("satisfies sat"))
    ntype = SCENE.types.get(nodeType)
    if ntype is None:
        raise maya_error(f"getClassification: Unknown node type '{nodeType}'.")
    return [ntype.classification]


@_command("delete")
def delete(*args: Any, **kwargs: Any) -> None:
    _opts(kwargs, _spec("all all"))
    nodes = [SCENE.node(n) if "." not in n else SCENE.parse_plug(n).node for n in _targets(args)]
    if not nodes:
        raise maya_error("delete: Not enough objects or values.")
    for node in nodes:
        if node.alive:
            _do(om.step_delete(node))


@_command("rename")
def rename(*args: Any, **kwargs: Any) -> str:
    _opts(kwargs, _spec("ignoreShape is, uuid uid"))
    names = _flatten(args)
    if len(names) == 1:
        if not SCENE.selection:
            raise maya_error("rename: Nothing selected to rename.")
        node, new = SCENE.selection[0], names[0]
    else:
        node, new = SCENE.node(names[0]), names[1]
    if node.default_node:
        raise maya_error(f"rename: Cannot rename the default node '{node.name}'.")
    _do(om.step_rename(node, new))
    return node.name


def objExists(name: str) -> bool:
    try:
        _plug_or_node(str(name))
    except RuntimeError:
        return False
    return True


def nodeType(*args: Any, **kwargs: Any) -> Any:
    o = _opts(kwargs, _spec("inherited i, apiType api, isTypeName itn, derived d"))
    name = _flatten(args)[0]
    if o.get("isTypeName"):
        if name not in SCENE.types:
            raise maya_error(f"nodeType: Unknown node type '{name}'.")
        return name
    node, _ref = _plug_or_node(name)
    if o.get("inherited"):
        return [*node.type.inherits, node.type.name]
    if o.get("apiType"):
        return om.MObject._of("node", node).apiTypeStr
    return node.type.name


def ls(*args: Any, **kwargs: Any) -> list[str]:
    o = _opts(
        kwargs,
        _spec(
            "type typ, selection sl, long l, textures tex, sets set, materials mat, "
            "defaultNodes dn, showType st, exactType et, dependencyNodes dep, objectsOnly o, "
            "transforms tr, shortNames sn, excludeType ext, dagObjects dag, orderedSelection os"
        ),
    )
    nodes = list(SCENE.selection) if o.get("selection") or o.get("orderedSelection") else None
    nodes = nodes if nodes is not None else list(SCENE.nodes.values())
    patterns = _flatten(args)
    found: list[Node | PlugRef] = []
    for pattern in patterns or ["*"]:
        if "." in pattern:
            with contextlib.suppress(RuntimeError):
                found.append(SCENE.parse_plug(pattern))
            continue
        found.extend(
            n for n in nodes if fnmatch.fnmatchcase(n.name, pattern.lstrip("|")) and n not in found
        )

    def keep(item: Node | PlugRef) -> bool:
        node = item.node if isinstance(item, PlugRef) else item
        checks = [
            ("type", lambda v: _is_type(node, _flatten([v]))),
            ("exactType", lambda v: node.type.name in _flatten([v])),
            ("excludeType", lambda v: not _is_type(node, _flatten([v]))),
            ("textures", lambda v: node.type.classification.startswith("texture")),
            ("materials", lambda v: node.type.classification.startswith("shader")),
            ("sets", lambda v: node.type.name == "objectSet"),
            ("transforms", lambda v: node.type.name == "transform"),
            ("dagObjects", lambda v: node.type.is_dag),
            ("defaultNodes", lambda v: node.default_node),
        ]
        return all(test(o[flag]) == bool(o[flag]) for flag, test in checks if flag in o)

    out: list[str] = []
    for item in found:
        if not keep(item):
            continue
        if isinstance(item, PlugRef):
            out.append(item.full())
            continue
        out.append(_name(item, bool(o.get("long"))))
        if o.get("showType"):
            out.append(item.type.name)
    return out


def _set_members(node: Node) -> list[Node]:
    members: list[Node] = []
    for dst, src in SCENE.src_of.items():
        if dst.node is node and dst.attr.name in ("dagSetMembers", "dnSetMembers"):
            members.append(src.node)
    return members


@_command("select")
def select(*args: Any, **kwargs: Any) -> None:
    o = _opts(
        kwargs,
        _spec("clear cl, add add, replace r, deselect d, toggle tgl, noExpand ne, all all"),
    )
    if o.get("clear"):
        _do(om.step_select([]))
        return
    if o.get("all"):
        _do(om.step_select([n for n in SCENE.nodes.values() if not n.default_node]))
        return
    names = _flatten(args)
    nodes: list[Node] = []
    for name in names:
        node, _ref = _plug_or_node(name)
        if node.type.name == "objectSet" and not o.get("noExpand"):
            nodes.extend(_set_members(node))
        else:
            nodes.append(node)
    current = list(SCENE.selection)
    if o.get("add"):
        new = current + [n for n in nodes if n not in current]
    elif o.get("deselect"):
        new = [n for n in current if n not in nodes]
    elif o.get("toggle"):
        new = [n for n in current if n not in nodes] + [n for n in nodes if n not in current]
    else:
        if not names:
            raise maya_error("select: Not enough objects or values.")
        new = list(dict.fromkeys(nodes))
    _do(om.step_select(new))


# --- connections --------------------------------------------------------------------------


def listConnections(*args: Any, **kwargs: Any) -> list[str] | None:
    o = _opts(
        kwargs,
        _spec(
            "source s, destination d, plugs p, connections c, type t, skipConversionNodes scn, "
            "shapes sh, exactType et, fullNodeName fnn"
        ),
    )
    # Both directions are listed unless one is turned off (each defaults to true).
    want_src, want_dst = o.get("source", True), o.get("destination", True)
    out: list[str] = []
    for name in _targets(args):
        node, ref = _plug_or_node(name)

        def mine(p: PlugRef, node: Node = node, ref: PlugRef | None = ref) -> bool:
            return p.node is node if ref is None else _covers(ref, p)

        for src, dst in SCENE.connections(node):
            pairs = []
            if want_dst and mine(src):
                pairs.append((src, dst))
            if want_src and mine(dst):
                pairs.append((dst, src))
            for own, other in pairs:
                if "type" in o and not _is_type(other.node, _flatten([o["type"]])):
                    continue
                if o.get("connections"):
                    out.append(own.full())
                out.append(other.full() if o.get("plugs") else other.node.name)
    return out or None


def _next_index(ref: PlugRef) -> PlugRef:
    taken = SCENE.indices(ref)
    return PlugRef(ref.node, ref.attr, (max(taken) + 1) if taken else 0)


@_command("connectAttr")
def connectAttr(source: str, destination: str, **kwargs: Any) -> None:
    o = _opts(kwargs, _spec("force f, lock l, nextAvailable na, referenceDest rd"))
    src, dst = SCENE.parse_plug(source), SCENE.parse_plug(destination)
    if dst.attr.array and dst.index is None and not src.attr.array:
        if not o.get("nextAvailable"):
            raise maya_error(
                f"connectAttr: '{dst.full()}' is a multi; connect to an element or use "
                "nextAvailable."
            )
        dst = _next_index(dst)
    _do(om.step_connect(src, dst, force=bool(o.get("force"))))


@_command("disconnectAttr")
def disconnectAttr(source: str, destination: str, **kwargs: Any) -> None:
    _opts(kwargs, _spec("nextAvailable na"))
    src, dst = SCENE.parse_plug(source), SCENE.parse_plug(destination)
    if SCENE.src_of.get(dst) != src:
        raise maya_error(f"disconnectAttr: '{src.full()}' is not connected to '{dst.full()}'.")
    _do(om.step_disconnect(src, dst))


def isConnected(source: str, destination: str, **kwargs: Any) -> bool:
    _opts(kwargs, _spec("ignoreUnitConversion iuc"))
    src, dst = SCENE.parse_plug(source), SCENE.parse_plug(destination)
    return SCENE.incoming(dst) == src


# --- attribute values ---------------------------------------------------------------------


@_command("setAttr")
def setAttr(plug: str, *values: Any, **kwargs: Any) -> None:
    o = _opts(
        kwargs,
        _spec(
            "type typ, lock l, keyable k, channelBox cb, clamp c, size s, alteredValue av, "
            "caching ca, capacityHint ch"
        ),
    )
    ref = SCENE.parse_plug(plug)
    attr = ref.attr
    if not values:
        return  # only flags such as keyable/lock: not emulated
    kind = o.get("type")
    if attr.kind == "typed":
        expected = attr.type_name()
        if kind != expected:
            raise maya_error(f"setAttr: '{ref.full()}' needs type='{expected}'.")
        if attr.data == _dg.DATA_STRING:
            value: Any = values[0]
        elif attr.data == _dg.DATA_STRING_ARRAY and not isinstance(values[0], (list, tuple)):
            count = int(values[0])  # setAttr(p, 2, "a", "b", type="stringArray")
            value = list(values[1 : 1 + count])
            if len(value) != count:
                raise maya_error("setAttr: Not enough data was provided.")
        else:
            value = list(values[0])
    elif attr.kind == "compound":
        flat = list(values[0]) if len(values) == 1 else list(values)
        if len(flat) != len(attr.children):
            raise maya_error(f"setAttr: '{ref.full()}' needs {len(attr.children)} values.")
        value = tuple(flat)
    elif attr.array and ref.index is None:
        raise maya_error(f"setAttr: '{ref.full()}' is a multi; set one element at a time.")
    elif attr.kind == "message":
        raise maya_error(f"setAttr: '{ref.full()}' is a message attribute.")
    else:
        value = values[0]
        if isinstance(value, str):
            raise maya_error(f"setAttr: Error reading data element number 1: {value}")
    _do(om.step_set(ref, value))


def _python_value(attr: Attr, value: Any) -> Any:
    if attr.kind == "compound":
        return [tuple(value)]
    return value


def getAttr(plug: str, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "size s, type typ, multiIndices mi, asString asString, silent sl, "
            "expandEnvironmentVariables x, time t, keyable k, lock l, settable se, "
            "channelBox cb, caching ca"
        ),
    )
    ref = SCENE.parse_plug(plug)
    attr = ref.attr
    whole_array = attr.array and ref.index is None
    if o.get("type"):
        return "TdataCompound" if whole_array else attr.type_name()
    if o.get("keyable"):
        return attr.keyable
    if o.get("lock"):
        return False
    if o.get("settable"):
        return attr.writable and SCENE.incoming(ref) is None
    if o.get("channelBox"):
        return attr.channel_box
    if o.get("size"):
        if not whole_array:
            return 1
        SCENE.read(ref)
        return len(SCENE.indices(ref))
    if o.get("multiIndices"):
        if not whole_array:
            raise maya_error(f"getAttr: '{ref.full()}' is not a multi.")
        SCENE.read(ref)
        return SCENE.indices(ref) or None
    value = SCENE.read(ref)
    if whole_array:
        if not value:
            return None
        items = [value[i] for i in sorted(value)]
        if attr.kind == "compound":
            return items
        return [tuple(items)]  # a numeric multi reads as one tuple, as in Maya
    if attr.kind == "enum" and o.get("asString"):
        return {v: k for k, v in attr.fields.items()}.get(value, str(value))
    if attr.kind == "message":
        return None
    if isinstance(value, str) and o.get("expandEnvironmentVariables"):
        return os.path.expandvars(value)
    return _python_value(attr, value)


# --- dynamic attributes -------------------------------------------------------------------

_ATTRIBUTE_TYPES = {
    "bool": _dg.BOOLEAN,
    "long": _dg.INT,
    "short": _dg.SHORT,
    "byte": _dg.BYTE,
    "char": _dg.CHAR,
    "float": _dg.FLOAT,
    "double": _dg.DOUBLE,
    "doubleLinear": _dg.DOUBLE,
    "doubleAngle": _dg.DOUBLE,
    "time": _dg.DOUBLE,
}
_COMPOUND_TYPES = {
    "float2": _dg.FLOAT2,
    "float3": _dg.FLOAT3,
    "double2": _dg.DOUBLE2,
    "double3": _dg.DOUBLE3,
    "long2": _dg.INT2,
    "long3": _dg.INT3,
    "short2": _dg.SHORT2,
    "short3": _dg.SHORT3,
    "compound": 0,
}
_DATA_TYPES = {
    "string": _dg.DATA_STRING,
    "stringArray": _dg.DATA_STRING_ARRAY,
    "doubleArray": _dg.DATA_DOUBLE_ARRAY,
    "floatArray": _dg.DATA_FLOAT_ARRAY,
    "Int32Array": _dg.DATA_INT_ARRAY,
}
_ADD_ATTR = _spec(
    "longName ln, shortName sn, niceName nn, attributeType at, dataType dt, defaultValue dv, "
    "minValue min, maxValue max, softMinValue smn, softMaxValue smx, hasMinValue hnv, "
    "hasMaxValue hxv, keyable k, multi m, indexMatters im, usedAsFilename uaf, usedAsColor uac, "
    "hidden h, storable s, readable r, writable w, enumName en, parent p, numberOfChildren nc, "
    "cachedInternally ci, query q, edit e, exists ex, category ct, fromPlugin fp, proxy pxy"
)


def _enum_fields(text: str) -> dict[str, int]:
    fields, value = {}, 0
    for part in text.split(":"):
        if "=" in part:
            part, number = part.split("=")
            value = int(number)
        fields[part] = value
        value += 1
    return fields


def _new_attr(o: dict[str, Any]) -> Attr:
    long = o.get("longName") or o.get("shortName")
    if not long:
        raise maya_error("addAttr: A long name or short name is required.")
    short = o.get("shortName") or long
    at, dt = o.get("attributeType"), o.get("dataType")
    if dt is not None:
        if dt not in _DATA_TYPES:
            raise maya_error(f"addAttr: The data type '{dt}' is not emulated.")
        attr = Attr(long, short, "typed", data=_DATA_TYPES[dt])
    elif at in _COMPOUND_TYPES:
        attr = Attr(long, short, "compound", numeric=_COMPOUND_TYPES[at])
    elif at == "enum":
        attr = Attr(long, short, "enum", numeric=_dg.SHORT, default=0)
        attr.fields = _enum_fields(o.get("enumName", "") or "")
    elif at == "message":
        attr = Attr(long, short, "message", storable=False)
    else:
        numeric = _ATTRIBUTE_TYPES.get(at or "double")
        if numeric is None:
            raise maya_error(f"addAttr: The attribute type '{at}' is not emulated.")
        attr = Attr(long, short, "numeric", numeric=numeric)
        attr.default = _dg.coerce(attr, o.get("defaultValue", 0))
    if attr.kind == "enum" and "defaultValue" in o:
        attr.default = int(o["defaultValue"])
    attr.nice_name = o.get("niceName")
    attr.minimum, attr.maximum = o.get("minValue"), o.get("maxValue")
    attr.soft_min, attr.soft_max = o.get("softMinValue"), o.get("softMaxValue")
    for flag, field in (
        ("keyable", "keyable"),
        ("multi", "array"),
        ("indexMatters", "index_matters"),
        ("usedAsFilename", "used_as_filename"),
        ("usedAsColor", "used_as_color"),
        ("hidden", "hidden"),
        ("storable", "storable"),
        ("readable", "readable"),
        ("writable", "writable"),
        ("cachedInternally", "cached"),
    ):
        if flag in o:
            setattr(attr, field, bool(o[flag]))
    return attr


@_command("addAttr")
def addAttr(*args: Any, **kwargs: Any) -> Any:
    o = _opts(kwargs, _ADD_ATTR)
    targets = _targets(args)
    if o.get("query") or o.get("edit"):
        return _add_attr_query_edit(targets[0], o)
    for name in targets:
        node = SCENE.node(name)
        attr = _new_attr(o)
        if o.get("parent"):
            _do(_step_add_child(node, o["parent"], attr))
        else:
            _do(om.step_add_attr(node, attr))
    return None


def _step_add_child(node: Node, parent_name: str, child: Attr) -> _dg.Step:
    parent = node.attr(parent_name)
    if parent is None or parent.kind != "compound" or not parent.dynamic:
        raise maya_error(f"addAttr: '{parent_name}' is not a dynamic compound of '{node.name}'.")
    if node.attr(child.name) is not None:
        raise maya_error(f"addAttr: '{child.name}' already exists on '{node.name}'.")

    def add() -> None:
        child.parent, child.dynamic = parent, True
        parent.children.append(child)
        if parent.numeric in _dg.COMPOUND_NUMERIC and child.kind == "numeric":
            child.numeric = _dg.COMPOUND_NUMERIC[parent.numeric][0]

    def remove() -> None:
        parent.children.remove(child)
        node.values.pop(child, None)

    add()
    return _dg.Step(remove, add)


def _add_attr_query_edit(name: str, o: dict[str, Any]) -> Any:
    node, ref = _plug_or_node(name)
    attr = ref.attr if ref else node.attr(o.get("longName") or o.get("shortName") or "")
    if o.get("query") and o.get("exists"):
        return attr is not None
    if attr is None:
        raise maya_error(f"addAttr: No attribute '{name}'.")
    if o.get("query"):
        for flag, field in (
            ("defaultValue", "default"),
            ("minValue", "minimum"),
            ("maxValue", "maximum"),
            ("niceName", "nice_name"),
        ):
            if o.get(flag):
                return getattr(attr, field)
        if o.get("enumName"):
            return ":".join(f"{k}={v}" for k, v in attr.fields.items())
        raise maya_error("addAttr: Nothing to query.")
    for flag, field in (
        ("defaultValue", "default"),
        ("minValue", "minimum"),
        ("maxValue", "maximum"),
        ("niceName", "nice_name"),
    ):
        if flag in o:
            setattr(attr, field, o[flag])
    if "enumName" in o:
        attr.fields = _enum_fields(o["enumName"])
    return None


@_command("deleteAttr")
def deleteAttr(*args: Any, **kwargs: Any) -> None:
    o = _opts(kwargs, _spec("attribute at, query q, edit e"))
    names = _flatten(args)
    if "attribute" in o:
        node = SCENE.node(names[0])
        attr = node.attr(o["attribute"])
        if attr is None:
            raise NoObjectError(f"No object matches name: {names[0]}.{o['attribute']}")
    else:
        ref = SCENE.parse_plug(names[0])
        node, attr = ref.node, ref.attr
    if not attr.dynamic or attr.parent is not None:
        raise maya_error(f"deleteAttr: '{attr.name}' is not a dynamic attribute; cannot delete.")
    _do(om.step_remove_attr(node, attr))


_QUERY_FLAGS = {
    "longName": lambda a: a.name,
    "shortName": lambda a: a.short,
    "niceName": lambda a: a.nice_name or om._nice(a.name),
    "attributeType": lambda a: "typed" if a.kind == "typed" else a.type_name(),
    "multi": lambda a: a.array,
    "readable": lambda a: a.readable,
    "writable": lambda a: a.writable,
    "storable": lambda a: a.storable,
    "keyable": lambda a: a.keyable,
    "hidden": lambda a: a.hidden,
    "connectable": lambda a: a.connectable,
    "usedAsFilename": lambda a: a.used_as_filename,
    "usedAsColor": lambda a: a.used_as_color,
    "indexMatters": lambda a: a.index_matters,
    "usesMultiBuilder": lambda a: a.uses_array_data_builder,
    "cachedInternally": lambda a: a.cached,
    "affectsAppearance": lambda a: a.affects_appearance,
    "channelBox": lambda a: a.channel_box,
    "internal": lambda a: a.internal,
    "message": lambda a: a.kind == "message",
    "enum": lambda a: a.kind == "enum",
    "numberOfChildren": lambda a: len(a.children),
    "listChildren": lambda a: [c.name for c in a.children] or None,
    "listParent": lambda a: [a.parent.name] if a.parent else None,
    "listSiblings": lambda a: (
        [c.name for c in a.parent.children if c is not a] if a.parent else None
    ),
    "listEnum": lambda a: [":".join(a.fields)] if a.kind == "enum" else None,
    "listDefault": lambda a: [c.default for c in a.children] if a.children else [a.default],
    "minExists": lambda a: a.minimum is not None,
    "maxExists": lambda a: a.maximum is not None,
    "softMinExists": lambda a: a.soft_min is not None,
    "softMaxExists": lambda a: a.soft_max is not None,
    "minimum": lambda a: [a.minimum],
    "maximum": lambda a: [a.maximum],
    "softMin": lambda a: [a.soft_min],
    "softMax": lambda a: [a.soft_max],
    "range": lambda a: [a.minimum, a.maximum],
}
_QUERY_SPEC = _spec(
    "node n, exists ex, type typ, typeExact tex, longName ln, shortName sn, niceName nn, "
    "attributeType at, multi m, readable r, writable w, storable s, keyable k, hidden h, "
    "connectable c, usedAsFilename uaf, usedAsColor uac, indexMatters im, usesMultiBuilder umb, "
    "cachedInternally ci, affectsAppearance aa, channelBox ch, internal i, message msg, enum e, "
    "numberOfChildren nc, listChildren lc, listParent lp, listSiblings ls, listEnum le, "
    "listDefault ld, minExists mne, maxExists mxe, softMinExists sme, softMaxExists sxe, "
    "minimum min, maximum max, softMin smn, softMax smx, range rgn"
)


def attributeQuery(name: str, **kwargs: Any) -> Any:
    o = _opts(kwargs, _QUERY_SPEC)
    if "node" in o:
        attr = SCENE.node(o["node"]).attr(name)
    elif "type" in o or "typeExact" in o:
        ntype = SCENE.types.get(o.get("type") or o.get("typeExact") or "")
        if ntype is None:
            raise maya_error("attributeQuery: Unknown node type.")
        attr = ntype.find(name)
    else:
        raise maya_error("attributeQuery: Must specify a node or a type.")
    if o.get("exists"):
        return attr is not None
    if attr is None:
        raise maya_error(f"attributeQuery: Node does not have attribute '{name}'.")
    for flag, read in _QUERY_FLAGS.items():
        if o.get(flag):
            return read(attr)
    raise maya_error("attributeQuery: No query flag was given.")


def listAttr(*args: Any, **kwargs: Any) -> list[str] | None:
    o = _opts(
        kwargs,
        _spec(
            "userDefined ud, multi m, keyable k, readOnly ro, write w, read r, scalar s, array a, "
            "string st, usedAsFilename uf, connectable c, settable se, visible v, hasData hd, "
            "leaf lf, shortNames sn, fromPlugin fp, inUse iu, output out"
        ),
    )
    filters: list[tuple[str, Callable[[Node, Attr], bool]]] = [
        ("userDefined", lambda n, a: a.dynamic),
        ("keyable", lambda n, a: a.keyable),
        ("readOnly", lambda n, a: not a.writable),
        ("write", lambda n, a: a.writable),
        ("read", lambda n, a: a.readable),
        ("scalar", lambda n, a: not a.array and a.kind != "compound"),
        ("array", lambda n, a: a.array),
        ("usedAsFilename", lambda n, a: a.used_as_filename),
        ("connectable", lambda n, a: a.connectable),
        ("settable", lambda n, a: a.writable and SCENE.incoming(PlugRef(n, a, None)) is None),
        ("visible", lambda n, a: not a.hidden),
        ("hasData", lambda n, a: a.kind not in ("message", "compound")),
        ("leaf", lambda n, a: not a.children),
        ("fromPlugin", lambda n, a: n.type.plugin is not None and not a.dynamic),
    ]
    patterns = _flatten([o["string"]]) if "string" in o else ["*"]
    out: list[str] = []
    for name in _targets(args):
        node = SCENE.node(name) if "." not in name else SCENE.parse_plug(name).node
        for attr in node.all_attrs():
            if not all(test(node, attr) for flag, test in filters if o.get(flag)):
                continue
            label = attr.short if o.get("shortNames") else attr.name
            if not any(fnmatch.fnmatchcase(label, p) for p in patterns):
                continue
            out.append(label)
            if o.get("multi") and attr.array:
                out.extend(f"{label}[{i}]" for i in SCENE.indices(PlugRef(node, attr, None)))
    return out or None


# --- sets ---------------------------------------------------------------------------------


def _member_plugs(member: Node, set_node: Node) -> tuple[PlugRef, PlugRef]:
    if member.type.is_dag:
        src = PlugRef(member, member.attr("instObjGroups"), 0)  # type: ignore[arg-type]
        array = set_node.attr("dagSetMembers")
    else:
        src = PlugRef(member, member.attr("message"), None)  # type: ignore[arg-type]
        array = set_node.attr("dnSetMembers")
    return src, _next_index(PlugRef(set_node, array, None))  # type: ignore[arg-type]


def _membership(set_node: Node, member: Node) -> list[tuple[PlugRef, PlugRef]]:
    return [
        (s, d)
        for d, s in SCENE.src_of.items()
        if d.node is set_node and s.node is member and d.attr.name.endswith("SetMembers")
    ]


def _add_members(set_node: Node, members: Iterable[Node]) -> None:
    for member in members:
        if member is set_node or _membership(set_node, member):
            continue
        src, dst = _member_plugs(member, set_node)
        _do(om.step_connect(src, dst))


def _set_node(name: str) -> Node:
    node = SCENE.node(name)
    if node.type.name != "objectSet":
        raise maya_error(f"sets: '{name}' is not a set.")
    return node


@_command("sets")
def sets(*args: Any, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "name n, empty em, addElement add, forceElement fe, remove rm, query q, clear cl, "
            "isMember im, edit e, include in, size s, text t, noWarnings nw"
        ),
    )
    names = _flatten(args)
    members = lambda: [SCENE.node(n) for n in (names or [m.name for m in SCENE.selection])]  # noqa: E731
    if o.get("query"):
        set_node = _set_node(names[0])
        found = _set_members(set_node)
        if o.get("size"):
            return len(found)
        return [_name(m) for m in found] or None
    if "isMember" in o:
        set_node = _set_node(o["isMember"])
        return all(SCENE.node(n) in _set_members(set_node) for n in names)
    for flag in ("addElement", "forceElement", "include"):
        if flag in o:
            _add_members(_set_node(o[flag]), members())
            return None
    if "remove" in o or "clear" in o:
        set_node = _set_node(o.get("remove") or o["clear"])
        chosen = members() if "remove" in o else _set_members(set_node)
        for member in chosen:
            for src, dst in _membership(set_node, member):
                _do(om.step_disconnect(src, dst))
        return None
    set_node = om.create_node("objectSet", o.get("name") or "set#")
    _do(om.step_create(set_node))
    if "text" in o:
        _do(om.step_set(PlugRef(set_node, set_node.attr("annotation"), None), str(o["text"])))  # type: ignore[arg-type]
    if not o.get("empty"):
        _add_members(set_node, members())
    return set_node.name


def listSets(*args: Any, **kwargs: Any) -> list[str] | None:
    """The sets an object belongs to (``object=``), or all sets (``allSets=True``)."""
    o = _opts(kwargs, _spec("object o, allSets as, type t, extendToShape ets"))
    every = [n for n in SCENE.nodes.values() if n.type.name == "objectSet"]
    if "object" in o:
        member = SCENE.node(o["object"])
        every = [s for s in every if _membership(s, member)]
    return [n.name for n in every] or None


# --- plug-ins -----------------------------------------------------------------------------


def _find_plugin_file(name: str) -> str:
    if os.path.isfile(name):
        return os.path.abspath(name)
    for folder in os.environ.get("MAYA_PLUG_IN_PATH", "").split(os.pathsep):
        for candidate in (name, name + ".py"):
            path = os.path.join(folder, candidate)
            if folder and os.path.isfile(path):
                return os.path.abspath(path)
    raise maya_error(f"loadPlugin: Plug-in '{name}' was not found on MAYA_PLUG_IN_PATH.")


def _plugin(name: str) -> om._Plugin | None:
    key = os.path.splitext(os.path.basename(name))[0]
    return om.PLUGINS.get(key)


def loadPlugin(*args: Any, **kwargs: Any) -> list[str] | None:
    o = _opts(kwargs, _spec("quiet qt, name n, addCallback ac, removeCallback rc, allPlugins a"))
    loaded: list[str] = []
    for arg in _flatten(args):
        path = _find_plugin_file(arg)
        name = o.get("name") or os.path.splitext(os.path.basename(path))[0]
        if name in om.PLUGINS:
            loaded.append(name)
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise maya_error(f"loadPlugin: Cannot load '{path}'.")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        if not hasattr(module, "maya_useNewAPI"):
            raise maya_error(f"loadPlugin: '{name}' is not a Python API 2.0 plug-in.")
        plugin = om._Plugin(name, path, module)
        om.PLUGINS[name] = plugin
        SCENE.fire(f"scene:{om.MSceneMessage.kBeforePluginLoad}", None, [path])
        try:
            module.initializePlugin(om.MObject._of("plugin", plugin))
        except Exception as exc:
            _forget_plugin(plugin)
            raise maya_error(f"loadPlugin: initializePlugin of '{name}' failed: {exc}") from exc
        SCENE.fire(f"scene:{om.MSceneMessage.kAfterPluginLoad}", None, [path, name])
        loaded.append(name)
    return loaded or None


def _forget_plugin(plugin: om._Plugin) -> None:
    for type_name in plugin.node_types:
        SCENE.types.pop(type_name, None)
    for command in plugin.commands:
        om.COMMANDS.pop(command, None)
    om.PLUGINS.pop(plugin.name, None)


def _make_unknown(node: Node) -> None:
    """What force-unloading leaves of a plug-in node: an 'unknown' node holding its data."""
    unknown = _dg.NodeType("unknown", 0, None, None, "", list(node.type.attrs), {})
    node.type, node.user, node.evaluate_hook, node.dirty = unknown, None, None, {}


def unloadPlugin(*args: Any, **kwargs: Any) -> list[str] | None:
    o = _opts(kwargs, _spec("force f, addCallback ac, removeCallback rc"))
    out = []
    for arg in _flatten(args):
        plugin = _plugin(arg)
        if plugin is None:
            raise maya_error(f"unloadPlugin: Plug-in '{arg}' is not loaded.")
        in_use = [n for n in SCENE.nodes.values() if n.type.name in plugin.node_types]
        if in_use and not o.get("force"):
            raise maya_error(
                f"unloadPlugin: Plug-in '{plugin.name}' is in use by {len(in_use)} node(s); "
                "delete them or use force."
            )
        for node in in_use:
            _make_unknown(node)
        SCENE.undo.flush()  # the queue may hold the plug-in's commands
        SCENE.fire(f"scene:{om.MSceneMessage.kBeforePluginUnload}", None, [plugin.name])
        plugin.module.uninitializePlugin(om.MObject._of("plugin", plugin))
        _forget_plugin(plugin)
        SCENE.fire(f"scene:{om.MSceneMessage.kAfterPluginUnload}", None, [plugin.name])
        out.append(plugin.name)
    return out or None


def pluginInfo(*args: Any, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "query q, edit e, loaded l, registered r, dependNode dn, command c, name n, path p, "
            "version v, vendor vd, listPlugins ls, apiVersion av, unloadOk uo, autoload a, "
            "userNamed u, serviceDescriptions sd"
        ),
    )
    if o.get("listPlugins"):
        return list(om.PLUGINS) or None
    names = _flatten(args)
    plugin = _plugin(names[0]) if names else None
    if o.get("loaded") or o.get("registered"):
        return plugin is not None
    if plugin is None:
        raise maya_error(f"pluginInfo: Plug-in '{names[0] if names else ''}' is not loaded.")
    answers = {
        "dependNode": lambda: list(plugin.node_types) or None,
        "command": lambda: list(plugin.commands) or None,
        "name": lambda: plugin.name,
        "path": lambda: plugin.path,
        "version": lambda: plugin.version,
        "vendor": lambda: plugin.vendor,
        "apiVersion": lambda: plugin.api_version,
        "unloadOk": lambda: not any(n.type.name in plugin.node_types for n in SCENE.nodes.values()),
        "autoload": lambda: False,
    }
    for flag, answer in answers.items():
        if o.get(flag):
            return answer()
    raise maya_error("pluginInfo: No query flag was given.")


def _invoke_plugin_command(record: om._Command, args: tuple[Any, ...], kwargs: dict[str, Any]):
    command = record.creator()
    syntax = record.syntax_creator() if record.syntax_creator is not None else om.MSyntax()
    command._syntax = syntax
    arg_list = om.MArgList()
    query = bool(kwargs.get("query") or kwargs.get("q"))
    if query:
        arg_list.addArg("-query")
    if kwargs.get("edit") or kwargs.get("e"):
        arg_list.addArg("-edit")
    for key, value in kwargs.items():
        if key in ("q", "query", "e", "edit"):
            continue
        flag = syntax._flag(key)
        if flag is None:
            raise TypeError(f"Invalid flag '{key}'")
        uses = value if flag.multi_use and isinstance(value, list) else [value]
        for use in uses:
            if not flag.types or (query and use is True and not flag.query_with_args):
                if use:
                    arg_list.addArg("-" + flag.long)
                continue
            values = list(use) if isinstance(use, (list, tuple)) and len(flag.types) > 1 else [use]
            arg_list.addArg("-" + flag.long)
            for v in values:
                arg_list.addArg(v)
    for positional in _flatten(args) if syntax._object_type != om.MSyntax.kNone else args:
        arg_list.addArg(positional)
    om.MPxCommand.clearResult()
    command.commandString = record.name
    try:
        command.doIt(arg_list)
    except RuntimeError:
        raise
    except Exception as exc:
        raise maya_error(f"{record.name}: {exc}") from exc
    if command.isUndoable():  # Maya asks after doIt
        SCENE.undo.add(_dg.Step(command.undoIt, command.redoIt), record.name)
    return om.MPxCommand.currentResult()


def __getattr__(name: str) -> Callable[..., Any]:
    record = om.COMMANDS.get(name)
    if record is None:
        raise AttributeError(f"module 'maya.cmds' has no attribute '{name}'")

    def plugin_command(*args: Any, **kwargs: Any) -> Any:
        _emulation.require_main_thread(name)
        current = om.COMMANDS.get(name)
        if current is None:
            raise maya_error(f'Cannot find procedure "{name}".')
        return _invoke_plugin_command(current, args, kwargs)

    plugin_command.__name__ = name
    return plugin_command


# --- undo ---------------------------------------------------------------------------------


def undo(*args: Any) -> None:
    if SCENE.undo.undo() is None:
        SCENE.emit(_dg.K_WARNING, "There are no more commands to undo.")


def redo(*args: Any) -> None:
    if SCENE.undo.redo() is None:
        SCENE.emit(_dg.K_WARNING, "There are no more commands to redo.")


def flushUndo(*args: Any) -> None:
    SCENE.undo.flush()


def undoInfo(*args: Any, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "openChunk ock, closeChunk cck, chunkName cn, state st, stateWithoutFlush swf, "
            "query q, undoName un, redoName rn, undoQueueEmpty uqe, redoQueueEmpty rqe, "
            "length l, infinity in, printQueue pq, printRedoQueue prq"
        ),
    )
    queue = SCENE.undo
    if o.get("query"):
        if o.get("state") or o.get("stateWithoutFlush"):
            return queue.enabled
        if o.get("undoName"):
            return queue.done[-1].name if queue.done else ""
        if o.get("redoName"):
            return queue.undone[-1].name if queue.undone else ""
        if o.get("undoQueueEmpty"):
            return not queue.done
        if o.get("redoQueueEmpty"):
            return not queue.undone
        if o.get("infinity"):
            return True
        if o.get("length"):
            return 0
        if o.get("chunkName"):
            return queue._open[-1].name if queue._open else ""
        raise maya_error("undoInfo: No query flag was given.")
    if o.get("openChunk"):
        queue.open(str(o.get("chunkName") or ""))
    elif o.get("closeChunk"):
        queue.close()
    if "state" in o:
        queue.enabled = bool(o["state"])
        if not queue.enabled:
            queue.flush()
    if "stateWithoutFlush" in o:
        queue.enabled = bool(o["stateWithoutFlush"])
    return None


# --- evaluation and time ------------------------------------------------------------------


def evaluationManager(*args: Any, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "mode m, query q, enabled e, nodeTypeParallel ntp, nodeTypeSerialize nts, "
            "nodeTypeGloballySerialize ntg, nodeTypeUntrusted ntu, invalidate inv, "
            "idleAction ia, manipulation man, safeMode sfm, empty mt, on on"
        ),
    )
    types = _flatten(args)
    for type_name in types:
        if type_name not in SCENE.types:
            raise maya_error(f"evaluationManager: Unrecognized node type '{type_name}'.")
    overrides = (
        "nodeTypeParallel",
        "nodeTypeSerialize",
        "nodeTypeGloballySerialize",
        "nodeTypeUntrusted",
    )
    if o.get("query"):
        for flag in overrides:
            if o.get(flag):
                chosen: set[str] = _EVALUATION[flag]
                return [t in chosen for t in types] if types else sorted(chosen)
        if o.get("mode"):
            return [_EVALUATION["mode"]]
        if o.get("enabled"):
            return _EVALUATION["mode"] != "off"
        if o.get("invalidate"):
            return True
        return ["off", "serial", "parallel"]
    if "mode" in o:
        if o["mode"] not in ("off", "serial", "parallel"):
            raise maya_error(f"evaluationManager: Unknown mode '{o['mode']}'.")
        _EVALUATION["mode"] = o["mode"]
    for flag in overrides:
        if flag in o:
            if not types:
                raise maya_error(f"evaluationManager: {flag} needs node type names.")
            for type_name in types:
                (_EVALUATION[flag].add if o[flag] else _EVALUATION[flag].discard)(type_name)
    return True


def currentTime(*args: Any, **kwargs: Any) -> Any:
    o = _opts(kwargs, _spec("query q, edit e, update u"))
    time_plug = SCENE.parse_plug("time1.outTime")
    if o.get("query"):
        return SCENE.read(time_plug)
    SCENE.set_value(time_plug, float(args[0]))
    return float(args[0])


def dgdirty(*args: Any, **kwargs: Any) -> None:
    o = _opts(kwargs, _spec("allPlugs a, list l, propagation p, clean c, implicit i"))
    nodes = [SCENE.node(n) for n in _flatten(args)] or (
        list(SCENE.nodes.values()) if o.get("allPlugs") else []
    )
    for node in nodes:
        for attr in node.type.computed():
            node.mark_dirty(attr)
            SCENE.propagate_dirty(PlugRef(node, attr, None))


def refresh(*args: Any, **kwargs: Any) -> None:
    return None


def evalDeferred(*args: Any, **kwargs: Any) -> None:
    """Runs at once: batch sessions have no idle queue to defer to."""
    for command in args:
        command() if callable(command) else exec(str(command), {"__name__": "__main__"})


# --- textures -----------------------------------------------------------------------------


def colorAtPoint(*args: Any, **kwargs: Any) -> list[float]:
    o = _opts(
        kwargs,
        _spec(
            "output o, coordU u, coordV v, minU mu, maxU xu, minV mv, maxV xv, "
            "samplesU su, samplesV sv"
        ),
    )
    names = _flatten(args)
    if not names:
        raise maya_error("colorAtPoint: No texture node given.")
    node, _ref = _plug_or_node(names[0])
    sampler = _nodes.SAMPLERS.get(node.type.name)
    if sampler is None:
        raise maya_error(f"colorAtPoint: '{node.name}' is not a texture node.")
    output = str(o.get("output", "RGB")).upper()
    if output not in ("A", "RGB", "RGBA"):
        raise maya_error(f"colorAtPoint: Invalid output '{output}'.")
    if "coordU" in o or "coordV" in o:
        us, vs = _flatten_floats(o.get("coordU", 0.0)), _flatten_floats(o.get("coordV", 0.0))
        if len(us) != len(vs):
            raise maya_error("colorAtPoint: The numbers of -u and -v values must match.")
        points = list(zip(us, vs, strict=True))
    else:
        su, sv = int(o.get("samplesU", 1)), int(o.get("samplesV", 1))
        mu, xu = float(o.get("minU", 0.0)), float(o.get("maxU", 1.0))
        mv, xv = float(o.get("minV", 0.0)), float(o.get("maxV", 1.0))
        points = [
            (
                mu + (xu - mu) * (i / (su - 1) if su > 1 else 0.0),
                mv + (xv - mv) * (j / (sv - 1) if sv > 1 else 0.0),
            )
            for j in range(sv)
            for i in range(su)
        ]
    out: list[float] = []
    for u, v in points:
        r, g, b, a = sampler(node, u, v)
        out.extend({"A": [a], "RGB": [r, g, b], "RGBA": [r, g, b, a]}[output])
    return out


def _flatten_floats(value: Any) -> list[float]:
    return [float(v) for v in value] if isinstance(value, (list, tuple)) else [float(value)]


def colorManagementPrefs(*args: Any, **kwargs: Any) -> Any:
    """Only enabling/disabling; the rendering space is fixed to linear Rec.709-sRGB."""
    o = _opts(
        kwargs,
        _spec(
            "query q, edit e, cmEnabled cme, renderingSpaceName rsn, viewTransformName vtn, "
            "cmConfigFileEnabled cfe, configFilePath cfp, ocioRulesEnabled ore"
        ),
    )
    state = _emulation.STATE
    if o.get("query"):
        answers = {
            "cmEnabled": state["color_management"],
            "renderingSpaceName": "scene-linear Rec.709-sRGB",
            "viewTransformName": "sRGB gamma",
            "cmConfigFileEnabled": False,
            "configFilePath": "",
            "ocioRulesEnabled": False,
        }
        for flag, value in answers.items():
            if o.get(flag):
                return value
        raise maya_error("colorManagementPrefs: No query flag was given.")
    if "cmEnabled" in o:
        state["color_management"] = bool(o["cmEnabled"])
    return None


# --- session: files, preferences, messages ------------------------------------------------


def file(*args: Any, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "newFile new, force f, query q, sceneName sn, rename rn, save s, open o, type typ, "
            "modified mf, shortName shn, expandName exn, location loc, prompt pmt"
        ),
    )
    if o.get("newFile"):
        new_scene()
        return ""
    if o.get("query"):
        if o.get("sceneName") or o.get("expandName") or o.get("location"):
            name = SCENE.scene_name
            return os.path.basename(name) if o.get("shortName") else name
        if o.get("modified"):
            return bool(SCENE.undo.done)
        raise maya_error("file: No query flag was given.")
    if "rename" in o:
        SCENE.scene_name = os.path.abspath(str(o["rename"]))
        return SCENE.scene_name
    raise maya_error("file: only -new, -rename and scene-name queries are emulated.")


def new_scene() -> None:
    """``file -new -force``: empty scene with default nodes; plug-ins stay loaded."""
    SCENE.fire(f"scene:{om.MSceneMessage.kBeforeNew}", None)
    for node in list(SCENE.nodes.values()):
        node.default_node = False
        SCENE.remove(node)
    SCENE.src_of.clear()
    SCENE.selection.clear()
    SCENE.undo.flush()
    SCENE.scene_name = ""
    _nodes.populate_default_nodes()
    SCENE.fire(f"scene:{om.MSceneMessage.kAfterNew}", None)


def workspace(*args: Any, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "query q, rootDirectory rd, fileRuleEntry fre, expandName en, fullName fn, "
            "directory dir, openWorkspace o, active act"
        ),
    )
    root = os.getcwd()
    if o.get("query"):
        if o.get("rootDirectory") or o.get("fullName") or o.get("directory"):
            return root.rstrip("/") + ("/" if o.get("rootDirectory") else "")
        if "fileRuleEntry" in o:
            return {"images": "images", "scene": "scenes", "sourceImages": "sourceimages"}.get(
                str(o["fileRuleEntry"]), ""
            )
        if "expandName" in o:
            return os.path.join(root, str(o["expandName"]))
    if "expandName" in o:
        return os.path.join(root, str(o["expandName"]))
    return root


def optionVar(*args: Any, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "intValue iv, floatValue fv, stringValue sv, query q, exists ex, remove rm, "
            "intValueAppend iva, floatValueAppend fva, stringValueAppend sva, clearArray ca, "
            "arraySize as, list l, category cat, init in"
        ),
    )
    if "query" in o:
        return _OPTION_VARS.get(str(o["query"]), 0)
    if "exists" in o:
        return str(o["exists"]) in _OPTION_VARS
    if "arraySize" in o:
        value = _OPTION_VARS.get(str(o["arraySize"]))
        return len(value) if isinstance(value, list) else (0 if value is None else 1)
    if o.get("list"):
        return sorted(_OPTION_VARS)
    for flag in ("remove", "clearArray"):
        if flag in o:
            for name in _flatten([o[flag]]):
                if flag == "remove":
                    _OPTION_VARS.pop(name, None)
                else:
                    _OPTION_VARS[name] = []
    for flag, kind in (("intValue", int), ("floatValue", float), ("stringValue", str)):
        if flag in o:
            name, value = o[flag]
            if not (o.get("init") and name in _OPTION_VARS):
                _OPTION_VARS[name] = kind(value)
    for flag, kind in (("intValueAppend", int), ("floatValueAppend", float)):
        if flag in o:
            name, value = o[flag]
            _append_option(name, kind(value))
    if "stringValueAppend" in o:
        name, value = o["stringValueAppend"]
        _append_option(name, str(value))
    return None


def _append_option(name: str, value: Any) -> None:
    current = _OPTION_VARS.get(name)
    if not isinstance(current, list):
        current = [] if current is None else [current]
    _OPTION_VARS[name] = [*current, value]


def internalVar(*args: Any, **kwargs: Any) -> str:
    """Maya's user folders, under $MAYA_APP_DIR (as Maya honours it) or ~/maya; with a
    trailing slash, as Maya returns them."""
    o = _opts(
        kwargs,
        _spec(
            "userAppDir uad, userPrefDir upd, userScriptDir usd, userTmpDir utd, "
            "userWorkspaceDir uwd, userShelfDir ush, userBitmapsDir ubd"
        ),
    )
    app = os.environ.get("MAYA_APP_DIR") or os.path.join(os.path.expanduser("~"), "maya")
    version = os.path.join(app, "2025")
    folders = {
        "userAppDir": app,
        "userPrefDir": os.path.join(version, "prefs"),
        "userScriptDir": os.path.join(version, "scripts"),
        "userTmpDir": os.path.join(app, "tmp"),
        "userWorkspaceDir": os.path.join(app, "projects"),
        "userShelfDir": os.path.join(version, "prefs", "shelves"),
        "userBitmapsDir": os.path.join(version, "prefs", "icons"),
    }
    chosen = [folders[key] for key, on in o.items() if on]
    if len(chosen) != 1:
        raise maya_error("internalVar: give exactly one folder flag.")
    return chosen[0].rstrip("/") + "/"


def about(*args: Any, **kwargs: Any) -> Any:
    o = _opts(
        kwargs,
        _spec(
            "version v, apiVersion api, batch b, operatingSystem os, linux li, windows nt, "
            "macOS mac, product p, majorVersion mjv, minorVersion mnv, qtVersion qt, "
            "preferences pd, is64 x64, application a, installedVersion iv"
        ),
    )
    answers: dict[str, Any] = {
        "version": "2025",
        "apiVersion": 20250000,
        "batch": _emulation.is_batch(),
        "operatingSystem": "linux64",
        "linux": True,
        "windows": False,
        "macOS": False,
        "product": "Maya 2025",
        "majorVersion": "2025",
        "minorVersion": "0",
        "qtVersion": "6.5.3",
        "preferences": os.path.join(os.path.expanduser("~"), "maya"),
        "is64": True,
        "application": "maya",
        "installedVersion": "Autodesk Maya 2025",
    }
    for flag, value in answers.items():
        if o.get(flag):
            return value
    raise maya_error("about: No flag was given.")


def warning(*args: Any, **kwargs: Any) -> None:
    _opts(kwargs, _spec("noContext n, showLineNumber sl"))
    SCENE.emit(_dg.K_WARNING, " ".join(str(a) for a in args))


def error(*args: Any, **kwargs: Any) -> None:
    _opts(kwargs, _spec("noContext n, showLineNumber sl"))
    message = " ".join(str(a) for a in args)
    SCENE.emit(_dg.K_ERROR, message)
    raise RuntimeError(message)


# --- UI recorder --------------------------------------------------------------------------

UI = _emulation.UI
_UI_PARENT = _emulation.UI_PARENT
_UI_ALIASES = _spec(
    "query q, edit e, exists ex, parent p, label l, command c, annotation ann, image i, "
    "image1 i1, imageOverlayLabel iol, sourceType stp, childArray ca, numberOfChildren nch, "
    "tearOff to, subMenu sm, divider d, optionBox ob, title t, widthHeight wh, visible vis, "
    "enable en, width w, height h, fullPathName fpn, style st, cellWidthHeight cwh, "
    "sizeable s, menuBar mb, allowOptionBoxes aob, docTag dtg, value v, itemListLong ill, "
    "itemListShort isl, minValue min, maxValue max"
)
_LAYOUTS = {
    "window",
    "shelfTabLayout",
    "shelfLayout",
    "columnLayout",
    "rowLayout",
    "formLayout",
    "frameLayout",
    "scrollLayout",
    "tabLayout",
}
_MENUS = {"menu", "popupMenu", "optionMenu"}


def _ui_find(name: str) -> str | None:
    if name in UI:
        return name
    matches = [path for path in UI if path.rsplit("|", 1)[-1] == name]
    return matches[-1] if matches else None


def _ui_children(path: str) -> list[str]:
    return [p for p, e in UI.items() if e["parent"] == path]


def _ui(kind: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    o = {_UI_ALIASES.get(k, k): v for k, v in kwargs.items()}
    names = _flatten(args)
    if o.get("exists"):
        return bool(names) and _ui_find(names[0]) is not None
    _require_ui(kind)
    if o.get("query") or o.get("edit"):
        path = _ui_find(names[0]) if names else (_UI_PARENT["layout"] or None)
        if path is None:
            raise maya_error(f"{kind}: Object '{names[0] if names else ''}' not found.")
        entry = UI[path]
        if o.get("edit"):
            entry["flags"].update({k: v for k, v in o.items() if k != "edit"})
            return None
        for key in o:
            if key == "query":
                continue
            if key == "childArray":
                return [c.rsplit("|", 1)[-1] for c in _ui_children(path)] or None
            if key == "numberOfChildren":
                return len(_ui_children(path))
            if key == "fullPathName":
                return path
            if kind == "optionMenu" and key in ("itemListLong", "itemListShort", "value"):
                items = [c for c in _ui_children(path) if UI[c]["type"] == "menuItem"]
                if key == "itemListLong":
                    return items or None
                if key == "itemListShort":
                    return [c.rsplit("|", 1)[-1] for c in items] or None
                # value: the chosen item's label; before any choice, the first item's
                labels = [UI[c]["flags"].get("label") for c in items]
                chosen = entry["flags"].get("value")
                return chosen if chosen in labels else (labels[0] if labels else None)
            return entry["flags"].get(key)
        return path
    if kind == "menuItem":
        parent = o.get("parent") or _UI_PARENT["menu"]
    elif kind in _MENUS:
        parent = o.get("parent") or _UI_PARENT["layout"] or "MayaWindow"
    elif kind == "window":
        parent = ""
    else:
        parent = o.get("parent") or _UI_PARENT["layout"]
    parent = (_ui_find(parent) or parent) if parent else ""
    count = sum(1 for e in UI.values() if e["type"] == kind) + 1
    name = names[0] if names else f"{kind}{count}"
    path = f"{parent}|{name}" if parent else name
    while not names and path in UI:  # a generated name is unique, as Maya makes it
        count += 1
        name = f"{kind}{count}"
        path = f"{parent}|{name}" if parent else name
    if path in UI:
        raise maya_error(f"{kind}: Object's name '{name}' is not unique.")
    UI[path] = {"type": kind, "parent": parent, "flags": {k: v for k, v in o.items()}}
    if kind in _LAYOUTS:
        _UI_PARENT["layout"] = path
    if kind in _MENUS or (kind == "menuItem" and o.get("subMenu")):
        _UI_PARENT["menu"] = path
    return path


def _ui_command(kind: str) -> Callable[..., Any]:
    def command(*args: Any, **kwargs: Any) -> Any:
        return _ui(kind, args, kwargs)

    command.__name__ = kind
    return command


window = _ui_command("window")
shelfTabLayout = _ui_command("shelfTabLayout")
shelfLayout = _ui_command("shelfLayout")
shelfButton = _ui_command("shelfButton")
menu = _ui_command("menu")
popupMenu = _ui_command("popupMenu")
menuItem = _ui_command("menuItem")
columnLayout = _ui_command("columnLayout")
rowLayout = _ui_command("rowLayout")
formLayout = _ui_command("formLayout")
frameLayout = _ui_command("frameLayout")
scrollLayout = _ui_command("scrollLayout")
tabLayout = _ui_command("tabLayout")
button = _ui_command("button")
text = _ui_command("text")
textField = _ui_command("textField")
checkBox = _ui_command("checkBox")
intField = _ui_command("intField")
floatField = _ui_command("floatField")
separator = _ui_command("separator")
iconTextButton = _ui_command("iconTextButton")
textFieldGrp = _ui_command("textFieldGrp")
optionMenu = _ui_command("optionMenu")
intSliderGrp = _ui_command("intSliderGrp")
floatSliderGrp = _ui_command("floatSliderGrp")


_TEXT_SCROLL_LIST = _spec(
    "query q, edit e, exists ex, parent p, annotation ann, width w, height h, enable en, "
    "visible vis, numberOfRows nr, allowMultiSelection ams, doubleClickCommand dcc, "
    "selectCommand sc, deleteKeyCommand dkc, append a, removeAll ra, removeIndexedItem rii, "
    "allItems ai, numberOfItems ni, selectIndexedItem sii, selectItem si, deselectAll da"
)
_ITEM_FLAGS = {"append", "removeAll", "removeIndexedItem", "selectIndexedItem", "deselectAll"}


def textScrollList(*args: Any, **kwargs: Any) -> Any:
    """A list of strings, strict about its flags; items and selection are 1-based indices."""
    o = _opts(kwargs, _TEXT_SCROLL_LIST)
    names = _flatten(args)
    if o.get("exists") or not (o.get("query") or o.get("edit")):
        plain = {k: v for k, v in o.items() if k not in _ITEM_FLAGS}
        path = _ui("textScrollList", args, plain)
        if o.get("exists"):
            return path
        names = [path]
        o = {"edit": True, **{k: v for k, v in o.items() if k in _ITEM_FLAGS}}
    _require_ui("textScrollList")
    path = _ui_find(names[0]) if names else None
    if path is None or UI[path]["type"] != "textScrollList":
        raise maya_error(f"textScrollList: Object '{names[0] if names else ''}' not found.")
    flags = UI[path]["flags"]
    items: list[str] = flags.setdefault("items", [])
    chosen: list[int] = flags.setdefault("chosen", [])
    if o.get("query"):
        asked = [k for k in o if k != "query"]
        if len(asked) != 1:
            raise maya_error("textScrollList: query one flag at a time.")
        key = asked[0]
        if key == "allItems":
            return list(items) or None
        if key == "numberOfItems":
            return len(items)
        if key == "selectIndexedItem":
            return list(chosen) or None
        if key == "selectItem":
            return [items[i - 1] for i in chosen] or None
        return flags.get(key)
    for key, value in o.items():
        if key == "removeAll":
            items.clear()
            chosen.clear()
        elif key == "append":
            items.extend(_flatten([value]))
        elif key == "deselectAll":
            chosen.clear()
        elif key in ("selectIndexedItem", "removeIndexedItem"):
            indices = [int(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
            if any(not 1 <= i <= len(items) for i in indices):
                raise maya_error(f"textScrollList: index out of range: {indices}")
            if key == "removeIndexedItem":
                for i in sorted(indices, reverse=True):
                    del items[i - 1]
                chosen.clear()
            elif flags.get("allowMultiSelection"):
                chosen[:] = sorted(set(chosen) | set(indices))
            else:
                chosen[:] = indices[-1:]
        elif key != "edit":
            flags[key] = value
    return None


def _ui_exists_any(args: tuple[Any, ...], kwargs: dict[str, Any], kinds: set[str] | None) -> Any:
    o = {_UI_ALIASES.get(k, k): v for k, v in kwargs.items()}
    names = _flatten(args)
    path = _ui_find(names[0]) if names else None
    if o.get("exists"):
        return path is not None and (kinds is None or UI[path]["type"] in kinds)
    return _ui(UI[path]["type"] if path else "control", args, kwargs)


def layout(*args: Any, **kwargs: Any) -> Any:
    return _ui_exists_any(args, kwargs, _LAYOUTS)


def control(*args: Any, **kwargs: Any) -> Any:
    return _ui_exists_any(args, kwargs, None)


def showWindow(*args: Any) -> None:
    _require_ui("showWindow")
    for name in _flatten(args):
        path = _ui_find(name)
        if path is None:
            raise maya_error(f"showWindow: Window '{name}' not found.")
        UI[path]["flags"]["visible"] = True


def setParent(*args: Any, **kwargs: Any) -> Any:
    o = _opts(kwargs, _spec("query q, menu m, topLevel top, upLevel u, defineTemplate dt"))
    _require_ui("setParent")
    key = "menu" if o.get("menu") else "layout"
    if o.get("query"):
        return _UI_PARENT[key] or "|"
    names = _flatten(args)
    if o.get("topLevel"):
        _UI_PARENT[key] = ""
    elif o.get("upLevel") or (names and names[0] == ".."):
        current = _UI_PARENT[key]
        _UI_PARENT[key] = UI[current]["parent"] if current in UI else ""
    elif names:
        path = _ui_find(names[0])
        if path is None:
            raise maya_error(f"setParent: Object '{names[0]}' not found.")
        _UI_PARENT[key] = path
    return _UI_PARENT[key]


def deleteUI(*args: Any, **kwargs: Any) -> None:
    _opts(
        kwargs,
        _spec("window wnd, control ctl, layout lay, menu m, menuItem mi, editor ed, panel pnl"),
    )
    _require_ui("deleteUI")
    for name in _flatten(args):
        path = _ui_find(name)
        if path is None:
            raise maya_error(f"deleteUI: Object '{name}' not found.")
        for other in [p for p in UI if p == path or p.startswith(path + "|")]:
            del UI[other]
        for key, current in _UI_PARENT.items():
            if current == path or current.startswith(path + "|"):
                _UI_PARENT[key] = ""


def progressBar(*args: Any, **kwargs: Any) -> Any:
    """Main-progress-bar protocol; ``_emulation.simulate_cancel_after`` steers isCancelled."""
    o = {_UI_ALIASES.get(k, k): v for k, v in kwargs.items()}
    names = _flatten(args)
    _require_ui("progressBar")
    path = _ui_find(names[0]) if names else None
    if path is None:
        return _ui("progressBar", args, kwargs)
    flags = UI[path]["flags"]
    history = flags.setdefault("history", [])
    if o.get("query"):
        if o.get("isCancelled"):
            limit = _emulation.STATE["cancel_after_steps"]
            busy = flags.get("busy", False) and flags.get("isInterruptable", False)
            return bool(busy and limit is not None and flags.get("steps", 0) >= limit)
        if o.get("isMainProgressBar"):
            return path.endswith("MainProgressBar")
        for key in ("progress", "status", "maxValue", "minValue", "isInterruptable"):
            if o.get(key):
                return flags.get(key, 0 if key != "status" else "")
        return None
    if o.get("beginProgress"):
        flags.update(busy=True, steps=0, progress=flags.get("minValue", 0))
        history.append("begin")
    for key in ("status", "maxValue", "minValue", "isInterruptable", "progress"):
        if key in o:
            flags[key] = o[key]
    if "step" in o:
        flags["progress"] = flags.get("progress", 0) + int(o["step"])
        flags["steps"] = flags.get("steps", 0) + 1
        history.append(("step", flags["progress"]))
    if o.get("endProgress"):
        flags["busy"] = False
        history.append("end")
    return None


def progressWindow(*args: Any, **kwargs: Any) -> Any:
    _require_ui("progressWindow")
    if "progressWindow" not in UI:
        UI["progressWindow"] = {"type": "progressWindow", "parent": "", "flags": {}}
    o = {_UI_ALIASES.get(k, k): v for k, v in kwargs.items()}
    begin = not o.get("query") and not o.get("edit") and not o.get("endProgress")
    if begin:
        o["beginProgress"] = True
    return progressBar("progressWindow", **{k: v for k, v in o.items() if k != "title"})


# --- viewport capture ---------------------------------------------------------------------

_IMAGE_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "tif": "TIFF", "bmp": "BMP"}


def playblast(*args: Any, **kwargs: Any) -> str | None:
    o = _opts(
        kwargs,
        _spec(
            "completeFilename cf, filename f, format fmt, compression c, frame fr, viewer v, "
            "offScreen os, widthHeight wh, percent p, showOrnaments orn, forceOverwrite fo, "
            "quality qlt, startTime st, endTime et, framePadding fp, clearCache cc, width w, "
            "height h, sequenceTime sqt, rawFrameNumbers rfn, editorPanelName epn, "
            "activeEditor ae, indexFromZero ifz, throwOnError toe"
        ),
    )
    _require_ui("playblast")
    if o.get("format", "image") != "image":
        raise maya_error("playblast: only format='image' is emulated.")
    compression = str(o.get("compression", "png")).lower()
    if compression not in _IMAGE_FORMATS:
        raise maya_error(f"playblast: compression '{compression}' is not emulated.")
    width, height = o.get("widthHeight") or (
        o.get("width") or _emulation.STATE["viewport_size"][0],
        o.get("height") or _emulation.STATE["viewport_size"][1],
    )
    percent = min(int(o.get("percent", 50)), 100)  # Maya's default is 50 percent
    size = (max(1, round(width * percent / 100)), max(1, round(height * percent / 100)))
    frames = o.get("frame")
    if frames is None:
        start, end = o.get("startTime"), o.get("endTime")
        now = SCENE.read(SCENE.parse_plug("time1.outTime"))
        frames = list(range(int(start if start is not None else now), int(end or now) + 1))
    frames = frames if isinstance(frames, (list, tuple)) else [frames]
    from PIL import Image

    image = Image.frombytes("RGBA", size, _emulation.viewport_rgba(*size))
    if "completeFilename" in o:
        path = str(o["completeFilename"])
        if os.path.exists(path) and not o.get("forceOverwrite"):
            raise maya_error(f"playblast: '{path}' exists; use forceOverwrite.")
        _save(image, path, compression)
        return path
    if "filename" not in o:
        raise maya_error("playblast: give completeFilename or filename (batch has no viewer).")
    pad = int(o.get("framePadding", 4))
    for frame in frames:
        path = f"{o['filename']}.{int(frame):0{pad}d}.{compression}"
        if os.path.exists(path) and not o.get("forceOverwrite"):
            raise maya_error(f"playblast: '{path}' exists; use forceOverwrite.")
        _save(image, path, compression)
    return f"{o['filename']}.{'#' * pad}.{compression}"


def _save(image: Any, path: str, compression: str) -> None:
    fmt = _IMAGE_FORMATS[compression]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    (image.convert("RGB") if fmt == "JPEG" else image).save(path, fmt)


# --- the main-thread rule -----------------------------------------------------------------
# Every command raises when called off the main thread (a compute() on an Evaluation
# Manager worker thread, see _emulation.compute_on_worker_thread), as Maya's do.


def _main_thread_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        _emulation.require_main_thread(fn.__name__)
        return fn(*args, **kwargs)

    return run


for _name_, _value_ in list(globals().items()):
    if (
        not _name_.startswith("_")
        and isinstance(_value_, types.FunctionType)
        and _value_.__module__ == __name__
    ):
        globals()[_name_] = _main_thread_only(_value_)
del _name_, _value_
