"""What the CPU can do: its model name and the instruction sets that decide precision.

Read once per process from ``/proc/cpuinfo`` (Linux), ``sysctl`` (macOS) or, on Windows,
best effort from ``platform`` and what numpy was built to dispatch to. ``precision="auto"``
and the benchmarks read it from here; tests inject a ``CpuInfo`` of their own.

``ONEDNN_MAX_CPU_ISA`` (oneDNN's and so OpenVINO's cap, used to simulate an older CPU) is
applied to the flags, so that ``auto`` decides for the CPU that the runtime will emulate.
"""

from __future__ import annotations

import functools
import importlib
import os
import platform
import subprocess
import sys
from dataclasses import dataclass

# The groups the product cares about, each the union of the flags (Linux names) that give it.
GROUPS: dict[str, tuple[str, ...]] = {
    "AVX2": ("avx2",),
    "AVX-512": ("avx512f",),
    "VNNI": ("avx512_vnni", "avx_vnni"),
    "BF16": ("avx512_bf16", "amx_bf16"),
    "AMX": ("amx_tile",),
}
# oneDNN's ISA names, lowest first, with the flags each level adds.
_ISA_LEVELS: list[tuple[str, tuple[str, ...]]] = [
    ("sse41", ("sse4_1", "sse4_2")),
    ("avx", ("avx",)),
    ("avx2", ("avx2", "fma", "f16c")),
    ("avx2_vnni", ("avx_vnni",)),
    ("avx2_vnni_2", ()),
    ("avx512_core", ("avx512f", "avx512dq", "avx512bw", "avx512vl", "avx512cd")),
    ("avx512_core_vnni", ("avx512_vnni",)),
    ("avx512_core_bf16", ("avx512_bf16",)),
    ("avx512_core_fp16", ("avx512_fp16",)),
    ("avx512_core_amx", ("amx_tile", "amx_int8", "amx_bf16")),
]
_CAPPED = {flag for _, flags in _ISA_LEVELS for flag in flags}
# macOS sysctl names -> the Linux names above.
_SYSCTL_FLAGS = {
    "avx2_0": "avx2",
    "avx512f": "avx512f",
    "avx512vnni": "avx512_vnni",
    "avx512bw": "avx512bw",
    "avx512vl": "avx512vl",
    "avx512dq": "avx512dq",
}


@dataclass(frozen=True)
class CpuInfo:
    model: str
    flags: frozenset[str]  # Linux /proc/cpuinfo names, lower case
    source: str  # where they came from: "/proc/cpuinfo", "sysctl", "platform"
    capped: str | None = None  # the ONEDNN_MAX_CPU_ISA in force, if any

    def has(self, group: str) -> bool:
        return any(flag in self.flags for flag in GROUPS[group])

    @property
    def native_bf16(self) -> bool:
        """bf16 arithmetic in hardware (AVX512-BF16 or AMX): bf16 pays only there."""
        return self.has("BF16") or self.has("AMX")

    @property
    def fast_int8(self) -> bool:
        """int8 dot products in hardware (VNNI or AMX): int8 pays only there."""
        return self.has("VNNI") or "amx_int8" in self.flags

    def summary(self) -> str:
        groups = " ".join(f"{g}{'+' if self.has(g) else '-'}" for g in GROUPS)
        cap = f", capped at {self.capped}" if self.capped else ""
        return f"{self.model} ({groups}{cap})"


# The flags every benchmark table prints, so figures from different machines compare.
BENCHMARK_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8")


def benchmark_line(info: CpuInfo | None = None) -> str:
    """``CPU: <model>, <n> cores; flags: ...; absent: ...``: the line above every benchmark's
    table. Absent flags are named too, so two machines' tables can be told apart at a glance."""
    info = info or detect()
    present = [f for f in BENCHMARK_FLAGS if f in info.flags]
    absent = [f for f in BENCHMARK_FLAGS if f not in info.flags]
    line = f"CPU: {info.model}, {os.cpu_count()} cores; flags: {' '.join(present) or 'none'}"
    return line + (f"; absent: {' '.join(absent)}" if absent else "")


def parse_cpuinfo(text: str) -> CpuInfo:
    """A Linux ``/proc/cpuinfo`` (x86 ``flags``, ARM ``Features``)."""
    model, flags = "", ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = value
    return CpuInfo(model or platform.machine() or "unknown CPU", _words(flags), "/proc/cpuinfo")


def parse_sysctl(brand: str, features: str) -> CpuInfo:
    """macOS: ``machdep.cpu.brand_string`` and the ``machdep.cpu.*features`` words."""
    flags = set()
    for word in features.lower().split():
        flags.add(_SYSCTL_FLAGS.get(word, word))
    if platform.machine() == "arm64":
        flags.add("neon")
    return CpuInfo(brand.strip() or "Apple CPU", frozenset(flags), "sysctl")


def cap(info: CpuInfo, isa: str | None) -> CpuInfo:
    """The CPU as oneDNN sees it under ``ONEDNN_MAX_CPU_ISA=isa`` (unknown names: no cap)."""
    names = [name for name, _ in _ISA_LEVELS]
    isa = (isa or "").strip().lower()
    if isa not in names:
        return info
    allowed = {f for _, flags in _ISA_LEVELS[: names.index(isa) + 1] for f in flags}
    # Every AVX-512 and AMX extension goes with its level, listed or not.
    capped = _CAPPED | {f for f in info.flags if f.startswith(("avx512", "amx"))}
    flags = frozenset(f for f in info.flags if f not in capped or f in allowed)
    return CpuInfo(info.model, flags, info.source, isa.upper())


def _words(text: str) -> frozenset[str]:
    return frozenset(text.lower().split())


def _read_linux() -> CpuInfo:
    with open("/proc/cpuinfo", encoding="utf8", errors="replace") as f:
        return parse_cpuinfo(f.read())


def _sysctl(name: str) -> str:
    try:
        out = subprocess.run(["sysctl", "-n", name], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _read_macos() -> CpuInfo:
    features = " ".join(_sysctl(n) for n in ("machdep.cpu.features", "machdep.cpu.leaf7_features"))
    return parse_sysctl(_sysctl("machdep.cpu.brand_string") or platform.processor(), features)


def _read_other() -> CpuInfo:
    """Windows and the rest: the name from platform, the flags from what numpy dispatches to
    (numpy probes the CPU itself; ``AVX512_SPR`` covers AVX512-BF16 but says nothing of AMX)."""
    flags: set[str] = set()
    try:  # numpy 2 keeps it here; numpy 1 in numpy.core
        umath = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:
        umath = importlib.import_module("numpy.core._multiarray_umath")
    table = getattr(umath, "__cpu_features__", {})
    found = {str(k).lower() for k, v in table.items() if v}
    names = {"avx2": "avx2", "avx512f": "avx512f", "avx512_icl": "avx512_vnni"}
    flags.update(v for k, v in names.items() if k in found)
    if "avx512_spr" in found:
        flags.add("avx512_bf16")
    return CpuInfo(
        platform.processor() or platform.machine() or "unknown CPU", frozenset(flags), "platform"
    )


@functools.lru_cache(maxsize=1)
def detect() -> CpuInfo:
    """This machine's CPU, with ``ONEDNN_MAX_CPU_ISA`` applied."""
    try:
        if sys.platform.startswith("linux"):
            info = _read_linux()
        elif sys.platform == "darwin":
            info = _read_macos()
        else:
            info = _read_other()
    except OSError:
        info = _read_other()
    return cap(info, os.environ.get("ONEDNN_MAX_CPU_ISA"))
