"""File names (and other user text) made safe to show, whatever their bytes.

A name on disk can hold bytes that are not UTF-8 (Python keeps them as lone surrogates, the
``surrogateescape`` of :func:`os.fsdecode`), newlines, terminal escapes or bidirectional
overrides. Printed as they are they crash a strict UTF-8 stdout or an HTML file, split a table
row, or redraw the terminal. Every output of the product shows names through :func:`shown`
(tables, error lines, HTML) or :func:`json_safe` (JSON), and nowhere else.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Characters that reorder the text around them (the "Trojan source" overrides and isolates).
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Control characters, line and paragraph separators, lone surrogates.
_ESCAPED_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(text: str) -> str:
    """``text`` on one line of printable characters: undecodable bytes as ``\\xff``, control
    characters as ``\\n`` or ``\\x1b``, bidirectional controls as ``\\u202e``. Ordinary text,
    accents and CJK included, is unchanged."""
    if text.isprintable():
        return text  # the common case, without a loop
    return "".join(_shown_char(ch) for ch in text)


def json_safe(value: Any) -> Any:
    """``value`` (a JSON-ready structure) with every string that holds undecodable bytes
    shown as by :func:`shown`. Other strings stay exact: JSON escapes control characters
    itself, so a name with a newline survives a round trip; only the bytes that are not
    UTF-8 have no JSON spelling."""
    if isinstance(value, str):
        return shown(value) if _has_surrogates(value) else value
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _shown_char(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the byte that was not UTF-8
        return f"\\x{code - 0xDC00:02x}"
    if ch in _SHORT:
        return _SHORT[ch]
    if ch in _BIDI_CONTROLS or unicodedata.category(ch) in _ESCAPED_CATEGORIES:
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
