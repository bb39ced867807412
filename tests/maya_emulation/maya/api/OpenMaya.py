"""Emulated subset of ``maya.api.OpenMaya`` (Python API 2.0) over the DG core in ``maya._dg``.

Names, signatures and property-vs-method choices follow the ``types-maya-strict`` stubs and
Autodesk's Python API 2.0 reference. Errors are RuntimeError, as MStatus failures are in 2.0.
"""

from __future__ import annotations

import ctypes
import fnmatch
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from maya import _dg, _emulation
from maya._dg import SCENE, Attr, Node, PlugRef, maya_error

# --- basic value types ------------------------------------------------------------------


class MObject:
    kNullObj: MObject

    def __init__(self, other: MObject | None = None) -> None:
        self._kind: str = other._kind if other is not None else "null"
        self._ref: Any = other._ref if other is not None else None

    @classmethod
    def _of(cls, kind: str, ref: Any) -> MObject:
        obj = cls()
        obj._kind, obj._ref = kind, ref
        return obj

    def isNull(self) -> bool:
        return self._kind == "null" or (self._kind == "node" and not self._ref.alive)

    def hasFn(self, fn_type: int) -> bool:
        return fn_type in _api_types(self)

    def apiType(self) -> int:
        return _api_types(self)[0]

    @property
    def apiTypeStr(self) -> str:
        return {v: k for k, v in vars(MFn).items() if isinstance(v, int)}.get(self.apiType(), "")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MObject) and self._kind == other._kind and self._ref is other._ref

    def __hash__(self) -> int:
        return hash((self._kind, id(self._ref)))

    def __repr__(self) -> str:
        return f"<MObject {self._kind} {self._ref!r}>"


MObject.kNullObj = MObject()


class MObjectHandle:
    """A handle that outlives its object's deletion: ``isValid`` is False once the node is
    deleted (in Maya a deleted node may stay alive in the undo queue: ``isAlive``)."""

    def __init__(self, obj: MObject | MObjectHandle | None = None) -> None:
        source = obj.object() if isinstance(obj, MObjectHandle) else obj
        self._obj = MObject(source) if source is not None else MObject()

    def object(self) -> MObject:
        return MObject(self._obj) if self.isValid() else MObject()

    def isValid(self) -> bool:
        return not self._obj.isNull()

    def isAlive(self) -> bool:
        return self._obj._kind != "null"

    def hashCode(self) -> int:
        return id(self._obj._ref)


class MFn:
    kInvalid, kBase, kDependencyNode, kDagNode, kTransform = 0, 1, 4, 107, 110
    kAttribute, kNumericAttribute, kTypedAttribute, kEnumAttribute = 554, 563, 568, 561
    kCompoundAttribute, kMessageAttribute = 557, 562
    kData, kNumericData, kStringData, kStringArrayData, kDoubleArrayData = 581, 593, 597, 598, 585
    kPlugin, kPluginDependNode, kFileTexture, kChecker, kRamp = 603, 460, 493, 490, 502
    kPlace2dTexture, kLambert, kSet, kTime, kShadingEngine = 452, 369, 470, 521, 320


_NODE_FN = {
    "transform": MFn.kTransform,
    "file": MFn.kFileTexture,
    "checker": MFn.kChecker,
    "ramp": MFn.kRamp,
    "place2dTexture": MFn.kPlace2dTexture,
    "lambert": MFn.kLambert,
    "objectSet": MFn.kSet,
    "time": MFn.kTime,
}


def _api_types(obj: MObject) -> list[int]:
    if obj._kind == "node":
        node: Node = obj._ref
        found = [_NODE_FN.get(node.type.name, MFn.kPluginDependNode)]
        if node.type.is_dag:
            found.append(MFn.kDagNode)
        return [*found, MFn.kDependencyNode, MFn.kBase]
    if obj._kind == "attr":
        kind = {
            "numeric": MFn.kNumericAttribute,
            "typed": MFn.kTypedAttribute,
            "enum": MFn.kEnumAttribute,
            "message": MFn.kMessageAttribute,
            "compound": MFn.kCompoundAttribute,
        }[obj._ref.kind]
        if obj._ref.kind == "compound" and obj._ref.from_numeric_fn:
            kind = MFn.kNumericAttribute
        return [kind, MFn.kAttribute, MFn.kBase]
    if obj._kind == "data":
        kind = {
            _dg.DATA_STRING: MFn.kStringData,
            _dg.DATA_STRING_ARRAY: MFn.kStringArrayData,
            _dg.DATA_DOUBLE_ARRAY: MFn.kDoubleArrayData,
        }.get(obj._ref[0], MFn.kData)
        return [kind, MFn.kData, MFn.kBase]
    if obj._kind == "plugin":
        return [MFn.kPlugin, MFn.kBase]
    return [MFn.kInvalid]


class MTypeId:
    def __init__(self, value: int | MTypeId = 0) -> None:
        self._id = value.id() if isinstance(value, MTypeId) else int(value)

    def id(self) -> int:
        return self._id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MTypeId) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return f"MTypeId(0x{self._id:08x})"


class _MArray(list):  # type: ignore[type-arg]
    """Common behaviour of MDoubleArray & co: list-like, Maya's own insert/remove/setLength."""

    _item: Callable[[Any], Any] = staticmethod(lambda v: v)

    def __init__(self, *args: Any) -> None:
        if len(args) == 2:  # (size, initial value)
            super().__init__([self._item(args[1])] * int(args[0]))
        elif args:
            super().__init__(self._item(v) for v in args[0])
        else:
            super().__init__()

    def append(self, value: Any) -> None:
        super().append(self._item(value))

    def insert(self, value: Any, index: Any) -> None:  # type: ignore[override]
        super().insert(int(index), self._item(value))

    def remove(self, index: Any) -> None:  # removes by index, as in Maya
        del self[int(index)]

    def setLength(self, length: int) -> None:
        del self[length:]
        self.extend([self._item(0)] * (length - len(self)))

    def copy(self, source: Iterable[Any] | None = None) -> Any:  # type: ignore[override]
        if source is None:
            return type(self)(self)
        self[:] = [self._item(v) for v in source]
        return self


class MDoubleArray(_MArray):
    _item = staticmethod(float)


class MFloatArray(_MArray):
    _item = staticmethod(float)


class MIntArray(_MArray):
    _item = staticmethod(int)


class MStringArray(_MArray):
    _item = staticmethod(str)


class MPlugArray(_MArray):
    pass


class MObjectArray(_MArray):
    pass


class MFloatVector:
    def __init__(self, x: Any = 0.0, y: float = 0.0, z: float = 0.0) -> None:
        if isinstance(x, (MFloatVector, list, tuple)):
            x, y, z = x[0], x[1], x[2]
        self.x, self.y, self.z = float(x), float(y), float(z)

    def __getitem__(self, i: int) -> float:
        return (self.x, self.y, self.z)[i]

    def __iter__(self) -> Iterator[float]:
        return iter((self.x, self.y, self.z))

    def __len__(self) -> int:
        return 3

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MFloatVector) and tuple(other) == tuple(self)

    def __repr__(self) -> str:
        return f"MFloatVector({self.x}, {self.y}, {self.z})"


class MVector(MFloatVector):
    pass


class MColor(MFloatVector):
    pass


class MTime:
    kInvalid, kHours, kMinutes, kSeconds, kMilliseconds = 0, 1, 2, 3, 4
    kGames, kFilm, kPALFrame, kNTSCFrame, kShowScan, kPALField, kNTSCField = range(5, 12)
    k15FPS, k24FPS, k25FPS, k30FPS, k48FPS, k50FPS, k60FPS = 5, 6, 7, 8, 9, 10, 11
    _SECONDS: ClassVar[dict[int, float]] = {1: 3600.0, 2: 60.0, 3: 1.0, 4: 0.001}
    _SECONDS.update({5: 1 / 15, 6: 1 / 24, 7: 1 / 25, 8: 1 / 30, 9: 1 / 48, 10: 1 / 50, 11: 1 / 60})

    def __init__(self, value: float = 0.0, unit: int = 6) -> None:
        self.value = float(value)
        self.unit = unit

    def asUnits(self, unit: int) -> float:
        return self.value * self._SECONDS[self.unit] / self._SECONDS[unit]

    @staticmethod
    def uiUnit() -> int:
        return MTime.kFilm

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MTime) and abs(other.asUnits(3) - self.asUnits(3)) < 1e-9

    def __repr__(self) -> str:
        return f"MTime({self.value}, {self.unit})"


# --- attribute function sets ------------------------------------------------------------


class MFnBase:
    def __init__(self, obj: MObject | None = None) -> None:
        self._obj = MObject.kNullObj
        if obj is not None:
            self.setObject(obj)

    def setObject(self, obj: MObject) -> MFnBase:
        self._obj = obj
        return self

    def object(self) -> MObject:
        return self._obj

    def hasObj(self, obj: MObject) -> bool:
        return not obj.isNull()


def _attr_flag(field: str) -> property:
    def get(self: MFnAttribute) -> Any:
        return getattr(self._attr(), field)

    def set_(self: MFnAttribute, value: Any) -> None:
        attr = self._attr()
        # MFnNumericAttribute sets the flags of numeric compound children too.
        for a in attr.family() if attr.from_numeric_fn else [attr]:
            setattr(a, field, value)

    return property(get, set_)


class MFnAttribute(MFnBase):
    kDelete, kReset, kNothing = 0, 1, 2
    readable = _attr_flag("readable")
    writable = _attr_flag("writable")
    storable = _attr_flag("storable")
    keyable = _attr_flag("keyable")
    connectable = _attr_flag("connectable")
    hidden = _attr_flag("hidden")
    array = _attr_flag("array")
    usesArrayDataBuilder = _attr_flag("uses_array_data_builder")
    indexMatters = _attr_flag("index_matters")
    usedAsFilename = _attr_flag("used_as_filename")
    usedAsColor = _attr_flag("used_as_color")
    cached = _attr_flag("cached")
    affectsAppearance = _attr_flag("affects_appearance")
    channelBox = _attr_flag("channel_box")
    internal = _attr_flag("internal")

    def _attr(self) -> Attr:
        if self._obj._kind != "attr":
            raise maya_error("(kInvalidParameter): Object is incompatible with this method")
        attr: Attr = self._obj._ref
        return attr

    @property
    def name(self) -> str:
        return self._attr().name

    @property
    def shortName(self) -> str:
        return self._attr().short

    @property
    def parent(self) -> MObject:
        p = self._attr().parent
        return MObject._of("attr", p) if p is not None else MObject()

    @property
    def dynamic(self) -> bool:
        return self._attr().dynamic

    def setNiceNameOverride(self, value: str) -> MFnAttribute:
        self._attr().nice_name = value
        return self

    def _new(self, attr: Attr) -> MObject:
        self._obj = MObject._of("attr", attr)
        return self._obj


