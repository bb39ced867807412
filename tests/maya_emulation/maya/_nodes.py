"""Maya's built-in node types that the tests need, defined with the emulated API itself.

Attribute long/short names and defaults follow Maya's node reference. Only what is listed
here exists; e.g. ``file`` has no colour management, ``ramp`` has no editable entries.
Texture sampling (used by ``cmds.colorAtPoint``) is in ``SAMPLERS``; formulas are in README.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable
from typing import Any

from maya import _dg, _emulation
from maya._dg import SCENE, Node, PlugRef

Color = tuple[float, float, float, float]


def _om() -> Any:
    from maya.api import OpenMaya

    return OpenMaya


def _code(text: str) -> int:
    return int.from_bytes(text.encode("ascii"), "big")


def _color(name: str, short: str, value: tuple[float, float, float], output: bool = False) -> Any:
    om = _om()
    fn = om.MFnNumericAttribute()
    attr = fn.createColor(name, short)
    fn.default = value
    if output:
        fn.writable, fn.storable = False, False
    return attr


def _number(name: str, short: str, kind: int, value: Any, output: bool = False) -> Any:
    om = _om()
    fn = om.MFnNumericAttribute()
    attr = fn.create(name, short, kind, value)
    if output:
        fn.writable, fn.storable = False, False
    return attr


def _string(name: str, short: str, value: str | None = None, output: bool = False) -> Any:
    om = _om()
    fn = om.MFnTypedAttribute()
    default = om.MFnStringData().create(value) if value is not None else om.MObject.kNullObj
    attr = fn.create(name, short, om.MFnData.kString, default)
    if output:
        fn.writable, fn.storable = False, False
    return attr


def _enum(name: str, short: str, fields: list[str], value: int = 0) -> Any:
    om = _om()
    fn = om.MFnEnumAttribute()
    attr = fn.create(name, short, value)
    for i, field in enumerate(fields):
        fn.addField(field, i)
    return attr


def _message(name: str, short: str, multi: bool = False) -> Any:
    om = _om()
    fn = om.MFnMessageAttribute()
    attr = fn.create(name, short)
    fn.array = multi
    if multi:
        fn.indexMatters = False
    return attr


def _add(*attrs: Any) -> None:
    for attr in attrs:
        _om().MPxNode.addAttribute(attr)


def _affects(inputs: list[Any], outputs: list[Any]) -> None:
    for i in inputs:
        for o in outputs:
            _om().MPxNode.attributeAffects(i, o)


def _uv_attr() -> Any:
    om = _om()
    f = om.MFnNumericData
    fn = om.MFnCompoundAttribute()
    uv = fn.create("uvCoord", "uv")
    fn.addChild(_number("uCoord", "u", f.kFloat, 0.0))
    fn.addChild(_number("vCoord", "v", f.kFloat, 0.0))
    return uv


# --- node classes -------------------------------------------------------------------------


def _base_initialize() -> None:
    _add(_message("message", "msg"))


class _Texture:
    """Mixin: outColor/outAlpha are the texture's mean over UV [0,1]^2 (see README)."""

    outColor: Any = None
    outAlpha: Any = None

    def compute(self, plug: Any, block: Any) -> Any:
        attr = plug.attribute()
        if attr != self.outColor and attr != self.outAlpha and not _is_child(plug, self.outColor):
            return None
        node = self._node()  # type: ignore[attr-defined]
        r, g, b, a = _mean_color(node)
        block.outputValue(self.outColor).set3Float(r, g, b)
        block.outputValue(self.outAlpha).setFloat(a)
        block.setClean(self.outColor)
        block.setClean(self.outAlpha)
        return None


def _is_child(plug: Any, parent: Any) -> bool:
    return bool(plug.isChild and plug.parent() == parent)


def _mean_color(node: Node) -> Color:
    sampler = SAMPLERS[node.type.name]
    n = 8
    samples = [sampler(node, (i + 0.5) / n, (j + 0.5) / n) for i in range(n) for j in range(n)]
    return tuple(sum(s[k] for s in samples) / len(samples) for k in range(4))  # type: ignore[return-value]


