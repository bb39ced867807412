"""What is installed, what runs, and whether the models on disk are what the manifest says.

Shared by ``xception-maya doctor`` and the Maya "About / doctor" dialog.
"""

from __future__ import annotations

import functools
import platform
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__, gpu
from .errors import XceptionMayaError
from .heads import Head

PACKAGES = (
    "numpy",
    "onnxruntime",
    "onnxruntime-gpu",
    "openvino",
    "Pillow",
    "onnx",
    "h5py",
    "OpenImageIO",
)


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def report(
    models_dir: str | Path | None = None, device: str = "auto", precision: str = "fp32"
) -> dict[str, Any]:
    from .cpu import detect
    from .engine import available_providers
    from .manifest import Manifest, default_models_dir
    from .precision import int8_variant

    info: dict[str, Any] = {
        "xception-maya": __version__,
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        **versions(),
        "cpu": detect().summary(),
        "providers": available_providers(),
        "models": str(Path(models_dir) if models_dir else default_models_dir()),
    }
    problems: list[str] = []
    gpu_lines, gpu_problems = gpu.report()  # driver, the build's CUDA, its libraries
    info["gpu"] = [f"{name}: {value}" for name, value in gpu_lines.items()]
    problems += [f"gpu: {p}" for p in gpu_problems]
    try:
        manifest = Manifest.load(models_dir)
    except XceptionMayaError as exc:
        info["problems"] = [*problems, str(exc)]
        return info
    info["heads"] = [
        f"{n} ({len(h.labels)} classes{', default' if n == manifest.default_head else ''})"
        for n, h in manifest.heads.items()
    ]
    problems += manifest.verify()
    for name in manifest.heads:
        path = manifest.head_path(name)
        problems += _check(f"head {name}", functools.partial(Head.load, path))
    int8 = int8_variant(manifest)
    info["int8 model"] = (
        f"{int8['file']} (bound {'holds' if int8.get('bound', {}).get('holds') else 'fails'})"
        if int8
        else "none (xception-maya setup --int8)"
    )
    info["device"] = device
    engine_problems = _check(
        "backbone", lambda: _run_engine(manifest.backbone_path, device, precision, info)
    )
    problems += engine_problems
    info["problems"] = problems
    return info


def _run_engine(path: Path, device: str, precision: str, info: dict[str, Any]) -> None:
    from .engine import get_engine

    engine = get_engine(path, device, precision)
    info["running on"] = engine.provider
    info["precision"] = f"{engine.precision} on {engine.runtime} ({engine.reason})"
    if engine.fallback:
        raise XceptionMayaError(engine.fallback)


def _check(what: str, action: Callable[[], object]) -> list[str]:
    """[] when ``action`` runs, else its one-line problem. doctor diagnoses broken installs,
    so nothing it finds may become a traceback."""
    try:
        action()
    except XceptionMayaError as exc:
        return [f"{what}: {exc}"]
    except Exception as exc:  # an unforeseen failure is a finding too
        return [f"{what}: unexpected {type(exc).__name__}: {exc}"]
    return []