def _nice(name: str) -> str:
    out = ""
    for i, ch in enumerate(name):
        out += (" " + ch) if ch.isupper() and i and not name[i - 1].isupper() else ch
    return out[:1].upper() + out[1:]


def _suffixes(numeric: int, style: str) -> list[str]:
    n = _dg.COMPOUND_NUMERIC[numeric][1]
    return {"color": ["R", "G", "B"], "point": ["X", "Y", "Z"]}.get(style, ["0", "1", "2", "3"])[:n]


class MFnNumericAttribute(MFnAttribute):
    def create(self, longName: str, shortName: str, type: int, defaultValue: Any = 0) -> MObject:
        return self._new(_numeric(longName, shortName, type, defaultValue, "plain"))

    def createColor(self, longName: str, shortName: str) -> MObject:
        attr = _numeric(longName, shortName, _dg.FLOAT3, 0.0, "color")
        attr.used_as_color = True
        return self._new(attr)

    def createPoint(self, longName: str, shortName: str) -> MObject:
        return self._new(_numeric(longName, shortName, _dg.DOUBLE3, 0.0, "point"))

    def numericType(self) -> int:
        return self._attr().numeric

    def child(self, index: int) -> MObject:
        return MObject._of("attr", self._attr().children[index])

    @property
    def default(self) -> Any:
        attr = self._attr()
        return tuple(c.default for c in attr.children) if attr.children else attr.default

    @default.setter
    def default(self, value: Any) -> None:
        attr = self._attr()
        if attr.children:
            for c, v in zip(attr.children, value, strict=True):
                c.default = _dg.coerce(c, v)
        else:
            attr.default = _dg.coerce(attr, value)

    def _limit(self, field: str, value: Any) -> MFnNumericAttribute:
        attr = self._attr()
        if attr.children:
            for c, v in zip(attr.children, value, strict=True):
                setattr(c, field, float(v))
        else:
            setattr(attr, field, value)
        return self

    def _get_limit(self, field: str) -> Any:
        attr = self._attr()
        values = [getattr(a, field) for a in (attr.children or [attr])]
        if any(v is None for v in values):
            raise maya_error(f"Attribute has no {field}")
        return tuple(values) if attr.children else values[0]

    def setMin(self, value: Any) -> MFnNumericAttribute:
        return self._limit("minimum", value)

    def setMax(self, value: Any) -> MFnNumericAttribute:
        return self._limit("maximum", value)

    def setSoftMin(self, value: Any) -> MFnNumericAttribute:
        return self._limit("soft_min", value)

    def setSoftMax(self, value: Any) -> MFnNumericAttribute:
        return self._limit("soft_max", value)

    def getMin(self) -> Any:
        return self._get_limit("minimum")

    def getMax(self) -> Any:
        return self._get_limit("maximum")

    def getSoftMin(self) -> Any:
        return self._get_limit("soft_min")

    def getSoftMax(self) -> Any:
        return self._get_limit("soft_max")

    def hasMin(self) -> bool:
        return self._attr().minimum is not None or any(
            c.minimum is not None for c in self._attr().children
        )

    def hasMax(self) -> bool:
        return self._attr().maximum is not None or any(
            c.maximum is not None for c in self._attr().children
        )

    def hasSoftMin(self) -> bool:
        return self._attr().soft_min is not None

    def hasSoftMax(self) -> bool:
        return self._attr().soft_max is not None


def _numeric(long: str, short: str, numeric: int, default: Any, style: str) -> Attr:
    if numeric in _dg.COMPOUND_NUMERIC:
        base, _n = _dg.COMPOUND_NUMERIC[numeric]
        attr = Attr(long, short, "compound", numeric=numeric, from_numeric_fn=True)
        defaults = default if isinstance(default, (tuple, list)) else None
        for i, suffix in enumerate(_suffixes(numeric, style)):
            child = Attr(long + suffix, short + suffix, "numeric", numeric=base)
            child.default = _dg.coerce(child, defaults[i] if defaults else default)
            child.parent = attr
            attr.children.append(child)
        return attr
    attr = Attr(long, short, "numeric", numeric=numeric)
    attr.default = _dg.coerce(attr, default)
    return attr


class MFnTypedAttribute(MFnAttribute):
    def create(
        self, longName: str, shortName: str, type: int, defaultValue: MObject | None = None
    ) -> MObject:
        attr = Attr(longName, shortName, "typed", data=type)
        if defaultValue is not None and not defaultValue.isNull():
            attr.default = _dg.coerce(attr, _data_value(defaultValue))
        return self._new(attr)

    def attrType(self) -> int:
        return self._attr().data

    @property
    def default(self) -> MObject:
        attr = self._attr()
        return _data_object(attr.data, attr.default)

    @default.setter
    def default(self, value: MObject) -> None:
        self._attr().default = _dg.coerce(self._attr(), _data_value(value))


class MFnEnumAttribute(MFnAttribute):
    def create(self, longName: str, shortName: str, defaultValue: int = 0) -> MObject:
        return self._new(Attr(longName, shortName, "enum", numeric=_dg.SHORT, default=defaultValue))

    def addField(self, name: str, value: int) -> MFnEnumAttribute:
        attr = self._attr()
        if name in attr.fields or value in attr.fields.values():
            raise maya_error(f"Enum field '{name}' or value {value} already exists")
        attr.fields[name] = int(value)
        return self

    def fieldName(self, value: int) -> str:
        for name, v in self._attr().fields.items():
            if v == value:
                return name
        raise maya_error(f"No enum field with value {value}")

    def fieldValue(self, name: str) -> int:
        try:
            return self._attr().fields[name]
        except KeyError:
            raise maya_error(f"No enum field named '{name}'") from None

    def getMin(self) -> int:
        return min(self._attr().fields.values())

    def getMax(self) -> int:
        return max(self._attr().fields.values())

    def setDefaultByName(self, name: str) -> MFnEnumAttribute:
        self._attr().default = self.fieldValue(name)
        return self

    @property
    def default(self) -> int:
        return int(self._attr().default)

    @default.setter
    def default(self, value: int) -> None:
        self._attr().default = int(value)


class MFnMessageAttribute(MFnAttribute):
    def create(self, longName: str, shortName: str) -> MObject:
        return self._new(Attr(longName, shortName, "message", storable=False))


class MFnCompoundAttribute(MFnAttribute):
    def create(self, longName: str, shortName: str) -> MObject:
        return self._new(Attr(longName, shortName, "compound"))

    def addChild(self, child: MObject) -> MFnCompoundAttribute:
        attr, sub = self._attr(), child._ref
        sub.parent = attr
        attr.children.append(sub)
        return self

    def numChildren(self) -> int:
        return len(self._attr().children)

    def child(self, index: int) -> MObject:
        return MObject._of("attr", self._attr().children[index])


# --- data function sets -----------------------------------------------------------------


def _data_object(data_type: int, value: Any) -> MObject:
    """A typed attribute that never received data (no default, never set) holds no data
    object: handles and plugs give a null MObject for it."""
    if value is None:
        return MObject()
    return MObject._of("data", (data_type, _dg.copy_value(value)))


def _data_value(obj: MObject) -> Any:
    if obj._kind != "data":
        raise maya_error("(kInvalidParameter): Object is incompatible with this method")
    return _dg.copy_value(obj._ref[1])


class MFnData(MFnBase):
    kInvalid, kNumeric, kPlugin, kPluginGeometry = 0, 1, 2, 3
    kString, kMatrix, kStringArray, kDoubleArray = 4, 5, 6, 7
    kFloatArray, kIntArray, kPointArray, kVectorArray = 8, 9, 10, 11
    kMatrixArray, kComponentList, kMesh, kAny = 12, 13, 14, 24


class MFnNumericData(MFnData):
    kInvalid, kBoolean, kByte, kChar, kShort, k2Short, k3Short = 0, 1, 2, 3, 4, 5, 6
    kLong = kInt = 7
    k2Long = k2Int = 8
    k3Long = k3Int = 9
    kInt64, kFloat, k2Float, k3Float, kDouble = 10, 11, 12, 13, 14
    k2Double, k3Double, k4Double, kAddr, kLast = 15, 16, 17, 18, 19


class _ArrayDataFn(MFnData):
    _type = 0
    _array: Callable[..., Any] = list

    def create(self, values: Iterable[Any] = ()) -> MObject:
        self._obj = _data_object(self._type, [*values])
        return self._obj

    def array(self) -> Any:
        return self._array(_data_value(self._obj))

    def set(self, values: Iterable[Any]) -> _ArrayDataFn:
        self._obj._ref = (self._type, [*values])
        return self

    def __len__(self) -> int:
        return len(self._obj._ref[1])

    def __getitem__(self, index: int) -> Any:
        return self._obj._ref[1][index]


class MFnStringArrayData(_ArrayDataFn):
    _type = _dg.DATA_STRING_ARRAY

    def array(self) -> list[str]:  # API 2.0 returns a list of str
        return [str(v) for v in _data_value(self._obj)]


class MFnDoubleArrayData(_ArrayDataFn):
    _type = _dg.DATA_DOUBLE_ARRAY
    _array = MDoubleArray


class MFnStringData(MFnData):
    def create(self, value: str = "") -> MObject:
        self._obj = _data_object(_dg.DATA_STRING, str(value))
        return self._obj

    def string(self) -> str:
        return str(_data_value(self._obj) or "")

    def set(self, value: str) -> MFnStringData:
        self._obj._ref = (_dg.DATA_STRING, str(value))
        return self


# --- plugs ------------------------------------------------------------------------------


def _wrap_plug(ref: PlugRef) -> MPlug:
    plug = MPlug()
    plug._ref = ref
    return plug


