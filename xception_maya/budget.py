"""The memory budget of decoding: checked from a file's header, before any pixel is decoded.

Every decode path (classify, tag, similar, learn, the report's thumbnails, the Maya node, the
library index) goes through :func:`check_decode` and :func:`decode_slot`; the numbers are in
:mod:`xception_maya.limits`, read at call time (so tests and hosts can tighten them).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import SupportsIndex

from . import limits
from .errors import ImageError
from .preprocessing import check_size

_MIB = 1024 * 1024
# Large decodes take a slot; created on first use, so a host that lowers
# LARGE_DECODES_AT_ONCE before the first decode gets its number.
_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def check_input_size(size: SupportsIndex) -> int:
    """A network input side (the rule is :func:`preprocessing.check_size`), as an ImageError."""
    return check_size(size, error=ImageError)


def check_decode(name: str, width: int, height: int, pixel_bytes: int, what: str = "") -> int:
    """Refuse an image whose pixel count or decoded size is over the limits; return the
    decoded size in bytes. ``pixel_bytes``: bytes per decoded pixel (channels x bytes per
    sample, counting only the channels that will be read); ``what`` says how they add up."""
    pixels = width * height
    if pixels > limits.MAX_PIXELS:
        raise ImageError(
            f"cannot read image '{name}': {width} x {height} = {pixels} pixels is over the "
            f"limit of {limits.MAX_PIXELS} pixels (xception_maya.limits.MAX_PIXELS)"
        )
    size = pixels * pixel_bytes
    if size > limits.MAX_DECODED_BYTES:
        how = f" ({what})" if what else ""
        raise ImageError(
            f"cannot read image '{name}': decoded it would take {size / _MIB:.0f} MiB{how}, "
            f"over the limit of {limits.MAX_DECODED_BYTES / _MIB:.0f} MiB "
            "(xception_maya.limits.MAX_DECODED_BYTES)"
        )
    return size


@contextlib.contextmanager
def decode_slot(decoded_bytes: int) -> Iterator[None]:
    """Hold one of the LARGE_DECODES_AT_ONCE slots while a large image is decoded: however
    many threads decode, at most that many large images are in memory at once."""
    if decoded_bytes <= limits.LARGE_DECODE_BYTES:
        yield
        return
    slots = _large_slots()
    with slots:
        yield


def not_enough_memory(name: str, doing: str = "decode it") -> ImageError:
    """The error a MemoryError becomes: that image's error, never the run's."""
    return ImageError(f"cannot read image '{name}': not enough memory to {doing}")


def _large_slots() -> threading.BoundedSemaphore:
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(max(1, limits.LARGE_DECODES_AT_ONCE))
        return _slots
