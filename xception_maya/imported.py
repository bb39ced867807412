"""Imported ONNX image models: checked once when imported, then run with their own input.

:func:`import_model` checks an ONNX classifier (one 4-D float input with 3 channels in the
declared layout, the named outputs, logits as wide as the labels, 2-D features) and adds it
to the models folder in one transaction. :class:`ImportedClassifier` runs it with the same
``classify``/``features`` interface as :class:`xception_maya.classifier.Classifier`; the
manifest records how its input is made (:class:`xception_maya.preprocessing.ModelInput`).

One module of about 600 lines on purpose: importing and running share the rules for the
input and the outputs (:func:`model_input`, :func:`check_output`), and a change to one side
must be seen with the other.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import fsio, images, limits
from . import manifest as mf
from .cache import FeatureCache
from .classifier import (
    Classifier,
    ColorSpaces,
    Pipeline,
    Prediction,
    Progress,
    Source,
    _name,
    shared_cache,
)
from .classifier import top_k as top_indices
from .engine import Engine, get_engine
from .errors import ModelError, XceptionMayaError
from .heads import softmax
from .names import RULE, is_valid_name, validate_name
from .preprocessing import ModelInput, range_normalization, three_numbers
from .registry import resolve_model

BUILD_HINT = "pip install 'xception-maya[build]' (the onnx package)"


# --- the input ------------------------------------------------------------------------------


def model_input(pixels: np.ndarray, spec: ModelInput) -> np.ndarray:
    """(H, W, 3) display sRGB in [0, 1] -> one image of the model's input, float32:
    (3, height, width) for NCHW, (height, width, 3) for NHWC.

    Resized as the default backbone's input is (images.preprocess): on uint8 when the image
    came from an 8-bit file, else per channel in float; then ``(x - mean) / std`` on [0, 1]."""
    array = images._check_image(pixels)
    resample = images._resample(spec.resize)
    target = (spec.width, spec.height)
    eight_bit = images._as_eight_bit(array)
    if eight_bit is not None:
        resized = np.asarray(Image.fromarray(eight_bit).resize(target, resample), np.float32)
    else:
        scaled = np.clip(array * np.float32(255.0), 0.0, 255.0)
        channels = [
            np.asarray(
                Image.fromarray(np.ascontiguousarray(scaled[..., c])).resize(target, resample)
            )
            for c in range(3)
        ]
        resized = np.clip(np.stack(channels, axis=-1), 0.0, 255.0)
    unit = resized / np.float32(255.0)
    out = (unit - np.asarray(spec.mean, np.float32)) / np.asarray(spec.std, np.float32)
    if spec.layout == "NCHW":
        out = out.transpose(2, 0, 1)
    return np.ascontiguousarray(out, dtype=np.float32)


# --- running ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ModelLabels:
    """What front ends show as the "head" of an imported model: its name and labels."""

    name: str
    labels: list[str]


class ImportedClassifier(Pipeline):
    """An imported model, run on images: ``classify`` and ``features`` as Classifier's."""

    def __init__(
        self,
        model: str,
        *,
        device: str = "auto",
        models_dir: str | os.PathLike[str] | None = None,
        manifest: mf.Manifest | None = None,
        cache: FeatureCache | None = None,
        batch_size: int = 8,
    ) -> None:
        self.manifest = manifest if manifest is not None else mf.Manifest.load(models_dir)
        entry = resolve_model(model, self.manifest)
        if entry is None:
            raise ModelError("the default model runs through classifier.Classifier")
        self.name = model
        self.entry = entry
        self.preprocessing = entry.preprocessing
        self.path = self.manifest.verified_model(model)
        # One session per (file, device) per process, shared as the backbone's is.
        self.engine: Engine = get_engine(self.path, device, "fp32", runtime="onnxruntime")
        self.cache = shared_cache if cache is None else cache
        self.batch_size = entry.batch or max(1, batch_size)
        self.head = ModelLabels(model, list(entry.labels))

    @property
    def labels(self) -> list[str]:
        return self.head.labels

    @property
    def has_features(self) -> bool:
        return self.entry.features is not None

    def cache_key(self, source: Source, color_space: str | None = None) -> Hashable:
        """Image content + model file + its input: equal keys give equal outputs."""
        key = self.preprocessing.key
        return (images.source_key(source), self.entry.sha256, self.engine.key, key, color_space)

    def _prepare(self, source: Source, color_space: str | None) -> np.ndarray:
        spec = self.preprocessing
        if isinstance(source, np.ndarray):
            return model_input(source, spec)
        pixels = images.load_image(source, color_space, min_side=max(spec.height, spec.width))
        return model_input(pixels, spec)

    def outputs(
        self,
        sources: Sequence[Source],
        color_space: ColorSpaces = None,
        progress: Progress | None = None,
    ) -> list[np.ndarray | XceptionMayaError]:
        """Per source, the scores (one per label) followed by the features (if the model
        has a features output) in one vector, or the error that stopped it."""
        return self._outputs(sources, color_space, progress)

    def _run(
        self, sources: Sequence[Source], batch: list[tuple[int, np.ndarray]]
    ) -> list[np.ndarray | XceptionMayaError]:
        entry = self.entry
        x = np.stack([item for _, item in batch])
        if entry.batch is not None and len(batch) < entry.batch:  # a fixed batch: pad it
            x = np.concatenate([x, np.zeros((entry.batch - len(batch), *x.shape[1:]), x.dtype)])
        names = [entry.logits] + ([entry.features] if entry.features else [])
        try:
            outs = self.engine.session.run(names, {entry.input: x})
            scores = check_output(np.asarray(outs[0]), entry.logits, len(x), len(entry.labels))
            if not entry.probabilities:
                scores = softmax(scores.astype(np.float64))
            parts = [scores.astype(np.float32)]
            if entry.features:
                parts.append(check_output(np.asarray(outs[1]), entry.features, len(x)))
            joined = np.concatenate(parts, axis=1)
        except MemoryError:
            raise  # run_batched retries the batch image by image
        except XceptionMayaError as exc:
            return [exc] * len(batch)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            return [ModelError(f"model {self.name!r} failed: {str(exc).splitlines()[0]}")] * len(
                batch
            )
        return [np.array(joined[j], dtype=np.float32) for j in range(len(batch))]

    def features(
        self,
        sources: Sequence[Source],
        color_space: ColorSpaces = None,
        progress: Progress | None = None,
    ) -> list[np.ndarray | XceptionMayaError]:
        """The features output of each source (similarity, the index), or its error."""
        if not self.has_features:
            raise ModelError(
                f"model {self.name!r} has no features output; import it again with "
                "--features OUTPUT to use it for similarity or the index"
            )
        width = len(self.labels)
        return [
            out if isinstance(out, XceptionMayaError) else out[width:]
            for out in self.outputs(sources, color_space, progress)
        ]

    def classify(
        self,
        sources: Sequence[Source],
        top_k: int = 5,
        color_space: ColorSpaces = None,
        progress: Progress | None = None,
    ) -> list[Prediction]:
        width = len(self.labels)
        out = []
        for source, result in zip(
            sources, self.outputs(sources, color_space, progress), strict=True
        ):
            name = _name(source)
            if isinstance(result, XceptionMayaError):
                out.append(Prediction(name, [], [], [], error=str(result)))
                continue
            scores = result[:width]
            idx = top_indices(scores, top_k)
            out.append(
                Prediction(
                    name,
                    [self.labels[i] for i in idx],
                    [float(scores[i]) for i in idx],
                    idx,
                    scores,
                    result[width:] if self.has_features else None,
                )
            )
        return out