class MPlug:
    kAll, kNonDefault, kChanged = 0, 1, 2
    kFreeToChange, kNotFreeToChange, kChildrenNotFreeToChange = 0, 1, 2

    def __init__(self, node: MObject | MPlug | None = None, attribute: MObject | None = None):
        self._ref: PlugRef | None = None
        if isinstance(node, MPlug):
            self._ref = node._ref
        elif node is not None and attribute is not None:
            self._ref = PlugRef(node._ref, attribute._ref, None)

    def _r(self) -> PlugRef:
        if self._ref is None:
            raise maya_error("(kFailure): The plug is null")
        return self._ref

    # -- identity --
    def __eq__(self, other: object) -> bool:
        if isinstance(other, MObject):  # compares the plug's attribute, as in Maya
            return self._ref is not None and other._kind == "attr" and other._ref is self._ref.attr
        return isinstance(other, MPlug) and other._ref == self._ref

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._ref)

    def __repr__(self) -> str:
        return f"<MPlug {self.name() if self._ref else 'null'}>"

    @property
    def isNull(self) -> bool:
        return self._ref is None

    @property
    def isArray(self) -> bool:
        return self._r().attr.array and self._r().index is None

    @property
    def isElement(self) -> bool:
        return self._r().index is not None

    @property
    def isCompound(self) -> bool:
        return self._r().attr.kind == "compound"

    @property
    def isChild(self) -> bool:
        return self._r().attr.parent is not None

    @property
    def isDestination(self) -> bool:
        return SCENE.incoming(self._r()) is not None

    @property
    def isSource(self) -> bool:
        return bool(self.destinations())

    @property
    def isConnected(self) -> bool:
        return self.isDestination or self.isSource

    @property
    def isDynamic(self) -> bool:
        return self._r().attr.dynamic

    @property
    def isKeyable(self) -> bool:
        return self._r().attr.keyable

    @property
    def isLocked(self) -> bool:
        return False

    @property
    def isNetworked(self) -> bool:
        return True

    @property
    def isProcedural(self) -> bool:
        return False

    @property
    def info(self) -> str:
        return self.name()

    def name(self) -> str:
        return self._r().full(long=True)

    def partialName(
        self,
        includeNodeName: bool = False,
        includeNonMandatoryIndices: bool = False,
        includeInstancedIndices: bool = False,
        useAlias: bool = False,
        useFullAttributePath: bool = False,
        useLongNames: bool = False,
    ) -> str:
        ref = self._r()
        path = ref.path(long=useLongNames)
        if useFullAttributePath and ref.attr.parent is not None:
            parent = ref.attr.parent
            path = (parent.name if useLongNames else parent.short) + "." + path
        return f"{ref.node.name}.{path}" if includeNodeName else path

    def attribute(self) -> MObject:
        return MObject._of("attr", self._r().attr)

    def node(self) -> MObject:
        return MObject._of("node", self._r().node)

    def setAttribute(self, attribute: MObject) -> MPlug:
        self._ref = PlugRef(self._r().node, attribute._ref, None)
        return self

    # -- structure --
    def array(self) -> MPlug:
        ref = self._r()
        if ref.index is None:
            raise maya_error("(kFailure): Plug is not an array element")
        return _wrap_plug(PlugRef(ref.node, ref.attr, None))

    def parent(self) -> MPlug:
        ref = self._r()
        if ref.attr.parent is None:
            raise maya_error("(kFailure): Plug is not a child")
        return _wrap_plug(PlugRef(ref.node, ref.attr.parent, ref.index))

    def child(self, which: int | MObject) -> MPlug:
        ref = self._r()
        attr = which._ref if isinstance(which, MObject) else ref.attr.children[which]
        return _wrap_plug(PlugRef(ref.node, attr, ref.index))

    def numChildren(self) -> int:
        return len(self._r().attr.children)

    def logicalIndex(self) -> int:
        ref = self._r()
        if ref.index is None:
            raise maya_error("(kFailure): Plug is not an array element")
        return ref.index

    def elementByLogicalIndex(self, index: int) -> MPlug:
        ref = self._r()
        if not self.isArray:
            raise maya_error("(kFailure): Plug is not an array")
        return _wrap_plug(PlugRef(ref.node, ref.attr, int(index)))

    def elementByPhysicalIndex(self, index: int) -> MPlug:
        return self.elementByLogicalIndex(self.getExistingArrayAttributeIndices()[index])

    def getExistingArrayAttributeIndices(self) -> list[int]:
        if not self.isArray:
            raise maya_error("(kFailure): Plug is not an array")
        return SCENE.indices(self._r())

    def numElements(self) -> int:
        return len(self.getExistingArrayAttributeIndices())

    def evaluateNumElements(self) -> int:
        SCENE.read(self._r())
        return self.numElements()

    def numConnectedElements(self) -> int:
        ref = self._r()
        return len({e for e in self._connected_elements() if e.index is not None and e != ref})

    def _connected_elements(self) -> list[PlugRef]:
        ref = self._r()
        return [
            p
            for s, d in SCENE.connections(ref.node)
            for p in (s, d)
            if p.node is ref.node and p.attr is ref.attr
        ]

    def numConnectedChildren(self) -> int:
        ref = self._r()
        return sum(
            1
            for c in ref.attr.children
            if PlugRef(ref.node, c, ref.index) in SCENE.src_of
            or SCENE.destinations(PlugRef(ref.node, c, ref.index))
        )

    # -- connections --
    def source(self) -> MPlug:
        src = SCENE.src_of.get(self._r())
        return _wrap_plug(src) if src is not None else MPlug()

    def destinations(self) -> MPlugArray:
        return MPlugArray(_wrap_plug(d) for d in SCENE.destinations(self._r()))

    def connectedTo(self, asDst: bool, asSrc: bool) -> MPlugArray:
        out = MPlugArray()
        if asDst and not self.source().isNull:
            out.append(self.source())
        if asSrc:
            out.extend(self.destinations())
        return out

    # -- values (reading pulls, writing dirties; neither is undoable) --
    def _get(self) -> Any:
        return SCENE.read(self._r())

    def _set(self, value: Any) -> MPlug:
        SCENE.set_value(self._r(), value)
        return self

    def asDouble(self) -> float:
        return float(self._get())

    def asFloat(self) -> float:
        return float(self._get())

    def asInt(self) -> int:
        return int(self._get())

    def asShort(self) -> int:
        return int(self._get())

    def asChar(self) -> int:
        return int(self._get())

    def asBool(self) -> bool:
        return bool(self._get())

    def asString(self) -> str:
        value = self._get()
        if self._r().attr.kind == "enum":
            return {v: k for k, v in self._r().attr.fields.items()}.get(value, str(value))
        return "" if value is None else str(value)

    def asMTime(self) -> MTime:
        return MTime(self._get())

    def asMObject(self) -> MObject:
        attr = self._r().attr
        if attr.kind != "typed":
            raise maya_error("(kFailure): Plug does not hold a data object")
        return _data_object(attr.data, self._get())

    def setDouble(self, value: float) -> MPlug:
        return self._set(float(value))

    def setFloat(self, value: float) -> MPlug:
        return self._set(float(value))

    def setInt(self, value: int) -> MPlug:
        return self._set(int(value))

    def setShort(self, value: int) -> MPlug:
        return self._set(int(value))

    def setChar(self, value: int) -> MPlug:
        return self._set(int(value))

    def setBool(self, value: bool) -> MPlug:
        return self._set(bool(value))

    def setString(self, value: str) -> MPlug:
        return self._set(str(value))

    def setMTime(self, value: MTime) -> MPlug:
        return self._set(value.value)

    def setMObject(self, value: MObject) -> MPlug:
        return self._set(_data_value(value))

    def isDefaultValue(self) -> bool:
        attr = self._r().attr
        default = tuple(c.default for c in attr.children) if attr.children else attr.default
        return bool(SCENE.peek(self._r()) == default)


# --- data block and handles -------------------------------------------------------------


def _ref_of(node: Node, what: MObject | MPlug) -> PlugRef:
    if isinstance(what, MPlug):
        return what._r()
    if what._kind != "attr":
        raise maya_error("(kInvalidParameter): Expected an attribute")
    return PlugRef(node, what._ref, None)


class MDataBlock:
    """Storage for one node's attributes during compute()."""

    def __init__(self, node: Node | None = None) -> None:
        if node is None:
            raise maya_error("MDataBlock cannot be created from Python")
        self._node = node

    def _check(self, ref: PlugRef) -> None:
        if ref.node is not self._node or self._node.attr(ref.attr.name) is not ref.attr:
            raise maya_error(f"(kInvalidParameter): '{ref.attr.name}' is not an attribute here")

    def inputValue(self, what: MObject | MPlug) -> MDataHandle:
        ref = _ref_of(self._node, what)
        self._check(ref)
        if ref.attr.array and ref.index is None:
            raise maya_error("(kInvalidParameter): use inputArrayValue for array attributes")
        return MDataHandle._make(ref, value=SCENE.read(ref), writable=False)

    def outputValue(self, what: MObject | MPlug) -> MDataHandle:
        ref = _ref_of(self._node, what)
        self._check(ref)
        if ref.attr.array and ref.index is None:
            raise maya_error("(kInvalidParameter): use outputArrayValue for array attributes")
        return MDataHandle._make(ref, writable=True)

    def inputArrayValue(self, what: MObject | MPlug) -> MArrayDataHandle:
        ref = _ref_of(self._node, what)
        self._check(ref)
        return MArrayDataHandle._make(ref, SCENE.read(PlugRef(ref.node, ref.attr, None)), False)

    def outputArrayValue(self, what: MObject | MPlug) -> MArrayDataHandle:
        ref = _ref_of(self._node, what)
        self._check(ref)
        return MArrayDataHandle._make(ref, ref.node.stored(ref.attr, None), True)

    def setClean(self, what: MObject | MPlug) -> MDataBlock:
        ref = _ref_of(self._node, what)
        self._node.set_clean(ref.attr, ref.index)
        return self

    def isClean(self, what: MObject | MPlug) -> bool:
        ref = _ref_of(self._node, what)
        return not self._node.is_dirty(ref.attr, ref.index)


