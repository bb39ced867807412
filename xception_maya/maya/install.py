"""The drag-and-drop installer: what ``install.py`` (the repository root) runs inside Maya.

Why one module of ~740 lines: it is the installer, run by dropping ``install.py`` on Maya;
every function is one step of that one job, and it must import nothing beyond the standard
library until the packages it installs are there.

``run_in_maya()`` makes this checkout a Maya module for the current user and leaves the
plug-in loaded:

1. writes ``<user app dir>/modules/xception-maya.mod`` naming this checkout by its absolute path;
2. installs numpy, Pillow and onnxruntime into mayapy's user site with pip, skipping what is
   already there at the right version; onnx and h5py too when the default model has to be
   built. With an NVIDIA driver (Windows, Linux) the onnxruntime-gpu build for the driver's
   CUDA version, with CUDA and cuDNN as pip packages (:mod:`xception_maya.gpu` chooses);
3. builds the default model when ``models/`` is missing or does not match its manifest, in a
   mayapy subprocess (a crash there cannot take Maya down);
4. loads the plug-in and sets it to autoload.

Running it again rewrites nothing and installs nothing. ``uninstall()`` undoes 1 and 4; the
pip packages stay (other tools may use them), and it says how to remove them.

The decisions are pure functions (``module_file_text``, ``modules_dir``, ``pip_command``,
``needs_install``, ``mayapy_candidates``); what probes the machine or runs a command takes
the probe or the runner as an argument, and ``run_in_maya``/``uninstall`` take ``cmds``, so
the tests drive the whole flow with fakes. Nothing here imports maya at module level.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import platform
import re
import shlex
import shutil
import site
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath
from typing import Any

from .. import __version__, fsio
from .. import gpu as gpu_builds
from ..errors import ModelError, XceptionMayaError
from ..manifest import Manifest, default_models_dir
from .dependencies import BUILD, ONNXRUNTIME_BUILDS, RUNTIME, Requirement

ROOT = Path(__file__).resolve().parents[2]  # the module: plug-ins/, icons/, models/, ...
MODULE_NAME = "xception-maya"
MODULE_FILE = "xception-maya.mod"
PLUGIN_NAME = "xception_classifier"
# The first line of every module file this installer writes: uninstall() removes a file
# only when it carries this line.
MARKER = "# xception-maya: written by the drag-and-drop installer (xception_maya/maya/install.py)."
# What follows the "+" line in module.mod and in the module file written here. Maya adds the
# module's plug-ins/, scripts/ and icons/ folders to MAYA_PLUG_IN_PATH, MAYA_SCRIPT_PATH (and
# PYTHONPATH) and XBMLANGPATH by itself, icons with the %B Linux needs; only the package,
# which sits at the module's root, has to be named.
MODULE_LINES = ("PYTHONPATH+:=.",)

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Log = Callable[[str], None]


class InstallError(XceptionMayaError):
    """A step of the installation failed; the message says what to do by hand."""


# --- what gets installed --------------------------------------------------------------------


REQUIREMENTS = {r.name: r for r in (*RUNTIME, *BUILD)}
PLATFORMS_WITH_CUDA_WHEELS = ("Windows", "Linux")  # onnxruntime-gpu has no macOS wheels


def version_tuple(version: str) -> tuple[int, ...]:
    """``"1.26.4"`` -> ``(1, 26, 4)``; a part's leading digits only (``"0rc1"`` -> 0)."""
    parts = []
    for part in version.split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        parts.append(int(digits.group()))
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # 2.0.0 == 2
    return tuple(parts)


def needs_install(
    requirements: Iterable[Requirement], installed: Mapping[str, str | None]
) -> list[str]:
    """The requirements no installed distribution satisfies, by name. ``installed`` maps a
    distribution name to its version (None or absent: not installed)."""
    missing = []
    for req in requirements:
        versions = [installed.get(d) for d in req.distributions]
        if not any(v and version_tuple(v) >= version_tuple(req.minimum) for v in versions):
            missing.append(req.name)
    return missing