def open_classifier(
    model: str | None,
    head: str | os.PathLike[str] | None = None,
    *,
    device: str = "auto",
    models_dir: str | os.PathLike[str] | None = None,
    size: int | None = None,
    resize: str | None = None,
    precision: str = "fp32",
    batch_size: int = 8,
    cache: FeatureCache | None = None,
    user_heads: str | os.PathLike[str] | None = None,
) -> Classifier | ImportedClassifier:
    """What ``model`` (see registry.resolve_model) and ``head`` name: the Xception backbone
    with that head, or an imported model (which has its own labels, input and precision:
    a head, size, resize or precision given with one is refused)."""
    manifest = mf.Manifest.load(models_dir)
    if resolve_model(model, manifest) is None:
        return Classifier(
            head,
            device=device,
            models_dir=manifest.root,
            size=size,
            resize=resize,
            cache=cache,
            batch_size=batch_size,
            user_heads=user_heads,
            precision=precision,
        )
    assert model is not None
    if head is not None and os.fspath(head) not in ("", "default", "none"):
        raise ModelError(f"--head is for the default model; {model!r} has its own labels")
    if size or resize or precision != "fp32":
        raise ModelError(
            f"--size, --resize and --precision are for the default model; {model!r} runs "
            "fp32 with the preprocessing recorded when it was imported"
        )
    return ImportedClassifier(
        model, device=device, manifest=manifest, cache=cache, batch_size=batch_size
    )


