"""ImageNet's 1000 classes from inside Maya: the download ``xception-maya setup --imagenet``
does, with Maya's progress window and Esc to stop.

Runs on the main thread (a button, the installer). Stopping keeps what was downloaded: the
next start resumes where it stopped. Afterwards the shared classifiers are forgotten, so
nodes and commands that use the default head pick ``imagenet`` up.
"""

from __future__ import annotations

import os
from pathlib import Path

from maya import cmds

from .. import imagenet
from ..manifest import default_models_dir
from . import classifiers, uikit

TITLE = "Xception: ImageNet classes"


class Stopped(Exception):
    """The user pressed Esc in the progress window."""


def download_imagenet(
    models_dir: Path | None = None,
    *,
    source: str | os.PathLike[str] | None = None,
    url: str | None = None,
    file_hash: str = imagenet.WEIGHTS_HASH,
    cache_dir: Path | None = None,
) -> str:
    """Download (or read ``source``), check, convert and install the ``imagenet`` head; return
    one line saying what happened. Raises XceptionMayaError (one line) on failure and
    ``Stopped`` when the user pressed Esc."""
    root = models_dir or default_models_dir()
    window = uikit.interactive()
    if window:
        cmds.progressWindow(
            title=TITLE, status="Downloading (about 92 MB) ...", isInterruptable=True,
            progress=0, maxValue=100,
        )  # fmt: skip

    shown = [0]  # percent shown so far

    def progress(done: int, total: int | None) -> None:
        if not window:
            return
        if cmds.progressWindow(query=True, isCancelled=True):
            raise Stopped("stopped; run it again to resume the download")
        percent = int(100 * done / total) if total else 0
        if percent > shown[0]:
            cmds.progressWindow(edit=True, step=percent - shown[0], status=f"{done / 1e6:.0f} MB")
            shown[0] = percent

    try:
        installed = imagenet.install_imagenet(
            root,
            source,
            progress,
            url=url,
            file_hash=file_hash,
            cache_dir=cache_dir,
            log=_status if window else None,
        )
    finally:
        if window:
            cmds.progressWindow(endProgress=True)
    classifiers.forget()  # the default head changed: nodes re-resolve it
    if installed.up_to_date:
        return "ImageNet's 1000 classes are already installed (head 'imagenet')"
    dropped = f"; removed heads of other backbones: {', '.join(installed.dropped)}"
    return "installed head 'imagenet' (1000 classes), now the default head" + (
        dropped if installed.dropped else ""
    )


def _status(line: str) -> None:
    cmds.progressWindow(edit=True, status=line.strip()[:80])
