"""What is installed, what runs, and whether the models on disk are what the manifest says.

Shared by ``xception-maya doctor`` and the Maya "About / doctor" dialog.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from . import __version__
from .errors import XceptionMayaError

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
    from .engine import available_providers, get_engine
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
    try:
        manifest = Manifest.load(models_dir)
        info["heads"] = [
            f"{n} ({len(h['labels'])} classes{', default' if n == manifest.default_head else ''})"
            for n, h in manifest.heads.items()
        ]
        problems += manifest.verify()
        int8 = int8_variant(manifest)
        info["int8 model"] = (
            f"{int8['file']} (bound {'holds' if int8.get('bound', {}).get('holds') else 'fails'})"
            if int8
            else "none (xception-maya setup --int8)"
        )
        engine = get_engine(manifest.backbone_path, device, precision)
        info["device"] = device
        info["running on"] = engine.provider
        info["precision"] = f"{engine.precision} on {engine.runtime} ({engine.reason})"
        if engine.fallback:
            problems.append(engine.fallback)
    except XceptionMayaError as exc:
        problems.append(str(exc))
    info["problems"] = problems
    return info
