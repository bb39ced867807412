"""How the Maya layer tells the user something: one line in the Script Editor, never a
traceback; from compute() through the main thread.

- ``reported(what)`` wraps what a button, menu item or window runs: a failure becomes one
  warning (``UserError``, something the user can fix) or one error line.
- ``warn_from_any_thread(message)`` is for compute(): the Evaluation Manager may run it on a
  worker thread, where Maya's commands and the Script Editor must not be touched. Messages
  are queued and shown by ``flush()``, which ``maya.utils.executeDeferred`` (thread-safe)
  runs on the main thread when Maya is idle.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import maya.api.OpenMaya as om
import maya.utils  # type: ignore[import-not-found]  # types-maya-strict has no maya.utils stubs


class UserError(Exception):
    """Something the user can fix (nothing selected, no name given): one warning line."""


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextlib.contextmanager
def reported(what: str) -> Iterator[None]:
    """Run the block; a failure becomes exactly one line in the Script Editor, never an
    exception. The plug-in's commands print their own error line before they raise, so an
    error shown while the block ran is not repeated."""
    shown: list[str] = []

    def listen(message: str, kind: int, client_data: object = None) -> None:
        if kind == om.MCommandMessage.kError:
            shown.append(message)

    callback = om.MCommandMessage.addCommandOutputCallback(listen)
    try:
        yield
    except UserError as exc:
        om.MGlobal.displayWarning(f"Xception: {what}: {exc}")
    except Exception as exc:  # an action must never raise into a button or menu
        if not shown:
            om.MGlobal.displayError(f"Xception: {what}: {first_line(exc)}")
    finally:
        om.MMessage.removeCallback(callback)


_warned_once: set[str] = set()


def warn_once(message: str) -> None:
    """A warning shown once per session (main thread)."""
    if message not in _warned_once:
        _warned_once.add(message)
        om.MGlobal.displayWarning(message)


_lock = threading.Lock()
_queued: list[str] = []


def warn_from_any_thread(message: str) -> None:
    """Queue a warning for the main thread; the same message queued twice shows once.
    Each new message asks for its own flush (an empty flush costs nothing): a "flush is
    already scheduled" flag would silence every later warning if Maya dropped that call
    (a new session, a quit)."""
    with _lock:
        if message in _queued:
            return
        _queued.append(message)
    maya.utils.executeDeferred(flush)


def flush() -> None:
    """Show the queued warnings (main thread: run by executeDeferred)."""
    with _lock:
        messages = list(_queued)
        _queued.clear()
    for message in messages:
        om.MGlobal.displayWarning(message)
