"""The core never imports maya: the CLI, farm jobs and the Ray workers run without it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import xception_maya

ROOT = Path(__file__).resolve().parent.parent


def core_modules() -> list[str]:
    found = [
        f"xception_maya.{m.name}"
        for m in pkgutil.walk_packages(xception_maya.__path__)
        if not m.name.startswith("maya")
    ]
    return sorted(found)


def test_every_core_module_imports_without_maya() -> None:
    modules = core_modules()
    assert "xception_maya.classifier" in modules and "xception_maya.registry" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except ImportError as exc:\n"
        "        if 'maya' in str(exc): raise\n"  # an optional extra may be missing; maya never
        "print(sorted(m for m in sys.modules if m == 'maya' or m.startswith('maya.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout
