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

Where the features come from, first found: the node's last background result, the shared
feature cache, the library index (``classifiers.indexed_features``: read only, never
written here), the network. With ``async`` on (the default in interactive Maya, off in
batch and mayapy so a farm render is deterministic) compute never waits for the network:
it writes the last result with status "running" and hands the work to
:mod:`.background`; when the features are ready, a deferred call on the main thread bumps
the hidden ``generation`` input, which dirties the outputs, and the next evaluation reads
them. ``evalMs`` is the time the features took (network or index), not the evaluation's.

``topLabel`` is "unknown" when the head says the image fits none of its classes;
``confident`` is False then, and ``confidence`` (0..1) says how well the image fits; a head
that cannot say unknown (a head file from before it) gives 1.0 and always ``confident``.

``model`` names a model imported with ``xception-maya import`` ("": Xception and ``head``):
its labels and scores replace the head's, it never says unknown (``confidence`` 1.0), its
``features`` are its features output (empty when it has none), and the library index is
not used for it (the index holds Xception features).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import maya.api.OpenMaya as om
import numpy as np

from .. import images, texture_paths
from ..classifier import Classifier, Prediction
from ..errors import XceptionMayaError
from ..precision import PRECISIONS
from . import background, feedback
from .classifiers import AnyClassifier, classifier_for, indexed_features, predict, vector_of
from .settings import DEVICES