def check_output(value: np.ndarray, name: str, batch: int, width: int | None = None) -> np.ndarray:
    """A (batch, width) float output, or one clear error saying what it is instead."""
    what = f"output {name!r}"
    if value.ndim != 2 or value.shape[0] != batch:
        raise ModelError(
            f"{what} has shape {tuple(value.shape)} for {batch} images; expected 2-D "
            "(images, values): flatten it in the model"
        )
    if not np.issubdtype(value.dtype, np.floating):
        raise ModelError(f"{what} is {value.dtype}, not floating point")
    if width is not None and value.shape[1] != width:
        raise ModelError(
            f"{what} gives {value.shape[1]} scores per image but there are {width} labels"
        )
    return value


# --- importing --------------------------------------------------------------------------------


def read_labels(path: str | os.PathLike[str]) -> list[str]:
    """Labels from a text file (one a line) or a JSON list of text, in class order."""
    where = os.fspath(path)
    try:
        with fsio.open_regular(path) as f:
            data = f.read(limits.MAX_JSON_BYTES + 1)
        if len(data) > limits.MAX_JSON_BYTES:
            raise ModelError(f"labels file {where} is over {limits.MAX_JSON_BYTES} bytes")
        text = data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read labels file {where}: {exc}") from None
    if where.lower().endswith(".json"):
        try:
            labels = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"labels file {where} is not JSON: {exc}") from None
        if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
            raise ModelError(f"labels file {where} must hold a JSON list of text")
    else:
        labels = [line.strip() for line in text.splitlines()]
        while labels and not labels[-1]:
            labels.pop()
    for i, label in enumerate(labels):
        if not label.strip():
            raise ModelError(f"labels file {where}: label {i + 1} is empty")
    if not labels or len(labels) > limits.MAX_HEAD_CLASSES:
        raise ModelError(
            f"labels file {where} has {len(labels)} labels; 1 to {limits.MAX_HEAD_CLASSES} needed"
        )
    return labels


@dataclasses.dataclass(frozen=True)
class ImportOptions:
    """What the user says about a model (``xception-maya import``'s options)."""

    labels: list[str]
    features: str | None = None
    logits: str | None = None
    size: tuple[int, int] | None = None  # (height, width); None: the model's fixed size
    layout: str = "NCHW"
    resize: str = "bilinear"
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    value_range: tuple[float, float] | None = None
    probabilities: bool = False


