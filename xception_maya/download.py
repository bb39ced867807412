"""Downloading one large file: resumable, verified, through the environment's proxy.

The file grows as ``DEST.partial`` beside its destination. A dropped connection leaves that
file, and the next try (in the same call, or the next run) asks the server for the rest with
an HTTP ``Range`` request; a server that ignores ranges sends the whole file again, which
replaces the partial one. Only once the whole file matches its hash is it renamed to DEST, so
DEST is either absent or verified. A mismatch removes the partial file.

Proxies come from the environment (``http_proxy``, ``https_proxy``, ``no_proxy``, read by
urllib's ``ProxyHandler``), as for pip and curl.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from . import __version__, fsio
from .errors import ModelError

Progress = Callable[[int, "int | None"], object]  # (bytes so far, total bytes or None)

PARTIAL = ".partial"
CHUNK = 1 << 18
TIMEOUT_S = 60.0  # per socket operation, not for the whole file
RETRIES = 2  # resumptions after a dropped connection within one call


class _Interrupted(Exception):
    def __init__(self, done: int, total: int | None, reason: str) -> None:
        super().__init__(reason)
        self.done, self.total, self.reason = done, total, reason


def hash_algorithm(expected: str) -> str:
    """Keras's rule (``get_file``, ``hash_algorithm="auto"``): 64 hex digits are a sha256,
    anything else an md5. Keras publishes md5s for its application weights."""
    return "sha256" if len(expected) == 64 else "md5"


def file_digest(path: str | os.PathLike[str], algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def partial_path(dest: Path) -> Path:
    return dest.with_name(dest.name + PARTIAL)


def download(
    url: str,
    dest: str | os.PathLike[str],
    file_hash: str,
    progress: Progress | None = None,
    *,
    retries: int | None = None,
    timeout: float = TIMEOUT_S,
) -> Path:
    """``url`` saved as ``dest`` once its md5 or sha256 (:func:`hash_algorithm`) is
    ``file_hash``. Returns at once when ``dest`` already matches. ``progress(done, total)``
    is called as bytes arrive; if it raises, the download stops and the partial file stays
    for the next call to resume. Raises ModelError with one line saying what went wrong."""
    dest = Path(dest)
    expected = file_hash.lower()
    algorithm = hash_algorithm(expected)
    if dest.is_file() and file_digest(dest, algorithm) == expected:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(dest)
    for fresh_start in (False, True):
        tries = RETRIES if retries is None else retries
        resumed = _fetch_with_retries(url, partial, progress, tries, timeout)
        got = file_digest(partial, algorithm)
        if got == expected:
            fsio.replace(partial, dest)
            return dest
        partial.unlink()
        if not resumed or fresh_start:
            break
        # The two parts may come from two versions of the file: once more, from the start.
    raise ModelError(
        f"{url}: the download has {algorithm} {got}, expected {expected}; it was removed "
        "and nothing was installed"
    )


def _fetch_with_retries(
    url: str, partial: Path, progress: Progress | None, retries: int, timeout: float
) -> bool:
    """Fill ``partial`` to the end of the file; True when any part came from a resume."""
    resumed = False
    for attempt in range(retries + 1):
        try:
            return _fetch(url, partial, progress, timeout) or resumed
        except _Interrupted as exc:
            resumed = True
            if attempt == retries:
                size = f" of {_mb(exc.total)}" if exc.total else ""
                raise ModelError(
                    f"download of {url} interrupted after {_mb(exc.done)}{size} ({exc.reason}); "
                    f"run the same command again to resume"
                ) from None
    raise AssertionError("unreachable")


def opener() -> urllib.request.OpenerDirector:
    """urllib's opener with a ProxyHandler built now, from the environment as it is now."""
    return urllib.request.build_opener(urllib.request.ProxyHandler())


def _fetch(url: str, partial: Path, progress: Progress | None, timeout: float) -> bool:
    offset = partial.stat().st_size if partial.is_file() else 0
    request = urllib.request.Request(
        url, headers={"User-Agent": f"xception-maya/{__version__}", "Accept-Encoding": "identity"}
    )
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = opener().open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing after offset: the file is whole (or not ours)
            return True
        raise ModelError(f"could not download {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ModelError(f"could not download {url}: {reason}{_proxy_note(url)}") from None
    with response:
        start, total = _range_of(response, offset)
        if start < 0:  # a part we did not ask for: fetch the whole file on the next try
            partial.unlink()
            raise _Interrupted(0, total, "the server sent another range than the one asked")
        done = start
        # The .partial file is never taken for the download: only a whole, verified one is
        # renamed into place (fsio.replace), so appending to it here is safe.
        with open(partial, "ab" if start else "wb") as f:
            if progress is not None:
                progress(done, total)
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (http.client.HTTPException, OSError) as exc:
                    raise _Interrupted(done, total, _reason(exc)) from None
                if not chunk:
                    break
                f.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
            f.flush()
            os.fsync(f.fileno())
    if total is not None and done < total:
        raise _Interrupted(done, total, "the connection closed early")
    return start > 0


def _range_of(response: Any, offset: int) -> tuple[int, int | None]:
    """Where the body starts in the file (-1: not where asked) and the file's whole size,
    if the server says."""
    length = response.headers.get("Content-Length")
    size = int(length) if length and length.isdigit() else None
    if response.status != 206:
        return 0, size  # the whole file: it replaces the partial one
    match = re.match(r"bytes (\d+)-\d+/(\d+|\*)", response.headers.get("Content-Range", ""))
    if not offset or match is None or int(match.group(1)) != offset:
        return -1, None
    whole = match.group(2)
    return offset, int(whole) if whole != "*" else None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, http.client.IncompleteRead):
        return "the connection closed early"
    return str(exc) or type(exc).__name__


def _proxy_note(url: str) -> str:
    scheme = url.split(":", 1)[0].lower()
    proxy = urllib.request.getproxies().get(scheme)
    return f" (through the proxy {proxy} from {scheme}_proxy)" if proxy else ""


def _mb(size: int | None) -> str:
    return f"{(size or 0) / 1e6:.1f} MB"


def describe_progress(done: int, total: int | None, rate: float) -> str:
    """``43.9/87.9 MB 50%  12.3 MB/s  ETA 0:04``; rate in bytes per second."""
    text = f"{done / 1e6:.1f}/{total / 1e6:.1f} MB {100 * done // total}%" if total else _mb(done)
    text += f"  {rate / 1e6:.1f} MB/s"
    if total and rate > 0 and done < total:
        eta = int((total - done) / rate)
        text += f"  ETA {eta // 60}:{eta % 60:02d}"
    return text


class TerminalProgress:
    """A progress callback that draws one line on a terminal (nothing when not a terminal),
    at most ten times a second."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.first: tuple[float, int] | None = None
        self.last_draw = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = (now, done)  # a resumed download: rate from what this run fetched
        finished = total is not None and done >= total
        if not self.enabled or (now - self.last_draw < 0.1 and not finished):
            return
        self.last_draw = now
        started, start_bytes = self.first
        rate = (done - start_bytes) / max(now - started, 1e-6)
        self.stream.write(f"\r{self.label} {describe_progress(done, total, rate)}\x1b[K")
        if finished:
            self.stream.write("\n")
        self.stream.flush()
