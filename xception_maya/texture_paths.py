"""Turn a Maya file node's ``computedFileTextureNamePattern`` into one real file.

The pattern keeps tile and frame tokens (``<UDIM>``, ``<UVTILE>``, ``u<U>_v<V>``, ``<f>``,
``#``). A classifier needs one image, so a tiled texture is represented by its first tile
(the lowest UDIM, usually 1001, where the main content of a texture set lies) and a sequence
by the frame given.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

from .errors import ImageError

_TILE_TOKENS = {
    "<udim>": "[1-9][0-9][0-9][0-9]",
    "<uvtile>": "u[0-9]*_v[0-9]*",
    "<u>": "[0-9]*",
    "<v>": "[0-9]*",
}
_FRAME = re.compile(r"<f(\d*)>|#+", re.IGNORECASE)


def has_tokens(pattern: str) -> bool:
    lowered = pattern.lower()
    return any(t in lowered for t in _TILE_TOKENS) or bool(_FRAME.search(pattern))


def resolve(pattern: str, frame: float = 1.0) -> Path:
    """The file to classify for this pattern at this frame. Raises ImageError when no file
    matches, naming the pattern."""
    pattern = os.path.expandvars(os.path.expanduser(pattern.strip()))
    if not has_tokens(pattern):
        return Path(pattern)
    for candidate in _frame_candidates(pattern, round(frame)):
        matches = sorted(glob.glob(_tiles_to_glob(candidate)), key=_tile_order)
        if matches:
            return Path(matches[0])
    raise ImageError(f"no file matches {pattern!r} at frame {frame:g}")


def _frame_candidates(pattern: str, frame: int) -> list[str]:
    """``#`` and ``<fN>`` give their padding; a bare ``<f>`` may be on disk with any."""
    fixed = _FRAME.sub(
        lambda m: m.group(0) if m.group(0).lower() == "<f>" else _padded(m, frame), pattern
    )
    if "<f>" not in fixed.lower():
        return [fixed]
    bare = re.compile("<f>", re.IGNORECASE)
    return [bare.sub(f"{frame:0{width}d}", fixed) for width in (1, 2, 3, 4)]


def _padded(match: re.Match[str], frame: int) -> str:
    text = match.group(0)
    width = len(text) if text.startswith("#") else int(match.group(1))
    return f"{frame:0{width}d}"


def _tiles_to_glob(pattern: str) -> str:
    parts = re.split(r"(<udim>|<uvtile>|<u>|<v>)", pattern, flags=re.IGNORECASE)
    return "".join(_TILE_TOKENS.get(p.lower()) or glob.escape(p) for p in parts)


def _tile_order(path: str) -> tuple[list[int], str]:
    """Lowest tile first: compare the numbers in the name, then the name."""
    return [int(n) for n in re.findall(r"\d+", Path(path).name)], path
