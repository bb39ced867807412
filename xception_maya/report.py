"""A self-contained HTML report of classification results, to open in a browser or print.

Records are the CLI's JSON results: ``{"image", "labels", "scores", "indices", "unknown",
"confidence", "error"}`` ("unknown" and "confidence" may be absent). Every card says why it
shows no label (an error, "unknown", or none above the threshold) and links to its file. A
small inline script filters by label, sorts by score or name and groups by label, with its
state in the URL's hash (``report.html#label=cup&sort=score&group=1``); nothing is loaded
from elsewhere, so the page opens from disk without a server. For large runs the thumbnails
are sized for the grid (JPEG, 160 px), decoded lazily, and cards off screen are not laid
out (``content-visibility``).
Thumbnails are JPEGs embedded as base64 data URIs, so the one file can be mailed or archived
without the images beside it. They are decoded by :func:`xception_maya.images.open_thumbnail`,
with the classifier's header check and memory budget. Names and errors are shown through
:func:`xception_maya.text.shown`, so any bytes in a file name give valid one-line HTML; the
file is written atomically and never onto a folder or a special file.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import fsio, images
from .text import shown
from .unknown import shown_label

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px;
  background: #f6f7f9; color: #1d2330; }
h1 { font-size: 1.4em; margin: 0 0 4px; }
.summary { color: #555d6e; margin-bottom: 12px; }
.controls { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; margin-bottom: 18px;
  font-size: .9em; }
.controls select { font: inherit; }
.errors { background: #fff4f2; border: 1px solid #f0c2b9; border-radius: 6px;
  padding: 8px 16px; margin-bottom: 20px; }
.errors h2 { font-size: 1.05em; margin: 8px 0; color: #a3321f; }
.errors li { margin: 4px 0; }
h2.group { font-size: 1.1em; margin: 22px 0 10px; }
.grid { display: grid; gap: 14px; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); }
.card { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 10px;
  break-inside: avoid; content-visibility: auto; contain-intrinsic-size: auto 300px; }
.card.error { border-color: #f0c2b9; background: #fffaf9; }
.card.unknown { border-color: #e3cf8f; background: #fffdf5; }
.thumb { display: flex; align-items: center; justify-content: center; height: var(--size);
  margin-bottom: 8px; }
.thumb img { max-width: 100%; max-height: 100%; }
.placeholder { width: 100%; height: 100%; box-sizing: border-box; display: flex;
  align-items: center; justify-content: center; text-align: center; padding: 8px;
  background: #eceef2; color: #6b7385; font-size: .8em; border-radius: 4px;
  overflow-wrap: anywhere; }
.name { display: block; font-weight: 600; font-size: .9em; margin-bottom: 6px;
  overflow-wrap: anywhere; color: inherit; }
.reason { color: #a3321f; font-size: .85em; overflow-wrap: anywhere; margin-bottom: 4px; }
.unknown .reason, .none .reason { color: #7a5c00; }
.label { font-size: .85em; margin: 5px 0; }
.unknown .label { opacity: .6; }
.label .text { display: flex; justify-content: space-between; gap: 6px; }
.bar { height: 6px; background: #e6e9ef; border-radius: 3px; overflow: hidden; }
.bar span { display: block; height: 100%; background: #3b74d6; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
@media print { body { background: #fff; margin: 0; } .controls { display: none; }
  .card { content-visibility: visible; } }
"""

# Filter by label, sort by score or name, group by label. The state lives in the URL's
# hash (#label=cup&sort=score&group=1), so a view can be bookmarked or sent. Without
# scripts (or in print) every card shows, in the order the images ran.
SCRIPT = """
(function () {
  var form = document.getElementById("controls");
  var main = document.getElementById("cards");
  var cards = Array.prototype.slice.call(main.querySelectorAll(".card"));
  var orders = {
    "": function (a, b) { return a.dataset.order - b.dataset.order; },
    score: function (a, b) {
      return b.dataset.score - a.dataset.score || a.dataset.order - b.dataset.order;
    },
    name: function (a, b) {
      return a.dataset.name.localeCompare(b.dataset.name) || a.dataset.order - b.dataset.order;
    }
  };
  function state() {
    var p = new URLSearchParams(location.hash.slice(1));
    var group = p.get("group") === "1";
    return { label: p.get("label") || "", sort: p.get("sort") || "", group: group };
  }
  function grid(list) {
    var div = document.createElement("div");
    div.className = "grid";
    list.forEach(function (card) { div.appendChild(card); });
    return div;
  }
  function apply() {
    var s = state();
    form.elements.label.value = s.label;
    form.elements.sort.value = orders[s.sort] ? s.sort : "";
    form.elements.group.checked = s.group;
    var shown = cards.filter(function (c) { return !s.label || c.dataset.label === s.label; });
    shown.sort(orders[s.sort] || orders[""]);
    var parts = [];
    if (s.group) {
      var groups = new Map();
      shown.forEach(function (c) {
        if (!groups.has(c.dataset.label)) groups.set(c.dataset.label, []);
        groups.get(c.dataset.label).push(c);
      });
      Array.from(groups.entries()).sort(function (a, b) {
        return b[1].length - a[1].length || a[0].localeCompare(b[0]);
      }).forEach(function (entry) {
        var h = document.createElement("h2");
        h.className = "group";
        h.textContent = entry[0] + " (" + entry[1].length + ")";
        parts.push(h, grid(entry[1]));
      });
    } else {
      parts.push(grid(shown));
    }
    main.replaceChildren.apply(main, parts);
    document.getElementById("count").textContent = shown.length + " of " + cards.length + " shown";
  }
  form.addEventListener("change", function () {
    var p = new URLSearchParams();
    if (form.elements.label.value) p.set("label", form.elements.label.value);
    if (form.elements.sort.value) p.set("sort", form.elements.sort.value);
    if (form.elements.group.checked) p.set("group", "1");
    history.replaceState(null, "", "#" + p.toString());
    apply();
  });
  window.addEventListener("hashchange", apply);
  form.hidden = false;
  apply();
})();
"""