def _make_texture_type(
    type_name: str, extra: Callable[[type], list[Any]]
) -> tuple[type, Callable[[], None]]:
    om = _om()

    class TextureNode(_Texture, om.MPxNode):  # type: ignore[name-defined,misc]
        pass

    TextureNode.__name__ = type_name

    def initialize() -> None:
        f = om.MFnNumericData
        _base_initialize()
        TextureNode.outColor = _color("outColor", "oc", (0.0, 0.0, 0.0), output=True)
        TextureNode.outAlpha = _number("outAlpha", "oa", f.kFloat, 0.0, output=True)
        inputs = [*extra(TextureNode), _uv_attr()]
        _add(*inputs, TextureNode.outColor, TextureNode.outAlpha)
        _affects(inputs, [TextureNode.outColor, TextureNode.outAlpha])

    return TextureNode, initialize


def _checker_attrs(cls: type) -> list[Any]:
    f = _om().MFnNumericData
    return [
        _color("color1", "c1", (1.0, 1.0, 1.0)),
        _color("color2", "c2", (0.0, 0.0, 0.0)),
        _number("contrast", "ct", f.kFloat, 1.0),
        _color("defaultColor", "dc", (0.5, 0.5, 0.5)),
    ]


def _ramp_attrs(cls: type) -> list[Any]:
    return [
        _enum("type", "t", ["V Ramp", "U Ramp", "Diagonal Ramp", "Radial Ramp"], 0),
        _enum("interpolation", "in", ["None", "Linear", "Exponential Up"], 1),
        _color("defaultColor", "dc", (0.5, 0.5, 0.5)),
    ]


def _file_attrs(cls: type) -> list[Any]:
    om = _om()
    f = om.MFnNumericData
    name = _string("fileTextureName", "ftn", "")
    om.MFnAttribute(name).usedAsFilename = True
    cls.fileTextureName = name  # type: ignore[attr-defined]
    cls.pattern = _string("computedFileTextureNamePattern", "cfnp", "", output=True)  # type: ignore[attr-defined]
    cls.outSize = _size_attr()  # type: ignore[attr-defined]
    cls.fileHasAlpha = _number("fileHasAlpha", "fha", f.kBoolean, False, output=True)  # type: ignore[attr-defined]
    tiling = _enum("uvTilingMode", "uvt", ["Off", "ZBrush", "Mudbox", "UDIM (Mari)", "Explicit"])
    extra = [
        _number("frameExtension", "fe", f.kInt, 1),
        _number("useFrameExtension", "ufe", f.kBoolean, False),
        _string("colorSpace", "cs", "sRGB"),
        tiling,
        _color("defaultColor", "dc", (0.5, 0.5, 0.5)),
    ]
    outputs = [cls.pattern, cls.outSize, cls.fileHasAlpha]  # type: ignore[attr-defined]
    _add(*outputs)
    _affects([name, tiling], outputs)
    return [name, *extra]


def _size_attr() -> Any:
    om = _om()
    fn = om.MFnNumericAttribute()
    attr = fn.create("outSize", "os", om.MFnNumericData.k2Float, 0.0)
    fn.writable, fn.storable = False, False
    for child, suffix in zip(attr._ref.children, "XY", strict=True):
        child.name, child.short = "outSize" + suffix, "os" + suffix.lower()
    return attr


def _file_compute(self: Any, plug: Any, block: Any) -> Any:
    attr = plug.attribute()
    node: Node = self._node()
    path = block.inputValue(self.fileTextureName).asString()
    if attr == self.pattern:
        tiling = block.inputValue(_attr_obj(node, "uvTilingMode")).asInt()
        pattern = path
        if tiling == 3 and "<UDIM>" not in path:
            pattern = re.sub(r"(?<=[._])1\d{3}(?=[._])", "<UDIM>", path, count=1)
        block.outputValue(self.pattern).setString(pattern)
        block.setClean(self.pattern)
        return None
    if attr == self.outSize or _is_child(plug, self.outSize) or attr == self.fileHasAlpha:
        image = _image(path)
        w, h = (image[0], image[1]) if image else (0, 0)
        block.outputValue(self.outSize).set2Float(float(w), float(h))
        block.outputValue(self.fileHasAlpha).setBool(bool(image and image[3]))
        block.setClean(self.outSize)
        block.setClean(self.fileHasAlpha)
        return None
    return _Texture.compute(self, plug, block)


def _attr_obj(node: Node, name: str) -> Any:
    return _om().MObject._of("attr", node.attr(name))


class _Simple:
    """A node type with no compute: its attributes only store values."""


