"""The command line, run in-process the way a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xception_maya.cli import main
from xception_maya.manifest import Manifest


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_classify_json_records(
    samples: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    code, out, _ = run(["classify", "--json", "--top-k", "2", str(samples[0]), str(bad)], capsys)
    records = json.loads(out)
    assert code == 1, "one image failed"
    assert list(records[0]) == [
        "image",
        "labels",
        "scores",
        "indices",
        "unknown",
        "confidence",
        "error",
    ]
    assert len(records[0]["labels"]) == 2 and records[0]["error"] is None
    assert records[1]["labels"] == [] and "bad.jpg" in records[1]["error"]


def test_classify_all_good_exits_zero_with_a_table(
    samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["classify", str(samples[16])], capsys)
    assert code == 0
    assert out.splitlines()[1].split()[:2] == [samples[16].name, "fork"]
    assert "CPUExecutionProvider" in err


def test_features_without_a_head(samples: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["classify", "--json", "--head", "none", "--features", str(samples[0])], capsys
    )
    record = json.loads(out)[0]
    assert code == 0 and record["labels"] == [] and len(record["features"]) == 2048


def test_report(samples: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.html"
    code, _, err = run(["classify", "--report", str(report), *map(str, samples[:3])], capsys)
    html = report.read_text()
    assert code == 0 and str(report) in err
    assert html.count("data:image/jpeg;base64") == 3 and "kitchenware" in html


def test_unknown_head_is_one_clear_line(
    samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["classify", "--head", "wood", str(samples[0])], capsys)
    assert code == 2
    assert err.strip() == ("xception-maya: error: unknown head 'wood'; known heads: kitchenware")


def test_unavailable_device(samples: list[Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["classify", "--device", "directml", str(samples[0])], capsys)
    assert code == 2 and "onnxruntime-directml" in err


def test_doctor(capsys: pytest.CaptureFixture[str], models_dir: Path) -> None:
    code, out, _ = run(["doctor", "--json"], capsys)
    info = json.loads(out)
    assert code == 0 and info["problems"] == []
    assert info["running on"] == "CPUExecutionProvider"
    assert "onnxruntime" in info and any("kitchenware" in h for h in info["heads"])


def test_doctor_finds_a_damaged_model(
    tmp_path: Path, models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    copy = tmp_path / "models"
    shutil.copytree(models_dir, copy, ignore=shutil.ignore_patterns("samples"))
    with open(Manifest.load(copy).head_path("kitchenware"), "ab") as f:
        f.write(b"tampered")
    code, out, _ = run(["doctor", "--models", str(copy)], capsys)
    assert code == 1 and "does not match its sha256" in out
