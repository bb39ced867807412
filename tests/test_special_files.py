"""Special files and hostile names: FIFOs never hang, any bytes in a name print safely,
and every path a folder walk skips is listed with its reason."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xception_maya import images
from xception_maya.cli import main
from xception_maya.errors import ImageError, XceptionMayaError
from xception_maya.learn import scan_images
from xception_maya.report import write_report
from xception_maya.text import json_safe, shown

ROOT = Path(__file__).resolve().parent.parent
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
needs_bytes_names = pytest.mark.skipif(
    sys.platform in ("win32", "darwin"), reason="the file system insists on Unicode names"
)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The CLI in a child process with a strict UTF-8 stdout, under a timeout (a hang fails)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONIOENCODING="utf-8:strict")
    return subprocess.run(
        [sys.executable, "-m", "xception_maya.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="strict",
        env=env,
        timeout=timeout,
    )


# --- shown / json_safe -------------------------------------------------------------------------


def test_shown_escapes_what_cannot_be_printed_and_keeps_the_rest() -> None:
    assert shown("red brick.png") == "red brick.png"
    assert shown("écorce_木.png") == "écorce_木.png"
    assert shown(os.fsdecode(b"\xff.png")) == "\\xff.png"
    assert shown("a\nb\r\tc.png") == "a\\nb\\r\\tc.png"
    assert shown("\x1b[2Jx.png") == "\\x1b[2Jx.png"
    assert shown("cod\u202egnp.exe") == "cod\\u202egnp.exe"
    assert shown("line\u2028sep") == "line\\u2028sep"
    assert json_safe({"image": os.fsdecode(b"a\xfe"), "n": ["x\ny", 1]}) == {
        "image": "a\\xfe",
        "n": ["x\ny", 1],  # JSON spells a newline itself: kept exact
    }


# --- FIFOs and other special files ------------------------------------------------------------


@needs_fifo
def test_fifo_as_an_image_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageError, match="FIFO"):
        images.load_image(fifo)
    with pytest.raises(ImageError, match="FIFO"):
        images.open_thumbnail(fifo, 64)


@needs_fifo
def test_fifo_in_classify_is_that_image_error(tmp_path: Path, samples: list[Path]) -> None:
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    done = cli("classify", "--json", str(samples[0]), str(fifo))
    assert done.returncode == 1, done.stderr
    records = json.loads(done.stdout)
    assert records[0]["error"] is None and records[0]["labels"]
    assert "FIFO" in records[1]["error"]


@needs_fifo
def test_fifo_or_folder_as_report_is_one_line_before_any_work(
    tmp_path: Path, samples: list[Path]
) -> None:
    fifo = tmp_path / "report.html"
    os.mkfifo(fifo)
    folder = tmp_path / "a folder"
    folder.mkdir()
    for target, what in ((fifo, "FIFO"), (folder, "folder")):
        done = cli("classify", str(samples[0]), "--report", str(target), timeout=60)
        assert done.returncode == 2
        assert done.stdout == ""  # refused before classifying
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and what in lines[0] and "Traceback" not in done.stderr
    assert fifo.exists() and not fifo.is_file()  # the FIFO is left alone, not replaced


@needs_fifo
def test_write_report_refuses_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "r.html"
    os.mkfifo(fifo)
    with pytest.raises(XceptionMayaError, match="FIFO"):
        write_report([], fifo, title="t")


# --- names with any bytes --------------------------------------------------------------------


@needs_bytes_names
def test_non_utf8_name_through_table_json_and_report(tmp_path: Path, samples: list[Path]) -> None:
    folder = tmp_path / "textures"
    folder.mkdir()
    odd = Path(os.fsdecode(bytes(folder) + b"/\xff.jpg"))
    shutil.copy(samples[0], odd)
    report = tmp_path / "report.html"

    table = cli("tag", str(folder), "--report", str(report))
    assert table.returncode == 0, table.stderr
    assert "\\xff.jpg" in table.stdout.splitlines()[1]
    html = report.read_text(encoding="utf-8")  # strict: the file is valid UTF-8
    assert "\\xff.jpg" in html and 'class="card"' in html and "base64" in html

    as_json = cli("tag", str(folder), "--json")
    assert as_json.returncode == 0
    (record,) = json.loads(as_json.stdout)
    assert record["image"].endswith("\\xff.jpg") and record["labels"]


@needs_bytes_names
def test_unreadable_non_utf8_name_is_listed_in_the_errors(tmp_path: Path) -> None:
    folder = tmp_path / "textures"
    folder.mkdir()
    Path(os.fsdecode(bytes(folder) + b"/\xfe broken.png")).write_bytes(b"not a png")
    report = tmp_path / "report.html"
    done = cli("tag", str(folder), "--report", str(report))
    assert done.returncode == 1
    assert "1 of 1 image could not be read:" in done.stderr
    assert "\\xfe broken.png" in done.stderr and "Traceback" not in done.stderr
    errors = report.read_text(encoding="utf-8").split('<section class="errors">')[1]
    assert "\\xfe broken.png" in errors


def test_newline_in_a_name_stays_on_one_row(tmp_path: Path, samples: list[Path]) -> None:
    folder = tmp_path / "textures"
    folder.mkdir()
    shutil.copy(samples[0], folder / "two\nlines.jpg")
    shutil.copy(samples[1], folder / "plain.jpg")
    done = cli("tag", str(folder))
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()
    assert len(rows) == 3  # the header and one row per image
    assert any(row.startswith("two\\nlines.jpg ") for row in rows)
    as_json = json.loads(cli("tag", str(folder), "--json").stdout)
    assert {Path(r["image"]).name for r in as_json} == {"two\nlines.jpg", "plain.jpg"}


# --- folder walks list what they skip --------------------------------------------------------


@pytest.fixture
def odd_folder(tmp_path: Path, samples: list[Path]) -> Path:
    folder = tmp_path / "textures"
    (folder / "x.jpg").mkdir(parents=True)  # a folder named like an image
    shutil.copy(samples[0], folder / "good.jpg")
    shutil.copy(samples[1], folder / "x.jpg" / "inside.jpg")
    (folder / "loop.jpg").symlink_to("loop.jpg")  # a symbolic link to itself
    (folder / "gone.png").symlink_to(tmp_path / "nowhere.png")
    (folder / "again").symlink_to(folder)  # a folder link back to where it is
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "pipe.png")
    return folder


def test_scan_lists_loops_folders_and_special_files(odd_folder: Path) -> None:
    found, skipped = scan_images(odd_folder)
    assert [p.relative_to(odd_folder).as_posix() for p in found] == ["good.jpg", "x.jpg/inside.jpg"]
    reasons = {p.relative_to(odd_folder).as_posix(): why for p, why in skipped}
    assert reasons["x.jpg"] == "a folder, not an image file"
    assert reasons["loop.jpg"] == "symbolic link loop"
    assert reasons["gone.png"].startswith("broken symbolic link")
    assert reasons["again"].startswith("symbolic link loop")
    if hasattr(os, "mkfifo"):
        assert reasons["pipe.png"] == "a FIFO (named pipe), not a regular file"
    assert len(skipped) == (5 if hasattr(os, "mkfifo") else 4)


def test_tag_lists_every_skipped_path_as_an_error(
    odd_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["tag", str(odd_folder), "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    records = {Path(r["image"]).relative_to(odd_folder).as_posix(): r for r in json.loads(out)}
    assert records["good.jpg"]["labels"] and records["x.jpg/inside.jpg"]["labels"]
    assert records["x.jpg"]["error"] == "skipped: a folder, not an image file"
    assert records["loop.jpg"]["error"] == "skipped: symbolic link loop"
    assert "x.jpg: skipped: a folder, not an image file" in err
    assert "loop.jpg: skipped: symbolic link loop" in err


def test_similar_lists_skipped_paths(
    odd_folder: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["similar", str(samples[2]), str(odd_folder), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 1
    assert len(result["similar"]) == 2
    errors = {Path(e["image"]).name: e["error"] for e in result["errors"]}
    assert errors["x.jpg"] == "skipped: a folder, not an image file"
    assert errors["loop.jpg"] == "skipped: symbolic link loop"


def test_learn_lists_skipped_entries_of_its_tag_folders(
    tmp_path: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    examples = tmp_path / "examples"
    for tag, photos in (("cup", samples[:2]), ("fork", samples[16:18])):
        (examples / tag).mkdir(parents=True)
        for photo in photos:
            shutil.copy(photo, examples / tag / photo.name)
    (examples / "cup" / "loop.jpg").symlink_to("loop.jpg")
    (examples / "fork" / "old.png").mkdir()
    code = main(["learn", str(examples), "-o", str(tmp_path / "head.npz")])
    out = capsys.readouterr().out
    assert code == 1  # learned, but not from everything
    assert (tmp_path / "head.npz").is_file()
    assert "2 images left out (not learned from):" in out
    assert f"{examples / 'cup' / 'loop.jpg'}: symbolic link loop" in out
    assert f"{examples / 'fork' / 'old.png'}: a folder, not an image file" in out