TYPE_NAME = "xceptionClassifier"
# Autodesk reserves 0x00000000-0x0007FFFF for site-internal plug-ins (no registration).
# Scenes saved as .mb store this id; a studio whose ids clash sets XCEPTION_MAYA_TYPE_ID
# (hex) once, before any scene with the node is saved. See README "Node type id".
DEFAULT_TYPE_ID = 0x0007_0A00
MAX_TOP_K = 50
# The ``async`` attribute's default: the plug-in sets it on the main thread when it loads
# (MGlobal.mayaState), before registering the node; a scene stores async only where a user
# set it, so a file saved interactively evaluates synchronously on the farm.
async_default = False


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
    model: om.MObject
    device: om.MObject
    precision: om.MObject
    enable: om.MObject
    asyncMode: om.MObject
    generation: om.MObject  # hidden: bumped on the main thread when a result lands
    # Outputs
    labels: om.MObject
    scores: om.MObject
    topLabel: om.MObject
    topScore: om.MObject
    topIndex: om.MObject
    confident: om.MObject
    confidence: om.MObject
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
        self._last = Result(status="")  # what "running" shows until the new result lands
        self._slot = background.Slot()

    def postConstructor(self) -> None:
        # Main thread (node creation): the handle lets a landing result find the node, and
        # see that it was deleted.
        self._slot.handle = om.MObjectHandle(self.thisMObject())

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
        cls.model = string_in("model", "mdl")
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
        cls.precision = enum.create("precision", "pre", 0)
        for index, name in enumerate(PRECISIONS):  # fp32 first: the default, exact
            enum.addField(name, index)
        cls.asyncMode = numeric.create("async", "asy", om.MFnNumericData.kBoolean, async_default)
        cls.generation = numeric.create("generation", "gen", om.MFnNumericData.kInt, 0)
        numeric.storable = False
        numeric.hidden = True
        numeric.keyable = False
        cls.inputs = [
            cls.imageFile, cls.colorSpace, cls.frame, cls.pixels, cls.pixelWidth,
            cls.pixelHeight, cls.topK, cls.head, cls.model, cls.device, cls.precision,
            cls.enable, cls.asyncMode, cls.generation,
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
        cls.confident = output(
            numeric.create("confident", "cf", om.MFnNumericData.kBoolean, False), numeric
        )
        cls.confidence = output(
            numeric.create("confidence", "cfd", om.MFnNumericData.kDouble, 0.0), numeric
        )
        cls.classNames = output(typed.create("classNames", "cn", om.MFnData.kStringArray), typed)
        cls.classScores = numeric.create("classScores", "cls", om.MFnNumericData.kDouble, 0.0)
        numeric.array = True
        numeric.usesArrayDataBuilder = True
        output(cls.classScores, numeric)
        cls.features = output(typed.create("features", "ft", om.MFnData.kDoubleArray), typed)
        cls.status = output(typed.create("status", "st", om.MFnData.kString), typed)
        cls.evalMs = output(numeric.create("evalMs", "ms", om.MFnNumericData.kDouble, 0.0), numeric)
        cls.outputs = [
            cls.labels, cls.scores, cls.topLabel, cls.topScore, cls.topIndex, cls.confident,
            cls.confidence, cls.classNames, cls.classScores, cls.features, cls.status, cls.evalMs,
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
        model = data.inputValue(self.model).asString().strip()
        device = DEVICES[data.inputValue(self.device).asShort()]
        precision = PRECISIONS[data.inputValue(self.precision).asShort()]
        top_k = data.inputValue(self.topK).asInt()
        in_background = data.inputValue(self.asyncMode).asBool()
        data.inputValue(self.generation)  # read, so a landed result is what this evaluates
        try:
            clf = classifier_for(head, device, precision, model)
            source = self._source(data)
            if source is None:
                return Result(status="no image: set imageFile, or capture pixels")
            color_space = data.inputValue(self.colorSpace).asString().strip() or None
            key = clf.cache_key(source, color_space)
            landed = self._slot.outcome(key)
            if landed is not None:
                self._slot.settle(key)
                self._eval_ms = landed.eval_ms
                if landed.features is None:
                    return Result(status=landed.error or "error: no features")
                return _result(clf, predict(clf, landed.features, top_k, _name(source)))
            found = clf.cache.get(key)
            if found is None and in_background:
                if not self._slot.pending(key):  # asked again while it runs: do not rerun
                    run = functools.partial(features_of, clf, source, color_space, key)
                    background.submit(self._slot, key, run, self._landed)
                return dataclasses.replace(self._last, status="running")
            self._slot.settle(key)
            if found is None:
                start = time.perf_counter()
                outcome = features_of(clf, source, color_space, key)
                self._eval_ms = (time.perf_counter() - start) * 1000
                if isinstance(outcome, XceptionMayaError):
                    return Result(status=str(outcome))
                found = outcome
        except XceptionMayaError as exc:
            return Result(status=str(exc))
        return _result(clf, predict(clf, found, top_k, _name(source)))

    def _landed(self, epoch: int) -> None:
        """Main thread (executeDeferred): a background result is ready. Dirty the outputs by
        bumping ``generation`` (not undoable, as a compute result is not), unless the scene
        was closed, the plug-in unloaded or the node deleted since."""
        handle = self._slot.handle
        if not background.current(epoch) or handle is None or not handle.isValid():
            return
        try:
            plug = om.MPlug(handle.object(), self.generation)
            plug.setInt(plug.asInt() + 1)
        except RuntimeError:  # the node went away between the check and the set
            pass

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
        if r.status == "ok":
            self._last = r
        _set_strings(data.outputValue(self.labels), r.labels)
        _set_doubles(data.outputValue(self.scores), r.scores)
        data.outputValue(self.topLabel).setString(r.top_label)
        data.outputValue(self.topScore).setDouble(r.scores[0] if r.scores else 0.0)
        data.outputValue(self.topIndex).setInt(r.indices[0] if r.indices else -1)
        data.outputValue(self.confident).setBool(r.confident)
        data.outputValue(self.confidence).setDouble(r.confidence)
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
        if status == "running":
            return  # not a cause: the result that lands decides
        if status in ("ok", "disabled") or status.startswith("no image"):
            self._warned = None
            return
        if status != self._warned:
            self._warned = status
            name = om.MFnDependencyNode(self.thisMObject()).name()
            feedback.warn_from_any_thread(f"{name}: {status}")


def features_of(
    clf: AnyClassifier, source: str | np.ndarray, color_space: str | None, key: Hashable
) -> np.ndarray | XceptionMayaError:
    """What one source gives (``classifiers.vector_of``), from the library index (a file in
    it as it is now; Xception only) or the network; kept in the feature cache either way.
    Any thread; never calls Maya."""
    if isinstance(source, str) and isinstance(clf, Classifier):
        found = indexed_features(clf, source, color_space)
        if found is not None:
            clf.cache.put(key, found)
            return found
    return vector_of(clf, source, color_space)


def _name(source: str | np.ndarray) -> str:
    return "<pixels>" if isinstance(source, np.ndarray) else source


def _result(clf: AnyClassifier, p: Prediction) -> Result:
    return Result(
        status="ok",
        labels=p.labels,
        scores=p.scores,
        indices=p.indices,
        top_label=p.shown_label or "",
        confident=not p.unknown,
        confidence=1.0 if p.confidence is None else p.confidence,
        class_names=clf.labels,
        class_scores=[] if p.class_scores is None else p.class_scores.tolist(),
        features=[] if p.features is None else p.features.tolist(),
    )


@dataclass
class Result:
    """Everything compute writes; empty unless status is "ok" (or "running": the last)."""

    status: str
    labels: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    top_label: str = ""  # "unknown" where the head says nothing fits
    confident: bool = False
    confidence: float = 0.0  # 1.0 for a head that cannot say unknown
    class_names: list[str] = field(default_factory=list)
    class_scores: list[float] = field(default_factory=list)
    features: list[float] = field(default_factory=list)


def _set_strings(handle: om.MDataHandle, values: Sequence[str]) -> None:
    handle.setMObject(om.MFnStringArrayData().create(list(values)))
    handle.setClean()


def _set_doubles(handle: om.MDataHandle, values: Sequence[float]) -> None:
    handle.setMObject(om.MFnDoubleArrayData().create(om.MDoubleArray(list(values))))
    handle.setClean()
