"""Emulated ``maya.utils``: there is one thread and no idle queue, so work runs at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def executeDeferred(fn: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> None:
    if callable(fn):
        fn(*args, **kwargs)
    else:
        exec(fn, {"__name__": "__main__"})


def executeInMainThreadWithResult(fn: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> Any:
    if callable(fn):
        return fn(*args, **kwargs)
    return eval(fn, {"__name__": "__main__"})


def processIdleEvents() -> None:
    return None
