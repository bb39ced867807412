"""``tag`` and ``similar`` on folders of real photos, run in-process the way a user runs them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_run import run


@pytest.fixture
def photo_folder(tmp_path: Path, samples: list[Path]) -> Path:
    """Three photos, one more in a nested folder, a corrupt JPEG, a text file, a hidden photo."""
    folder = tmp_path / "textures"
    (folder / "nested" / "deeper").mkdir(parents=True)
    (folder / ".thumbs").mkdir()
    for photo in samples[:3]:
        shutil.copy(photo, folder / photo.name)
    shutil.copy(samples[16], folder / "nested" / "deeper" / "fork.jpg")
    shutil.copy(samples[0], folder / ".thumbs" / "hidden.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_tag_lists_every_image_and_the_error_at_the_end(
    photo_folder: Path, tmp_path: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "out" / "report.html"
    code, out, err = run(
        ["tag", str(photo_folder), "--json", "--top-k", "2", "--report", str(report)], capsys
    )
    records = {Path(r["image"]).relative_to(photo_folder).as_posix(): r for r in json.loads(out)}
    assert code == 1, "one image could not be read"
    assert sorted(records) == [
        "0000.jpg",
        "0001.jpg",
        "0002.jpg",
        "broken.jpg",
        "nested/deeper/fork.jpg",
    ]
    assert records["nested/deeper/fork.jpg"]["labels"][0] == "fork"
    assert all(len(r["labels"]) == 2 for name, r in records.items() if name != "broken.jpg")
    assert records["broken.jpg"]["labels"] == [] and "broken.jpg" in records["broken.jpg"]["error"]
    # The errors come last, on stderr, so stdout stays one JSON document.
    assert err.rstrip().splitlines()[-2:] == [
        "1 of 5 images could not be read:",
        f"  {photo_folder / 'broken.jpg'}: {records['broken.jpg']['error']}",
    ]

    html = report.read_text()
    assert html.count("data:image/jpeg;base64") == 4, "a thumbnail per readable photo"
    assert "Could not classify" in html and "broken.jpg" in html and "kitchenware" in html


def test_tag_agrees_with_classify(photo_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photos = sorted(photo_folder.glob("0*.jpg"))
    _, tagged, _ = run(["tag", str(photo_folder), "--json"], capsys)
    _, classified, _ = run(["classify", "--json", *map(str, photos)], capsys)
    by_image = {r["image"]: r for r in json.loads(tagged)}
    for record in json.loads(classified):
        assert by_image[record["image"]] == record


def test_tag_no_recursive_threshold_and_table(
    photo_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        ["tag", str(photo_folder), "--no-recursive", "--json", "--threshold", "0.5"], capsys
    )
    records = json.loads(out)
    assert code == 1
    assert [Path(r["image"]).name for r in records] == [
        "0000.jpg",
        "0001.jpg",
        "0002.jpg",
        "broken.jpg",
    ]
    # The kitchenware head is sure of these photos: one label each passes 0.5.
    for record in records[:3]:
        assert len(record["labels"]) == 1 and record["scores"][0] >= 0.5

    _, out, _ = run(["tag", str(photo_folder), "--json"], capsys)
    below = sum(1 for r in json.loads(out) if r["scores"] and r["scores"][0] < 0.9999)
    assert below >= 2, "photos whose top score is under 0.9999, to show the reason line"
    code, out, _ = run(["tag", str(photo_folder), "--threshold", "0.9999"], capsys)
    lines = out.splitlines()
    assert lines[0].split() == ["image", "label", "score"]
    assert any(line.startswith("nested/deeper/fork.jpg ") for line in lines), "path in DIR"
    assert sum("(no label scores 0.9999 or more)" in line for line in lines) == below


def test_tag_on_a_folder_without_images_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("nothing to see")
    code, _, err = run(["tag", str(tmp_path)], capsys)
    assert code == 2 and "no images (.jpg, .jpeg" in err and str(tmp_path) in err
    code, _, err = run(["tag", str(tmp_path / "missing")], capsys)
    assert code == 2 and "folder not found" in err


def test_similar_finds_the_copy_and_leaves_out_the_query(
    tmp_path: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "library"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(samples[4], folder / "query.jpg")
    shutil.copy(samples[4], folder / "sub" / "same_photo.jpg")
    for photo in samples[5:9]:
        shutil.copy(photo, folder / photo.name)

    code, out, _ = run(["similar", str(folder / "query.jpg"), str(folder), "--json"], capsys)
    result = json.loads(out)
    names = [Path(r["image"]).name for r in result["similar"]]
    assert code == 0 and result["errors"] == []
    assert "query.jpg" not in names
    assert names[0] == "same_photo.jpg"
    assert result["similar"][0]["similarity"] == pytest.approx(1.0, abs=1e-5)
    assert all(r["similarity"] < 0.99 for r in result["similar"][1:])
    similarities = [r["similarity"] for r in result["similar"]]
    assert similarities == sorted(similarities, reverse=True)
    # K bigger than the folder: every other image, once.
    assert len(names) == 5 and len(set(names)) == 5

    code, out, _ = run(["similar", str(samples[4]), str(folder), "-k", "2"], capsys)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3
    assert lines[0].split() == ["similarity", "image"]
    # A query from outside the folder: both copies are it, pixel for pixel.
    assert {line.split()[1] for line in lines[1:]} == {"query.jpg", "sub/same_photo.jpg"}
    assert all(float(line.split()[0]) > 0.9999 for line in lines[1:])


def test_similar_lists_unreadable_images_and_refuses_a_bad_query(
    photo_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        ["similar", str(photo_folder / "0000.jpg"), str(photo_folder), "--json"], capsys
    )
    result = json.loads(out)
    assert code == 1
    assert [Path(e["image"]).name for e in result["errors"]] == ["broken.jpg"]
    assert len(result["similar"]) == 3, "the readable images but the query"
    assert "1 of 4 images could not be read:" in err

    code, _, err = run(["similar", str(photo_folder / "broken.jpg"), str(photo_folder)], capsys)
    assert code == 2 and "broken.jpg" in err
    code, _, err = run(["similar", str(tmp_path / "nope.jpg"), str(photo_folder)], capsys)
    assert code == 2 and "image not found" in err