class MDataHandle:
    def __init__(self) -> None:
        self._ref: PlugRef | None = None
        self._value: Any = None
        self._writable = False
        self._sink: dict[int, Any] | None = None  # an MArrayDataBuilder's elements

    @classmethod
    def _make(
        cls,
        ref: PlugRef,
        value: Any = None,
        writable: bool = True,
        sink: dict[int, Any] | None = None,
    ) -> MDataHandle:
        handle = cls()
        handle._ref, handle._value, handle._writable, handle._sink = ref, value, writable, sink
        return handle

    def _r(self) -> PlugRef:
        if self._ref is None:
            raise maya_error("(kFailure): Invalid data handle")
        return self._ref

    def _get(self) -> Any:
        ref = self._r()
        if not self._writable:
            return self._value
        if self._sink is not None:
            return self._sink.get(ref.index, ref.attr.default)  # type: ignore[arg-type]
        return ref.node.stored(ref.attr, ref.index)

    def _put(self, value: Any) -> MDataHandle:
        ref = self._r()
        if self._sink is not None and ref.index is not None:
            self._sink[ref.index] = _dg.coerce(ref.attr, value)
        else:
            ref.node.store(ref.attr, ref.index, value)
        if not self._writable:
            self._value = ref.node.stored(ref.attr, ref.index)
        return self

    def asBool(self) -> bool:
        return bool(self._get())

    def asInt(self) -> int:
        return int(self._get())

    def asShort(self) -> int:
        return int(self._get())

    def asChar(self) -> int:
        return int(self._get())

    def asDouble(self) -> float:
        return float(self._get())

    def asFloat(self) -> float:
        return float(self._get())

    def asString(self) -> str:
        value = self._get()
        return "" if value is None else str(value)

    def asTime(self) -> MTime:
        return MTime(self._get())

    def asFloat3(self) -> list[float]:
        return [float(v) for v in self._get()]

    def asDouble3(self) -> list[float]:
        return [float(v) for v in self._get()]

    def asFloat2(self) -> list[float]:
        return [float(v) for v in self._get()]

    def asDouble2(self) -> list[float]:
        return [float(v) for v in self._get()]

    def asInt3(self) -> list[int]:
        return [int(v) for v in self._get()]

    def asFloatVector(self) -> MFloatVector:
        return MFloatVector(*self._get())

    def asVector(self) -> MVector:
        return MVector(*self._get())

    def data(self) -> MObject:
        attr = self._r().attr
        if attr.kind != "typed":
            raise maya_error("(kFailure): Handle does not hold a data object")
        return _data_object(attr.data, self._get())

    def child(self, which: MObject | MPlug) -> MDataHandle:
        ref = self._r()
        attr = which._r().attr if isinstance(which, MPlug) else which._ref
        if attr.parent is not ref.attr:
            raise maya_error("(kInvalidParameter): Not a child of this handle's attribute")
        value = None if self._writable else self._value[ref.attr.children.index(attr)]
        return MDataHandle._make(PlugRef(ref.node, attr, ref.index), value, self._writable)

    def isNumeric(self) -> bool:
        return self._r().attr.kind == "numeric"

    def numericType(self) -> int:
        return self._r().attr.numeric

    def setBool(self, value: bool) -> MDataHandle:
        return self._put(bool(value))

    def setInt(self, value: int) -> MDataHandle:
        return self._put(int(value))

    def setShort(self, value: int) -> MDataHandle:
        return self._put(int(value))

    def setChar(self, value: int) -> MDataHandle:
        return self._put(int(value))

    def setDouble(self, value: float) -> MDataHandle:
        return self._put(float(value))

    def setFloat(self, value: float) -> MDataHandle:
        return self._put(float(value))

    def setString(self, value: str) -> MDataHandle:
        return self._put(str(value))

    def setMTime(self, value: MTime) -> MDataHandle:
        return self._put(value.value)

    def set3Float(self, a: float, b: float, c: float) -> MDataHandle:
        return self._put((a, b, c))

    def set3Double(self, a: float, b: float, c: float) -> MDataHandle:
        return self._put((a, b, c))

    def set2Float(self, a: float, b: float) -> MDataHandle:
        return self._put((a, b))

    def set2Double(self, a: float, b: float) -> MDataHandle:
        return self._put((a, b))

    def set3Int(self, a: int, b: int, c: int) -> MDataHandle:
        return self._put((a, b, c))

    def setMFloatVector(self, value: MFloatVector) -> MDataHandle:
        return self._put(tuple(value))

    def setMVector(self, value: MFloatVector) -> MDataHandle:
        return self._put(tuple(value))

    def setMObject(self, value: MObject) -> MDataHandle:
        return self._put(_data_value(value))

    def copy(self, src: MDataHandle) -> MDataHandle:
        return self._put(src._get())

    def setClean(self) -> MDataHandle:
        ref = self._r()
        ref.node.set_clean(ref.attr, ref.index)
        return self


class MArrayDataHandle:
    """Iterates the elements of an array attribute inside compute()."""

    def __init__(self) -> None:
        self._ref: PlugRef | None = None
        self._values: dict[int, Any] = {}
        self._writable = False
        self._pos = 0

    @classmethod
    def _make(cls, ref: PlugRef, values: dict[int, Any], writable: bool) -> MArrayDataHandle:
        handle = cls()
        handle._ref = PlugRef(ref.node, ref.attr, None)
        handle._values, handle._writable = dict(values), writable
        return handle

    def _r(self) -> PlugRef:
        if self._ref is None:
            raise maya_error("(kFailure): Invalid array data handle")
        return self._ref

    def _indices(self) -> list[int]:
        if self._writable:
            self._values = self._r().node.stored(self._r().attr, None)
        return sorted(self._values)

    def __len__(self) -> int:
        return len(self._indices())

    def jumpToPhysicalElement(self, position: int) -> MArrayDataHandle:
        if not 0 <= position < len(self._indices()):
            raise maya_error("(kInvalidParameter): Element index out of range")
        self._pos = position
        return self

    def jumpToLogicalElement(self, index: int) -> MArrayDataHandle:
        indices = self._indices()
        if index not in indices:
            raise maya_error(f"(kInvalidParameter): No element at logical index {index}")
        self._pos = indices.index(index)
        return self

    def next(self) -> bool:
        self._pos += 1
        return self._pos < len(self._indices())

    def isDone(self) -> bool:
        return self._pos >= len(self._indices())

    def elementLogicalIndex(self) -> int:
        indices = self._indices()
        if self._pos >= len(indices):
            raise maya_error("(kFailure): No current element")
        return indices[self._pos]

    def inputValue(self) -> MDataHandle:
        index = self.elementLogicalIndex()
        ref = PlugRef(self._r().node, self._r().attr, index)
        return MDataHandle._make(ref, self._values[index], writable=False)

    def outputValue(self) -> MDataHandle:
        index = self.elementLogicalIndex()
        return MDataHandle._make(PlugRef(self._r().node, self._r().attr, index), writable=True)

    def builder(self) -> MArrayDataBuilder:
        attr = self._r().attr
        if not attr.uses_array_data_builder:
            raise maya_error(f"(kFailure): '{attr.name}' does not use an array data builder")
        builder = MArrayDataBuilder()
        builder._ref, builder._elements = self._r(), dict(self._values)
        return builder

    def set(self, builder: MArrayDataBuilder) -> MArrayDataHandle:
        ref = self._r()
        if not self._writable:
            raise maya_error("(kFailure): Cannot set an input array handle")
        ref.node.values[ref.attr] = dict(builder._elements)
        self._values, self._pos = dict(builder._elements), 0
        return self

    def setAllClean(self) -> MArrayDataHandle:
        self._r().node.set_clean(self._r().attr)
        return self

    def setClean(self) -> MArrayDataHandle:
        return self.setAllClean()


class MArrayDataBuilder:
    def __init__(
        self, block: MDataBlock | None = None, attribute: MObject | None = None, size: int = 0
    ) -> None:
        self._ref: PlugRef | None = None
        self._elements: dict[int, Any] = {}
        if block is not None and attribute is not None:
            self._ref = PlugRef(block._node, attribute._ref, None)

    def _r(self) -> PlugRef:
        if self._ref is None:
            raise maya_error("(kFailure): Invalid array data builder")
        return self._ref

    def __len__(self) -> int:
        return len(self._elements)

    def addElement(self, index: int) -> MDataHandle:
        ref = self._r()
        self._elements.setdefault(int(index), ref.attr.default)
        return MDataHandle._make(PlugRef(ref.node, ref.attr, int(index)), sink=self._elements)

    def addLast(self) -> MDataHandle:
        return self.addElement(max(self._elements, default=-1) + 1)

    def removeElement(self, index: int) -> MArrayDataBuilder:
        if index not in self._elements:
            raise maya_error(f"(kInvalidParameter): No element at index {index}")
        del self._elements[index]
        return self

    def growArray(self, amount: int) -> MArrayDataBuilder:
        return self

    def setGrowSize(self, size: int) -> MArrayDataBuilder:
        return self

    def copy(self, source: MArrayDataBuilder) -> MArrayDataBuilder:
        self._ref, self._elements = source._ref, dict(source._elements)
        return self


# --- proxies: nodes and commands --------------------------------------------------------

_INITIALIZING: list[_dg.NodeType] = []


class MPxNode:
    kDependNode, kLocatorNode, kDeformerNode, kManipContainer, kSurfaceShape = 0, 1, 2, 3, 4
    kTransformNode, kObjectSet, kLast = 11, 12, 26
    kEvaluatedIndirectly, kEvaluatedDirectly, kLeaveDirty = 0, 1, 2

    def __init__(self) -> None:
        self._emu_node: Node | None = None

    def _node(self) -> Node:
        if self._emu_node is None:
            raise maya_error("(kFailure): The node has not been created yet")
        return self._emu_node

    @staticmethod
    def addAttribute(attr: MObject) -> None:
        if not _INITIALIZING:
            raise maya_error("addAttribute only works during the node type's initialization")
        if attr._ref.parent is not None:
            raise maya_error("(kFailure): add the parent of a compound, not its children")
        _INITIALIZING[-1].add(attr._ref)

    @staticmethod
    def attributeAffects(whenChanges: MObject, isAffected: MObject) -> None:
        if not _INITIALIZING:
            raise maya_error("attributeAffects only works during the node type's initialization")
        affects = _INITIALIZING[-1].affects.setdefault(whenChanges._ref, [])
        if isAffected._ref not in affects:
            affects.append(isAffected._ref)

    def compute(self, plug: MPlug, dataBlock: MDataBlock) -> Any:
        return None  # "not my plug": Maya leaves the datablock value as it is

    def postConstructor(self) -> None:
        return None

    def thisMObject(self) -> MObject:
        return MObject._of("node", self._node())

    def name(self) -> str:
        return self._node().name

    def typeName(self) -> str:
        return self._node().type.name

    def typeId(self) -> MTypeId:
        return MTypeId(self._node().type.type_id)

    def type(self) -> int:
        return MPxNode.kDependNode

    def setDependentsDirty(self, plug: MPlug, plugArray: MPlugArray) -> None:
        return None

    def setMPSafe(self, flag: bool) -> MPxNode:
        return self

    def isAbstractClass(self) -> bool:
        return False


_RESULT: list[Any] = [None]
_RESULT_TYPES = (bool, int, float, str)


def _display(kind: int, message: str) -> None:
    """The Script Editor is UI: main thread only (Maya's output is not thread-safe)."""
    _emulation.require_main_thread("MGlobal.display")
    SCENE.emit(kind, str(message))


def _checked_result(value: Any) -> Any:
    """What MPxCommand.setResult accepts: bool, int, float or str, or a list of one of them
    (Maya raises TypeError on anything else, e.g. None, a dict or a mixed list)."""
    if isinstance(value, _RESULT_TYPES):
        return value
    if isinstance(value, (list, tuple, _MArray)):
        items = list(value)
        kinds = {bool if isinstance(v, bool) else type(v) for v in items}
        if all(isinstance(v, _RESULT_TYPES) for v in items) and len(kinds) <= 1:
            return items
        raise TypeError(
            "setResult: a list must hold values of one type (bool, int, float or str), "
            f"got {sorted(k.__name__ for k in kinds)}"
        )
    raise TypeError(f"setResult: unsupported result type {type(value).__name__}")