def onnxruntime_package(system: str, has_nvidia_gpu: bool) -> str:
    """The onnxruntime build for this machine (``system`` as ``platform.system()`` says it)."""
    if has_nvidia_gpu and system in PLATFORMS_WITH_CUDA_WHEELS:
        return "onnxruntime-gpu"
    return "onnxruntime"


def pip_command(
    python: str,
    system: str,
    has_nvidia_gpu: bool,
    missing_packages: Sequence[str],
    gpu_spec: str | None = None,
) -> list[str]:
    """The pip command installing ``missing_packages`` (names of ``REQUIREMENTS``) into the
    user site of ``python``."""
    return [
        python, "-m", "pip", "install", "--user",
        "--disable-pip-version-check", "--no-warn-script-location",
        *requirement_specs(system, has_nvidia_gpu, missing_packages, gpu_spec),
    ]  # fmt: skip


def requirement_specs(
    system: str,
    has_nvidia_gpu: bool,
    missing_packages: Sequence[str],
    gpu_spec: str | None = None,
) -> list[str]:
    """pip's requirement specifiers for ``missing_packages``: ``["numpy>=1.24", ...]``.
    ``gpu_spec``: the onnxruntime-gpu build chosen for the driver (gpu.choose), if any."""
    specs = []
    for name in missing_packages:
        req = REQUIREMENTS[name]
        dist = onnxruntime_package(system, has_nvidia_gpu) if name == "onnxruntime" else name
        if name == "onnxruntime" and gpu_spec and dist == "onnxruntime-gpu":
            specs.append(gpu_spec)
        else:
            specs.append(f"{dist}>={req.minimum}")
    return specs


def gpu_choice(system: str, probe: gpu_builds.Probe | None = None) -> gpu_builds.Choice:
    """The onnxruntime build for this machine's driver, for mayapy's Python (this one: the
    installer runs inside Maya)."""
    return gpu_builds.choose(probe or gpu_builds.probe(), system)


def format_command(command: Sequence[str], system: str) -> str:
    """One line to paste into a terminal of that system."""
    if system == "Windows":
        return subprocess.list2cmdline(list(command))
    return shlex.join(command)


# The installed version of each distribution named on the command line, as JSON: runs in
# mayapy, so it sees the user site even when Maya started before that folder existed.
PROBE = """\
import json, sys
from importlib import metadata
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        found[name] = None
print(json.dumps(found))
"""


def probe_command(python: str, distributions: Sequence[str]) -> list[str]:
    return [python, "-c", PROBE, *distributions]


def build_command(python: str, models_dir: Path) -> list[str]:
    """The set-up step (``xception-maya setup``) run by mayapy."""
    return [python, "-m", "xception_maya.cli", "setup", "--models", str(models_dir)]


# --- the machine ----------------------------------------------------------------------------


def nvidia_driver_files(system: str, system_root: str = r"C:\Windows") -> tuple[str, ...]:
    """Files that exist only where the NVIDIA driver is installed."""
    if system == "Windows":
        return (str(PureWindowsPath(system_root, "System32", "nvcuda.dll")),)
    if system == "Linux":
        return (
            "/proc/driver/nvidia/version",  # the kernel module is loaded
            "/usr/lib/x86_64-linux-gnu/libcuda.so.1",  # Debian, Ubuntu
            "/usr/lib64/libcuda.so.1",  # Rocky, RHEL (what Maya supports)
        )
    return ()


