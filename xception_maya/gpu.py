"""Which onnxruntime-gpu fits this machine's NVIDIA driver, and why a GPU did not start.

The usual failure on a studio workstation: the CUDA provider does not load (the build wants
another CUDA than the driver runs, or no CUDA/cuDNN libraries are on the system) and
everything quietly runs on the CPU. So the installer picks the build for the driver's CUDA,
installs CUDA and cuDNN as pip packages (onnxruntime-gpu's ``cuda`` and ``cudnn`` extras),
the engine loads them before the first session (:func:`preload`), and ``doctor`` says what
it found (:func:`report`).

Facts this relies on, checked on PyPI (``pip install --dry-run --report`` of each version's
metadata, and ``--python-version``) on 2026-12-01:

- onnxruntime-gpu 1.21.0-1.26.0 are built for CUDA 12; their ``cuda`` extra requires
  ``nvidia-cuda-runtime-cu12~=12.0`` (and nvrtc, cufft, curand), ``cudnn`` requires
  ``nvidia-cudnn-cu12~=9.0``. 1.20 and older have no such extras (1.19-1.20 are CUDA 12 too,
  1.18 and older CUDA 11.8, per onnxruntime's release notes).
- 1.27.0 and newer (1.31.1 the latest) are built for CUDA 13: ``nvidia-cuda-runtime~=13.0``
  (``-cu13`` names in 1.27) and ``nvidia-cudnn-cu13~=9.0``.
- 1.24 and newer have no wheels for Python 3.10 (Maya 2024's); the last there is 1.23.2,
  CUDA 12, which a CUDA 13 driver also runs (drivers run the CUDA versions before theirs).
- ``onnxruntime.preload_dlls`` exists from 1.21 and loads the pip CUDA/cuDNN libraries.

The driver is read from ``nvidia-smi``'s header ("Driver Version: 550.54.14  CUDA Version:
12.4"; the CUDA version is the newest the driver runs), which every NVIDIA driver installs
on Linux and Windows. Nothing here imports maya.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from typing import Any

SMI_TIMEOUT_S = 20  # a hung driver must not hang Maya's installer or doctor
OLDEST_CUDA = 12  # the oldest CUDA with a pip-installable onnxruntime-gpu build
PLATFORMS = ("Windows", "Linux")  # onnxruntime-gpu has no macOS wheels
CUDA12_SPEC = "onnxruntime-gpu[cuda,cudnn]>=1.21,<1.27"
CUDA13_SPEC = "onnxruntime-gpu[cuda,cudnn]>=1.27"
CPU_SPEC = "onnxruntime"
# The pip packages holding the CUDA runtime and cuDNN, per CUDA major (see above).
LIBRARIES: dict[int, dict[str, tuple[str, ...]]] = {
    12: {"CUDA runtime": ("nvidia-cuda-runtime-cu12",), "cuDNN": ("nvidia-cudnn-cu12",)},
    13: {
        "CUDA runtime": ("nvidia-cuda-runtime", "nvidia-cuda-runtime-cu13"),
        "cuDNN": ("nvidia-cudnn-cu13",),
    },
}

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class Driver:
    version: str  # "550.54.14"
    cuda: tuple[int, int]  # the newest CUDA it runs: (12, 4)

    def __str__(self) -> str:
        return f"{self.version} (runs CUDA up to {self.cuda[0]}.{self.cuda[1]})"


@dataclass(frozen=True)
class Probe:
    driver: Driver | None
    problem: str = ""  # why there is no driver, when there is none


@dataclass(frozen=True)
class Choice:
    requirement: str  # what pip installs for onnxruntime
    cuda: int | None  # the CUDA major that build needs; None: the CPU build
    reason: str


_DRIVER = re.compile(r"Driver Version:\s*([\d.]+)")
_CUDA = re.compile(r"CUDA Version:\s*(\d+)\.(\d+)")


def parse_smi(text: str) -> Driver | None:
    """The driver from ``nvidia-smi``'s header; None when it names no CUDA version."""
    version, cuda = _DRIVER.search(text), _CUDA.search(text)
    if version is None or cuda is None:
        return None
    return Driver(version.group(1), (int(cuda.group(1)), int(cuda.group(2))))