class MPxCommand:
    kNoArg, kLong, kDouble, kString = 0, 1, 2, 3

    def __init__(self) -> None:
        self._syntax: MSyntax | None = None
        self.commandString = ""
        self.historyOn = False

    def doIt(self, args: MArgList) -> None:
        return None

    def redoIt(self) -> None:
        return None

    def undoIt(self) -> None:
        return None

    def isUndoable(self) -> bool:
        return False

    def hasSyntax(self) -> bool:
        return True

    def syntax(self) -> MSyntax:
        return self._syntax if self._syntax is not None else MSyntax()

    @staticmethod
    def displayInfo(message: str) -> None:
        _display(_dg.K_INFO, message)

    @staticmethod
    def displayWarning(message: str, showLineNumber: bool = False) -> None:
        _display(_dg.K_WARNING, message)

    @staticmethod
    def displayError(message: str, showLineNumber: bool = False) -> None:
        _display(_dg.K_ERROR, message)

    @staticmethod
    def clearResult() -> None:
        _RESULT[0] = None

    @staticmethod
    def setResult(value: Any) -> None:
        _RESULT[0] = _checked_result(value)

    @staticmethod
    def appendToResult(value: Any) -> None:
        _checked_result(value)
        current = _RESULT[0]
        if current is None:
            _RESULT[0] = [value]
        elif isinstance(current, list):
            current.append(value)
        else:
            _RESULT[0] = [current, value]

    @staticmethod
    def currentResult() -> Any:
        return _RESULT[0]

    @staticmethod
    def isCurrentResultArray() -> bool:
        return isinstance(_RESULT[0], list)


class _Flag:
    def __init__(self, short: str, long: str, types: tuple[int, ...]) -> None:
        self.short, self.long, self.types = short, long, types
        self.multi_use = False
        self.query_with_args = False


class MSyntax:
    kInvalidArgType, kNoArg, kBoolean, kLong, kDouble, kString = 0, 1, 2, 3, 4, 5
    kUnsigned, kDistance, kAngle, kTime, kSelectionItem, kLastArgType = 6, 7, 8, 9, 10, 11
    kInvalidObjectFormat, kNone, kStringObjects, kSelectionList, kLastObjectFormat = 0, 1, 2, 3, 4

    def __init__(self) -> None:
        self.enableQuery = False
        self.enableEdit = False
        self._flags: list[_Flag] = []
        self._args: list[int] = []
        self._object_type = MSyntax.kNone
        self._min_objects = 0
        self._max_objects: int | None = None
        self._selection_default = False

    def addFlag(self, shortName: str, longName: str, *argTypes: int) -> MSyntax:
        short, long = shortName.lstrip("-"), longName.lstrip("-")
        # Maya's rule: "Short flags are three letters or less; long flags are four letters
        # or more" (Maya SDK, Command plug-ins: Flags); addFlag fails otherwise.
        if not 1 <= len(short) <= 3 or len(long) < 4:
            raise maya_error(
                f"(kInvalidParameter): flag '{shortName}'/'{longName}': short flags are three "
                "letters or less, long flags four letters or more"
            )
        if self._flag(short) or self._flag(long):
            raise maya_error(f"(kInvalidParameter): flag '{longName}' already exists")
        self._flags.append(_Flag(short, long, tuple(t for t in argTypes if t != MSyntax.kNoArg)))
        return self

    def _flag(self, name: str) -> _Flag | None:
        name = name.lstrip("-")
        return next((f for f in self._flags if name in (f.short, f.long)), None)

    def addArg(self, argType: int) -> MSyntax:
        self._args.append(argType)
        return self

    def makeFlagMultiUse(self, flag: str) -> MSyntax:
        found = self._flag(flag)
        if found is None:
            raise maya_error(f"(kInvalidParameter): no flag '{flag}'")
        found.multi_use = True
        return self

    def makeFlagQueryWithFullArgs(self, flag: str, argsOptional: bool) -> MSyntax:
        found = self._flag(flag)
        if found is None:
            raise maya_error(f"(kInvalidParameter): no flag '{flag}'")
        found.query_with_args = not argsOptional
        return self

    def setObjectType(self, objectFormat: int, minimum: int = 0, maximum: int | None = None):
        self._object_type, self._min_objects, self._max_objects = objectFormat, minimum, maximum
        return self

    def useSelectionAsDefault(self, useSelection: bool) -> MSyntax:
        self._selection_default = bool(useSelection)
        return self

    def setMinObjects(self, count: int) -> MSyntax:
        self._min_objects = count
        return self

    def setMaxObjects(self, count: int) -> MSyntax:
        self._max_objects = count
        return self

    def minObjects(self) -> int:
        return self._min_objects

    def maxObjects(self) -> int:
        return -1 if self._max_objects is None else self._max_objects


class MArgList:
    kInvalidArgIndex = 0xFFFFFFFF

    def __init__(self) -> None:
        self._items: list[Any] = []

    def __len__(self) -> int:
        return len(self._items)

    def addArg(self, value: Any) -> MArgList:
        self._items.append(value)
        return self

    def asString(self, index: int) -> str:
        return str(self._items[index])

    def asInt(self, index: int) -> int:
        return int(self._items[index])

    def asDouble(self, index: int) -> float:
        return float(self._items[index])

    def asFloat(self, index: int) -> float:
        return float(self._items[index])

    def asBool(self, index: int) -> bool:
        return _as_bool(self._items[index])

    def flagIndex(self, shortFlag: str, longFlag: str = "") -> int:
        for i, item in enumerate(self._items):
            if isinstance(item, str) and item in (
                f"-{shortFlag.lstrip('-')}",
                f"-{longFlag.lstrip('-')}",
            ):
                return i
        return MArgList.kInvalidArgIndex


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("1", "true", "on", "yes")
    return bool(value)


class MArgParser:
    """Parses an MArgList against an MSyntax: flags first, then command args, then objects."""

    def __init__(self, syntax: MSyntax, argList: MArgList) -> None:
        self._syntax = syntax
        self._flags: dict[str, list[list[Any]]] = {}
        self._command_args: list[Any] = []
        self._objects: list[str] = []
        self.isQuery = False
        self.isEdit = False
        items, i = list(argList._items), 0
        positional: list[Any] = []
        while i < len(items):
            item = items[i]
            flag = syntax._flag(item) if isinstance(item, str) and item.startswith("-") else None
            if isinstance(item, str) and item in ("-q", "-query", "-e", "-edit") and flag is None:
                if item in ("-q", "-query"):
                    if not syntax.enableQuery:
                        raise maya_error("Invalid flag 'query': the command is not queryable")
                    self.isQuery = True
                else:
                    if not syntax.enableEdit:
                        raise maya_error("Invalid flag 'edit': the command is not editable")
                    self.isEdit = True
                i += 1
                continue
            if flag is None:
                is_flag = isinstance(item, str) and item.startswith("-") and len(item) > 1
                if is_flag and not item[1:2].isdigit() and item[1:2] != ".":
                    raise maya_error(f"Invalid flag '{item[1:]}'")
                positional.append(item)
                i += 1
                continue
            n = len(flag.types)
            takes_args = not self.isQuery or flag.query_with_args
            values = items[i + 1 : i + 1 + n] if takes_args else []
            if takes_args and len(values) < n:
                raise maya_error(f"Flag '{flag.long}' needs {n} argument(s)")
            uses = self._flags.setdefault(flag.long, [])
            if uses and not flag.multi_use:
                raise maya_error(f"Flag '{flag.long}' can only be used once")
            uses.append(values)
            i += 1 + len(values)
        self._command_args = positional[: len(syntax._args)]
        if len(self._command_args) < len(syntax._args):
            raise maya_error("Wrong number of arguments on the command")
        self._objects = [str(p) for p in positional[len(syntax._args) :]]
        if self._objects and syntax._object_type == MSyntax.kNone:
            raise maya_error(f"Too many arguments: {self._objects}")
        if syntax._object_type == MSyntax.kSelectionList:
            if not self._objects and syntax._selection_default:
                self._objects = [n.name for n in SCENE.selection]
            for name in self._objects:
                MSelectionList().add(name)  # raises for a missing object
        count = len(self._objects)
        if syntax._object_type != MSyntax.kNone and count < syntax._min_objects:
            raise maya_error(f"The command needs at least {syntax._min_objects} object(s)")
        if syntax._max_objects is not None and count > syntax._max_objects:
            raise maya_error(f"The command takes at most {syntax._max_objects} object(s)")

    @property
    def numberOfFlagsUsed(self) -> int:
        return len(self._flags)

    def _values(self, flagName: str, occurrence: int = 0) -> list[Any]:
        flag = self._syntax._flag(flagName)
        if flag is None or flag.long not in self._flags:
            raise maya_error(f"(kInvalidParameter): flag '{flagName}' is not set")
        return self._flags[flag.long][occurrence]

    def isFlagSet(self, flagName: str) -> bool:
        flag = self._syntax._flag(flagName)
        return flag is not None and flag.long in self._flags

    def numberOfFlagUses(self, flagName: str) -> int:
        flag = self._syntax._flag(flagName)
        return len(self._flags.get(flag.long, [])) if flag else 0

    def flagArgumentString(self, flagName: str, argIndex: int) -> str:
        return str(self._values(flagName)[argIndex])

    def flagArgumentInt(self, flagName: str, argIndex: int) -> int:
        return int(self._values(flagName)[argIndex])

    def flagArgumentDouble(self, flagName: str, argIndex: int) -> float:
        return float(self._values(flagName)[argIndex])

    def flagArgumentFloat(self, flagName: str, argIndex: int) -> float:
        return float(self._values(flagName)[argIndex])

    def flagArgumentBool(self, flagName: str, argIndex: int) -> bool:
        return _as_bool(self._values(flagName)[argIndex])

    def getFlagArgumentList(self, flagName: str, occurrence: int) -> MArgList:
        out = MArgList()
        for v in self._values(flagName, occurrence):
            out.addArg(v)
        return out

    def commandArgumentString(self, argIndex: int) -> str:
        return str(self._command_args[argIndex])

    def commandArgumentInt(self, argIndex: int) -> int:
        return int(self._command_args[argIndex])

    def commandArgumentDouble(self, argIndex: int) -> float:
        return float(self._command_args[argIndex])

    def commandArgumentFloat(self, argIndex: int) -> float:
        return float(self._command_args[argIndex])

    def commandArgumentBool(self, argIndex: int) -> bool:
        return _as_bool(self._command_args[argIndex])

    def getObjectStrings(self) -> tuple[str, ...]:
        return tuple(self._objects)


class MArgDatabase(MArgParser):
    def getObjectList(self) -> MSelectionList:
        sel = MSelectionList()
        for name in self._objects:
            sel.add(name)
        return sel

    def flagArgumentMSelectionList(self, flagName: str, argIndex: int) -> MSelectionList:
        return MSelectionList().add(self.flagArgumentString(flagName, argIndex))

    def commandArgumentMSelectionList(self, argIndex: int) -> MSelectionList:
        return MSelectionList().add(self.commandArgumentString(argIndex))


# --- plug-ins ---------------------------------------------------------------------------


class _Plugin:
    def __init__(self, name: str, path: str, module: Any) -> None:
        self.name, self.path, self.module = name, path, module
        self.vendor, self.version, self.api_version = "Unknown", "Unknown", "Any"
        self.node_types: list[str] = []
        self.commands: list[str] = []