def _place2d_initialize() -> None:
    om = _om()
    f = om.MFnNumericData
    _base_initialize()
    fn = om.MFnCompoundAttribute()
    repeat = fn.create("repeatUV", "re")
    fn.addChild(_number("repeatU", "reu", f.kFloat, 1.0))
    fn.addChild(_number("repeatV", "rev", f.kFloat, 1.0))
    fn = om.MFnCompoundAttribute()
    offset = fn.create("offset", "of")
    fn.addChild(_number("offsetU", "ofu", f.kFloat, 0.0))
    fn.addChild(_number("offsetV", "ofv", f.kFloat, 0.0))
    fn = om.MFnCompoundAttribute()
    out_uv = fn.create("outUV", "ouv")
    fn.addChild(_number("outU", "ou", f.kFloat, 0.0))
    fn.addChild(_number("outV", "ov", f.kFloat, 0.0))
    _add(repeat, offset, _uv_attr(), out_uv)


def _shader_initialize(color: str, color_short: str, weight: str, weight_short: str) -> Callable:
    def initialize() -> None:
        om = _om()
        f = om.MFnNumericData
        _base_initialize()
        _add(
            _color(color, color_short, (0.5, 0.5, 0.5)),
            _number(weight, weight_short, f.kFloat, 0.8),
            _color("transparency", "it", (0.0, 0.0, 0.0)),
            _color("outColor", "oc", (0.0, 0.0, 0.0), output=True),
        )

    return initialize


def _standard_surface_initialize() -> None:
    om = _om()
    f = om.MFnNumericData
    _base_initialize()
    _add(
        _number("base", "b", f.kFloat, 1.0),
        _color("baseColor", "bc", (0.8, 0.8, 0.8)),
        _number("specular", "s", f.kFloat, 1.0),
        _number("metalness", "m", f.kFloat, 0.0),
        _color("outColor", "oc", (0.0, 0.0, 0.0), output=True),
    )


def _transform_initialize() -> None:
    om = _om()
    f = om.MFnNumericData
    _base_initialize()
    attrs = []
    for name, short, value in (("translate", "t", 0.0), ("rotate", "r", 0.0), ("scale", "s", 1.0)):
        fn = om.MFnNumericAttribute()
        attr = fn.create(name, short, f.k3Double, value)
        fn.keyable = True
        for child, suffix in zip(attr._ref.children, "XYZ", strict=True):
            child.name, child.short = name + suffix, short + suffix.lower()
        attrs.append(attr)
    fn = om.MFnNumericAttribute()
    visibility = fn.create("visibility", "v", f.kBoolean, True)
    fn.keyable = True
    _add(*attrs, visibility, _message("instObjGroups", "iog", multi=True))


def _object_set_initialize() -> None:
    _base_initialize()
    _add(
        _message("dagSetMembers", "dsm", multi=True),
        _message("dnSetMembers", "dnsm", multi=True),
        _string("annotation", "an"),
    )


def _time_initialize() -> None:
    om = _om()
    _base_initialize()
    _add(_number("outTime", "o", om.MFnNumericData.kDouble, 1.0))


# --- texture sampling (cmds.colorAtPoint) ---------------------------------------------------


def _read(node: Node, name: str) -> Any:
    attr = node.attr(name)
    assert attr is not None
    return SCENE.read(PlugRef(node, attr, None))


def _place(node: Node, u: float, v: float) -> tuple[float, float]:
    """Apply the place2dTexture driving uvCoord (repeatUV and offset only)."""
    uv = node.attr("uvCoord")
    assert uv is not None
    source = SCENE.src_of.get(PlugRef(node, uv, None))
    if source is not None and source.node.type.name == "place2dTexture":
        place = source.node
        ru, rv = _read(place, "repeatUV")
        ou, ov = _read(place, "offset")
        return u * ru + ou, v * rv + ov
    return u, v


def _wrap(x: float) -> float:
    f = x % 1.0
    return 1.0 if f == 0.0 and x > 0 else f


def _cell(x: float) -> int:
    """Which of the checker's 4 cells along one axis x falls in (x = 1.0 is in the last)."""
    return min(int(_wrap(x) * 4), 3)


def _checker(node: Node, u: float, v: float) -> Color:
    u, v = _place(node, u, v)
    c1, c2 = _read(node, "color1"), _read(node, "color2")
    contrast = _read(node, "contrast")
    mean = [(a + b) / 2 for a, b in zip(c1, c2, strict=True)]
    cell = _cell(u) + _cell(v)
    chosen = c1 if cell % 2 == 0 else c2
    r, g, b = (m + contrast * (c - m) for m, c in zip(mean, chosen, strict=True))
    return (r, g, b, 1.0)


_RAMP = [(0.0, (1.0, 0.0, 0.0)), (0.5, (0.0, 1.0, 0.0)), (1.0, (0.0, 0.0, 1.0))]


