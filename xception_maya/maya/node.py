"""The ``xceptionClassifier`` dependency node (Python API 2.0).

Inputs name an image (a file, usually from a file node's ``computedFileTextureNamePattern``,
or raw pixels written by ``xceptionCapture``) and how to classify it; outputs are the top
labels and scores, every class score as a connectable multi, and the 2048-d features.

compute() never raises into Maya: a bad input gives empty outputs, the reason in ``status``
and one warning per cause (not one per evaluation). The network runs only when the image or
the model settings change; ``topK`` and the head re-read the feature cache.

compute() may run on an Evaluation Manager worker thread, where Maya's commands, MEL and UI
raise: it reads only its data block and calls only the core and API function sets; its
warnings go through ``feedback.warn_from_any_thread`` (shown from the main thread).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import maya.api.OpenMaya as om
import numpy as np

from .. import images, texture_paths
from ..errors import XceptionMayaError
from . import feedback
from .classifiers import classifier_for
from .settings import DEVICES

TYPE_NAME = "xceptionClassifier"
# Autodesk reserves 0x00000000-0x0007FFFF for site-internal plug-ins (no registration).
# Scenes saved as .mb store this id; a studio whose ids clash sets XCEPTION_MAYA_TYPE_ID
# (hex) once, before any scene with the node is saved. See README "Node type id".
DEFAULT_TYPE_ID = 0x0007_0A00
MAX_TOP_K = 50


def type_id() -> om.MTypeId:
    value = os.environ.get("XCEPTION_MAYA_TYPE_ID")
    number = int(value, 16) if value else DEFAULT_TYPE_ID
    if not 0 <= number <= 0x0007_FFFF:
        raise ValueError(f"XCEPTION_MAYA_TYPE_ID {value} is outside 0x0-0x7FFFF")
    return om.MTypeId(number)


class XceptionClassifierNode(om.MPxNode):
    # Inputs
    imageFile: om.MObject
    colorSpace: om.MObject
    frame: om.MObject
    pixels: om.MObject
    pixelWidth: om.MObject
    pixelHeight: om.MObject
    topK: om.MObject
    head: om.MObject
    device: om.MObject
    enable: om.MObject
    # Outputs
    labels: om.MObject
    scores: om.MObject
    topLabel: om.MObject
    topScore: om.MObject
    topIndex: om.MObject
    classNames: om.MObject
    classScores: om.MObject
    features: om.MObject
    status: om.MObject
    evalMs: om.MObject

    inputs: ClassVar[list[om.MObject]] = []
    outputs: ClassVar[list[om.MObject]] = []

    def __init__(self) -> None:
        super().__init__()
        self._warned: str | None = None  # the cause last warned about
        self._eval_ms = 0.0

    @staticmethod
    def creator() -> XceptionClassifierNode:
        return XceptionClassifierNode()

    @classmethod
    def initialize(cls) -> None:
        typed = om.MFnTypedAttribute()
        numeric = om.MFnNumericAttribute()
        enum = om.MFnEnumAttribute()

        def string_in(long: str, short: str, filename: bool = False) -> om.MObject:
            attr: om.MObject = typed.create(
                long, short, om.MFnData.kString, om.MFnStringData().create("")
            )
            typed.usedAsFilename = filename
            return attr

        cls.imageFile = string_in("imageFile", "if", filename=True)
        cls.colorSpace = string_in("colorSpace", "cs")
        cls.head = string_in("head", "hd")
        cls.frame = numeric.create("frame", "fr", om.MFnNumericData.kDouble, 1.0)
        # A default value, so an unset input reads as an empty array, not as no data.
        cls.pixels = typed.create(
            "pixels", "px", om.MFnData.kDoubleArray, om.MFnDoubleArrayData().create()
        )
        typed.storable = False  # captures are re-made on demand, not saved in the scene
        cls.pixelWidth = numeric.create("pixelWidth", "pw", om.MFnNumericData.kInt, 0)
        numeric.setMin(0)
        cls.pixelHeight = numeric.create("pixelHeight", "ph", om.MFnNumericData.kInt, 0)
        numeric.setMin(0)
        cls.topK = numeric.create("topK", "tk", om.MFnNumericData.kInt, 5)
        numeric.setMin(1)
        numeric.setMax(MAX_TOP_K)
        cls.enable = numeric.create("enable", "en", om.MFnNumericData.kBoolean, True)
        cls.device = enum.create("device", "dv", 0)
        for index, name in enumerate(DEVICES):
            enum.addField(name, index)
        cls.inputs = [
            cls.imageFile, cls.colorSpace, cls.frame, cls.pixels, cls.pixelWidth,
            cls.pixelHeight, cls.topK, cls.head, cls.device, cls.enable,
        ]  # fmt: skip

        def output(attr: om.MObject, fn: om.MFnAttribute) -> om.MObject:
            fn.writable = False
            fn.storable = False
            return attr

        cls.labels = output(typed.create("labels", "lb", om.MFnData.kStringArray), typed)
        cls.scores = output(typed.create("scores", "sc", om.MFnData.kDoubleArray), typed)
        cls.topLabel = output(typed.create("topLabel", "tl", om.MFnData.kString), typed)
        cls.topScore = output(
            numeric.create("topScore", "ts", om.MFnNumericData.kDouble, 0.0), numeric
        )
        cls.topIndex = output(numeric.create("topIndex", "ti", om.MFnNumericData.kInt, -1), numeric)
        cls.classNames = output(typed.create("classNames", "cn", om.MFnData.kStringArray), typed)
        cls.classScores = numeric.create("classScores", "cls", om.MFnNumericData.kDouble, 0.0)
        numeric.array = True
        numeric.usesArrayDataBuilder = True
        output(cls.classScores, numeric)
        cls.features = output(typed.create("features", "ft", om.MFnData.kDoubleArray), typed)
        cls.status = output(typed.create("status", "st", om.MFnData.kString), typed)
        cls.evalMs = output(numeric.create("evalMs", "ms", om.MFnNumericData.kDouble, 0.0), numeric)
        cls.outputs = [
            cls.labels, cls.scores, cls.topLabel, cls.topScore, cls.topIndex, cls.classNames,
            cls.classScores, cls.features, cls.status, cls.evalMs,
        ]  # fmt: skip

        for attr in cls.inputs + cls.outputs:
            cls.addAttribute(attr)
        for source in cls.inputs:
            for target in cls.outputs:
                cls.attributeAffects(source, target)

    # The stubs declare compute as returning Self; Maya's contract is None ("not my plug"
    # or done), so the override's signature differs from the stub on purpose.
    def compute(self, plug: om.MPlug, data: om.MDataBlock) -> None:
        if plug.attribute() not in self.outputs:
            return None  # not my plug: Maya handles it
        try:
            result = self._evaluate(data)
        except Exception as exc:  # nothing may escape into Maya's evaluation
            result = Result(status=f"error: {type(exc).__name__}: {exc}")
        self._write(data, result)
        self._warn_once(result.status)
        return None

    def _evaluate(self, data: om.MDataBlock) -> Result:
        if not data.inputValue(self.enable).asBool():
            return Result(status="disabled")
        head = data.inputValue(self.head).asString().strip()
        device = DEVICES[data.inputValue(self.device).asShort()]
        top_k = data.inputValue(self.topK).asInt()
        try:
            clf = classifier_for(head, device)
            source = self._source(data)
            if source is None:
                return Result(status="no image: set imageFile, or capture pixels")
            runs = clf.engine.runs
            start = time.perf_counter()
            color_space = data.inputValue(self.colorSpace).asString().strip() or None
            prediction = clf.classify([source], top_k, color_space)[0]
            if clf.engine.runs != runs:  # the network ran: not a cache hit
                self._eval_ms = (time.perf_counter() - start) * 1000
        except XceptionMayaError as exc:
            return Result(status=str(exc))
        if prediction.error:
            return Result(status=prediction.error)
        return Result(
            status="ok",
            labels=prediction.labels,
            scores=prediction.scores,
            indices=prediction.indices,
            class_names=clf.labels,
            class_scores=[]
            if prediction.class_scores is None
            else prediction.class_scores.tolist(),
            features=[] if prediction.features is None else prediction.features.tolist(),
        )

    def _source(self, data: om.MDataBlock) -> str | np.ndarray | None:
        pattern = data.inputValue(self.imageFile).asString().strip()
        if pattern:
            frame = data.inputValue(self.frame).asDouble()
            return str(texture_paths.resolve(pattern, frame))
        values = om.MFnDoubleArrayData(data.inputValue(self.pixels).data()).array()
        if len(values) == 0:
            return None
        width = data.inputValue(self.pixelWidth).asInt()
        height = data.inputValue(self.pixelHeight).asInt()
        return images.pixels_to_image(np.asarray(values, dtype=np.float64), width, height)

    def _write(self, data: om.MDataBlock, r: Result) -> None:
        _set_strings(data.outputValue(self.labels), r.labels)
        _set_doubles(data.outputValue(self.scores), r.scores)
        data.outputValue(self.topLabel).setString(r.labels[0] if r.labels else "")
        data.outputValue(self.topScore).setDouble(r.scores[0] if r.scores else 0.0)
        data.outputValue(self.topIndex).setInt(r.indices[0] if r.indices else -1)
        _set_strings(data.outputValue(self.classNames), r.class_names)
        _set_doubles(data.outputValue(self.features), r.features)
        data.outputValue(self.status).setString(r.status)
        data.outputValue(self.evalMs).setDouble(self._eval_ms)

        handle = data.outputArrayValue(self.classScores)
        builder = om.MArrayDataBuilder(data, self.classScores, len(r.class_scores))
        for index, score in enumerate(r.class_scores):
            builder.addElement(index).setDouble(score)
        handle.set(builder)
        handle.setAllClean()
        for attr in self.outputs:
            data.setClean(attr)

    def _warn_once(self, status: str) -> None:
        if status in ("ok", "disabled") or status.startswith("no image"):
            self._warned = None
            return
        if status != self._warned:
            self._warned = status
            name = om.MFnDependencyNode(self.thisMObject()).name()
            feedback.warn_from_any_thread(f"{name}: {status}")


@dataclass
class Result:
    """Everything compute writes; empty unless status is "ok"."""

    status: str
    labels: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    class_names: list[str] = field(default_factory=list)
    class_scores: list[float] = field(default_factory=list)
    features: list[float] = field(default_factory=list)


def _set_strings(handle: om.MDataHandle, values: Sequence[str]) -> None:
    handle.setMObject(om.MFnStringArrayData().create(list(values)))
    handle.setClean()


def _set_doubles(handle: om.MDataHandle, values: Sequence[float]) -> None:
    handle.setMObject(om.MFnDoubleArrayData().create(om.MDoubleArray(list(values))))
    handle.setClean()
