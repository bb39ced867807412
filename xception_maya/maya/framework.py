"""What every xception command shares: flags declared once, undo through one MDGModifier,
rollback of its own partial changes on any failure, and one line of error.

A command subclasses ``UndoableCommand``, lists its ``FLAGS`` (each a ``Flag``: short and
long name, type, default, help) and implements ``build(args)``, which queues its scene
changes on ``self.modifier`` (executing them with ``self.modifier.doIt()`` when it needs
their results) and returns the command's result. The flags give the MSyntax, the parsed
values (``args.get(FLAG)``) and the ``-help`` text, so a flag is written once.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, NoReturn, TypeVar

import maya.api.OpenMaya as om

from ..errors import XceptionMayaError
from .feedback import first_line

T = TypeVar("T", str, int, float, bool)

_ARG_TYPES: dict[type, tuple[int, str]] = {
    str: (om.MSyntax.kString, "string"),
    int: (om.MSyntax.kLong, "int"),
    float: (om.MSyntax.kDouble, "float"),
}


class CommandError(Exception):
    """A user error: shown as one line in the Script Editor, not as a traceback."""


@dataclass(frozen=True)
class Flag(Generic[T]):
    """One command flag. ``kind`` bool is a switch (no argument). ``default`` None: the
    command decides (``args.get(flag, fallback)``), and ``shown`` says what in -help."""

    short: str
    long: str
    kind: type[T]
    help: str
    default: T | None = None
    shown: str = ""

    def __post_init__(self) -> None:
        # Maya's rule (Maya SDK, "Command plug-ins: Flags"): short flags are three letters
        # or less, long flags four letters or more; MSyntax.addFlag refuses others.
        if not (1 <= len(self.short) <= 3 and len(self.long) >= 4):
            raise ValueError(f"flag -{self.long} (-{self.short}) breaks Maya's naming rule")

    def add_to(self, syntax: om.MSyntax) -> None:
        if self.kind is bool:
            syntax.addFlag(f"-{self.short}", f"-{self.long}")
        else:
            syntax.addFlag(f"-{self.short}", f"-{self.long}", _ARG_TYPES[self.kind][0])

    def help_line(self) -> str:
        arg = "" if self.kind is bool else f" {_ARG_TYPES[self.kind][1]}"
        names = f"-{self.long} (-{self.short}){arg}"
        default = self.shown or ("" if self.default in (None, False) else repr(self.default))
        tail = f" (default: {default})" if default else ""
        return f"  {names:<26} {self.help}{tail}"


HELP = Flag("h", "help", bool, "this text")


class Args:
    """A parsed command line: flag values and the objects named."""

    def __init__(self, database: om.MArgDatabase) -> None:
        self.database = database

    def given(self, flag: Flag[Any]) -> bool:
        return bool(self.database.isFlagSet(f"-{flag.short}"))

    def get(self, flag: Flag[T], fallback: T | None = None) -> T:
        """The flag's value; when not given, its default, else ``fallback``."""
        name = f"-{flag.short}"
        if flag.kind is bool:
            return flag.kind(self.given(flag))
        if self.given(flag):
            if flag.kind is str:
                return flag.kind(self.database.flagArgumentString(name, 0))
            if flag.kind is int:
                return flag.kind(self.database.flagArgumentInt(name, 0))
            return flag.kind(self.database.flagArgumentDouble(name, 0))
        value = flag.default if flag.default is not None else fallback
        if value is None:
            raise CommandError(f"give -{flag.long}")
        return value

    def named(self) -> list[str]:
        """The objects named on the command line (not the selection)."""
        try:
            return list(self.database.getObjectStrings())
        except RuntimeError:
            return []

    def objects(self) -> list[str]:
        """The named objects, else the selection."""
        return self.named() or selected_names()


