"""How an image becomes the network's input: one value, carried whole from head to cache key.

Features depend on the input side and the resize filter, so a head records both and every
cache and index key includes them; they travel together as a :class:`Preprocessing`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ModelError
from .limits import MAX_INPUT_SIZE, MIN_INPUT_SIZE

RESIZE_FILTERS = ("nearest", "bilinear", "bicubic", "lanczos")
# Xception's input range: x / 127.5 - 1 on 0..255 values. Imported models may declare others.
XCEPTION_RANGE = "-1,1"


@dataclass(frozen=True)
class Preprocessing:
    size: int
    resize: str
    input_range: str = XCEPTION_RANGE

    def __post_init__(self) -> None:
        check_size(self.size)
        if self.resize not in RESIZE_FILTERS:
            raise ModelError(f"resize {self.resize!r} is not one of {', '.join(RESIZE_FILTERS)}")

    @property
    def key(self) -> str:
        """A short text that differs whenever the network's input would."""
        return f"{self.size}|{self.resize}|{self.input_range}"


def check_size(size: object, what: str = "input size") -> int:
    """``size`` when it is a whole number of pixels the backbone can take within the memory
    limits, else one clear error."""
    if isinstance(size, bool) or not isinstance(size, int):
        raise ModelError(f"{what} must be a whole number of pixels, got {size!r}")
    if not MIN_INPUT_SIZE <= size <= MAX_INPUT_SIZE:
        raise ModelError(
            f"{what} {size} is outside {MIN_INPUT_SIZE}..{MAX_INPUT_SIZE} pixels "
            f"(Xception's minimum; the memory limit xception_maya.limits.MAX_INPUT_SIZE)"
        )
    return size
