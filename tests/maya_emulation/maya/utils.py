"""Emulated ``maya.utils``: ``executeDeferred`` queues, ``processIdleEvents`` runs the queue.

Maya runs deferred calls on the main thread once it is idle; the emulation has no event loop,
so tests (and ``maya_session.Session.idle()``) drain the queue explicitly. Any thread may
queue; the queue runs on the calling (main) thread, in order, including calls queued while
it runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from maya import _emulation


def executeDeferred(fn: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> None:
    if callable(fn):
        call: Callable[[], Any] = functools.partial(fn, *args, **kwargs)
    else:
        source = str(fn)

        def call() -> None:
            exec(source, {"__name__": "__main__"})

    with _emulation.DEFERRED_LOCK:
        _emulation.DEFERRED.append(call)


def executeInMainThreadWithResult(fn: Callable[..., Any] | str, *args: Any, **kwargs: Any) -> Any:
    _emulation.require_main_thread("executeInMainThreadWithResult (no event loop to wait for)")
    if callable(fn):
        return fn(*args, **kwargs)
    return eval(fn, {"__name__": "__main__"})


def processIdleEvents() -> None:
    _emulation.require_main_thread("processIdleEvents")
    while True:
        with _emulation.DEFERRED_LOCK:
            if not _emulation.DEFERRED:
                return
            call = _emulation.DEFERRED.pop(0)
        call()
