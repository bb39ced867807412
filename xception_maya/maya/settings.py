"""User settings, kept in Maya's optionVars (saved with the user's preferences), and the
devices a classifier can run on (the node's ``device`` enum, the Settings menu, the flags).

Main thread only: everything here calls maya.cmds."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from maya import cmds

from ..library import ENV_INDEX

PREFIX = "xceptionMaya_"
DEVICES = ("auto", "cpu", "gpu")


@dataclass
class Settings:
    device: str = "auto"
    head: str = ""  # "": the manifest's default head
    top_k: int = 5
    threshold: float = 0.0  # tags scoring below it are not written by xceptionTag
    library: str = ""  # the library index file; "": $XCEPTION_MAYA_INDEX, else none

    def save(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}")
        cmds.optionVar(stringValue=(PREFIX + "device", self.device))
        cmds.optionVar(stringValue=(PREFIX + "head", self.head))
        cmds.optionVar(intValue=(PREFIX + "topK", int(self.top_k)))
        cmds.optionVar(floatValue=(PREFIX + "threshold", float(self.threshold)))
        cmds.optionVar(stringValue=(PREFIX + "library", self.library.strip()))


def user_heads_dir() -> Path:
    """Heads a user learns: in their Maya folder, writable even when the module is shared."""
    return Path(cmds.internalVar(userAppDir=True)) / "xception-maya" / "heads"


def load() -> Settings:
    """The saved settings; defaults for any never saved."""
    default = Settings()

    def get(name: str, fallback: object) -> str:
        key = PREFIX + name
        return str(cmds.optionVar(query=key) if cmds.optionVar(exists=key) else fallback)

    device = get("device", default.device)
    return Settings(
        device=device if device in DEVICES else default.device,
        head=get("head", default.head),
        top_k=int(float(get("topK", default.top_k))),
        threshold=float(get("threshold", default.threshold)),
        library=get("library", default.library).strip(),
    )


def library_path(prefs: Settings | None = None) -> Path | None:
    """The library index Maya uses: the one named in Settings, else ``$XCEPTION_MAYA_INDEX``
    (farm and batch sessions have no Settings window), else None: no library features.
    Never the CLI's per-user default: a TD who never asked for an index gets none."""
    named = (prefs or load()).library or os.environ.get(ENV_INDEX, "").strip()
    return Path(named).expanduser() if named else None