def _ramp(node: Node, u: float, v: float) -> Color:
    u, v = _place(node, u, v)
    t = _wrap(v)
    for (p0, c0), (p1, c1) in itertools.pairwise(_RAMP):
        if t <= p1:
            w = (t - p0) / (p1 - p0)
            r, g, b = (a + (b_ - a) * w for a, b_ in zip(c0, c1, strict=True))
            return (r, g, b, 1.0)
    return (*_RAMP[-1][1], 1.0)


_IMAGES: dict[tuple[str, float], tuple[int, int, bytes, bool]] = {}


def _image(path: str) -> tuple[int, int, bytes, bool] | None:
    """(width, height, RGBA bytes top row first, has alpha), or None if unreadable."""
    try:
        key = (path, os.path.getmtime(path))
    except OSError:
        return None
    if key not in _IMAGES:
        from PIL import Image

        try:
            with Image.open(path) as img:
                has_alpha = "A" in img.getbands()
                rgba = img.convert("RGBA")
        except Exception:
            return None
        _IMAGES[key] = (rgba.width, rgba.height, rgba.tobytes(), has_alpha)
    return _IMAGES[key]


def _file(node: Node, u: float, v: float) -> Color:
    u, v = _place(node, u, v)
    image = _image(str(_read(node, "fileTextureName") or ""))
    if image is None:
        return (*_read(node, "defaultColor"), 1.0)
    w, h, data, _alpha = image
    x = min(int(_wrap(u) * w), w - 1)
    y = min(int(_wrap(v) * h), h - 1)  # v = 0 is the bottom row of the image
    i = ((h - 1 - y) * w + x) * 4
    r, g, b, a = (c / 255.0 for c in data[i : i + 4])
    space = str(_read(node, "colorSpace") or "").lower()
    if _emulation.STATE["color_management"] and "srgb" in space and "linear" not in space:
        r, g, b = (_srgb_to_linear(c) for c in (r, g, b))  # into the rendering space
    return (r, g, b, a)


def _srgb_to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


SAMPLERS: dict[str, Callable[[Node, float, float], Color]] = {
    "checker": _checker,
    "ramp": _ramp,
    "file": _file,
}


# --- registration ---------------------------------------------------------------------------


def register_builtins() -> None:
    om = _om()
    checker, checker_init = _make_texture_type("checker", _checker_attrs)
    ramp, ramp_init = _make_texture_type("ramp", _ramp_attrs)
    file_node, file_init = _make_texture_type("file", _file_attrs)
    file_node.compute = _file_compute  # type: ignore[attr-defined]

    def plain(cls_name: str) -> type:
        return type(cls_name, (om.MPxNode,), {})

    types: list[tuple[str, str, Any, Callable[[], None], str, tuple[str, ...]]] = [
        ("checker", "RTCH", checker, checker_init, "texture/2d", ("node", "texture2d")),
        ("ramp", "RTRA", ramp, ramp_init, "texture/2d", ("node", "texture2d")),
        ("file", "RTFT", file_node, file_init, "texture/2d", ("node", "texture2d")),
        ("place2dTexture", "RPL2", plain("place2dTexture"), _place2d_initialize, "utility", ()),
        (
            "lambert",
            "RLAM",
            plain("lambert"),
            _shader_initialize("color", "c", "diffuse", "dc"),
            "shader/surface",
            ("node", "shadingDependNode"),
        ),
        (
            "standardSurface",
            "STSF",
            plain("standardSurface"),
            _standard_surface_initialize,
            "shader/surface",
            ("node", "shadingDependNode"),
        ),
        ("transform", "XFRM", plain("transform"), _transform_initialize, "", ("containerBase",)),
        ("objectSet", "OBJS", plain("objectSet"), _object_set_initialize, "", ("entity",)),
        ("network", "NTWK", plain("network"), _base_initialize, "utility/general", ()),
        ("time", "TIME", plain("time"), _time_initialize, "", ()),
    ]
    for name, code, cls, init, classification, inherits in types:
        ntype = _dg.NodeType(name, _code(code), cls, None, classification)
        ntype.is_dag = name == "transform"
        ntype.inherits = ("node", *[i for i in inherits if i != "node"])
        om.register_node_type(ntype, init)


def populate_default_nodes() -> None:
    """The default nodes of a new scene that the tests rely on (Maya has many more)."""
    om = _om()
    for type_name, name in (("time", "time1"), ("lambert", "lambert1")):
        node = om.create_node(type_name, name)
        node.default_node = True
        SCENE.insert(node)
