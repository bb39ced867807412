"""The report in a real browser: Chromium headless runs the page's script, and the tests read
the DOM it leaves (--dump-dom) or the pixels it paints (--screenshot). The view is set by the
URL's hash, as a user's bookmark would set it (#label=cup&sort=score&group=1)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from xception_maya.report import write_report

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Chromium on PATH (make test installs it as root: apt-get install -y chromium)",
)


def browse(profile: Path, url: str, *flags: str) -> str:
    """Chromium headless on ``url``, isolated from the network and the user's profile."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *flags,
            url,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return done.stdout.decode("utf-8")


def visible_names(dom: str) -> list[str]:
    return re.findall(r'<div class="card[^"]*"[^>]*data-name="([^"]*)"', dom)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    colours = {"a_cup": (255, 0, 0), "b_plate": (0, 0, 255), "c_cup": (255, 0, 0)}
    colours |= {"d_wall": (128, 128, 128), "e_dim": (40, 40, 40)}
    for name, colour in colours.items():
        Image.new("RGB", (120, 90), colour).save(folder / f"{name}.png")

    def record(name: str, labels: list[str], scores: list[float], **more: Any) -> dict[str, Any]:
        out = {"image": str(folder / f"{name}.png"), "labels": labels, "scores": scores}
        return out | {"indices": [], "unknown": False, "confidence": 0.9, "error": None} | more

    records = [
        record("a_cup", ["cup"], [0.7]),
        record("b_plate", ["plate"], [0.95]),
        record("c_cup", ["cup"], [0.9]),
        record("d_wall", ["fork"], [0.4], unknown=True, confidence=0.1),
        record("e_dim", [], []),
        record("f_gone", [], [], error="file not found"),
    ]
    return write_report(records, folder / "report.html", title="browser check", threshold=0.6)


def test_filter_by_label_and_sort_by_score(report: Path, tmp_path: Path) -> None:
    dom = browse(tmp_path, report.as_uri() + "#label=cup&sort=score", "--dump-dom")
    assert visible_names(dom) == ["c_cup.png", "a_cup.png"]
    assert '<span id="count">2 of 6 shown</span>' in dom

    dom = browse(tmp_path, report.as_uri() + "#label=unknown", "--dump-dom")
    assert visible_names(dom) == ["d_wall.png"]


def test_sort_by_name_and_as_run(report: Path, tmp_path: Path) -> None:
    as_run = ["a_cup.png", "b_plate.png", "c_cup.png", "d_wall.png", "e_dim.png", "f_gone.png"]
    assert visible_names(browse(tmp_path, report.as_uri(), "--dump-dom")) == as_run
    by_score = visible_names(browse(tmp_path, report.as_uri() + "#sort=score", "--dump-dom"))
    # The top score; "unknown" by its confidence; no label, then errors, last.
    best_first = ["b_plate.png", "c_cup.png", "a_cup.png", "d_wall.png", "e_dim.png"]
    assert by_score == [*best_first, "f_gone.png"]
    # Reversed names in the records: sorting by name must reorder them.
    records = [
        {"image": f"/nowhere/{n}.png", "labels": ["x"], "scores": [0.5], "error": None}
        for n in ("zeta", "Alpha", "mid")
    ]
    page = write_report(records, tmp_path / "names.html", title="names")
    dom = browse(tmp_path, page.as_uri() + "#sort=name", "--dump-dom")
    assert visible_names(dom) == ["alpha.png", "mid.png", "zeta.png"]


def test_group_by_label(report: Path, tmp_path: Path) -> None:
    dom = browse(tmp_path, report.as_uri() + "#group=1", "--dump-dom")
    sections = re.split(r'<h2 class="group">', dom)[1:]
    groups = {s.split("</h2>")[0]: visible_names(s) for s in sections}
    assert next(iter(groups)) == "cup (2)", "the largest group first"
    assert groups == {
        "cup (2)": ["a_cup.png", "c_cup.png"],
        "plate (1)": ["b_plate.png"],
        "unknown (1)": ["d_wall.png"],
        "(no label) (1)": ["e_dim.png"],
        "(error) (1)": ["f_gone.png"],
    }


def test_cards_say_why_link_to_files_and_nothing_is_loaded_from_elsewhere(
    report: Path, tmp_path: Path
) -> None:
    dom = browse(tmp_path, report.as_uri(), "--dump-dom")
    assert "unknown: nothing the head knows fits (confidence 0.10)" in dom
    assert "no label: none scores 0.6 or more" in dom
    assert "error: file not found" in dom
    hrefs = re.findall(r'<a class="name" href="([^"]+)"', dom)
    assert hrefs == [(report.parent / n).as_uri() for n in visible_names(dom)]
    sources = re.findall(r'<img src="([^"]{0,30})', dom)
    assert len(sources) == 5 and all(s.startswith("data:image/jpeg;base64,") for s in sources)
    assert not re.search(r'(src|href)="(https?:)?//', dom)


def test_thumbnails_are_painted(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    browse(
        tmp_path,
        report.as_uri() + "#label=cup",
        f"--screenshot={shot}",
        "--window-size=1000,800",
        "--virtual-time-budget=5000",
    )
    with Image.open(shot) as image:
        pixels = np.asarray(image.convert("RGB")).astype(int)
    red = (pixels[..., 0] > 230) & (pixels[..., 1] < 30) & (pixels[..., 2] < 30)
    blue = (pixels[..., 2] > 230) & (pixels[..., 0] < 30) & (pixels[..., 1] < 30)
    # Two red thumbnails of 120 x 90 (device pixels may be more), and the filter hides blue.
    assert red.sum() >= 2 * 120 * 90 * 0.9 and blue.sum() == 0


def test_the_report_bench_gives_real_numbers(tmp_path: Path) -> None:
    """benchmarks/bench_report.py's code path at a small size."""
    import importlib.util
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("the bench hands Chromium its DevTools pipe by file number (Linux)")
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_report.py"
    spec = importlib.util.spec_from_file_location("bench_report", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert CHROMIUM is not None
    result = bench.measure(24, 1, CHROMIUM, tmp_path)
    assert result["cards"] == 24 and 0 < result["shown"] < 24
    assert result["bytes"] > 24 * 1000, "a real thumbnail per card"
    assert 0 < result["fcp"] < 60_000 and result["load"] > 0
    assert result["regroup"] >= 0 and result["filter"] >= 0
