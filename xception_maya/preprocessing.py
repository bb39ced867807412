"""How an image becomes the network's input: one value, carried whole from head to cache key.

Features depend on the input side and the resize filter, so a head records both and every
cache and index key includes them; they travel together as a :class:`Preprocessing`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from . import limits
from .errors import ModelError, XceptionMayaError

RESIZE_FILTERS = ("nearest", "bilinear", "bicubic", "lanczos")
LAYOUTS = ("NCHW", "NHWC")
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
    size: object,
    what: str = "input size",
    error: type[XceptionMayaError] = ModelError,
    *,
    imported: bool = False,
) -> int:
    """``size`` when it is a whole number of pixels the backbone (or, ``imported``, an
    imported model) can take within the memory limits, else one clear ``error``. The only
    place this rule lives."""
    try:
        if isinstance(size, bool):
            raise TypeError
        side = operator.index(size)  # type: ignore[arg-type]  # int and numpy integers, not floats or text
    except TypeError:
        raise error(f"{what} must be a whole number of pixels, got {size!r}") from None
    # Read at call time, so tests and hosts can tighten the limits.
    if imported and side < limits.MIN_IMPORTED_INPUT_SIZE:
        raise error(f"{what} {side} is below the minimum of {limits.MIN_IMPORTED_INPUT_SIZE}")
    if not imported and side < limits.MIN_INPUT_SIZE:
        raise error(f"{what} {side} is below Xception's minimum of {limits.MIN_INPUT_SIZE}")
    if side > limits.MAX_INPUT_SIZE:
        raise error(
            f"{what} {side} is over the limit of {limits.MAX_INPUT_SIZE} pixels "
            "(xception_maya.limits.MAX_INPUT_SIZE): the network's memory grows with its square"
        )
    return side


@dataclass(frozen=True)
class ModelInput:
    """What an imported model takes: display sRGB in [0, 1], squashed to ``height`` x
    ``width`` with ``resize``, then ``(x - mean) / std`` per RGB channel (on [0, 1] values,
    torchvision's convention), in ``layout``."""

    height: int
    width: int
    resize: str = "bilinear"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    layout: str = "NCHW"

    def __post_init__(self) -> None:
        check_size(self.height, "input height", imported=True)
        check_size(self.width, "input width", imported=True)
        if self.resize not in RESIZE_FILTERS:
            raise ModelError(f"resize {self.resize!r} is not one of {', '.join(RESIZE_FILTERS)}")
        if self.layout not in LAYOUTS:
            raise ModelError(f"layout {self.layout!r} is not one of {', '.join(LAYOUTS)}")
        object.__setattr__(self, "mean", three_numbers(self.mean, "mean"))
        object.__setattr__(self, "std", three_numbers(self.std, "std"))
        if any(s <= 0 for s in self.std):
            raise ModelError(f"std {list(self.std)} must be above 0 for every channel")

    @property
    def key(self) -> str:
        """A short text that differs whenever the network's input would."""
        numbers = ",".join(f"{v:.9g}" for v in (*self.mean, *self.std))
        return f"{self.height}x{self.width}|{self.resize}|{numbers}|{self.layout}"


def three_numbers(values: object, what: str) -> tuple[float, float, float]:
    """One finite number per RGB channel (one number: the same for all three)."""
    items = list(values) if isinstance(values, Sequence) and not isinstance(values, str) else None
    if items is not None and len(items) == 1:
        items *= 3
    if (
        items is None
        or len(items) != 3
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items)
        or not all(math.isfinite(v) for v in items)
    ):
        raise ModelError(f"{what} must be 1 or 3 finite numbers (R, G, B), got {values!r:.60}")
    return (float(items[0]), float(items[1]), float(items[2]))


def range_normalization(
    low: float, high: float
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The mean and std that map [0, 1] onto [low, high] (``--range -1,1``)."""
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ModelError(f"range {low:g},{high:g} must be two numbers, low before high")
    span = high - low
    return (-low / span,) * 3, (1 / span,) * 3
