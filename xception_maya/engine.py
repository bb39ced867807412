"""The inference engine: one onnxruntime session per (model file, device) per process.

Sessions are created lazily (the first classification pays for it, importing the package
does not), shared by every caller, and safe to use from several threads (onnxruntime's
``run`` is thread-safe; creation is guarded by a lock).

GPU silently not used is the most common complaint about tools like this one, so the
provider that actually runs is always known (``Engine.provider``) and a requested GPU that
onnxruntime could not load is an error for an explicit device and a recorded fallback
(``Engine.fallback``) for ``auto``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DeviceError, ModelError

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


class Engine:
    """Runs the backbone. Use ``get_engine`` to share one per (model, device)."""

    def __init__(self, model_path: str | Path, device: str = "auto") -> None:
        self.model_path = Path(model_path)
        self.device = device.lower()
        self.requested = requested_providers(self.device)
        self.fallback: str | None = None  # why a GPU asked for by "auto" is not used
        self.runs = 0  # session runs, for tests and diagnostics
        self._session: Any = None
        self._lock = threading.Lock()

    @property
    def session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = self._create()
        return self._session

    def _create(self) -> Any:
        import onnxruntime as ort

        if not self.model_path.is_file():
            raise ModelError(
                f"backbone model not found: {self.model_path}. Build it with `make models` "
                "or `xception-maya setup`."
            )
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: Maya's script editor is not a log file
        # Idle onnxruntime threads spin by default, burning the cores that Maya and our
        # decoding threads need between runs (measured: benchmarks/bench_engine.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = [(p, _provider_options(p)) for p in self.requested]
        try:
            session = ort.InferenceSession(str(self.model_path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ModelError(f"onnxruntime could not load {self.model_path}: {exc}") from exc
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

    @property
    def provider(self) -> str:
        """The execution provider that actually runs the model."""
        return str(self.session.get_providers()[0])

    def features(self, images: np.ndarray) -> np.ndarray:
        """(N, 3, H, W) float32 in [-1, 1] -> (N, 2048) float32."""
        images = np.ascontiguousarray(images, dtype=np.float32)
        if images.ndim != 4 or images.shape[1] != 3 or min(images.shape[2:]) < 71:
            raise ModelError(f"the backbone takes (N, 3, H, W) with H, W >= 71; got {images.shape}")
        out = self.session.run(["features"], {"images": images})[0]
        self.runs += 1
        return np.asarray(out, dtype=np.float32)

    def describe(self) -> dict[str, Any]:
        return {
            "model": str(self.model_path),
            "device": self.device,
            "requested": self.requested,
            "provider": self.provider,
            "fallback": self.fallback,
        }


_engines: dict[tuple[str, str], Engine] = {}
_engines_lock = threading.Lock()


def get_engine(model_path: str | Path, device: str = "auto") -> Engine:
    """The process-wide engine for this model file and device."""
    key = (str(Path(model_path).resolve()), device.lower())
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = Engine(model_path, device)
        return engine


def clear_engines() -> None:
    """Forget every engine (tests; reloading a rebuilt model)."""
    with _engines_lock:
        _engines.clear()
