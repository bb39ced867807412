"""User settings, kept in Maya's optionVars (saved with the user's preferences), and the
devices a classifier can run on (the node's ``device`` enum, the Settings menu, the flags).

Main thread only: everything here calls maya.cmds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from maya import cmds

PREFIX = "xceptionMaya_"
DEVICES = ("auto", "cpu", "gpu")


@dataclass
class Settings:
    device: str = "auto"
    head: str = ""  # "": the manifest's default head
    top_k: int = 5
    threshold: float = 0.0  # tags scoring below it are not written by xceptionTag

    def save(self) -> None:
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}")
        cmds.optionVar(stringValue=(PREFIX + "device", self.device))
        cmds.optionVar(stringValue=(PREFIX + "head", self.head))
        cmds.optionVar(intValue=(PREFIX + "topK", int(self.top_k)))
        cmds.optionVar(floatValue=(PREFIX + "threshold", float(self.threshold)))


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
    )
