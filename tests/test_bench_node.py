"""benchmarks/bench_node.py runs its own Maya session and measures every row it prints."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_node  # noqa: E402

from xception_maya.classifier import shared_cache  # noqa: E402

pytestmark = pytest.mark.maya


def test_bench_node_measures_what_it_says(
    models_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("XCEPTION_MAYA_INDEX", "")  # the bench sets its own; restored after
    monkeypatch.setenv("MAYA_APP_DIR", str(tmp_path / "maya_app_dir"))
    try:
        assert bench_node.main(["--images", "1"]) == 0
    finally:
        shared_cache.clear()  # later tests expect the sample photos not to be cached yet
    out = capsys.readouterr().out
    assert out.startswith("xceptionClassifier node costs on ") and "\nCPU: " in out
    for row in ("library index (no network run)", "async: compute blocks for", "until the result"):
        assert row in out