class _Command:
    def __init__(self, name: str, creator: Callable[[], Any], syntax: Any, plugin: str) -> None:
        self.name, self.creator, self.syntax_creator, self.plugin = name, creator, syntax, plugin


PLUGINS: dict[str, _Plugin] = {}
COMMANDS: dict[str, _Command] = {}


class MFnPlugin(MFnBase):
    def __init__(
        self,
        obj: MObject | None = None,
        vendor: str = "Unknown",
        version: str = "Unknown",
        requiredApiVersion: str = "Any",
    ) -> None:
        super().__init__(obj)
        if obj is None or obj._kind != "plugin":
            raise maya_error("(kInvalidParameter): MFnPlugin needs the plug-in's MObject")
        self._plugin: _Plugin = obj._ref
        if vendor != "Unknown" or version != "Unknown":
            self._plugin.vendor, self._plugin.version = vendor, version
        self._plugin.api_version = requiredApiVersion

    @property
    def version(self) -> str:
        return self._plugin.version

    def name(self) -> str:
        return self._plugin.name

    def vendor(self) -> str:
        return self._plugin.vendor

    def apiVersion(self) -> str:
        return self._plugin.api_version

    def loadPath(self) -> str:
        return os.path.dirname(self._plugin.path)

    @staticmethod
    def findPlugin(name: str) -> MObject:
        plugin = PLUGINS.get(name)
        return MObject._of("plugin", plugin) if plugin else MObject()

    def registerNode(
        self,
        typeName: str,
        typeId: MTypeId,
        creator: Callable[[], MPxNode],
        initialize: Callable[[], Any],
        type: int = MPxNode.kDependNode,
        classification: str | None = None,
    ) -> None:
        if type != MPxNode.kDependNode:
            raise maya_error("The emulation supports MPxNode.kDependNode nodes only")
        if typeName in SCENE.types:
            raise maya_error(f"(kFailure): Node type '{typeName}' is already registered")
        if any(t.type_id == typeId.id() for t in SCENE.types.values()):
            raise maya_error(f"(kFailure): Type id {typeId} is already in use")
        ntype = _dg.NodeType(
            typeName, typeId.id(), creator, self._plugin.name, classification or ""
        )
        register_node_type(ntype, initialize)
        self._plugin.node_types.append(typeName)

    def deregisterNode(self, typeId: MTypeId) -> None:
        for ntype in list(SCENE.types.values()):
            if ntype.type_id == typeId.id() and ntype.plugin == self._plugin.name:
                del SCENE.types[ntype.name]
                self._plugin.node_types.remove(ntype.name)
                return
        raise maya_error(f"(kFailure): No node type with id {typeId} in this plug-in")

    def registerCommand(
        self, name: str, creator: Callable[[], MPxCommand], createSyntax: Any = None
    ) -> None:
        if name in COMMANDS:
            raise maya_error(f"(kFailure): Command '{name}' is already registered")
        COMMANDS[name] = _Command(name, creator, createSyntax, self._plugin.name)
        self._plugin.commands.append(name)

    def deregisterCommand(self, name: str) -> None:
        if COMMANDS.get(name) is None or COMMANDS[name].plugin != self._plugin.name:
            raise maya_error(f"(kFailure): Command '{name}' is not registered by this plug-in")
        del COMMANDS[name]
        self._plugin.commands.remove(name)


def register_node_type(ntype: _dg.NodeType, initialize: Callable[[], Any]) -> None:
    """Run the type's initializer (MPxNode.addAttribute/attributeAffects work only now)."""
    ntype.initializing = True
    _INITIALIZING.append(ntype)
    try:
        initialize()
    finally:
        _INITIALIZING.pop()
        ntype.initializing = False
    SCENE.types[ntype.name] = ntype


def create_node(type_name: str, name: str | None = None) -> Node:
    """Create a node (not yet in the scene): its MPxNode, compute hook and postConstructor."""
    node = SCENE.new_node(type_name, name)
    if node.type.factory is not None:
        user = node.type.factory()
        user._emu_node = node
        node.user = user
        node.evaluate_hook = lambda ref: user.compute(_wrap_plug(ref), MDataBlock(node))
        user.postConstructor()
    return node


# --- dependency node function set and modifier ------------------------------------------


class MFnDependencyNode(MFnBase):
    kLocalDynamicAttr, kNormalAttr, kExtensionAttr, kInvalidAttr = 0, 1, 2, 3
    kTimerOff, kTimerOn, kTimerUninitialized, kTimerInvalidState = 0, 1, 2, 3
    kTimerMetric_callback, kTimerMetric_compute, kTimerMetric_dirty = 0, 1, 2
    kTimerMetric_draw, kTimerMetric_fetch = 3, 4
    kTimerType_self, kTimerType_inclusive, kTimerType_count = 0, 1, 2

    def _n(self) -> Node:
        if self._obj._kind != "node" or not self._obj._ref.alive:
            raise maya_error("(kInvalidParameter): Object is not a live dependency node")
        node: Node = self._obj._ref
        return node

    def create(self, type: str | MTypeId, name: str | None = None) -> MObject:
        type_name = type if isinstance(type, str) else _type_name(type)
        node = create_node(type_name, name)
        SCENE.insert(node)
        self._obj = MObject._of("node", node)
        return self._obj

    def name(self) -> str:
        return self._n().name

    def absoluteName(self) -> str:
        return ":" + self._n().name

    def setName(self, name: str, createNamespace: bool = False) -> str:
        return SCENE.rename(self._n(), name)

    @property
    def typeName(self) -> str:
        return self._n().type.name

    @property
    def typeId(self) -> MTypeId:
        return MTypeId(self._n().type.type_id)

    @property
    def pluginName(self) -> str:
        return self._n().type.plugin or ""

    @property
    def isDefaultNode(self) -> bool:
        return self._n().default_node

    @property
    def isLocked(self) -> bool:
        return False

    @property
    def isShared(self) -> bool:
        return False

    @property
    def isFromReferencedFile(self) -> bool:
        return False

    @property
    def namespace(self) -> str:
        return ""

    def userNode(self) -> MPxNode | None:
        return self._n().user  # type: ignore[no-any-return]

    def hasAttribute(self, name: str) -> bool:
        return self._n().attr(name) is not None

    def attribute(self, which: str | int) -> MObject:
        node = self._n()
        attr = node.all_attrs()[which] if isinstance(which, int) else node.attr(which)
        return MObject._of("attr", attr) if attr is not None else MObject()

    def attributeCount(self) -> int:
        return len(self._n().all_attrs())

    def findPlug(self, attribute: str | MObject, wantNetworkedPlug: bool) -> MPlug:
        node = self._n()
        attr = node.attr(attribute) if isinstance(attribute, str) else attribute._ref
        if attr is None:
            raise maya_error(f"(kInvalidParameter): No attribute '{attribute}' on '{node.name}'")
        return _wrap_plug(PlugRef(node, attr, None))

    def getConnections(self) -> MPlugArray:
        node = self._n()
        seen: list[PlugRef] = []
        for s, d in SCENE.connections(node):
            for p in (s, d):
                if p.node is node and p not in seen:
                    seen.append(p)
        return MPlugArray(_wrap_plug(p) for p in seen)

    def addAttribute(self, attr: MObject) -> MFnDependencyNode:
        _add_dynamic(self._n(), attr._ref)
        return self

    def removeAttribute(self, attr: MObject) -> MFnDependencyNode:
        _remove_dynamic(self._n(), attr._ref)
        return self

    # DG timers: per-node compute counting (dgtimer); only while the node's timer is on.
    def dgTimerOn(self) -> None:
        self._n().timer_on = True

    def dgTimerOff(self) -> None:
        self._n().timer_on = False

    def dgTimerReset(self) -> None:
        self._n().timer_computes = 0

    def dgTimerQueryState(self) -> int:
        return self.kTimerOn if self._n().timer_on else self.kTimerOff

    def dgTimer(self, timerMetric: int, timerType: int) -> float:
        node = self._n()
        if timerMetric == self.kTimerMetric_compute and timerType == self.kTimerType_count:
            return float(node.timer_computes)
        return 0.0


def _type_name(type_id: MTypeId) -> str:
    for ntype in SCENE.types.values():
        if ntype.type_id == type_id.id():
            return ntype.name
    raise maya_error(f"(kInvalidParameter): Unknown type id {type_id}")


def _add_dynamic(node: Node, attr: Attr) -> None:
    for a in attr.family():
        if node.attr(a.name) or (a.short and node.attr(a.short)):
            raise maya_error(f"Attribute '{a.name}' already exists on '{node.name}'")
        a.dynamic = True
    node.dynamic.append(attr)
    SCENE.fire("attr", node, _dg.ATTRIBUTE_ADDED, PlugRef(node, attr, None), None)


def _remove_dynamic(node: Node, attr: Attr) -> None:
    if attr not in node.dynamic:
        raise maya_error(f"'{attr.name}' is not a dynamic attribute of '{node.name}'")
    for src, dst in SCENE.connections(node):
        if attr in (src.attr, dst.attr, src.attr.parent, dst.attr.parent):
            SCENE.disconnect(src, dst)
    SCENE.fire("attr", node, _dg.ATTRIBUTE_REMOVED, PlugRef(node, attr, None), None)
    node.dynamic.remove(attr)
    for a in attr.family():
        node.values.pop(a, None)


class MDGModifier:
    """Queues DG edits; doIt performs the queued ones, undoIt reverts everything done."""

    def __init__(self) -> None:
        self._queue: list[Callable[[], _dg.Step]] = []
        self._done: list[_dg.Step] = []

    def _push(self, op: Callable[[], _dg.Step]) -> MDGModifier:
        self._queue.append(op)
        return self

    def createNode(self, type: str | MTypeId) -> MObject:
        node = create_node(type if isinstance(type, str) else _type_name(type))
        return self._created(node)

    def _created(self, node: Node) -> MObject:
        self._push(lambda: step_create(node))
        return MObject._of("node", node)

    def deleteNode(self, node: MObject) -> MDGModifier:
        return self._push(lambda: step_delete(node._ref))

    def renameNode(self, node: MObject, name: str) -> MDGModifier:
        return self._push(lambda: step_rename(node._ref, name))

    def connect(self, *args: Any) -> MDGModifier:
        src, dst = _two_plugs(args)
        return self._push(lambda: step_connect(src, dst))

    def disconnect(self, *args: Any) -> MDGModifier:
        src, dst = _two_plugs(args)
        return self._push(lambda: step_disconnect(src, dst))

    def _value(self, plug: MPlug, value: Any) -> MDGModifier:
        ref = plug._r()
        return self._push(lambda: step_set(ref, value))

    def newPlugValue(self, plug: MPlug, value: MObject) -> MDGModifier:
        return self._value(plug, _data_value(value))

    def newPlugValueBool(self, plug: MPlug, value: bool) -> MDGModifier:
        return self._value(plug, bool(value))

    def newPlugValueInt(self, plug: MPlug, value: int) -> MDGModifier:
        return self._value(plug, int(value))

    def newPlugValueShort(self, plug: MPlug, value: int) -> MDGModifier:
        return self._value(plug, int(value))

    def newPlugValueChar(self, plug: MPlug, value: int) -> MDGModifier:
        return self._value(plug, int(value))

    def newPlugValueDouble(self, plug: MPlug, value: float) -> MDGModifier:
        return self._value(plug, float(value))

    def newPlugValueFloat(self, plug: MPlug, value: float) -> MDGModifier:
        return self._value(plug, float(value))

    def newPlugValueString(self, plug: MPlug, value: str) -> MDGModifier:
        return self._value(plug, str(value))

    def newPlugValueMTime(self, plug: MPlug, value: MTime) -> MDGModifier:
        return self._value(plug, value.value)

    def addAttribute(self, node: MObject, attribute: MObject) -> MDGModifier:
        return self._push(lambda: step_add_attr(node._ref, attribute._ref))

    def removeAttribute(self, node: MObject, attribute: MObject) -> MDGModifier:
        return self._push(lambda: step_remove_attr(node._ref, attribute._ref))

    def pythonCommandToExecute(self, command: str | Callable[[], Any]) -> MDGModifier:
        def run() -> _dg.Step:
            captured: list[_dg.Step] = []
            SCENE.undo.capture.append(captured)
            try:
                if callable(command):
                    command()
                else:
                    exec(command, {"__name__": "__main__"})
            finally:
                SCENE.undo.capture.pop()

            def undo() -> None:
                for step in reversed(captured):
                    step.undo()

            def redo() -> None:
                for step in captured:
                    step.redo()

            return _dg.Step(undo, redo)

        return self._push(run)

    def doIt(self) -> MDGModifier:
        queue, self._queue = self._queue, []
        for op in queue:
            self._done.append(op())
        return self

    def undoIt(self) -> MDGModifier:
        for step in reversed(self._done):
            step.undo()
        self._queue = [functools.partial(_redo, s) for s in self._done]  # doIt redoes them
        self._done = []
        return self


def _redo(step: _dg.Step) -> _dg.Step:
    step.redo()
    return step


class MDagModifier(MDGModifier):
    def createNode(self, type: str | MTypeId, parent: MObject | None = None) -> MObject:
        return super().createNode(type)


def _two_plugs(args: tuple[Any, ...]) -> tuple[PlugRef, PlugRef]:
    if len(args) == 2:
        return args[0]._r(), args[1]._r()
    src_node, src_attr, dst_node, dst_attr = args
    return PlugRef(src_node._ref, src_attr._ref, None), PlugRef(dst_node._ref, dst_attr._ref, None)


# Undoable edits shared by cmds and MDGModifier: each performs itself and returns its Step.


def _remove(node: Node) -> None:
    SCENE.remove(node)


def step_create(node: Node) -> _dg.Step:
    SCENE.insert(node)
    return _dg.Step(lambda: _remove(node), lambda: SCENE.insert(node))


def step_delete(node: Node) -> _dg.Step:
    if node.default_node:
        raise maya_error(f"Cannot delete the default node '{node.name}'.")
    selected = node in SCENE.selection
    conns = SCENE.remove(node)

    def undo() -> None:
        SCENE.insert(node)
        for src, dst in conns:
            SCENE.connect(src, dst)
        if selected:
            SCENE.selection.append(node)

    return _dg.Step(undo, lambda: _remove(node))


def step_rename(node: Node, name: str) -> _dg.Step:
    old = node.name
    new = SCENE.rename(node, name)

    def undo() -> None:
        SCENE.rename(node, old)

    def redo() -> None:
        SCENE.rename(node, new)

    return _dg.Step(undo, redo)


def step_connect(src: PlugRef, dst: PlugRef, force: bool = False) -> _dg.Step:
    previous = SCENE.src_of.get(dst)
    if previous is not None and previous != src:
        if not force:
            raise maya_error(
                f"'{src.full()}' cannot be connected: '{dst.full()}' already has an incoming "
                f"connection from '{previous.full()}'."
            )
        SCENE.disconnect(previous, dst)
    if previous == src:
        SCENE.emit(_dg.K_WARNING, f"'{src.full()}' is already connected to '{dst.full()}'.")
        return _dg.Step(lambda: None, lambda: None)
    # Connecting an element creates it; undo removes what the connection created.
    created = [
        end
        for end in (src, dst)
        if end.index is not None and end.index not in end.node.values.get(end.attr, {})
    ]
    SCENE.connect(src, dst)

    def undo() -> None:
        SCENE.disconnect(src, dst)
        for end in created:
            end.node.values.get(end.attr, {}).pop(end.index, None)
        if previous is not None:
            SCENE.connect(previous, dst)

    def redo() -> None:
        if previous is not None:
            SCENE.disconnect(previous, dst)
        SCENE.connect(src, dst)

    return _dg.Step(undo, redo)


def step_disconnect(src: PlugRef, dst: PlugRef) -> _dg.Step:
    before = dst.node.stored(dst.attr, dst.index)
    SCENE.disconnect(src, dst)

    def undo() -> None:
        dst.node.store(dst.attr, dst.index, before)
        SCENE.connect(src, dst)

    return _dg.Step(undo, lambda: SCENE.disconnect(src, dst))


def step_set(ref: PlugRef, value: Any) -> _dg.Step:
    existed = (
        not ref.attr.array or ref.index is None or ref.index in ref.node.values.get(ref.attr, {})
    )
    before = ref.node.stored(ref.attr, ref.index)
    SCENE.set_value(ref, value)
    after = ref.node.stored(ref.attr, ref.index)

    def undo() -> None:
        SCENE.set_value(ref, before)
        if not existed:
            ref.node.values[ref.attr].pop(ref.index)

    return _dg.Step(undo, lambda: SCENE.set_value(ref, after))


def step_add_attr(node: Node, attr: Attr) -> _dg.Step:
    _add_dynamic(node, attr)
    return _dg.Step(lambda: _remove_dynamic(node, attr), lambda: _add_dynamic(node, attr))


def step_remove_attr(node: Node, attr: Attr) -> _dg.Step:
    values = {a: _dg.copy_value(node.values.get(a)) for a in attr.family() if a in node.values}
    conns = [
        (s, d)
        for s, d in SCENE.connections(node)
        if attr in (s.attr, d.attr, s.attr.parent, d.attr.parent)
    ]
    _remove_dynamic(node, attr)

    def undo() -> None:
        _add_dynamic(node, attr)
        node.values.update(values)
        for s, d in conns:
            SCENE.connect(s, d)

    return _dg.Step(undo, lambda: _remove_dynamic(node, attr))


def step_select(nodes: list[Node]) -> _dg.Step:
    before, after = list(SCENE.selection), list(nodes)
    SCENE.selection[:] = after
    return _dg.Step(
        lambda: SCENE.selection.__setitem__(slice(None), before),
        lambda: SCENE.selection.__setitem__(slice(None), after),
    )


# --- selection lists and MGlobal --------------------------------------------------------


class MSelectionList:
    kMergeNormal, kXORWithList, kRemoveFromList = 0, 1, 2

    def __init__(self, other: MSelectionList | None = None) -> None:
        self._items: list[Node | PlugRef] = list(other._items) if other is not None else []

    def add(self, item: Any, mergeWithExisting: bool = True) -> MSelectionList:
        found: list[Node | PlugRef]
        if isinstance(item, MObject):
            found = [item._ref]
        elif isinstance(item, MPlug):
            found = [item._r()]
        elif "." in str(item):
            found = [SCENE.parse_plug(str(item))]
        elif any(ch in str(item) for ch in "*?["):
            found = [n for name, n in SCENE.nodes.items() if fnmatch.fnmatchcase(name, str(item))]
            if not found:
                raise maya_error("(kInvalidParameter): Object does not exist")
        else:
            node = SCENE.nodes.get(str(item).lstrip("|"))
            if node is None:
                raise maya_error("(kInvalidParameter): Object does not exist")
            found = [node]
        for entry in found:
            if not mergeWithExisting or entry not in self._items:
                self._items.append(entry)
        return self

    def length(self) -> int:
        return len(self._items)

    def isEmpty(self) -> bool:
        return not self._items

    def clear(self) -> MSelectionList:
        self._items.clear()
        return self

    def copy(self, src: MSelectionList) -> MSelectionList:
        self._items = list(src._items)
        return self

    def remove(self, index: int) -> MSelectionList:
        del self._items[index]
        return self

    def merge(self, other: MSelectionList, strategy: int = 0) -> MSelectionList:
        for item in other._items:
            if strategy == self.kRemoveFromList:
                if item in self._items:
                    self._items.remove(item)
            elif item not in self._items:
                self._items.append(item)
        return self

    def hasItem(self, item: Any) -> bool:
        ref = item._ref if isinstance(item, MObject) else item._r()
        return ref in self._items

    def getDependNode(self, index: int) -> MObject:
        item = self._items[index]
        return MObject._of("node", item.node if isinstance(item, PlugRef) else item)

    def getPlug(self, index: int) -> MPlug:
        item = self._items[index]
        if not isinstance(item, PlugRef):
            raise maya_error("(kInvalidParameter): Item is not a plug")
        return _wrap_plug(item)

    def getSelectionStrings(self, index: int | None = None) -> list[str]:
        items = self._items if index is None else [self._items[index]]
        return [i.full() if isinstance(i, PlugRef) else i.name for i in items]


