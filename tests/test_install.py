"""The drag-and-drop installer (xception_maya/maya/install.py), driven with a fake ``cmds`` and a
fake subprocess runner, the module files, and the icons it relies on."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

from xception_maya import __version__
from xception_maya.manifest import BACKBONE_FILE, Manifest, ModelEntry, sha256_of
from xception_maya.maya import install as xi

ROOT = Path(__file__).resolve().parent.parent
ICONS = ROOT / "icons"


# --- fakes ----------------------------------------------------------------------------------


class FakeCmds:
    """The few maya.cmds the installer calls, with Maya's answers."""

    def __init__(self, app_dir: Path, *, batch: bool = True) -> None:
        self.app_dir = app_dir
        self.batch = batch
        self.answer = "OK"  # the button a dialog's user presses (else its first)
        self.loaded: dict[str, str] = {}  # plug-in name -> path
        self.autoload: dict[str, bool] = {}
        self.modules: list[str] = []  # module files loaded with loadModule
        self.module_roots: dict[str, str] = {}  # module name -> its path
        self.load_calls: list[str] = []
        self.dialogs: list[str] = []
        self.warnings: list[str] = []
        self.unload_fails = False

    def internalVar(self, userAppDir: bool = False) -> str:
        assert userAppDir
        return self.app_dir.as_posix() + "/"  # Maya's answer ends with a slash

    def about(self, batch: bool = False) -> bool:
        return self.batch

    def moduleInfo(
        self, listModules: bool = False, path: bool = False, moduleName: str = ""
    ) -> list[str] | str:
        if listModules:
            return list(self.module_roots)
        assert path
        return self.module_roots[moduleName]

    def loadModule(self, load: str) -> list[str]:
        self.modules.append(load)
        (root,) = xi.module_paths(Path(load).read_text())
        self.module_roots[xi.MODULE_NAME] = root
        return [load]

    def loadPlugin(self, path: str) -> list[str]:
        name = Path(path).stem
        self.load_calls.append(path)
        self.loaded[name] = path
        return [name]

    def unloadPlugin(self, name: str) -> None:
        if self.unload_fails:
            raise RuntimeError(f'Plug-in, "{name}", is still in use')
        del self.loaded[name]

    def pluginInfo(
        self, name: str, query: bool = False, edit: bool = False, loaded: bool = False,
        autoload: bool | None = None,
    ) -> bool | None:  # fmt: skip
        if query and loaded:
            return name in self.loaded
        if edit and autoload is not None:
            if name not in self.loaded:
                raise RuntimeError(f"Plug-in {name} not found")
            self.autoload[name] = autoload
            return None
        raise AssertionError("unexpected pluginInfo call")

    def confirmDialog(self, title: str, message: str, button: list[str]) -> str:
        self.dialogs.append(message)
        return self.answer if self.answer in button else button[0]

    def warning(self, message: str) -> None:
        self.warnings.append(message)


