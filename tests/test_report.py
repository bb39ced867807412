from __future__ import annotations

import base64
import io
import re
from pathlib import Path

from PIL import Image

from xception_maya.report import thumbnail_data_uri, write_report


def test_report_shows_thumbnails_scores_and_errors(tmp_path: Path) -> None:
    photo = tmp_path / "red brick.png"
    Image.new("RGB", (64, 32), (200, 30, 20)).save(photo)
    records = [
        {
            "image": str(photo),
            "labels": ["brick", "<script>alert(1)</script>"],
            "scores": [0.8312, 0.05],
            "indices": [0, 1],
            "error": None,
        },
        {
            "image": str(tmp_path / "broken & bad.jpg"),
            "labels": [],
            "scores": [],
            "indices": [],
            "error": "cannot identify image <file>",
        },
    ]
    path = write_report(
        records, tmp_path / "out" / "report.html", title="Scene <textures>", head="materials"
    )
    assert path == tmp_path / "out" / "report.html"
    html = path.read_text(encoding="utf-8")

    assert html.count("<script") == 1, "the page's own script only"
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<title>Scene &lt;textures&gt;</title>" in html
    assert "2 images · 1 error · head: materials" in html

    thumbnails = re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(thumbnails) == 1
    with Image.open(io.BytesIO(base64.b64decode(thumbnails[0]))) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == (64, 32)  # smaller than 160: never enlarged

    assert '<span style="width: 83.1%"></span>' in html
    assert "<span>83.1%</span>" in html
    assert '<span style="width: 5.0%"></span>' in html

    errors = html.split('<section class="errors">')[1].split("</section>")[0]
    assert "Could not classify" in errors
    assert "broken &amp; bad.jpg" in errors
    assert "cannot identify image &lt;file&gt;" in errors
    # Also an error card, with a placeholder where the thumbnail would be.
    assert html.count('class="card error"') == 1
    assert 'class="placeholder">no thumbnail:' in html


def test_thumbnail_is_rotated_by_exif_and_fits_the_size(tmp_path: Path) -> None:
    photo = tmp_path / "portrait.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to display
    Image.new("RGB", (400, 200), (10, 120, 200)).save(photo, exif=exif)
    uri = thumbnail_data_uri(photo, 100)
    data = base64.b64decode(uri.removeprefix("data:image/jpeg;base64,"))
    with Image.open(io.BytesIO(data)) as thumb:
        assert thumb.size == (50, 100)


def test_sixteen_bit_and_transparent_images_get_thumbnails(tmp_path: Path) -> None:
    deep = tmp_path / "height.png"
    Image.new("I;16", (20, 20), 1000).save(deep)
    clear = tmp_path / "decal.png"
    Image.new("RGBA", (20, 20), (0, 0, 0, 0)).save(clear)
    for path, expected in ((deep, 255), (clear, 255)):
        uri = thumbnail_data_uri(path, 160)
        data = base64.b64decode(uri.removeprefix("data:image/jpeg;base64,"))
        with Image.open(io.BytesIO(data)) as thumb:
            assert thumb.getpixel((10, 10))[0] >= expected - 3  # scaled up / white behind


def test_every_card_says_why_it_has_no_label_and_links_to_its_file(tmp_path: Path) -> None:
    photo = tmp_path / "wall #1.png"
    Image.new("RGB", (40, 40), (90, 90, 90)).save(photo)
    base = {"indices": [], "error": None}
    records = [
        {
            **base,
            "image": str(photo),
            "labels": ["fork"],
            "scores": [0.4],
            "unknown": True,
            "confidence": 0.03,
        },
        {
            **base,
            "image": str(photo),
            "labels": [],
            "scores": [],
            "unknown": False,
            "confidence": 0.9,
        },
        {
            **base,
            "image": str(tmp_path / "gone.png"),
            "labels": [],
            "scores": [],
            "error": "file not found",
        },
    ]
    html = write_report(records, tmp_path / "r.html", title="t", threshold=0.5).read_text()
    cards = html.split('<div class="card')[1:]
    assert 'data-label="unknown"' in cards[0]
    assert "unknown: nothing the head knows fits (confidence 0.03)" in cards[0]
    assert 'data-label="(no label)"' in cards[1] and "no label: none scores 0.5 or more" in cards[1]
    assert 'data-label="(error)"' in cards[2] and "error: file not found" in cards[2]
    assert cards[0].count(f'href="{photo.as_uri()}"') == 1 and "%231" in photo.as_uri()
    assert "2 unknown" not in html and "1 unknown" in html


def test_odd_names_are_shown_safely_and_still_linked(tmp_path: Path) -> None:
    image = str(tmp_path / "bad\udcff\nname\u202e.png")  # a byte that is not UTF-8, a newline
    record = {"image": image, "labels": ["a"], "scores": [0.5], "error": None}
    html = write_report([record], tmp_path / "r.html", title="t").read_text(encoding="utf-8")
    assert ">bad\\xff\\nname\\u202e.png</a>" in html
    assert 'href="' + (tmp_path / "bad").as_uri() + '%FF%0Aname%E2%80%AE.png"' in html
    assert "\u202e" not in html
