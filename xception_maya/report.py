"""A self-contained HTML report of classification results, to open in a browser or print.

Records are the CLI's JSON results: ``{"image", "labels", "scores", "indices", "error"}``.
Thumbnails are JPEGs embedded as base64 data URIs, so the one file can be mailed or archived
without the images beside it. They are decoded by :func:`xception_maya.images.open_thumbnail`,
with the classifier's header check and memory budget. Names and errors are shown through
:func:`xception_maya.text.shown`, so any bytes in a file name give valid one-line HTML; the
file is written atomically and never onto a folder or a special file.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import fsio, images
from .text import shown

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px;
  background: #f6f7f9; color: #1d2330; }
h1 { font-size: 1.4em; margin: 0 0 4px; }
.summary { color: #555d6e; margin-bottom: 20px; }
.errors { background: #fff4f2; border: 1px solid #f0c2b9; border-radius: 6px;
  padding: 8px 16px; margin-bottom: 20px; }
.errors h2 { font-size: 1.05em; margin: 8px 0; color: #a3321f; }
.errors li { margin: 4px 0; }
.grid { display: grid; gap: 14px; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); }
.card { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px;
  break-inside: avoid; }
.card.error { border-color: #f0c2b9; background: #fffaf9; }
.thumb { display: flex; align-items: center; justify-content: center; height: var(--size);
  margin-bottom: 8px; }
.thumb img { max-width: 100%; max-height: 100%; }
.placeholder { width: 100%; height: 100%; box-sizing: border-box; display: flex;
  align-items: center; justify-content: center; text-align: center; padding: 8px;
  background: #eceef2; color: #6b7385; font-size: .8em; border-radius: 4px;
  overflow-wrap: anywhere; }
.name { font-weight: 600; font-size: .9em; margin-bottom: 6px; overflow-wrap: anywhere; }
.reason { color: #a3321f; font-size: .85em; overflow-wrap: anywhere; }
.label { font-size: .85em; margin: 5px 0; }
.label .text { display: flex; justify-content: space-between; gap: 6px; }
.bar { height: 6px; background: #e6e9ef; border-radius: 3px; overflow: hidden; }
.bar span { display: block; height: 100%; background: #3b74d6; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print { body { background: #fff; margin: 0; } }
"""


def write_report(
    records: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    title: str,
    thumbnail_size: int = 160,
    head: str | None = None,
    provider: str | None = None,
) -> Path:
    """Write the report to ``path`` (UTF-8 HTML) and return the path."""
    path = Path(path)
    fsio.check_writable(path)  # before the thumbnails: a bad target fails at once
    errors = [r for r in records if r.get("error")]
    summary = [_count(len(records), "image"), _count(len(errors), "error")]
    if head:
        summary.append(f"head: {head}")
    if provider:
        summary.append(f"provider: {provider}")

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_html(title)}</title><style>{STYLE}</style></head>",
        f'<body style="--size: {int(thumbnail_size)}px">',
        f"<h1>{_html(title)}</h1>",
        f'<div class="summary">{_html(" · ".join(summary))}</div>',
    ]
    if errors:
        parts.append('<section class="errors"><h2>Could not classify</h2><ul>')
        for record in errors:
            image = str(record.get("image", ""))
            parts.append(
                f'<li><span title="{_html(image)}">{_html(Path(image).name)}</span>: '
                f'<span class="reason">{_html(str(record["error"]))}</span></li>'
            )
        parts.append("</ul></section>")
    parts.append('<main class="grid">')
    parts.extend(_card(record, thumbnail_size) for record in records)
    parts.append("</main></body></html>")

    return fsio.write_atomic(path, "\n".join(parts) + "\n")


def thumbnail_data_uri(image: str | Path, size: int) -> str:
    """A ``data:image/jpeg;base64,...`` thumbnail fitting in size x size, EXIF-rotated."""
    picture = _to_rgb(images.open_thumbnail(image, size))
    picture.thumbnail((size, size))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _to_rgb(picture: Image.Image) -> Image.Image:
    if picture.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float images: Pillow's convert would clip at 255, so scale to 8 bits.
        values = np.asarray(picture, dtype=np.float64)
        top = float(values.max()) if values.size else 0.0
        values = values / top * 255 if top > 0 else values
        picture = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8))
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        # Show transparent pixels over white, as a page would.
        rgba = picture.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return picture.convert("RGB")


def _html(text: str) -> str:
    """User text (names, errors, labels) as one line of HTML, whatever its bytes."""
    return escape(shown(text))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _card(record: Mapping[str, Any], size: int) -> str:
    image = str(record.get("image", ""))
    error = record.get("error")
    try:
        thumb = f'<img src="{thumbnail_data_uri(image, size)}" alt="{_html(Path(image).name)}">'
    except MemoryError:
        thumb = '<div class="placeholder">no thumbnail: not enough memory</div>'
    except Exception as exc:  # any failure only costs the thumbnail, never the report
        reason = str(exc) or type(exc).__name__
        thumb = f'<div class="placeholder">no thumbnail: {_html(reason)}</div>'
    lines = [
        f'<div class="card{" error" if error else ""}">',
        f'<div class="thumb">{thumb}</div>',
        f'<div class="name" title="{_html(image)}">{_html(Path(image).name)}</div>',
    ]
    if error:
        lines.append(f'<div class="reason">{_html(str(error))}</div>')
    else:
        # A malformed record with fewer scores than labels shows what pairs up.
        labels, scores = record.get("labels", []), record.get("scores", [])
        for label, score in zip(labels, scores, strict=False):
            percent = min(max(float(score) * 100, 0.0), 100.0)
            lines.append(
                f'<div class="label"><div class="text"><span>{_html(str(label))}</span>'
                f"<span>{percent:.1f}%</span></div>"
                f'<div class="bar"><span style="width: {percent:.1f}%"></span></div></div>'
            )
    lines.append("</div>")
    return "\n".join(lines)