class FakeRunner:
    """Plays mayapy: answers the version probe from ``present``, "installs" what pip is asked
    for, "builds" the model by writing a manifest."""

    def __init__(self, present: dict[str, str] | None = None, pip_status: int = 0) -> None:
        self.present: dict[str, str] = dict(present or {})
        self.pip_status = pip_status
        self.calls: list[list[str]] = []

    def pip_calls(self) -> list[list[str]]:
        return [c for c in self.calls if c[1:4] == ["-m", "pip", "install"]]

    def __call__(self, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(command)
        if command[1] == "-c":  # the probe
            found = {name: self.present.get(name) for name in command[3:]}
            return subprocess.CompletedProcess(command, 0, json.dumps(found) + "\n", "")
        if command[1:4] == ["-m", "pip", "install"]:
            if self.pip_status:
                return subprocess.CompletedProcess(
                    command, self.pip_status, "", "ERROR: No matching distribution found\n"
                )
            specs = [a for a in command[4:] if not a.startswith("-")]
            for spec in specs:
                name, _, version = spec.partition(">=")
                self.present[name] = version
            return subprocess.CompletedProcess(command, 0, "Successfully installed ...\n", "")
        if command[1:3] == ["-m", "xception_maya.cli"]:
            make_models(Path(command[-1]))
            return subprocess.CompletedProcess(command, 0, "wrote the default model\n", "")
        raise AssertionError(f"unexpected command {command}")


def make_models(path: Path) -> Path:
    """A models folder whose manifest verifies (a stand-in backbone, no heads)."""
    path.mkdir(parents=True, exist_ok=True)
    (path / BACKBONE_FILE).write_bytes(b"stand-in backbone")
    Manifest(path, ModelEntry(BACKBONE_FILE, sha256_of(path / BACKBONE_FILE))).save()
    return path


EVERYTHING = {"numpy": "1.26.4", "Pillow": "10.4.0", "onnxruntime": "1.18.1"}


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    return tmp_path / "maya"


@pytest.fixture
def cmds(app_dir: Path) -> FakeCmds:
    return FakeCmds(app_dir)


def install(cmds: FakeCmds, runner: FakeRunner, models: Path, **kwargs: Any) -> xi.InstallReport:
    options: dict[str, Any] = {
        "models_dir": models, "python": "/maya/bin/mayapy", "system": "Linux", "gpu": False,
        "activate": lambda: None, "log": lambda _: None,
    }  # fmt: skip
    options.update(kwargs)
    return xi.run_in_maya(cmds, runner, **options)


# --- the module files -----------------------------------------------------------------------


def entry_lines(text: str) -> list[str]:
    """The lines from the "+" line on; asserts nothing but comments comes before it."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("+ "))
    assert all(line.startswith("#") or not line.strip() for line in lines[:start])
    return lines[start:]


def test_module_file_text_names_the_root_and_the_package() -> None:
    text = xi.module_file_text("/opt/xception-maya", "0.1.0")
    lines = text.splitlines()
    assert lines[0] == xi.MARKER
    assert entry_lines(text) == ["+ xception-maya 0.1.0 /opt/xception-maya", "PYTHONPATH+:=."]
    # A comment or a blank line after the "+" line would end Maya's reading of the entry.
    assert all(line.strip() and not line.startswith("#") for line in entry_lines(text))
    assert xi.is_ours(text)


def test_module_file_text_on_windows_uses_forward_slashes_and_keeps_spaces() -> None:
    text = xi.module_file_text(r"C:\Users\ana\My Tools\xception-maya")
    assert f"+ xception-maya {__version__} C:/Users/ana/My Tools/xception-maya" in text
    assert xi.module_paths(text) == ["C:/Users/ana/My Tools/xception-maya"]


def test_module_paths_reads_conditions_and_ignores_other_modules() -> None:
    text = "+ MAYAVERSION:2025 PLATFORM:linux xception-maya 0.1.0 ../xm\n+ other 1.0 /x\n"
    assert xi.module_paths(text) == ["../xm"]


def test_module_mod_is_the_installers_file_with_a_relative_root() -> None:
    text = (ROOT / "module.mod").read_text()
    assert entry_lines(text) == entry_lines(xi.module_file_text(".", __version__))
    assert all(line.strip() and not line.startswith("#") for line in entry_lines(text))
    assert not xi.is_ours(text)  # uninstall() never takes the repository's own file
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'\nversion = "{__version__}"\n' in pyproject


def test_modules_dir_is_under_the_user_app_dir() -> None:
    assert xi.modules_dir("/home/ana/maya/") == Path("/home/ana/maya/modules")
    assert xi.modules_dir("C:/Users/ana/Documents/maya/").name == "modules"


# --- what pip installs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "gpu", "onnxruntime"),
    [
        ("Windows", True, "onnxruntime-gpu"),
        ("Windows", False, "onnxruntime"),
        ("Linux", True, "onnxruntime-gpu"),
        ("Linux", False, "onnxruntime"),
        ("Darwin", True, "onnxruntime"),  # no CUDA wheels for macOS
        ("Darwin", False, "onnxruntime"),
    ],
)
def test_pip_command_per_platform_and_gpu(system: str, gpu: bool, onnxruntime: str) -> None:
    command = xi.pip_command("mayapy", system, gpu, ["numpy", "Pillow", "onnxruntime"])
    assert command[:5] == ["mayapy", "-m", "pip", "install", "--user"]
    specs = [a for a in command[5:] if not a.startswith("-")]
    assert specs == ["numpy>=1.24", "Pillow>=10", f"{onnxruntime}>=1.16"]


def test_pip_command_installs_only_whats_missing() -> None:
    command = xi.pip_command("mayapy", "Linux", False, ["onnx", "h5py"])
    assert [a for a in command[5:] if not a.startswith("-")] == ["onnx>=1.15", "h5py>=3.9"]


def test_minimum_versions_are_pyprojects() -> None:
    # Read with a regex: mayapy 3.10, which runs these tests in Maya, has no tomllib.
    pyproject = (ROOT / "pyproject.toml").read_text()
    pins = dict(re.findall(r'"([\w-]+)>=([\d.]+)"', pyproject))
    expected = {r.name: r.minimum for r in xi.REQUIREMENTS.values()}
    assert {name: pins[name] for name in expected} == expected
    assert pins["onnxruntime-gpu"] == xi.REQUIREMENTS["onnxruntime"].minimum


def test_needs_install_compares_versions() -> None:
    runtime = list(xi.RUNTIME)
    assert xi.needs_install(runtime, {}) == ["numpy", "Pillow", "onnxruntime"]
    assert xi.needs_install(runtime, EVERYTHING) == []
    old = {**EVERYTHING, "numpy": "1.23.5", "Pillow": "9.5.0"}
    assert xi.needs_install(runtime, old) == ["numpy", "Pillow"]
    # Any onnxruntime build does; a newer numpy is fine.
    gpu = {"numpy": "2.1.0", "Pillow": "11.0.0", "onnxruntime-gpu": "1.20.1"}
    assert xi.needs_install(runtime, gpu) == []
    assert xi.version_tuple("2.0.0rc1") == (2,)
    assert xi.version_tuple("1.16") == xi.version_tuple("1.16.0") < xi.version_tuple("1.16.3")


def test_nvidia_gpu_detection_with_injected_probes() -> None:
    def smi(code: int, out: str = "GPU 0: NVIDIA RTX A4000 (UUID: GPU-1)\n") -> xi.Runner:
        return lambda cmd, **kw: subprocess.CompletedProcess(cmd, code, out, "")

    def which(found: bool) -> Any:
        return lambda name: f"/usr/bin/{name}" if found else None

    def nothing(path: str) -> bool:
        return False

    assert xi.has_nvidia_gpu("Linux", which=which(True), runner=smi(0), exists=nothing)
    assert not xi.has_nvidia_gpu("Linux", which=which(True), runner=smi(9), exists=nothing)
    assert not xi.has_nvidia_gpu("Linux", which=which(False), runner=smi(0), exists=nothing)
    # No nvidia-smi on PATH, but the driver's library is there.
    windows = xi.has_nvidia_gpu(
        "Windows", which=which(False), runner=smi(0), system_root=r"C:\Windows",
        exists=lambda p: p == r"C:\Windows\System32\nvcuda.dll",
    )  # fmt: skip
    assert windows
    linux = xi.has_nvidia_gpu(
        "Linux", which=which(False), runner=smi(0), exists=lambda p: p.endswith("libcuda.so.1")
    )
    assert linux
    assert not xi.has_nvidia_gpu("Darwin", which=which(True), runner=smi(0), exists=bool)


def test_mayapy_is_found_from_mayas_own_executable() -> None:
    win = xi.mayapy_candidates(r"C:\Program Files\Autodesk\Maya2025\bin\maya.exe", "Windows")
    assert win[0] == r"C:\Program Files\Autodesk\Maya2025\bin\mayapy.exe"
    assert xi.mayapy_candidates("/usr/autodesk/maya2025/bin/maya.bin", "Linux")[0] == (
        "/usr/autodesk/maya2025/bin/mayapy"
    )
    mac = "/Applications/Autodesk/maya2025/Maya.app/Contents/MacOS/Maya"
    found = xi.find_mayapy(mac, "Darwin", maya_location="", exists=lambda p: "bin" in p)
    assert found == "/Applications/Autodesk/maya2025/Maya.app/Contents/bin/mayapy"
    assert xi.mayapy_candidates("/usr/autodesk/maya2025/bin/mayapy", "Linux") == [
        "/usr/autodesk/maya2025/bin/mayapy"
    ]
    with pytest.raises(xi.InstallError, match="mayapy -m pip install --user"):
        xi.find_mayapy("/somewhere/python3", "Linux", maya_location="", exists=lambda p: False)


def test_the_module_file_is_written_atomically_and_nothing_else_lands_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    mod_dir = tmp_path / "maya" / "modules"
    seen: list[list[str]] = []
    real_replace = os.replace

    def replace(src: str, dst: str) -> None:
        seen.append(sorted(p.name for p in mod_dir.iterdir()))  # just before the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    target, status = xi.write_module_file(mod_dir, ROOT)
    assert status == "written" and seen == [[]], "no temporary file in the modules folder"
    assert xi.module_paths(target.read_text()) == [ROOT.as_posix()]
    assert sorted(p.name for p in (tmp_path / "maya").iterdir()) == ["modules"]


# --- the whole flow, with fakes -------------------------------------------------------------


def test_install_twice_writes_one_file_and_installs_once(cmds: FakeCmds, tmp_path: Path) -> None:
    models = make_models(tmp_path / "models")
    runner = FakeRunner()
    first = install(cmds, runner, models)
    mod_file = xi.modules_dir(cmds.app_dir) / xi.MODULE_FILE
    content = mod_file.read_text()

    assert first.module_file == mod_file and first.module_file_status == "written"
    assert xi.module_paths(content) == [ROOT.as_posix()]
    assert first.installed == ["numpy>=1.24", "Pillow>=10", "onnxruntime>=1.16"]
    assert first.model == "ready" and first.plugin == "loaded"
    assert cmds.load_calls == [str(ROOT / "plug-ins" / "xception_classifier.py")]
    assert cmds.autoload == {"xception_classifier": True}
    assert cmds.modules == [str(mod_file)]  # the module counts in this session too

    second = install(cmds, runner, models)
    assert second.module_file_status == "unchanged" and second.installed == []
    assert second.plugin == "already loaded"
    assert len(runner.pip_calls()) == 1
    assert len(cmds.load_calls) == 1
    assert sorted(p.name for p in mod_file.parent.iterdir()) == [xi.MODULE_FILE]
    assert mod_file.read_text() == content


def test_nothing_is_installed_when_mayapy_has_it(cmds: FakeCmds, tmp_path: Path) -> None:
    runner = FakeRunner(EVERYTHING)
    report = install(cmds, runner, make_models(tmp_path / "models"), gpu=True, system="Windows")
    assert report.installed == [] and runner.pip_calls() == []
    # A GPU with the CPU build installed: left as it is, with how to switch.
    assert any("onnxruntime-gpu>=1.16" in note for note in report.notes)


def test_a_missing_model_is_built_with_the_build_extra(cmds: FakeCmds, tmp_path: Path) -> None:
    models = tmp_path / "models"
    runner = FakeRunner(EVERYTHING)
    shown: list[str] = []
    report = install(cmds, runner, models, gpu=True, log=shown.append)
    (pip,) = runner.pip_calls()
    assert [a for a in pip[5:] if not a.startswith("-")] == ["onnx>=1.15", "h5py>=3.9"]
    assert xi.build_command("/maya/bin/mayapy", models) in runner.calls
    assert report.model == "built" and xi.model_problems(models) == []
    assert any(line.startswith("$ /maya/bin/mayapy -m pip install") for line in shown)
    assert "wrote the default model" in "\n".join(shown)  # the build's own output


def test_failing_pip_says_what_to_run_by_hand(cmds: FakeCmds, tmp_path: Path) -> None:
    runner = FakeRunner(pip_status=1)
    shown: list[str] = []
    with pytest.raises(xi.InstallError) as failure:
        install(cmds, runner, make_models(tmp_path / "models"), gpu=True, log=shown.append)
    command = xi.pip_command("/maya/bin/mayapy", "Linux", True, ["numpy", "Pillow", "onnxruntime"])
    message = str(failure.value)
    assert "pip failed (exit status 1)" in message
    assert f"Run it by hand in a terminal:\n  {xi.format_command(command, 'Linux')}" in message
    assert "onnxruntime-gpu>=1.16" in message
    assert "ERROR: No matching distribution found" in "\n".join(shown)  # pip's own words
    assert cmds.loaded == {}  # it stops there


def test_manual_command_is_quoted_for_the_platform() -> None:
    command = xi.pip_command(r"C:\Program Files\Autodesk\Maya2025\bin\mayapy.exe", "Windows",
                             True, ["onnxruntime"])  # fmt: skip
    line = xi.format_command(command, "Windows")
    assert line.startswith('"C:\\Program Files\\Autodesk\\Maya2025\\bin\\mayapy.exe" -m pip')
    assert xi.format_command(["/a b/mayapy", "x>=1"], "Linux") == "'/a b/mayapy' 'x>=1'"


def test_drop_reports_in_a_dialog(app_dir: Path, tmp_path: Path) -> None:
    cmds = FakeCmds(app_dir, batch=False)
    models = make_models(tmp_path / "models")
    common: dict[str, Any] = {
        "models_dir": models, "python": "/maya/bin/mayapy", "system": "Linux", "gpu": False,
        "activate": lambda: None, "log": lambda _: None,
    }  # fmt: skip
    assert not xi.on_drop(cmds, runner=FakeRunner(pip_status=2), **common)
    assert "Installation stopped" in cmds.dialogs[-1] and "Run it by hand" in cmds.warnings[-1]
    cmds.answer = xi.NOT_NOW
    assert xi.on_drop(cmds, runner=FakeRunner(EVERYTHING), **common)
    assert "xception-maya is installed" in cmds.dialogs[-1]
    assert xi.IMAGENET_OFFER in cmds.dialogs[-1], "the ImageNet download is offered"


def test_drop_offers_the_imagenet_download(
    app_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xception_maya.maya import imagenet_download

    cmds = FakeCmds(app_dir, batch=False)
    models = make_models(tmp_path / "models")
    asked: list[Path] = []
    monkeypatch.setattr(
        imagenet_download, "download_imagenet", lambda m: asked.append(m) or "installed it"
    )
    cmds.answer = xi.DOWNLOAD
    common: dict[str, Any] = {
        "models_dir": models, "python": "/maya/bin/mayapy", "system": "Linux", "gpu": False,
        "activate": lambda: None, "log": lambda _: None,
    }  # fmt: skip
    assert xi.on_drop(cmds, runner=FakeRunner(EVERYTHING), **common)
    assert asked == [models] and cmds.dialogs[-1] == "installed it"


def test_someone_elses_module_file_is_not_overwritten(cmds: FakeCmds, tmp_path: Path) -> None:
    models = make_models(tmp_path / "models")
    mod_file = xi.modules_dir(cmds.app_dir) / xi.MODULE_FILE
    mod_file.parent.mkdir(parents=True)
    mod_file.write_text("+ xception-maya 0.0.9 /elsewhere/xception-maya\nPYTHONPATH+:=.\n")
    with pytest.raises(xi.InstallError, match="not written by this installer"):
        install(cmds, FakeRunner(EVERYTHING), models)
    assert "/elsewhere/" in mod_file.read_text()
    # One that names this checkout already is fine as it is.
    mod_file.write_text(f"+ xception-maya 0.1.0 {ROOT.as_posix()}\nPYTHONPATH+:=.\n")
    assert install(cmds, FakeRunner(EVERYTHING), models).module_file_status == "kept"


def test_another_file_declaring_the_module_is_reported(cmds: FakeCmds, tmp_path: Path) -> None:
    modules = xi.modules_dir(cmds.app_dir)
    modules.mkdir(parents=True)
    (modules / "module.mod").write_text((ROOT / "module.mod").read_text())
    report = install(cmds, FakeRunner(EVERYTHING), make_models(tmp_path / "models"))
    assert any("module.mod also declares the module" in note for note in report.notes)


def test_a_module_maya_loaded_from_elsewhere_is_reported(cmds: FakeCmds, tmp_path: Path) -> None:
    cmds.module_roots[xi.MODULE_NAME] = "/studio/tools/xception-maya"
    shown: list[str] = []
    install(cmds, FakeRunner(EVERYTHING), make_models(tmp_path / "models"), log=shown.append)
    assert cmds.modules == []  # not loaded a second time
    assert any("restart Maya to use" in line for line in shown)


def test_uninstall_removes_only_what_it_wrote(cmds: FakeCmds, tmp_path: Path) -> None:
    install(cmds, FakeRunner(EVERYTHING), make_models(tmp_path / "models"))
    mod_file = xi.modules_dir(cmds.app_dir) / xi.MODULE_FILE
    report = xi.uninstall(cmds, python="/maya/bin/mayapy", system="Linux", log=lambda _: None)
    assert report.plugin_unloaded and cmds.loaded == {}
    assert cmds.autoload == {"xception_classifier": False}
    assert report.removed == mod_file and not mod_file.exists()
    assert any("stay in mayapy's user site" in note for note in report.notes)
    assert any("/maya/bin/mayapy -m pip uninstall -y numpy" in note for note in report.notes)

    # Again: nothing left to do, and no error.
    again = xi.uninstall(cmds, python="/maya/bin/mayapy", system="Linux", log=lambda _: None)
    assert not again.plugin_unloaded and again.removed is None


def test_uninstall_leaves_a_foreign_file_alone(cmds: FakeCmds) -> None:
    mod_file = xi.modules_dir(cmds.app_dir) / xi.MODULE_FILE
    mod_file.parent.mkdir(parents=True)
    foreign = "+ xception-maya 0.1.0 /studio/tools/xception-maya\nPYTHONPATH+:=.\n"
    mod_file.write_text(foreign)
    shown: list[str] = []
    report = xi.uninstall(cmds, python="mayapy", system="Linux", log=shown.append)
    assert report.left_alone == mod_file and report.removed is None
    assert mod_file.read_text() == foreign
    assert any("not written by this installer; it is left alone" in line for line in shown)


def test_uninstall_when_the_scene_still_uses_the_plugin(cmds: FakeCmds, tmp_path: Path) -> None:
    install(cmds, FakeRunner(EVERYTHING), make_models(tmp_path / "models"))
    cmds.unload_fails = True
    report = xi.uninstall(cmds, python="mayapy", system="Linux", log=lambda _: None)
    assert not report.plugin_unloaded and "xception_classifier" in cmds.loaded
    assert cmds.autoload == {"xception_classifier": False}  # gone at the next start anyway
    assert report.removed is not None
    assert any("stays loaded in this session" in note for note in report.notes)


def test_the_installer_imports_no_maya() -> None:
    code = "import sys, xception_maya.maya.install; print(sorted(m for m in sys.modules if m == 'maya' or m.startswith('maya.')))"  # noqa: E501
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_drop_file_defines_what_maya_calls() -> None:
    spec = importlib.util.spec_from_file_location("xception_maya_drop", ROOT / "install.py")
    assert spec is not None and spec.loader is not None
    module = ModuleType(spec.name)
    spec.loader.exec_module(module)
    assert callable(module.onMayaDroppedPythonFile)


# --- the icons ------------------------------------------------------------------------------


def listed_icons() -> dict[str, int]:
    """Icon file -> side in pixels, as icons/README.md lists them."""
    text = (ICONS / "README.md").read_text()
    found = re.findall(r"^- `([\w@.]+\.png)` \((\d+)x(\d+)\):", text, re.M)
    assert all(w == h for _, w, h in found)
    return {name: int(w) for name, w, _ in found}


def test_every_listed_icon_is_a_transparent_png_of_its_size() -> None:
    icons = listed_icons()
    assert "out_xceptionClassifier.png" in icons and len(icons) == 8
    assert set(icons) == {p.name for p in ICONS.glob("*.png")}
    for name, side in icons.items():
        with Image.open(ICONS / name) as image:
            assert image.format == "PNG", name
            assert image.size == (side, side), name
            assert image.mode == "RGBA", name
            alpha = image.getchannel("A")
            lo, hi = alpha.getextrema()
            assert lo == 0 and hi == 255, name  # transparent background, opaque glyph
            assert alpha.getpixel((0, side - 1)) == 0, name


def test_the_shelf_uses_only_icons_that_exist() -> None:
    actions = (ROOT / "xception_maya" / "maya" / "actions.py").read_text()
    used = set(re.findall(r'"(xception\w+\.png)"', actions))
    assert len(used) == 7 and used <= set(listed_icons())


def test_the_icons_are_what_the_script_draws() -> None:
    spec = importlib.util.spec_from_file_location("draw_icons", ROOT / "tools" / "draw_icons.py")
    assert spec is not None and spec.loader is not None
    draw = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = draw  # dataclasses look their module up
    try:
        spec.loader.exec_module(draw)
        for icon in draw.ICONS:
            with Image.open(ICONS / icon.file) as saved:
                assert draw.render(icon).tobytes() == saved.tobytes(), icon.file
        assert draw.readme() == (ICONS / "README.md").read_text()
    finally:
        del sys.modules[spec.name]
