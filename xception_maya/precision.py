"""Which precision and runtime run the backbone: fp32, bf16, int8, or ``auto``.

- ``fp32``: onnxruntime, exact: the reference every other precision is measured against.
- ``bf16``: OpenVINO with ``INFERENCE_PRECISION_HINT=bf16``, only on CPUs that compute bf16
  in hardware (AVX512-BF16 or AMX); elsewhere OpenVINO would quietly run fp32.
- ``int8``: the statically quantized backbone that ``setup --int8`` builds
  (:mod:`xception_maya.quantize`), listed in the manifest with its sha256 and its measured
  accuracy bound.
- ``auto``: on the CPU, the fastest of those whose accuracy bound holds and that this CPU
  runs natively (:data:`AUTO_ORDER`, measured by ``benchmarks/bench_engine.py``), else fp32;
  on a GPU, fp32. ``Choice.reason`` says which and why.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .cpu import CpuInfo
from .errors import DeviceError, ModelError
from .manifest import Manifest

PRECISIONS = ("fp32", "bf16", "int8", "auto")
RUNTIMES = ("onnxruntime", "openvino")
OPENVINO_HINT = 'pip install "xception-maya[openvino]"'
# Fastest first on a 2-core Xeon with AVX-512, VNNI and AMX (benchmarks/bench_engine.py).
AUTO_ORDER = ("bf16", "int8")
# The runtime each precision runs on unless one is asked for.
DEFAULT_RUNTIME = {"fp32": "onnxruntime", "bf16": "openvino", "int8": "onnxruntime"}


@dataclass(frozen=True)
class Choice:
    precision: str  # fp32, bf16 or int8: what runs
    runtime: str  # onnxruntime or openvino
    reason: str  # why, in a user's words


def int8_variant(manifest: Manifest) -> dict[str, Any] | None:
    """The manifest's int8 backbone entry (``{"file", "sha256", "calibration", "bound"}``)
    or None. The one place that knows where the manifest keeps it."""
    entry = manifest.backbone.variants.get("int8")
    return dict(entry) if isinstance(entry, Mapping) else None


def set_int8_variant(manifest: Manifest, entry: dict[str, Any]) -> None:
    """List an int8 backbone in the manifest (not saved here)."""
    variants = {**manifest.backbone.variants, "int8": entry}
    manifest.backbone = dataclasses.replace(manifest.backbone, variants=variants)


def has_openvino() -> bool:
    return importlib.util.find_spec("openvino") is not None


def choose(
    requested: str,
    *,
    on_cpu: bool,
    cpu: CpuInfo,
    openvino: bool,
    int8: dict[str, Any] | None,
    runtime: str | None = None,
) -> Choice:
    """What runs for ``requested``; an explicit precision that cannot run raises, naming
    what is missing. ``on_cpu``: the device resolves to the CPU (no GPU provider)."""
    requested = requested.lower()
    if requested not in PRECISIONS:
        raise DeviceError(f"unknown precision {requested!r}; use {', '.join(PRECISIONS)}")
    if runtime is not None and runtime not in RUNTIMES:
        raise DeviceError(f"unknown runtime {runtime!r}; use {', '.join(RUNTIMES)}")
    if requested == "auto":
        return _auto(on_cpu=on_cpu, cpu=cpu, openvino=openvino, int8=int8)
    rt = runtime or DEFAULT_RUNTIME[requested]
    if requested != "fp32" and not on_cpu:
        raise DeviceError(f"precision {requested} runs on the CPU only; use --device cpu")
    if rt == "openvino" and not openvino:
        raise DeviceError(f"precision {requested} on OpenVINO needs it installed: {OPENVINO_HINT}")
    if requested == "bf16":
        if rt != "openvino":
            raise DeviceError("bf16 runs on OpenVINO only")
        if not cpu.native_bf16:
            raise DeviceError(
                f"this CPU has no bf16 arithmetic (AVX512-BF16 or AMX): {cpu.summary()}; "
                "use fp32 or auto"
            )
    if requested == "int8" and int8 is None:
        raise ModelError(
            "no int8 backbone in the models folder: build it with `xception-maya setup --int8`"
        )
    return Choice(requested, rt, f"{requested} as asked")


def _auto(*, on_cpu: bool, cpu: CpuInfo, openvino: bool, int8: dict[str, Any] | None) -> Choice:
    if not on_cpu:
        return Choice("fp32", "onnxruntime", "auto: a GPU runs fp32 (GPU fp16 not measured yet)")
    why_not = []
    for candidate in AUTO_ORDER:
        if candidate == "bf16":
            if not openvino:
                why_not.append(f"bf16 needs OpenVINO ({OPENVINO_HINT})")
            elif not cpu.native_bf16:
                why_not.append("bf16 needs AVX512-BF16 or AMX")
            else:
                return Choice(
                    "bf16",
                    "openvino",
                    "auto: bf16, this CPU computes it natively "
                    "(AVX512-BF16/AMX) and it keeps every top-1 label",
                )
        if candidate == "int8":
            bound = (int8 or {}).get("bound") or {}
            if int8 is None:
                why_not.append("int8 needs `setup --int8`")
            elif not bound.get("holds"):
                why_not.append("the int8 model's accuracy bound does not hold")
            elif not cpu.fast_int8:
                why_not.append("int8 needs VNNI or AMX to pay")
            else:
                return Choice(
                    "int8",
                    DEFAULT_RUNTIME["int8"],
                    "auto: int8, this CPU has VNNI/AMX and the int8 model's accuracy bound holds",
                )
    return Choice("fp32", "onnxruntime", "auto: fp32 (" + "; ".join(why_not) + ")")