def check_model(data: bytes, where: str, options: ImportOptions) -> mf.ImportedModel:
    """The manifest entry (without file and sha256) for an ONNX model's bytes, or one
    ModelError for the first mismatch between the model and the options."""
    model = _load_onnx(data, where)
    graph = model.graph
    initializers = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs) or "none"
        raise ModelError(
            f"{where}: the model has {len(inputs)} inputs ({names}); an image model takes one"
        )
    spec, batch = _input_spec(inputs[0], where, options)
    outputs = [o.name for o in graph.output]
    if options.features is not None and options.features not in outputs:
        raise ModelError(
            f"{where}: the model has no output {options.features!r} (--features); "
            f"its outputs: {', '.join(outputs)}"
        )
    logits = _logits_name(outputs, where, options)
    entry = mf.ImportedModel(
        file="",
        sha256="0" * 64,
        input=inputs[0].name,
        logits=logits,
        labels=tuple(options.labels),
        preprocessing=spec,
        features=options.features,
        probabilities=options.probabilities,
        batch=batch,
    )
    _trial_run(data, where, entry)
    return entry


def import_model(
    models_dir: str | os.PathLike[str],
    path: str | os.PathLike[str],
    options: ImportOptions,
    *,
    name: str | None = None,
    replace: bool = False,
) -> tuple[str, mf.ImportedModel]:
    """Check the model at ``path`` and add it to the models folder as ``name`` (default: its
    file name), in one transaction; returns the name and the committed entry."""
    source = Path(path)
    if name is None and not is_valid_name(source.name.rsplit(".", 1)[0]):
        raise ModelError(f"{source.name!r} does not make a model name: give --name NAME ({RULE})")
    name = validate_name(name if name is not None else source.name.rsplit(".", 1)[0], "model")
    root = Path(models_dir)
    manifest = mf.Manifest.load(root)  # a models folder must exist: refuse before reading
    if name in manifest.models and not replace:
        raise ModelError(f"the models folder already has a model {name!r}: add --replace")
    data = _read_model(source)
    checked = check_model(data, os.fspath(source), options)
    with mf.transaction(root):
        manifest = mf.Manifest.load(root)
        if name in manifest.models and not replace:
            raise ModelError(f"the models folder already has a model {name!r}: add --replace")
        relative, sha = mf.write_content_file(root, mf.IMPORTED_DIR, name, ".onnx", data)
        source_info = {"kind": "imported", "file": source.name}
        entry = dataclasses.replace(checked, file=relative, sha256=sha, source=source_info)
        mf.with_model(manifest, name, entry).save()  # the commit point
    return name, entry


