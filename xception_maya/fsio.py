"""Writing files so that a kill at any moment leaves the old file or the new one, never half.

Every file the product writes (models, heads, manifests, reports, indexes' side files) goes
through :func:`write_atomic`: a temporary file in the same folder, flushed and fsynced, then
``os.replace`` onto the target. ``os.replace`` is atomic on POSIX and on Windows (NTFS), but on
Windows it fails while another process holds the target open; that is retried briefly and
then reported as one clear error, with the old file intact.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import XceptionMayaError

TEMP_SUFFIX = ".partial"  # every temporary file of ours ends so, to be found and cleaned
_REPLACE_TRIES = 20  # x 50 ms: a virus scanner or an indexer briefly holding the file


def temp_path(target: Path, folder: Path | None = None) -> Path:
    """A fresh temporary name beside ``target`` (or in ``folder``, which must be on the same
    file system, so the replace stays atomic)."""
    name = f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    return (folder or target.parent) / name


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike[str], *, temp_dir: str | os.PathLike[str] | None = None
) -> Iterator[BinaryIO]:
    """Open a temporary file for writing; on success it replaces ``path``, on any error it
    is removed and ``path`` is untouched. ``temp_dir``: where the temporary file goes, for a
    folder whose every file is read (Maya's modules folder); same file system as ``path``."""
    target = Path(path)
    check_writable(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target, Path(temp_dir) if temp_dir is not None else None)
    try:
        with open(tmp, "xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(target.parent)


def write_atomic(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    temp_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``data`` (text is UTF-8) to ``path`` atomically and return the path."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_file(path, temp_dir=temp_dir) as f:
        f.write(payload)
    return Path(path)


def write_atomic_with(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Atomically write what ``write(file)`` writes (numpy.savez, onnx.save, ...)."""
    with atomic_file(path) as f:
        write(f)
    return Path(path)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Refuse, with one line, a target that is a folder or a special file (a FIFO, a device,
    a socket): replacing it would destroy it, and opening it can block forever."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise XceptionMayaError(f"cannot write {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise XceptionMayaError(f"cannot write {path}: it is {kind_of(mode)}, not a regular file")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file; anything else (a folder, a
    FIFO, a device, a socket) raises OSError naming what it is, without blocking: the file
    is opened non-blocking, then checked on the open descriptor (no race with a rename)."""
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    mode = os.stat(path).st_mode  # before opening: opening a device can have effects
    if not stat.S_ISREG(mode):
        raise OSError(f"it is {kind_of(mode)}, not a regular file")
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"it is {kind_of(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def kind_of(mode: int) -> str:
    """What a stat mode is, in words: "a folder", "a FIFO (named pipe)", ..."""
    for test, words in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return words
    return "a regular file" if stat.S_ISREG(mode) else "a special file"


def replace(source: Path, target: Path) -> None:
    """``os.replace``, retried while Windows reports the target busy."""
    for attempt in range(_REPLACE_TRIES):
        try:
            os.replace(source, target)
            return
        except PermissionError as exc:
            if os.name != "nt" or attempt == _REPLACE_TRIES - 1:
                raise XceptionMayaError(
                    f"cannot replace {target}: {exc.strerror or exc} (is it open in another "
                    "program?); the previous file is unchanged"
                ) from None
            time.sleep(0.05)


def clean_temp_files(folder: str | os.PathLike[str], older_than_s: float = 3600.0) -> list[Path]:
    """Remove our temporary files left in ``folder`` (not recursive) by killed runs.

    Only files older than ``older_than_s`` go, so a write in progress in another process is
    never pulled from under it. Returns what was removed."""
    removed: list[Path] = []
    root = Path(folder)
    if not root.is_dir():
        return removed
    now = time.time()
    for path in root.glob(f".*{TEMP_SUFFIX}"):
        try:
            if now - path.stat().st_mtime >= older_than_s and path.is_file():
                path.unlink()
                removed.append(path)
        except OSError:  # gone already, or held open on Windows: the next run tries again
            continue
    return removed


LOCK_FILE = ".lock"
_LOCK_WAIT_S = 600.0  # a model conversion takes a minute or two; a stuck writer is an error


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], wait_s: float = _LOCK_WAIT_S) -> Iterator[None]:
    """One writer at a time in ``folder``, across processes. The operating system drops the
    lock when its holder dies, so a killed run never leaves the folder locked."""
    path = Path(folder) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as f:
        deadline = time.monotonic() + wait_s
        while not _try_lock(f.fileno()):
            if time.monotonic() > deadline:
                raise XceptionMayaError(
                    f"{folder} is being changed by another process (locked for over "
                    f"{wait_s:.0f} s); try again when it has finished"
                )
            time.sleep(0.1)
        try:
            yield
        finally:
            _unlock(f.fileno())


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _fsync_folder(folder: Path) -> None:
    # The rename itself is durable only once the folder is synced (POSIX); Windows has no
    # folder handles to sync and makes the rename durable with the file.
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