class MGlobal:
    kInteractive, kBatch, kLibraryApp, kBaseUIMode = 0, 1, 2, 3
    kReplaceList, kXORWithList, kAddToList, kRemoveFromList, kAddToHeadOfList = 0, 1, 2, 3, 4

    @staticmethod
    def displayInfo(msg: str) -> None:
        _display(_dg.K_INFO, msg)

    @staticmethod
    def displayWarning(msg: str) -> None:
        _display(_dg.K_WARNING, msg)

    @staticmethod
    def displayError(msg: str) -> None:
        _display(_dg.K_ERROR, msg)

    @staticmethod
    def mayaState() -> int:
        return int(_emulation.STATE["maya_state"])

    @staticmethod
    def mayaVersion() -> str:
        return "2025"

    @staticmethod
    def apiVersion() -> int:
        return 20250000

    @staticmethod
    def mayaName() -> str:
        return "Maya"

    @staticmethod
    def isUndoing() -> bool:
        return False

    @staticmethod
    def isRedoing() -> bool:
        return False

    @staticmethod
    def getActiveSelectionList(orderedSelectionIfAvailable: bool = False) -> MSelectionList:
        sel = MSelectionList()
        sel._items = list(SCENE.selection)
        return sel

    @staticmethod
    def setActiveSelectionList(selection: MSelectionList, listAdjustment: int = 0) -> None:
        nodes = [i.node if isinstance(i, PlugRef) else i for i in selection._items]
        if listAdjustment == MGlobal.kReplaceList:
            SCENE.selection[:] = nodes
        elif listAdjustment == MGlobal.kRemoveFromList:
            SCENE.selection[:] = [n for n in SCENE.selection if n not in nodes]
        else:
            SCENE.selection.extend(n for n in nodes if n not in SCENE.selection)

    @staticmethod
    def getSelectionListByName(name: str) -> MSelectionList:
        return MSelectionList().add(name)

    @staticmethod
    def selectByName(name: str, listAdjustment: int = 2) -> None:
        MGlobal.setActiveSelectionList(MSelectionList().add(name), listAdjustment)

    @staticmethod
    def clearSelectionList() -> None:
        SCENE.selection.clear()

    @staticmethod
    def isSelected(obj: MObject) -> bool:
        return obj._ref in SCENE.selection

    @staticmethod
    def deleteNode(obj: MObject) -> None:
        step_delete(obj._ref)

    @staticmethod
    def optionVarExists(name: str) -> bool:
        from maya import cmds

        return bool(cmds.optionVar(exists=name))

    @staticmethod
    def optionVarIntValue(name: str) -> int:
        from maya import cmds

        return int(cmds.optionVar(q=name) or 0)

    @staticmethod
    def optionVarDoubleValue(name: str) -> float:
        from maya import cmds

        return float(cmds.optionVar(q=name) or 0.0)

    @staticmethod
    def optionVarStringValue(name: str) -> str:
        from maya import cmds

        return str(cmds.optionVar(q=name) or "")

    @staticmethod
    def setOptionVarValue(name: str, value: Any) -> bool:
        from maya import cmds

        cmds._OPTION_VARS[name] = value
        return True

    @staticmethod
    def removeOptionVar(name: str) -> None:
        from maya import cmds

        cmds._OPTION_VARS.pop(name, None)


# --- messages ---------------------------------------------------------------------------


class MMessage:
    kDefaultAction, kDoNotDoAction, kDoAction = 0, 1, 2

    @staticmethod
    def removeCallback(id: int) -> None:
        if SCENE.callbacks.pop(int(id), None) is None:
            raise maya_error(f"(kInvalidParameter): No callback with id {id}")

    @staticmethod
    def removeCallbacks(ids: Iterable[int]) -> None:
        for cid in ids:
            MMessage.removeCallback(cid)

    @staticmethod
    def nodeCallbacks(node: MObject) -> list[int]:
        return [cid for cid, (_e, key, _f) in SCENE.callbacks.items() if key is node._ref]


class MCommandMessage(MMessage):
    kHistory, kDisplay, kInfo, kWarning, kError, kResult, kStackTrace = range(7)
    kMELProc, kMELCommand = 0, 1

    @staticmethod
    def addCommandOutputCallback(function: Callable[..., Any], clientData: Any = None) -> int:
        """function(message, messageType, clientData) for every line Maya reports."""
        return SCENE.add_callback(
            "output", None, lambda text, kind: function(text, kind, clientData)
        )


class MNodeMessage(MMessage):
    kConnectionMade, kConnectionBroken, kAttributeEval, kAttributeSet = 0x01, 0x02, 0x04, 0x08
    kAttributeLocked, kAttributeUnlocked, kAttributeAdded, kAttributeRemoved = (
        0x10,
        0x20,
        0x40,
        0x80,
    )
    kAttributeRenamed, kAttributeKeyable, kAttributeUnkeyable = 0x100, 0x200, 0x400
    kIncomingDirection, kAttributeArrayAdded, kAttributeArrayRemoved = 0x800, 0x1000, 0x2000
    kOtherPlugSet, kLast = 0x4000, 0x8000

    @staticmethod
    def addAttributeChangedCallback(
        node: MObject, function: Callable[..., Any], clientData: Any = None
    ) -> int:
        """function(msg, plug, otherPlug, clientData) on set/connect/disconnect/add/remove."""

        def adapter(msg: int, ref: PlugRef, other: PlugRef | None) -> None:
            function(msg, _wrap_plug(ref), _wrap_plug(other) if other else MPlug(), clientData)

        return SCENE.add_callback("attr", node._ref, adapter)

    @staticmethod
    def addNameChangedCallback(
        node: MObject, function: Callable[..., Any], clientData: Any = None
    ) -> int:
        return SCENE.add_callback(
            "renamed", node._ref, lambda n, old: function(MObject._of("node", n), old, clientData)
        )

    @staticmethod
    def addNodePreRemovalCallback(
        node: MObject, function: Callable[..., Any], clientData: Any = None
    ) -> int:
        return SCENE.add_callback(
            "removing", node._ref, lambda n: function(MObject._of("node", n), clientData)
        )


class MDGMessage(MMessage):
    @staticmethod
    def addNodeAddedCallback(
        function: Callable[..., Any], nodeType: str = "dependNode", clientData: Any = None
    ) -> int:
        def adapter(node: Node) -> None:
            if nodeType in ("dependNode", node.type.name):
                function(MObject._of("node", node), clientData)

        return SCENE.add_callback("added", None, adapter)


class MSceneMessage(MMessage):
    kSceneUpdate, kBeforeNew, kAfterNew, kBeforeImport, kAfterImport = 0, 1, 2, 3, 4
    kBeforeOpen, kAfterOpen, kBeforeFileRead, kAfterFileRead = 5, 6, 7, 8
    kBeforeSave, kAfterSave = 12, 13
    kMayaInitialized, kMayaExiting = 33, 34
    kBeforePluginLoad, kAfterPluginLoad, kBeforePluginUnload, kAfterPluginUnload = 46, 47, 48, 49

    @staticmethod
    def addCallback(message: int, function: Callable[..., Any], clientData: Any = None) -> int:
        return SCENE.add_callback(f"scene:{message}", None, lambda: function(clientData))

    @staticmethod
    def addStringArrayCallback(
        message: int, function: Callable[..., Any], clientData: Any = None
    ) -> int:
        return SCENE.add_callback(
            f"scene:{message}", None, lambda strings=(): function(list(strings), clientData)
        )


# --- images -----------------------------------------------------------------------------


class MImage:
    """RGBA pixels, bottom row first (Maya's image origin is the lower-left corner)."""

    kNoFormat, kHeightFieldBumpFormat, kNormalMapBumpFormat, kUnknownFormat = 0, 1, 2, 3
    kUnknown, kByte, kFloat = 0, 1, 2

    def __init__(self) -> None:
        self._width = self._height = 0
        self._type = MImage.kByte
        self._rgba = True
        self._buffer: Any = None

    def create(self, width: int, height: int, channels: int = 4, type: int = 1) -> MImage:
        if channels != 4:
            raise maya_error("The emulation's MImage supports 4 channels only")
        self._width, self._height, self._type = int(width), int(height), type
        ctype = ctypes.c_float if type == MImage.kFloat else ctypes.c_ubyte
        self._buffer = (ctype * (self._width * self._height * 4))()
        return self

    def release(self) -> MImage:
        self._width = self._height = 0
        self._buffer = None
        return self

    def getSize(self) -> tuple[int, int]:
        return self._width, self._height

    def pixelType(self) -> int:
        return self._type if self._buffer is not None else MImage.kUnknown

    def depth(self) -> int:
        return 4 * (4 if self._type == MImage.kFloat else 1)

    def isRGBA(self) -> bool:
        return self._rgba

    def setRGBA(self, rgba: bool) -> MImage:
        self._rgba = bool(rgba)
        return self

    def haveDepth(self) -> bool:
        return False

    def _bytes_buffer(self) -> Any:
        if self._buffer is None or self._type != MImage.kByte:
            raise maya_error("(kFailure): The image has no byte pixels")
        return self._buffer

    def pixels(self) -> int:
        """The address of the first pixel (use ctypes.string_at(address, w * h * 4))."""
        return ctypes.addressof(self._bytes_buffer())

    def floatPixels(self) -> int:
        if self._buffer is None or self._type != MImage.kFloat:
            raise maya_error("(kFailure): The image has no float pixels")
        return ctypes.addressof(self._buffer)

    def setPixels(self, pixels: Any, width: int, height: int) -> MImage:
        size = int(width) * int(height) * 4
        data = ctypes.string_at(pixels, size) if isinstance(pixels, int) else bytes(pixels)[:size]
        if len(data) != size:
            raise maya_error("(kInvalidParameter): Not enough pixel data")
        self.create(width, height)
        ctypes.memmove(self._buffer, data, size)
        return self

    def _rows_top_first(self) -> bytes:
        data, row = bytes(self._bytes_buffer()), self._width * 4
        return b"".join(data[y * row : (y + 1) * row] for y in reversed(range(self._height)))

    def verticalFlip(self) -> MImage:
        flipped = self._rows_top_first()
        ctypes.memmove(self._buffer, flipped, len(flipped))
        return self

    def readFromFile(self, pathname: str, type: int = 1) -> MImage:
        from PIL import Image

        try:
            with Image.open(pathname) as img:
                rgba = img.convert("RGBA")
        except Exception as exc:
            raise maya_error(f"(kFailure): Unable to read image '{pathname}'") from exc
        self.setPixels(rgba.transpose(Image.Transpose.FLIP_TOP_BOTTOM).tobytes(), *rgba.size)
        self._rgba = True
        return self

    def readFromTextureNode(self, fileTextureObject: MObject, type: int = 1) -> MImage:
        node: Node = fileTextureObject._ref
        path = SCENE.read(PlugRef(node, node.attr("fileTextureName"), None))  # type: ignore[arg-type]
        return self.readFromFile(str(path or ""))

    def writeToFile(self, pathname: str, outputFormat: str = "iff") -> MImage:
        from PIL import Image

        fmt = {"jpg": "JPEG", "jpeg": "JPEG", "png": "PNG", "tif": "TIFF", "tiff": "TIFF"}.get(
            outputFormat.lower(), "BMP" if outputFormat.lower() == "bmp" else None
        )
        if fmt is None:
            raise maya_error(f"The emulation cannot write '{outputFormat}' images")
        img = Image.frombytes("RGBA", (self._width, self._height), self._rows_top_first())
        (img.convert("RGB") if fmt == "JPEG" else img).save(pathname, fmt)
        return self

    def resize(self, width: int, height: int, preserveAspectRatio: bool = True) -> MImage:
        from PIL import Image

        if preserveAspectRatio and self._width and self._height:
            scale = min(width / self._width, height / self._height)
            width, height = round(self._width * scale), round(self._height * scale)
        img = Image.frombytes("RGBA", (self._width, self._height), bytes(self._bytes_buffer()))
        return self.setPixels(img.resize((width, height)).tobytes(), width, height)


from maya import _nodes  # noqa: E402  (built-in node types are defined with this API)

_nodes.register_builtins()
if not SCENE.nodes:
    _nodes.populate_default_nodes()