def _read_model(path: Path) -> bytes:
    try:
        with fsio.open_regular(path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > limits.MAX_IMPORTED_MODEL_BYTES:
                raise ModelError(
                    f"{path} is {size} bytes, over the limit of {limits.MAX_IMPORTED_MODEL_BYTES} "
                    "(xception_maya.limits.MAX_IMPORTED_MODEL_BYTES)"
                )
            return f.read()
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from None


def _load_onnx(data: bytes, where: str) -> Any:
    try:
        import onnx
    except ImportError:
        raise ModelError(f"importing a model needs onnx: {BUILD_HINT}") from None
    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # protobuf's DecodeError, and whatever a damaged file raises
        raise ModelError(f"{where} is not an ONNX model ({exc})") from None
    if model.ir_version < 3 or not model.graph.node:
        raise ModelError(f"{where} is not an ONNX model (no graph in it)")
    if any(
        t.data_location == onnx.TensorProto.EXTERNAL or t.external_data
        for t in model.graph.initializer
    ):
        raise ModelError(
            f"{where} keeps its weights in external files; save it as one file "
            "(onnx.save_model(model, path, save_as_external_data=False))"
        )
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx's ValidationError
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{where} fails onnx's checker: {first}") from None
    return model


def _input_spec(value: Any, where: str, options: ImportOptions) -> tuple[ModelInput, int | None]:
    import onnx

    what = f"{where}: input {value.name!r}"
    if not value.type.HasField("tensor_type"):
        raise ModelError(f"{what} is not a tensor; an image model takes a float tensor")
    tensor = value.type.tensor_type
    if tensor.elem_type != onnx.TensorProto.FLOAT:
        kind = onnx.TensorProto.DataType.Name(tensor.elem_type).lower()
        raise ModelError(f"{what} is {kind}; an image model here takes float32")
    if not tensor.HasField("shape") or len(tensor.shape.dim) != 4:
        rank = len(tensor.shape.dim) if tensor.HasField("shape") else "unknown"
        raise ModelError(f"{what} has {rank} dimensions; an image model takes 4 ({options.layout})")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    shown = "x".join("?" if d is None else str(d) for d in dims)
    c, h, w = (1, 2, 3) if options.layout == "NCHW" else (3, 1, 2)
    if dims[c] is not None and dims[c] != 3:
        other = "NHWC" if options.layout == "NCHW" else "NCHW"
        other_c = 3 if c == 1 else 1
        hint = f" (in {other} it has 3: add --layout {other})" if dims[other_c] == 3 else ""
        raise ModelError(
            f"{what} ({shown}) has {dims[c]} channels in {options.layout}; an image model "
            f"takes 3 (RGB){hint}"
        )
    fixed = (dims[h], dims[w])
    if options.size is not None:
        for side, declared, given in (
            ("height", fixed[0], options.size[0]),
            ("width", fixed[1], options.size[1]),
        ):
            if declared is not None and declared != given:
                raise ModelError(f"{what} ({shown}) has {side} {declared}, not {given} (--size)")
        height, width = options.size
    elif fixed[0] is None or fixed[1] is None:
        raise ModelError(f"{what} ({shown}) has no fixed height and width: give --size H W")
    else:
        height, width = fixed[0], fixed[1]
    mean, std = _normalization(options)
    try:
        spec = ModelInput(height, width, options.resize, mean, std, options.layout)
    except ModelError as exc:
        raise ModelError(f"{what} ({shown}): {exc}") from None
    return spec, dims[0]


Three = tuple[float, float, float]


def _normalization(options: ImportOptions) -> tuple[Three, Three]:
    if options.value_range is not None:
        if options.mean is not None or options.std is not None:
            raise ModelError("give either --range or --mean/--std, not both")
        return range_normalization(*options.value_range)
    mean = three_numbers(options.mean if options.mean is not None else (0.0,), "mean")
    std = three_numbers(options.std if options.std is not None else (1.0,), "std")
    if any(abs(m) > 1 for m in mean):
        raise ModelError(
            f"mean {list(mean)} is for 0..255 values; give it on 0..1 values (divide by 255)"
        )
    return mean, std


def _logits_name(outputs: list[str], where: str, options: ImportOptions) -> str:
    if options.logits is not None:
        if options.logits not in outputs:
            raise ModelError(
                f"{where}: the model has no output {options.logits!r} (--logits); "
                f"its outputs: {', '.join(outputs)}"
            )
        return options.logits
    rest = [o for o in outputs if o != options.features]
    if len(rest) != 1:
        raise ModelError(
            f"{where}: the model has outputs {', '.join(outputs)}; say which gives the "
            "scores with --logits OUTPUT"
        )
    return rest[0]


def _trial_run(data: bytes, where: str, entry: mf.ImportedModel) -> None:
    """Run zeros through the model: the real output shapes, whatever the graph declares."""
    import onnxruntime as ort

    spec = entry.preprocessing
    batch = entry.batch or 2  # two images: a dynamic batch that is not really one shows here
    shape = (
        (batch, 3, spec.height, spec.width)
        if spec.layout == "NCHW"
        else (batch, spec.height, spec.width, 3)
    )
    names = [entry.logits] + ([entry.features] if entry.features else [])
    try:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        outs = session.run(names, {entry.input: np.zeros(shape, np.float32)})
    except MemoryError:
        raise ModelError(f"{where}: not enough memory to try the model") from None
    except Exception as exc:  # onnxruntime raises its own untyped errors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{where}: onnxruntime cannot run the model on {shape}: {first}") from None
    try:
        check_output(np.asarray(outs[0]), entry.logits, batch, len(entry.labels))
        if entry.features:
            check_output(np.asarray(outs[1]), entry.features, batch)
    except ModelError as exc:
        raise ModelError(f"{where}: {exc} (--labels, --logits, --features)") from None
