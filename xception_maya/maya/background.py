"""The node's background inference (its ``async`` mode): compute() hands a request here and
returns at once; one thread runs the network; the result lands on Maya's main thread.

- One thread at a time, started when a request arrives and ended when none is left: the
  engine already uses every core for one image, so two at once would only share them.
- Per node only the latest request counts: a new one replaces a queued one, and a result
  nobody wants any more is dropped (its features still fill the shared feature cache).
- The thread never touches Maya: it calls the core, keeps the outcome in the node's
  ``Slot`` and queues the node's ``notify`` with ``maya.utils.executeDeferred``; notify runs
  on the main thread and dirties the node, whose next evaluation reads the outcome.
- ``cancel()`` (scene closed, plug-in unloaded) drops every queued request and every result
  still on its way; a run in progress cannot be interrupted, so its result is dropped too.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import maya.utils  # type: ignore[import-not-found]  # types-maya-strict has no maya.utils stubs
import numpy as np

from ..errors import XceptionMayaError

Run = Callable[[], "np.ndarray | XceptionMayaError"]


@dataclass(frozen=True)
class Outcome:
    """What one request gave: the features or the error, and the milliseconds it took."""

    key: Hashable
    features: np.ndarray | None  # or an imported model's outputs (classifiers.vector_of)
    error: str | None
    eval_ms: float


class Slot:
    """One node's latest request and outcome. Written under the module lock by compute
    (any thread) and the worker; ``handle`` is the node's, used on the main thread only."""

    def __init__(self) -> None:
        self.wanted: Hashable | None = None
        self.ready: Outcome | None = None
        self.handle: Any = None

    def outcome(self, key: Hashable) -> Outcome | None:
        """The landed outcome of a request for ``key``, if that is what the slot holds."""
        with _lock:
            ready = self.ready
        return ready if ready is not None and ready.key == key else None

    def settle(self, key: Hashable) -> None:
        """``key`` was answered without the background (cache, index, an earlier outcome):
        a request still on its way for another image must not land over it."""
        with _lock:
            self.wanted = key

    def pending(self, key: Hashable) -> bool:
        with _lock:
            return self.wanted == key and (self.ready is None or self.ready.key != key)


@dataclass
class _Job:
    slot: Slot
    key: Hashable
    run: Run
    notify: Callable[[int], None]
    epoch: int


_lock = threading.Lock()
_idle = threading.Condition(_lock)
_queue: OrderedDict[int, _Job] = OrderedDict()  # id(slot) -> its latest job, oldest first
_epoch = 0
_working = False


def submit(slot: Slot, key: Hashable, run: Run, notify: Callable[[int], None]) -> None:
    """Ask for ``run()`` in the background; when it is done, and still wanted, queue
    ``notify(epoch)`` for the main thread. Replaces the slot's queued request."""
    global _working
    with _lock:
        slot.wanted = key
        _queue.pop(id(slot), None)
        _queue[id(slot)] = _Job(slot, key, run, notify, _epoch)
        if _working:
            return
        _working = True
    threading.Thread(target=_work, name="xception-inference", daemon=True).start()


def current(epoch: int) -> bool:
    """Whether a result of ``epoch`` may still land (nothing cancelled since)."""
    with _lock:
        return epoch == _epoch


def cancel() -> None:
    """Drop every queued request and every result not landed yet (main thread)."""
    global _epoch
    with _lock:
        _epoch += 1
        for job in _queue.values():
            job.slot.wanted = None
        _queue.clear()


def wait(timeout: float) -> bool:
    """Wait until no request is queued or running (tests, benchmarks, shutdown)."""
    with _idle:
        return _idle.wait_for(lambda: not _working, timeout)


def _work() -> None:
    global _working
    while True:
        with _lock:
            if not _queue:
                _working = False
                _idle.notify_all()
                return
            _, job = _queue.popitem(last=False)
        start = time.perf_counter()
        try:
            result = job.run()
        except Exception as exc:  # the node shows it as its status
            result = XceptionMayaError(f"{type(exc).__name__}: {exc}")
        eval_ms = (time.perf_counter() - start) * 1000
        with _lock:
            if job.epoch != _epoch or job.slot.wanted != job.key:
                continue  # superseded or cancelled: the newer request lands instead
            if isinstance(result, XceptionMayaError):
                job.slot.ready = Outcome(job.key, None, str(result), eval_ms)
            else:
                job.slot.ready = Outcome(job.key, result, None, eval_ms)
        maya.utils.executeDeferred(job.notify, job.epoch)