def has_nvidia_gpu(
    system: str,
    *,
    which: Callable[[str], str | None] = shutil.which,
    runner: Runner = subprocess.run,
    exists: Callable[[str], bool] = os.path.exists,
    system_root: str | None = None,
) -> bool:
    """An NVIDIA GPU with its driver: ``nvidia-smi -L`` lists one, or the driver's library is
    there. Never on macOS. The probes are arguments so that tests choose the answers."""
    if system not in PLATFORMS_WITH_CUDA_WHEELS:
        return False
    smi = which("nvidia-smi")
    if smi:
        try:
            result = runner([smi, "-L"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            result = None
        if result is not None and result.returncode == 0 and "GPU" in (result.stdout or ""):
            return True
    root = system_root or os.environ.get("SYSTEMROOT", r"C:\Windows")
    return any(exists(path) for path in nvidia_driver_files(system, root))


def mayapy_candidates(executable: str, system: str, maya_location: str | None = None) -> list[str]:
    """Where mayapy may be, best first, from the running interpreter's path: inside Maya that
    is maya.exe (Windows) or bin/maya.bin (Linux), both next to mayapy, or
    Maya.app/Contents/MacOS/Maya (macOS), with mayapy in Contents/bin."""
    pure: type[PurePath] = PureWindowsPath if system == "Windows" else PurePosixPath
    name = "mayapy.exe" if system == "Windows" else "mayapy"
    exe = pure(executable)
    if exe.name.lower().startswith("mayapy"):
        return [str(exe)]
    found = [exe.parent / name, exe.parent.parent / "bin" / name]
    if maya_location:
        found.append(pure(maya_location) / "bin" / name)
    return list(dict.fromkeys(str(p) for p in found))


def find_mayapy(
    executable: str | None = None,
    system: str | None = None,
    *,
    maya_location: str | None = None,
    exists: Callable[[str], bool] = os.path.isfile,
) -> str:
    executable = executable or sys.executable
    system = system or platform.system()
    if maya_location is None:
        maya_location = os.environ.get("MAYA_LOCATION")
    candidates = mayapy_candidates(executable, system, maya_location)
    for candidate in candidates:
        if exists(candidate):
            return candidate
    raise InstallError(
        "mayapy, Maya's Python, was not found (looked at: " + ", ".join(candidates) + "). "
        "Install the dependencies by hand with it: mayapy -m pip install --user numpy Pillow "
        "onnxruntime"
    )


# --- the module file ------------------------------------------------------------------------


def modules_dir(app_dir: str | os.PathLike[str]) -> Path:
    """The user's modules folder, on Maya's default MAYA_MODULE_PATH: ``app_dir`` is
    ``cmds.internalVar(userAppDir=True)`` (``~/maya``, ``Documents/maya``,
    ``~/Library/Preferences/Autodesk/maya``)."""
    return Path(app_dir) / "modules"


def module_file_text(
    root: str | os.PathLike[str],
    version: str = __version__,
    header: Sequence[str] = (
        MARKER,
        "# xception_maya.maya.install.uninstall() removes this file. Comments stay above the '+'",
        "# line: Maya reads a comment below it as a blank line, which ends the entry.",
    ),
) -> str:
    """A module file for the module at ``root`` (absolute, or relative to the file)."""
    path = os.fspath(root).replace("\\", "/")  # Maya takes forward slashes everywhere
    lines = [*header, f"+ {MODULE_NAME} {version} {path}", *MODULE_LINES]
    return "\n".join(lines) + "\n"


_SPECIFIER = re.compile(
    r"^\+\s+(?:(?:MAYAVERSION|PLATFORM|LOCALE):\S+\s+)*(?P<name>\S+)\s+(?P<version>\S+)"
    r"\s+(?P<path>.+?)\s*$"
)


def module_paths(text: str, name: str = MODULE_NAME) -> list[str]:
    """The module paths the ``+`` lines of a module file give for module ``name``."""
    found = []
    for line in text.splitlines():
        match = _SPECIFIER.match(line.strip())
        if match and match.group("name") == name:
            found.append(match.group("path"))
    return found


def is_ours(text: str) -> bool:
    return MARKER in text.splitlines()


def _same_dir(path: str, mod_dir: Path, root: Path) -> bool:
    try:
        return (mod_dir / path).resolve() == root.resolve()
    except OSError:
        return False


def write_module_file(mod_dir: Path, root: Path, version: str = __version__) -> tuple[Path, str]:
    """Write ``<mod_dir>/xception-maya.mod`` for ``root``; returns the file and what happened:
    "written", "unchanged", or "kept" (someone else's file that already names ``root``).
    Someone else's file naming another folder is left alone and is an error."""
    target = mod_dir / MODULE_FILE
    text = module_file_text(root.resolve(), version)
    if target.is_file():
        current = target.read_text(encoding="utf8", errors="replace")
        if current == text:
            return target, "unchanged"
        if not is_ours(current):
            if any(_same_dir(p, mod_dir, root) for p in module_paths(current)):
                return target, "kept"
            raise InstallError(
                f"{target} exists and was not written by this installer; it is left alone. "
                f"Remove it (or make it name {root.resolve().as_posix()}) and drop install.py "
                "again."
            )
    # Atomically, with the temporary file in the folder above: Maya reads every file in a
    # modules folder, whatever its extension, so a half-written one must never be there.
    mod_dir.mkdir(parents=True, exist_ok=True)
    fsio.write_atomic(target, text, temp_dir=mod_dir.parent)
    return target, "written"


def other_module_files(mod_dir: Path) -> list[Path]:
    """Other files in ``mod_dir`` that also declare the module (Maya uses the first it finds)."""
    if not mod_dir.is_dir():
        return []
    found = []
    for path in sorted(mod_dir.iterdir()):
        if path.name == MODULE_FILE or not path.is_file():
            continue
        try:
            if module_paths(path.read_text(encoding="utf8", errors="replace")):
                found.append(path)
        except OSError:
            continue
    return found


# --- the models -----------------------------------------------------------------------------


def model_problems(models_dir: Path) -> list[str]:
    """Why the models folder is not ready (empty: its manifest loads and every file matches)."""
    try:
        return Manifest.load(models_dir).verify()
    except ModelError as exc:
        return [str(exc)]


# --- running commands -----------------------------------------------------------------------


def child_env(root: Path) -> dict[str, str]:
    """The environment of a mayapy subprocess: this checkout first on its path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_step(
    command: Sequence[str],
    what: str,
    *,
    runner: Runner,
    log: Log,
    system: str,
    root: Path,
    quiet: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``command``, show it and its output; a failure is an InstallError that says how
    to run it by hand."""
    if not quiet:
        log(f"$ {format_command(command, system)}")
    extra: dict[str, Any] = {}
    if sys.platform == "win32":  # no console window flashing up from inside Maya
        extra["creationflags"] = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        result = runner(
            list(command), capture_output=True, text=True, encoding="utf-8", errors="replace",
            stdin=subprocess.DEVNULL, cwd=str(root), env=child_env(root), **extra,
        )  # fmt: skip
    except OSError as exc:
        raise InstallError(
            f"{what} could not start ({exc}). Run it by hand in a terminal:\n"
            f"  {format_command(command, system)}"
        ) from exc
    output = "\n".join(s.rstrip() for s in (result.stdout, result.stderr) if s and s.strip())
    if output and not (quiet and result.returncode == 0):
        log(output)
    if result.returncode != 0:
        raise InstallError(
            f"{what} failed (exit status {result.returncode}); its output is above. "
            f"Run it by hand in a terminal:\n  {format_command(command, system)}"
        )
    return result


def installed_versions(
    python: str, distributions: Sequence[str], *, runner: Runner, system: str, root: Path
) -> dict[str, str | None]:
    """The version mayapy sees of each distribution (None: not installed)."""
    result = run_step(
        probe_command(python, distributions), "checking the installed packages",
        runner=runner, log=lambda _: None, system=system, root=root, quiet=True,
    )  # fmt: skip
    lines = (result.stdout or "").strip().splitlines()
    try:
        found = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        found = None
    if not isinstance(found, dict):
        raise InstallError(f"mayapy ({python}) did not say which packages it has: {result.stdout}")
    return {name: (str(v) if v else None) for name, v in found.items()}


def activate_user_site() -> None:
    """Put the user site on this (Maya's) sys.path: Python skips it at start-up when the
    folder does not exist yet, which is the case before the first ``pip install --user``."""
    path = site.getusersitepackages()
    if site.ENABLE_USER_SITE and os.path.isdir(path) and path not in sys.path:
        site.addsitedir(path)
    importlib.invalidate_caches()


# --- in Maya --------------------------------------------------------------------------------


@dataclass
class InstallReport:
    module_file: Path
    module_file_status: str  # written, unchanged, kept
    installed: list[str] = field(default_factory=list)  # the pip requirement specs
    model: str = "ready"  # ready, built
    plugin: str = "loaded"  # loaded, already loaded
    notes: list[str] = field(default_factory=list)


@dataclass
class UninstallReport:
    plugin_unloaded: bool
    removed: Path | None  # the module file removed
    left_alone: Path | None  # a module file of that name we did not write
    notes: list[str] = field(default_factory=list)


def _maya_cmds(cmds: Any) -> Any:
    if cmds is not None:
        return cmds
    from maya import cmds as maya_cmds  # only ever inside Maya

    return maya_cmds


def _say(log: Log, message: str) -> None:
    log(f"xception-maya: {message}")


def _load_module_now(cmds: Any, mod_file: Path, root: Path, log: Log) -> None:
    """Make Maya read the module file now, so its icons and plug-ins folders count in this
    session; Maya reads module files only at start-up otherwise."""
    try:
        loaded = list(cmds.moduleInfo(listModules=True) or [])
    except (RuntimeError, TypeError):
        loaded = []
    if MODULE_NAME in loaded:
        try:
            path = cmds.moduleInfo(path=True, moduleName=MODULE_NAME)
        except RuntimeError:
            return
        path = path[0] if isinstance(path, list | tuple) and path else path
        if path and not _same_dir(str(path), root, root):
            _say(log, f"Maya loaded the module from {path} at start-up; restart Maya to use "
                      f"{root.as_posix()}")  # fmt: skip
        return
    try:
        cmds.loadModule(load=str(mod_file))
    except RuntimeError as exc:
        _say(log, f"Maya did not load the module now ({exc}); the shelf icons appear after a "
                  "restart")  # fmt: skip


def run_in_maya(
    cmds: Any = None,
    runner: Runner = subprocess.run,
    *,
    root: Path = ROOT,
    models_dir: Path | None = None,
    python: str | None = None,
    system: str | None = None,
    gpu: bool | None = None,
    choice: gpu_builds.Choice | None = None,
    app_dir: str | None = None,
    activate: Callable[[], None] = activate_user_site,
    log: Log = print,
) -> InstallReport:
    """Install (or check) everything; see the module's docstring. Raises InstallError."""
    cmds = _maya_cmds(cmds)
    system = system or platform.system()
    python = python or find_mayapy(system=system)
    models_dir = models_dir or default_models_dir()
    if str(root) not in sys.path:
        sys.path.append(str(root))

    # 1. the module file
    mod_dir = modules_dir(app_dir or cmds.internalVar(userAppDir=True))
    mod_file, status = write_module_file(mod_dir, root)
    report = InstallReport(mod_file, status)
    _say(log, f"module file {mod_file} ({status})")
    for other in other_module_files(mod_dir):
        note = f"{other} also declares the module {MODULE_NAME}; Maya uses only one of them"
        report.notes.append(note)
        _say(log, note)

    # 2. the Python packages, into mayapy's user site
    problems = model_problems(models_dir)
    requirements = list(RUNTIME) + (list(BUILD) if problems else [])
    if gpu is None and choice is None:
        choice = gpu_choice(system)
        if choice.cuda is None and has_nvidia_gpu(system):
            note = (
                f"an NVIDIA GPU seems present, but {choice.reason}; for the GPU, see "
                "`xception-maya doctor` (gpu)"
            )
            report.notes.append(note)
            _say(log, note)
    if choice is not None:
        gpu = choice.cuda is not None
        _say(log, f"onnxruntime: {choice.reason}")
    gpu = bool(gpu)
    spec = choice.requirement if choice is not None and gpu else None
    dists = [d for r in requirements for d in r.distributions]
    dists += [d for d in gpu_builds.distributions_of(choice.cuda)] if choice and gpu else []
    installed = installed_versions(python, dists, runner=runner, system=system, root=root)
    missing = needs_install(requirements, installed)
    if missing:
        command = pip_command(python, system, gpu, missing, spec)
        _say(log, f"installing {', '.join(missing)} into mayapy's user site (a few minutes; "
                  "Maya does not respond meanwhile)")  # fmt: skip
        run_step(command, "pip", runner=runner, log=log, system=system, root=root)
        report.installed = requirement_specs(system, gpu, missing, spec)
        activate()
    else:
        _say(log, f"already installed: {', '.join(r.name for r in requirements)}")
    switch = _gpu_switch(installed, choice if gpu else None, gpu)
    if switch:
        add = format_command(pip_command(python, system, True, ["onnxruntime"], spec), system)
        if switch[1]:
            remove = [python, "-m", "pip", "uninstall", "-y", *switch[1]]
            add = f"{format_command(remove, system)} then {add}"
        note = f"{switch[0]}; for the GPU: {add}"
        report.notes.append(note)
        _say(log, note)

    # 3. the default model
    if problems:
        _say(log, f"building the default model in {models_dir}: {problems[0]}")
        run_step(
            build_command(python, models_dir), "building the default model",
            runner=runner, log=log, system=system, root=root,
        )  # fmt: skip
        still = model_problems(models_dir)
        if still:
            raise InstallError(f"the default model is still not ready: {'; '.join(still)}")
        report.model = "built"
    else:
        _say(log, f"default model ready in {models_dir}")

    # 4. the plug-in
    _load_module_now(cmds, mod_file, root, log)
    plugin_file = root / "plug-ins" / f"{PLUGIN_NAME}.py"
    if cmds.pluginInfo(PLUGIN_NAME, query=True, loaded=True):
        report.plugin = "already loaded"
    else:
        try:
            cmds.loadPlugin(str(plugin_file))
        except RuntimeError as exc:
            raise InstallError(
                f"the plug-in {plugin_file} did not load ({exc}); the Script Editor shows why"
            ) from exc
    cmds.pluginInfo(PLUGIN_NAME, edit=True, autoload=True)
    _say(log, f"plug-in {PLUGIN_NAME} {report.plugin}, set to autoload")
    return report


def _gpu_switch(
    installed: Mapping[str, str | None], choice: gpu_builds.Choice | None, gpu: bool
) -> tuple[str, list[str]] | None:
    """Why the onnxruntime already installed does not run on this GPU, and what to remove;
    None when it does (or there is no GPU). What is installed is left as it is."""
    if not gpu:
        return None
    cpu, built = installed.get("onnxruntime"), installed.get("onnxruntime-gpu")
    if cpu and not built:
        return "an NVIDIA GPU is present but the CPU build of onnxruntime is installed", [
            "onnxruntime"
        ]
    if choice is None or choice.cuda is None or not built:
        return None
    needs = gpu_builds.build_cuda(built)
    if needs != choice.cuda:
        return (
            f"onnxruntime-gpu {built} is built for CUDA {needs}, but {choice.reason}",
            ["onnxruntime-gpu"],
        )
    libraries = gpu_builds.distributions_of(needs)
    if libraries and not any(installed.get(d) for d in libraries):
        return (
            f"onnxruntime-gpu {built} is installed without CUDA {needs} and cuDNN from pip "
            "(it then needs them on the system)",
            [],
        )
    return None


def on_drop(cmds: Any = None, **kwargs: Any) -> bool:
    """``run_in_maya`` for the drag-and-drop entry: the outcome in a dialog (interactive Maya)
    and in the Script Editor, never a traceback."""
    cmds = _maya_cmds(cmds)
    try:
        report = run_in_maya(cmds, **kwargs)
    except XceptionMayaError as exc:
        _tell(cmds, f"Installation stopped:\n\n{exc}")
        cmds.warning(f"xception-maya: {exc}")
        return False
    lines = [
        "xception-maya is installed: the Xception shelf and menu are there, and the plug-in "
        "loads with Maya from now on.",
        f"Module file: {report.module_file}",
    ]
    if report.installed:
        lines.append("Installed into mayapy's user site: " + ", ".join(report.installed))
    lines += report.notes
    models = kwargs.get("models_dir") or default_models_dir()
    from .. import imagenet  # numpy and onnx are installed only by now

    if cmds.about(batch=True) or imagenet.is_installed(models):
        _tell(cmds, "\n\n".join(lines))
        return True
    lines.append(IMAGENET_OFFER)
    answer = cmds.confirmDialog(
        title="xception-maya", message="\n\n".join(lines), button=[DOWNLOAD, NOT_NOW]
    )
    if answer == DOWNLOAD:
        _tell(cmds, _download_imagenet(models))
    return True


DOWNLOAD = "Download ImageNet classes"
NOT_NOW = "Not now"
IMAGENET_OFFER = (
    "The default head knows six kitchen classes. ImageNet's 1000 classes (a 92 MB download, "
    "checked and converted here) make a better default for real scenes. Later: Xception > "
    "Settings > Download ImageNet's 1000 classes."
)


def _download_imagenet(models: Path) -> str:
    """The Settings window's download, from the installer: one line whatever happens."""
    from .imagenet_download import download_imagenet

    try:
        return download_imagenet(models)
    except Exception as exc:  # the installation itself succeeded: say why, never raise
        return f"ImageNet classes not installed: {exc}"


def _tell(cmds: Any, message: str) -> None:
    if cmds.about(batch=True):
        return
    cmds.confirmDialog(title="xception-maya", message=message, button=["OK"])


def uninstall(
    cmds: Any = None,
    *,
    app_dir: str | None = None,
    python: str | None = None,
    system: str | None = None,
    log: Log = print,
) -> UninstallReport:
    """Turn autoload off, unload the plug-in, remove the module file this installer wrote.
    A module file of that name without our marker is left alone and reported. The pip
    packages stay."""
    cmds = _maya_cmds(cmds)
    system = system or platform.system()
    notes: list[str] = []
    unloaded = False
    with contextlib.suppress(RuntimeError):  # raised when Maya does not know the plug-in
        cmds.pluginInfo(PLUGIN_NAME, edit=True, autoload=False)
    if cmds.pluginInfo(PLUGIN_NAME, query=True, loaded=True):
        try:
            cmds.unloadPlugin(PLUGIN_NAME)
            unloaded = True
        except RuntimeError as exc:
            notes.append(
                f"the plug-in stays loaded in this session ({exc}); open a new scene and run "
                f"cmds.unloadPlugin({PLUGIN_NAME!r}). It no longer loads when Maya starts."
            )
    mod_file = modules_dir(app_dir or cmds.internalVar(userAppDir=True)) / MODULE_FILE
    removed: Path | None = None
    left_alone: Path | None = None
    if mod_file.is_file():
        if is_ours(mod_file.read_text(encoding="utf8", errors="replace")):
            mod_file.unlink()
            removed = mod_file
            notes.append(f"removed {mod_file}; Maya stops reading the module at its next start")
        else:
            left_alone = mod_file
            notes.append(f"{mod_file} was not written by this installer; it is left alone")
    else:
        notes.append(f"no module file at {mod_file}")
    try:
        mayapy = python or find_mayapy(system=system)
    except InstallError:
        mayapy = "mayapy"
    packages = ["numpy", "Pillow", *ONNXRUNTIME_BUILDS[:2], *(r.name for r in BUILD)]
    notes.append(
        "numpy, Pillow and onnxruntime stay in mayapy's user site (other tools may use them); "
        "if nothing else needs them: "
        + format_command([mayapy, "-m", "pip", "uninstall", "-y", *packages], system)
    )
    for note in notes:
        _say(log, note)
    return UninstallReport(unloaded, removed, left_alone, notes)