NO_LABEL = "(no label)"
ERROR = "(error)"


def write_report(
    records: Sequence[Mapping[str, Any]],
    path: str | Path,
    *,
    title: str,
    thumbnail_size: int = 160,
    head: str | None = None,
    provider: str | None = None,
    threshold: float | None = None,
) -> Path:
    """Write the report to ``path`` (UTF-8 HTML) and return the path. ``threshold``: the
    score the labels were kept at (``tag --threshold``), to say why a card has none."""
    path = Path(path)
    fsio.check_writable(path)  # before the thumbnails: a bad target fails at once
    errors = [r for r in records if r.get("error")]
    unknown = sum(1 for r in records if r.get("unknown") and not r.get("error"))
    summary = [_count(len(records), "image"), _count(len(errors), "error")]
    if unknown:
        summary.append(f"{unknown} unknown")
    if head:
        summary.append(f"head: {head}")
    if provider:
        summary.append(f"provider: {provider}")
    if threshold:
        summary.append(f"labels scoring {threshold:g} or more")
    groups = Counter(_group(r) for r in records)

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_html(title)}</title><style>{STYLE}</style></head>",
        f'<body style="--size: {int(thumbnail_size)}px">',
        f"<h1>{_html(title)}</h1>",
        f'<div class="summary">{_html(" · ".join(summary))}</div>',
        _controls(groups),
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
    parts.append('<main id="cards"><div class="grid">')
    parts.extend(_card(record, thumbnail_size, i, threshold) for i, record in enumerate(records))
    parts.append(f"</div></main><script>{SCRIPT}</script></body></html>")

    return fsio.write_atomic(path, "\n".join(parts) + "\n")


def _controls(groups: Counter[str]) -> str:
    """The filter, sort and group controls (shown by the script: they need it)."""
    options = "".join(
        f'<option value="{_html(label)}">{_html(label)} ({n})</option>'
        for label, n in sorted(groups.items(), key=lambda item: (-item[1], item[0]))
    )
    return (
        '<form id="controls" class="controls" hidden>'
        f'<label>label <select name="label"><option value="">all ({groups.total()})</option>'
        f"{options}</select></label>"
        '<label>sort <select name="sort"><option value="">as run</option>'
        '<option value="score">score</option><option value="name">name</option>'
        "</select></label>"
        '<label><input type="checkbox" name="group"> group by label</label>'
        '<span id="count"></span></form>'
    )


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


def _group(record: Mapping[str, Any]) -> str:
    """The label a card is filtered and grouped by: its shown label ("unknown" where the
    head says nothing fits), or why it has none."""
    if record.get("error"):
        return ERROR
    label = shown_label(list(record.get("labels") or []), bool(record.get("unknown")))
    return shown(str(label)) if label is not None else NO_LABEL


def _score(record: Mapping[str, Any]) -> float:
    """What "sort by score" sorts by: the top score, the confidence for "unknown"."""
    if record.get("error"):
        return -2.0
    if record.get("unknown") and record.get("confidence") is not None:
        return float(record["confidence"])
    scores = record.get("scores") or []
    return float(scores[0]) if scores else -1.0


def _why_no_label(record: Mapping[str, Any], threshold: float | None) -> str | None:
    """The line that says why a card shows no label of the head, if it shows none."""
    if record.get("error"):
        return f"error: {record['error']}"
    if record.get("unknown"):
        confidence = record.get("confidence")
        tail = f" (confidence {float(confidence):.2f})" if confidence is not None else ""
        return f"unknown: nothing the head knows fits{tail}"
    if record.get("labels"):
        return None
    if threshold:
        return f"no label: none scores {threshold:g} or more"
    return "no label: no head (features only)"


def _link(image: str) -> str | None:
    """The file's URI, to open it from the card (None for sources that are no file)."""
    if image.startswith("<"):
        return None
    try:
        return Path(image).absolute().as_uri()
    except ValueError:
        return None


def _card(record: Mapping[str, Any], size: int, order: int, threshold: float | None) -> str:
    image = str(record.get("image", ""))
    error = record.get("error")
    name = _html(Path(image).name)
    try:
        thumb = (
            f'<img src="{thumbnail_data_uri(image, size)}" alt="{name}" loading="lazy" '
            'decoding="async">'
        )
    except MemoryError:
        thumb = '<div class="placeholder">no thumbnail: not enough memory</div>'
    except Exception as exc:  # any failure only costs the thumbnail, never the report
        reason = str(exc) or type(exc).__name__
        thumb = f'<div class="placeholder">no thumbnail: {_html(reason)}</div>'
    why = _why_no_label(record, threshold)
    kind = "error" if error else "unknown" if record.get("unknown") else "none" if why else ""
    link = _link(image)
    title = f'<div class="name" title="{_html(image)}">{name}</div>'
    if link:
        title = f'<a class="name" href="{escape(link)}" title="{_html(image)}">{name}</a>'
    lines = [
        f'<div class="card{" " + kind if kind else ""}" data-label="{_html(_group(record))}" '
        f'data-score="{_score(record):.6f}" data-name="{_html(Path(image).name.casefold())}" '
        f'data-order="{order}">',
        f'<div class="thumb">{thumb}</div>',
        title,
    ]
    if why:
        lines.append(f'<div class="reason">{_html(why)}</div>')
    if not error:
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