class UndoableCommand(om.MPxCommand):
    """doIt parses, runs ``build`` and executes ``self.modifier``; undo and redo replay it.

    Any exception in ``build`` (a user error, a failing Maya call, a bug) undoes what the
    modifier already did, restores the selection and becomes one line: displayError and a
    RuntimeError. Maya then queues nothing, so there is nothing left for Ctrl+Z to miss.
    ``-help`` returns the help text and is not undoable (undoing it would change nothing
    but could still restore a stale selection)."""

    NAME: ClassVar[str] = ""
    USAGE: ClassVar[str] = ""  # what follows the name on the synopsis line
    ABOUT: ClassVar[str] = ""  # what the command does, for -help
    FLAGS: ClassVar[tuple[Flag[Any], ...]] = ()
    OBJECTS: ClassVar[bool] = True  # takes node names
    SELECTION_DEFAULT: ClassVar[bool] = True  # ... and uses the selection when none given
    UNDOABLE: ClassVar[bool] = True  # False for a command that changes no scene

    def __init__(self) -> None:
        super().__init__()
        self.modifier = om.MDGModifier()
        self.selection_before = om.MSelectionList()
        self.selection_after: om.MSelectionList | None = None
        self.result: list[str] = []
        self.undoable = False  # until doIt succeeds

    def isUndoable(self) -> bool:
        return self.undoable

    @classmethod
    def syntax_creator(cls) -> om.MSyntax:
        syntax = om.MSyntax()
        for flag in (HELP, *cls.FLAGS):
            flag.add_to(syntax)
        if cls.OBJECTS:
            syntax.setObjectType(om.MSyntax.kStringObjects)
            syntax.useSelectionAsDefault(cls.SELECTION_DEFAULT)
        return syntax

    @classmethod
    def help_text(cls) -> str:
        lines = [f"{cls.NAME} {cls.USAGE}".rstrip(), cls.ABOUT.strip()]
        lines += [flag.help_line() for flag in (*cls.FLAGS, HELP)]
        return "\n".join(lines)

    def doIt(self, arg_list: om.MArgList) -> None:
        try:
            args = Args(om.MArgDatabase(self.syntax(), arg_list))
        except RuntimeError as exc:
            self.fail(f"{first_line(exc)}. See `{self.NAME} -help`.")
        if args.get(HELP):
            self.clearResult()
            self.setResult(self.help_text())
            return
        self.selection_before = om.MGlobal.getActiveSelectionList()
        try:
            self.result = self.build(args)
            self.redoIt()  # executes what build queued and has not executed yet
        except Exception as exc:
            self.roll_back()
            self.fail(describe(exc))
        self.undoable = self.UNDOABLE

    def build(self, args: Args) -> list[str]:
        raise NotImplementedError

    def roll_back(self) -> None:
        """Undo everything this invocation did: never raises (the first error is the news)."""
        with contextlib.suppress(Exception):
            self.modifier.undoIt()
        with contextlib.suppress(Exception):
            om.MGlobal.setActiveSelectionList(self.selection_before)

    def fail(self, text: str) -> NoReturn:
        message = f"{self.NAME}: {text}"
        om.MGlobal.displayError(message)
        raise RuntimeError(message) from None

    def redoIt(self) -> None:
        self.modifier.doIt()  # after an undo, MDGModifier.doIt replays every operation
        if self.selection_after is not None:
            om.MGlobal.setActiveSelectionList(self.selection_after)
        self.clearResult()
        if self.result:
            self.setResult(self.result)

    def undoIt(self) -> None:
        self.modifier.undoIt()
        om.MGlobal.setActiveSelectionList(self.selection_before)


def describe(exc: BaseException) -> str:
    """One line: a user error as it reads, anything else with its type."""
    if isinstance(exc, (CommandError, XceptionMayaError)):
        return first_line(exc)
    return f"{type(exc).__name__}: {first_line(exc)} (nothing was changed)"


def require_interactive(what: str) -> None:
    """Batch Maya (mayapy, render farm) has no viewport and no UI."""
    if om.MGlobal.mayaState() != om.MGlobal.kInteractive:
        raise CommandError(f"{what} needs an interactive Maya with a viewport")


# --- nodes and plugs by name ------------------------------------------------------------


def depend_node(name: str) -> om.MObject:
    selection = om.MSelectionList()
    try:
        selection.add(name)
    except RuntimeError as exc:
        raise CommandError(f"no node named {name!r}") from exc
    return selection.getDependNode(0)


def plug(node_name: str, attribute: str) -> om.MPlug:
    fn = om.MFnDependencyNode(depend_node(node_name))
    if not fn.hasAttribute(attribute):
        raise CommandError(f"{node_name} has no attribute {attribute!r}")
    found: om.MPlug = fn.findPlug(attribute, False)
    return found


def node_type(name: str) -> str:
    return str(om.MFnDependencyNode(depend_node(name)).typeName)


def selected_names() -> list[str]:
    return list(om.MGlobal.getActiveSelectionList().getSelectionStrings())
