"""The one rule for names users give (heads, models): ``validate_name``.

A name becomes a file name (``heads/NAME.npz``) on Windows, macOS and Linux, a Maya
attribute value and a word on a command line, so it must be safe in all of them: ASCII
letters, digits, ``_``, ``-`` and ``.``, starting with a letter or digit, at most 64
characters, not a word with a meaning of its own (``none``, ``default``, ``auto``) and not a
name Windows reserves (``CON``, ``NUL``, ``COM1``...), compared without regard to case.
"""

from __future__ import annotations

import re

from .errors import XceptionMayaError

MAX_NAME_LENGTH = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
RESERVED = frozenset({"none", "default", "auto"})
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
RULE = (
    "use 1 to 64 ASCII letters, digits, '_', '-' or '.', starting with a letter or digit, "
    "not 'none', 'default' or 'auto'"
)


class BadNameError(XceptionMayaError):
    """A user-given name breaks the rule."""


def is_valid_name(name: object) -> bool:
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME_LENGTH:
        return False
    if not _NAME.fullmatch(name) or name.endswith(".") or name.lower().endswith(".npz"):
        return False
    stem = name.split(".")[0].lower()
    return name.lower() not in RESERVED and stem not in _WINDOWS_RESERVED


def validate_name(name: object, what: str = "head") -> str:
    """``name`` itself when it follows the rule, else one clear error."""
    if not is_valid_name(name):
        raise BadNameError(f"{what} name {name!r} is not allowed: {RULE}")
    assert isinstance(name, str)
    return name
