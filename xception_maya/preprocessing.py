"""How an image becomes the network's input: one value, carried whole from head to cache key.

Features depend on the input side and the resize filter, so a head records both and every
cache and index key includes them; they travel together as a :class:`Preprocessing`.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from . import limits
from .errors import ModelError, XceptionMayaError

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


def check_size(
    size: object, what: str = "input size", error: type[XceptionMayaError] = ModelError
) -> int:
    """``size`` when it is a whole number of pixels the backbone can take within the memory
    limits, else one clear ``error``. The only place this rule lives."""
    try:
        if isinstance(size, bool):
            raise TypeError
        side = operator.index(size)  # type: ignore[arg-type]  # int and numpy integers, not floats or text
    except TypeError:
        raise error(f"{what} must be a whole number of pixels, got {size!r}") from None
    # Read at call time, so tests and hosts can tighten the limits.
    if side < limits.MIN_INPUT_SIZE:
        raise error(f"{what} {side} is below Xception's minimum of {limits.MIN_INPUT_SIZE}")
    if side > limits.MAX_INPUT_SIZE:
        raise error(
            f"{what} {side} is over the limit of {limits.MAX_INPUT_SIZE} pixels "
            "(xception_maya.limits.MAX_INPUT_SIZE): the network's memory grows with its square"
        )
    return side