def probe(
    *, which: Callable[[str], str | None] = shutil.which, runner: Runner = subprocess.run
) -> Probe:
    """Ask ``nvidia-smi`` (the probes are arguments, so tests choose the answers)."""
    smi = which("nvidia-smi")
    if not smi:
        return Probe(None, "no NVIDIA driver found (nvidia-smi is not on the PATH)")
    try:
        done = runner([smi], capture_output=True, text=True, timeout=SMI_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        return Probe(None, f"nvidia-smi did not answer: {exc}")
    if done.returncode != 0:
        said = (done.stdout or done.stderr or "").strip().splitlines()
        why = said[0] if said else f"exit status {done.returncode}"
        return Probe(None, f"nvidia-smi failed: {why}")
    driver = parse_smi(done.stdout or "")
    if driver is None:
        return Probe(None, "nvidia-smi names no CUDA version (a driver without CUDA?)")
    return Probe(driver)


def choose(
    found: Probe, system: str, python: tuple[int, int] = (sys.version_info[0], sys.version_info[1])
) -> Choice:
    """The onnxruntime build for this driver, operating system and Python."""
    if system not in PLATFORMS:
        return Choice(CPU_SPEC, None, f"onnxruntime-gpu has no wheels for {system}")
    driver = found.driver
    if driver is None:
        return Choice(CPU_SPEC, None, f"{found.problem}: the CPU build")
    major, minor = driver.cuda
    if major < OLDEST_CUDA:
        return Choice(
            CPU_SPEC,
            None,
            f"NVIDIA driver {driver.version} is too old: it runs CUDA up to {major}.{minor}, "
            f"and onnxruntime-gpu needs CUDA {OLDEST_CUDA} or newer (driver R525 or newer); "
            "update the driver for the GPU, the CPU build meanwhile",
        )
    if major >= 13 and python >= (3, 11):
        return Choice(CUDA13_SPEC, 13, f"driver {driver}: the CUDA 13 build")
    if major >= 13:
        return Choice(
            CUDA12_SPEC,
            12,
            f"driver {driver}: the CUDA 12 build (Python {python[0]}.{python[1]} has no CUDA "
            "13 build; the driver runs CUDA 12 too)",
        )
    return Choice(CUDA12_SPEC, 12, f"driver {driver}: the CUDA 12 build")


def build_cuda(version: str) -> int:
    """The CUDA major an onnxruntime-gpu version from PyPI is built for."""
    parts = [int(p) for p in re.findall(r"\d+", version)[:2]] + [0, 0]
    minor = parts[1] if parts[0] == 1 else 99
    return 13 if minor >= 27 else 12 if minor >= 19 else 11


def distributions_of(cuda: int | None) -> list[str]:
    """The pip packages of CUDA runtime and cuDNN for a CUDA major."""
    return [d for group in LIBRARIES.get(cuda or 0, {}).values() for d in group]


def distributions() -> dict[str, str]:
    """The installed onnxruntime builds and CUDA/cuDNN pip packages, with their versions."""
    names = {"onnxruntime", "onnxruntime-gpu"}
    names |= {d for libs in LIBRARIES.values() for group in libs.values() for d in group}
    found = {}
    for name in sorted(names):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def diagnose(
    found: Probe, installed: Mapping[str, str], system: str | None = None
) -> tuple[dict[str, str], list[str]]:
    """What doctor shows about the GPU (name -> value) and the problems that stop it."""
    system = system or platform.system()
    lines = {"nvidia driver": str(found.driver) if found.driver else found.problem}
    problems: list[str] = []
    gpu_build = installed.get("onnxruntime-gpu")
    if gpu_build is None:
        lines["onnxruntime-gpu"] = "not installed (the CPU build runs)"
        if found.driver is not None and found.driver.cuda[0] >= OLDEST_CUDA:
            problems.append(
                f"an NVIDIA driver is present but onnxruntime-gpu is not installed: "
                f'pip install "{choose(found, system).requirement}" (in place of onnxruntime)'
            )
        return lines, problems
    needs = build_cuda(gpu_build)
    lines["onnxruntime-gpu"] = f"{gpu_build}, built for CUDA {needs}"
    if found.driver is None:
        problems.append(f"onnxruntime-gpu {gpu_build} is installed but {found.problem}")
    libs = LIBRARIES.get(needs, {})
    present = []
    for what, names in libs.items():
        have = [f"{n} {installed[n]}" for n in names if n in installed]
        present.append(f"{what}: {', '.join(have) if have else 'not from pip'}")
        if not have:
            problems.append(
                f'no {what} {needs} from pip: pip install "onnxruntime-gpu[cuda,cudnn]=='
                f'{gpu_build}" (or install CUDA {needs} and cuDNN 9 on the system)'
            )
    lines["cuda libraries"] = "; ".join(present) or f"CUDA {needs}: none from pip"
    if "onnxruntime" in installed:
        problems.append(
            f"both onnxruntime {installed['onnxruntime']} and onnxruntime-gpu are installed; "
            "they share one folder and the CPU one may win: pip uninstall onnxruntime "
            "onnxruntime-gpu, then install onnxruntime-gpu alone"
        )
    if found.driver is not None and found.driver.cuda[0] < needs:
        right = choose(found, system)
        problems.append(
            f"onnxruntime-gpu {gpu_build} needs CUDA {needs} but driver {found.driver.version} "
            f"runs CUDA up to {found.driver.cuda[0]}.{found.driver.cuda[1]}: "
            + (f'pip install "{right.requirement}"' if right.cuda else right.reason)
        )
    return lines, problems


def report() -> tuple[dict[str, str], list[str]]:
    """:func:`diagnose` on this machine."""
    return diagnose(probe(), distributions())


GPU_PROVIDERS = ("CUDAExecutionProvider", "TensorrtExecutionProvider")
_preloaded = False


def preload(providers: list[str]) -> None:
    """Load the pip CUDA and cuDNN libraries before the first CUDA session (onnxruntime
    1.21+ finds them only this way); once per process, and never an error: without them
    the session says why the provider did not start."""
    global _preloaded
    if _preloaded or not any(p in providers for p in GPU_PROVIDERS):
        return
    _preloaded = True
    import onnxruntime as ort

    load: Any = getattr(ort, "preload_dlls", None)
    if load is None:
        return
    try:
        load()
    except Exception:  # onnxruntime raises its own untyped errors; the session reports
        return
