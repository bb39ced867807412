"""The command line, run in-process the way a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_run import run

from xception_maya.manifest import Manifest


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


def test_options_anywhere_on_the_line(
    samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["classify", str(samples[0]), "--json", str(samples[1]), "--top-k", "1"], capsys
    )
    records = json.loads(out)
    assert code == 0
    assert [r["image"] for r in records] == [str(samples[0]), str(samples[1])]
    assert all(len(r["labels"]) == 1 for r in records)


@pytest.mark.parametrize(
    ("command", "option", "value", "says"),
    [
        ("classify", "--size", "50", "--size 50 is below Xception's minimum"),
        ("classify", "--size", "big", "must be a whole number, not 'big'"),
        ("tag", "--color-space", "foo", "unknown colour space 'foo'"),
        ("classify", "--top-k", "0", "must be 1 or more, not 0"),
        ("tag", "--batch-size", "0", "must be 1 or more, not 0"),
        ("tag", "--threshold", "1.5", "must be from 0 to 1, not 1.5"),
        ("tag", "--threshold", "nan", "must be from 0 to 1, not nan"),
    ],
)
def test_bad_options_are_usage_errors_before_any_image_is_read(
    command: str,
    option: str,
    value: str,
    says: str,
    samples: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import xception_maya.classifier

    def no_classifier(*args: object, **kwargs: object) -> None:
        raise AssertionError("a classifier was made: images would be read")

    monkeypatch.setattr(xception_maya.classifier, "Classifier", no_classifier)
    target = str(samples[0] if command == "classify" else samples[0].parent)
    code, out, err = run([command, target, option, value], capsys)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"xception-maya {command}: error: argument {option}: ")
    assert says in err


def test_a_folder_for_classify_points_to_tag(
    samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = samples[0].parent
    code, out, err = run(["classify", str(samples[0]), str(folder)], capsys)
    assert code == 2 and out == ""
    assert err.strip() == (
        f"xception-maya: error: {folder} is a folder; for the images in it use: "
        f"xception-maya tag {folder}"
    )


def test_features_in_a_table_are_refused_with_a_pointer_to_json(
    samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["classify", "--features", str(samples[0])], capsys)
    assert code == 2 and out == "" and "add --json" in err and len(err.splitlines()) == 1


def test_table_shows_top_k_lines_per_image(
    samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["classify", "--json", "--top-k", "3", str(samples[16])], capsys)
    record = json.loads(out)[0]
    code, out, _ = run(["classify", "--top-k", "3", str(samples[16])], capsys)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4, "a header and three labels"
    assert lines[1].split()[0] == samples[16].name
    assert [line.split()[-2] for line in lines[1:]] == record["labels"]
    assert [float(line.split()[-1]) for line in lines[1:]] == pytest.approx(
        record["scores"], abs=5e-4
    )
    _, out, _ = run(["classify", str(samples[16])], capsys)
    assert len(out.splitlines()) == 2, "one line per image by default"


@pytest.fixture
def astronaut(tmp_path: Path) -> Path:
    """scikit-image's astronaut: no kitchenware, "unknown" to the kitchenware head."""
    from PIL import Image
    from skimage import data

    path = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def test_unknown_is_shown_with_its_confidence_and_can_be_left_out(
    astronaut: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["classify", "--json", str(astronaut), str(samples[0])], capsys)
    space, cup = json.loads(out)
    assert space["unknown"] is True and space["confidence"] < 0.5 and space["labels"]
    assert cup["unknown"] is False and cup["confidence"] >= 0.5

    code, out, _ = run(["classify", "--top-k", "2", str(astronaut), str(samples[0])], capsys)
    lines = out.splitlines()
    assert code == 0
    assert lines[1].split() == ["astronaut.png", "unknown", f"{space['confidence']:.3f}"]
    assert lines[2].split() == [space["labels"][0], f"{space['scores'][0]:.3f}"]
    assert lines[3].split()[:2] == [samples[0].name, cup["labels"][0]]

    code, out, err = run(
        ["classify", "--json", "--known-only", str(astronaut), str(samples[0])], capsys
    )
    assert code == 0 and [r["image"] for r in json.loads(out)] == [str(samples[0])]
    assert "(2 images on " in err, "the footer counts the images that ran"


def test_tag_threshold_keeps_unknown_visible(
    astronaut: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    shutil.copy(samples[0], astronaut.parent / "cup.jpg")
    _, out, _ = run(["tag", str(astronaut.parent), "--threshold", "0.99", "--json"], capsys)
    by_name = {Path(r["image"]).name: r for r in json.loads(out)}
    assert by_name["astronaut.png"]["unknown"] is True and by_name["astronaut.png"]["labels"] == []
    _, out, _ = run(["tag", str(astronaut.parent), "--threshold", "0.99"], capsys)
    assert any(line.split()[:2] == ["astronaut.png", "unknown"] for line in out.splitlines())
    _, out, _ = run(["tag", str(astronaut.parent), "--known-only"], capsys)
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["cup.jpg"]


def test_footer_counts_only_the_images_that_ran(
    samples: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    code, _, err = run(["classify", str(bad)], capsys)
    assert code == 1 and "(no image could be read)" in err and "images on" not in err
    code, _, err = run(["classify", str(bad), str(samples[0])], capsys)
    assert code == 1 and "(1 image on " in err


def test_a_closed_pipe_ends_quietly(samples: list[Path]) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    command = [sys.executable, "-m", "xception_maya.cli", "classify", "--json", "--features"]
    # Four images' features are over 64 KiB, more than a pipe holds: writing must fail.
    with subprocess.Popen(
        [*command, *map(str, samples[:4])],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.read(10).startswith(b"[")
        process.stdout.close()  # as `| head -c 10` does
        err = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert code == 141 and "Traceback" not in err and "BrokenPipe" not in err, err


def test_shell_completion(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    pytest.importorskip("argcomplete", reason="completion needs the completion extra")
    answers = tmp_path / "completions"
    line = "xception-maya classify --to"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "_ARGCOMPLETE": "1",
        "_ARGCOMPLETE_STDOUT_FILENAME": str(answers),
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
    }
    subprocess.run([sys.executable, "-m", "xception_maya.cli"], env=env, timeout=60, check=False)
    assert "--top-k" in answers.read_text().split()
