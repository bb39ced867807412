"""The inference engine: one session per (model file, device, precision, runtime) per process.

Sessions are created lazily (the first classification pays for it, importing the package
does not), shared by every caller, and safe to use from several threads (onnxruntime's
``run`` is thread-safe; creation is guarded by a lock).

GPU silently not used is the most common complaint about tools like this one, so the
provider that actually runs is always known (``Engine.provider``) and a requested GPU that
onnxruntime could not load is an error for an explicit device and a recorded fallback
(``Engine.fallback``) for ``auto``.

The precision (:mod:`xception_maya.precision`) picks the runtime: onnxruntime for fp32 and
int8, OpenVINO (optional) for bf16. ``Engine.key`` names precision, runtime and the model file
actually run, so that features of different precisions never share a cache or index entry.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from . import cpu as cpu_info
from . import gpu
from . import precision as prec
from .errors import DeviceError, ModelError
from .limits import MIN_INPUT_SIZE
from .manifest import Manifest, sha256_of

# Best first. TensorRT and CUDA come from onnxruntime-gpu, DirectML from onnxruntime-directml,
# CoreML from the macOS onnxruntime wheel.
AUTO_ORDER = [
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
    "CPUExecutionProvider",
]
DEVICES: dict[str, list[str]] = {
    "cpu": ["CPUExecutionProvider"],
    "gpu": AUTO_ORDER[:4],
    "cuda": ["CUDAExecutionProvider"],
    "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider"],
    "directml": ["DmlExecutionProvider"],
    "coreml": ["CoreMLExecutionProvider"],
}
INSTALL_HINT = {
    "cuda": "pip install onnxruntime-gpu (in place of onnxruntime), with CUDA 12 and cuDNN 9",
    "tensorrt": "pip install onnxruntime-gpu and NVIDIA TensorRT",
    "directml": "pip install onnxruntime-directml (Windows)",
    "coreml": "the standard onnxruntime wheel on macOS",
}
INSTALL_HINT["gpu"] = f"{INSTALL_HINT['cuda']}; on Windows also {INSTALL_HINT['directml']}"


def available_providers() -> list[str]:
    import onnxruntime as ort

    return list(ort.get_available_providers())


def requested_providers(device: str) -> list[str]:
    """The providers to ask onnxruntime for, best first, always ending with the CPU for
    ``auto``. An unavailable explicit device raises DeviceError saying what to install."""
    device = device.lower()
    available = available_providers()
    if device == "auto":
        return [p for p in AUTO_ORDER if p in available]
    if device not in DEVICES:
        raise DeviceError(f"unknown device {device!r}; use auto, {', '.join(DEVICES)}")
    wanted = [p for p in DEVICES[device] if p in available]
    if not wanted:
        raise DeviceError(
            f"device {device!r} is not available: this onnxruntime offers "
            f"{', '.join(available)}. To use it: {INSTALL_HINT.get(device, 'see the README')}."
        )
    return wanted


def _provider_options(provider: str) -> dict[str, str]:
    if provider == "TensorrtExecutionProvider":
        # Building a TensorRT engine takes minutes; keep it between Maya sessions.
        cache = Path(
            os.environ.get("XCEPTION_MAYA_TRT_CACHE", Path.home() / ".cache" / "xception-maya")
        )
        return {"trt_engine_cache_enable": "True", "trt_engine_cache_path": str(cache / "trt")}
    return {}


# OpenVINO runs a model compiled for one input shape 7-14% faster than the dynamic one (bf16,
# 150 and 299 px, batch 1 and 8, this 2-core Xeon). Compiling takes about 0.3 s and the weights
# again, so only a shape met a few times gets one, and only a few shapes.
STATIC_AFTER = 3
MAX_STATIC = 2


class _OpenVinoSession:
    """An OpenVINO compiled model behind onnxruntime's ``run``/``get_providers``, so the
    engine and the benchmarks call both the same way. One infer request per thread and
    compiled model: a compiled model is thread-safe, a request is not."""

    def __init__(self, core: Any, path: Path, config: dict[str, str], compiled: Any) -> None:
        self.core = core
        self.path = path
        self.config = config
        self.compiled = compiled  # dynamic shapes: any batch and size
        self.inference_precision = config["INFERENCE_PRECISION_HINT"]
        self._static: dict[tuple[int, ...], Any] = {}
        self._seen: dict[tuple[int, ...], int] = {}
        self._failed: set[tuple[int, ...]] = set()  # shapes that would not compile alone
        self._lock = threading.Lock()
        self._local = threading.local()

    def _compiled_for(self, shape: tuple[int, ...]) -> Any:
        with self._lock:
            compiled = self._static.get(shape)
            if compiled is not None:
                return compiled
            self._seen[shape] = seen = self._seen.get(shape, 0) + 1
            if seen < STATIC_AFTER or len(self._static) >= MAX_STATIC or shape in self._failed:
                return self.compiled
            try:
                model = self.core.read_model(str(self.path))
                model.reshape({model.inputs[0].get_any_name(): list(shape)})
                compiled = self.core.compile_model(model, "CPU", self.config)
            except Exception:  # a speed-up only: the dynamic model still runs
                self._failed.add(shape)  # never tried again
                return self.compiled
            self._static[shape] = compiled
            return compiled

    def run(self, names: list[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        (x,) = feeds.values()
        compiled = self._compiled_for(tuple(x.shape))
        requests: dict[int, Any] | None = getattr(self._local, "requests", None)
        if requests is None:
            requests = self._local.requests = {}
        request = requests.get(id(compiled))
        if request is None:
            request = requests[id(compiled)] = compiled.create_infer_request()
        request.infer(feeds)
        return [np.array(request.get_output_tensor(0).data)]

    def get_providers(self) -> list[str]:
        return ["OpenVINO CPU"]


class Engine:
    """Runs the backbone. Use ``get_engine`` to share one per (model, device, precision)."""

    def __init__(
        self,
        model_path: str | Path,
        device: str = "auto",
        precision: str = "fp32",
        *,
        runtime: str | None = None,
        cpu: cpu_info.CpuInfo | None = None,
    ) -> None:
        self.model_path = Path(model_path)  # the fp32 backbone; int8 is found beside it
        self.device = device.lower()
        self.requested = requested_providers(self.device)
        self.cpu = cpu or cpu_info.detect()
        self.requested_precision = precision.lower()
        self._int8 = _int8_entry(self.model_path) if precision.lower() in ("int8", "auto") else None
        choice = prec.choose(
            self.requested_precision,
            on_cpu=self.requested[0] == "CPUExecutionProvider",
            cpu=self.cpu,
            openvino=prec.has_openvino() if runtime != "onnxruntime" else False,
            int8=self._int8,
            runtime=runtime,
        )
        self.precision, self.runtime, self.reason = choice.precision, choice.runtime, choice.reason
        self.fallback: str | None = None  # why a GPU (or a precision) asked for by auto is not used
        self.runs = 0  # session runs, for tests and diagnostics
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def run_path(self) -> Path:
        """The model file this engine runs: the fp32 backbone or its int8 variant."""
        if self.precision == "int8" and self._int8 is not None:
            return self.model_path.parent / str(self._int8["file"])
        return self.model_path

    @property
    def key(self) -> str:
        """Precision, runtime and (int8) the quantized file: part of every features key."""
        if self.precision == "int8" and self._int8 is not None:
            return f"int8/{self.runtime}/{str(self._int8['sha256'])[:16]}"
        return f"{self.precision}/{self.runtime}"

    @property
    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._create_or_fall_back()
        return self._session

    def _create_or_fall_back(self) -> Any:
        try:
            return self._create()
        except (ModelError, DeviceError) as exc:
            if self.requested_precision != "auto" or self.precision == "fp32":
                raise
            # auto never fails where fp32 would run: say why and run fp32.
            self.fallback = f"{self.precision} on {self.runtime} failed ({exc}); running fp32"
            self.precision, self.runtime = "fp32", "onnxruntime"
            self.reason = f"auto: fp32 ({self.fallback})"
            return self._create()

    def _create(self) -> Any:
        path = self.run_path
        if not path.is_file():
            raise ModelError(
                f"backbone model not found: {path}. Build it with `make models` "
                "or `xception-maya setup`" + (" --int8." if self.precision == "int8" else ".")
            )
        if (
            self.precision == "int8"
            and self._int8 is not None
            and sha256_of(path) != self._int8.get("sha256")
        ):
            raise ModelError(
                f"{path} does not match its sha256 in the manifest; rebuild it with "
                "`xception-maya setup --int8`"
            )
        if self.runtime == "openvino":
            return self._create_openvino(path)
        return self._create_onnxruntime(path)

    def _create_onnxruntime(self, path: Path) -> Any:
        gpu.preload(self.requested)  # pip's CUDA and cuDNN, before the first CUDA session
        session = onnxruntime_session(path, self.requested)
        active = session.get_providers()
        best = self.requested[0]
        if best not in active:
            reason = (
                f"{best} is installed but failed to start (missing CUDA/cuDNN libraries or "
                f"driver?); running on {active[0]}"
            )
            if self.device != "auto":
                raise DeviceError(f"device {self.device!r}: {reason}")
            self.fallback = reason
        return session

    def _create_openvino(self, path: Path) -> _OpenVinoSession:
        try:
            import openvino as ov
        except ImportError:
            raise DeviceError(f"OpenVINO is not installed: {prec.OPENVINO_HINT}") from None
        # fp32 and int8 keep float layers in f32 (OpenVINO's CPU default would be bf16 on
        # AMX machines): the precision asked for is the one that runs.
        hint = "bf16" if self.precision == "bf16" else "f32"
        config = {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"}
        core = ov.Core()
        try:
            compiled = core.compile_model(str(path), "CPU", config)
            actual = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
        except Exception as exc:  # OpenVINO raises its own untyped errors
            raise ModelError(f"OpenVINO could not load {path}: {exc}") from exc
        if hint == "bf16" and "bf16" not in actual and "bfloat16" not in actual:
            raise DeviceError(f"OpenVINO runs {actual} on this CPU, not bf16")
        return _OpenVinoSession(core, path, config, compiled)

    @property
    def provider(self) -> str:
        """The execution provider that actually runs the model."""
        return str(self.session.get_providers()[0])

    @property
    def summary(self) -> str:
        """Runtime, device and precision that actually ran, for footers and doctor."""
        provider = self.provider
        text = f"{self.runtime} {provider}, {self.precision}"
        return f"{text} ({self.reason})" if self.requested_precision == "auto" else text

    def features(self, images: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32 in [-1, 1] -> (N, 2048) float32."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1] != 3 or min(images.shape[2:]) < MIN_INPUT_SIZE:
            raise ModelError(
                f"the backbone takes (N, 3, H, W) with H, W >= {MIN_INPUT_SIZE}; got {images.shape}"
            )
        out = self.session.run(["features"], {"images": images})[0]
        self.runs += 1
        return np.asarray(out, dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        provider = self.provider  # creates the session: precision and runtime are final
        return {
            "model": str(self.run_path),
            "device": self.device,
            "requested": self.requested,
            "provider": provider,
            "fallback": self.fallback,
            "runtime": self.runtime,
            "precision": self.precision,
            "precision reason": self.reason,
            "key": self.key,
            "cpu": self.cpu.summary(),
        }


def onnxruntime_session(path: Path, providers: list[str]) -> Any:
    """An onnxruntime session with the engine's options (also the quantizer's checks)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: Maya's script editor is not a log file
    # Idle onnxruntime threads spin by default, burning the cores that Maya and our
    # decoding threads need between runs (measured: benchmarks/bench_engine.py).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(
            str(path), options, providers=[(p, _provider_options(p)) for p in providers]
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"onnxruntime could not load {path}: {exc}") from exc


def _int8_entry(model_path: Path) -> dict[str, Any] | None:
    """The int8 variant listed in the manifest beside the fp32 backbone, if any."""
    try:
        return prec.int8_variant(Manifest.load(model_path.parent))
    except ModelError:
        return None


_engines: dict[tuple[str, str, str, str | None], Engine] = {}
_engines_lock = threading.Lock()


def get_engine(
    model_path: str | Path,
    device: str = "auto",
    precision: str = "fp32",
    *,
    runtime: str | None = None,
) -> Engine:
    """The process-wide engine for this model file, device, precision and runtime."""
    key = (str(Path(model_path).resolve()), device.lower(), precision.lower(), runtime)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = Engine(model_path, device, precision, runtime=runtime)
        return engine


def clear_engines() -> None:
    """Forget every engine (tests; reloading a rebuilt model)."""
    with _engines_lock:
        _engines.clear()
