"""Choosing the onnxruntime-gpu build from the driver, and what doctor says, with faked
``nvidia-smi`` answers (CUDA 12 and 13 drivers, no driver, a driver too old). The real-GPU
run needs a machine with an NVIDIA GPU."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_install import EVERYTHING, FakeCmds, FakeRunner, install, make_models

from xception_maya import doctor, gpu
from xception_maya.maya import install as xi


def smi_header(driver: str, cuda: str) -> str:
    """The first lines of ``nvidia-smi`` as drivers print them."""
    return (
        "Mon Dec  1 10:00:00 2026\n"
        "+-----------------------------------------------------------------------------+\n"
        f"| NVIDIA-SMI {driver}    Driver Version: {driver}    CUDA Version: {cuda}     |\n"
        "|-------------------------------+----------------------+----------------------+\n"
        "|   0  NVIDIA RTX A4000     Off  | 00000000:01:00.0  On |                  Off |\n"
    )


CUDA12 = smi_header("550.54.14", "12.4")
CUDA13 = smi_header("580.65.06", "13.0")
TOO_OLD = smi_header("470.239.06", "11.4")
NO_DEVICE = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."


def faked(out: str | None, code: int = 0) -> gpu.Probe:
    """probe() with nvidia-smi answering ``out`` (None: not on the PATH)."""
    calls: list[list[str]] = []

    def runner(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        assert kwargs["timeout"] == gpu.SMI_TIMEOUT_S
        return subprocess.CompletedProcess(command, code, out or "", "")

    found = gpu.probe(which=lambda name: None if out is None else f"/usr/bin/{name}", runner=runner)
    assert len(calls) == (0 if out is None else 1)
    return found


def test_the_driver_and_its_cuda_version_are_read_from_nvidia_smi() -> None:
    assert faked(CUDA12).driver == gpu.Driver("550.54.14", (12, 4))
    assert faked(CUDA13).driver == gpu.Driver("580.65.06", (13, 0))
    assert str(faked(CUDA12).driver) == "550.54.14 (runs CUDA up to 12.4)"
    none = faked(None)
    assert none.driver is None and "nvidia-smi is not on the PATH" in none.problem
    failed = faked(NO_DEVICE, code=9)
    assert failed.driver is None and "couldn't communicate" in failed.problem
    assert "names no CUDA version" in faked("Driver Version: 1.0\n").problem


def test_a_hung_nvidia_smi_is_a_problem_not_a_hang() -> None:
    def runner(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    found = gpu.probe(which=lambda name: "/usr/bin/nvidia-smi", runner=runner)
    assert found.driver is None and "did not answer" in found.problem


@pytest.mark.parametrize(
    ("smi", "python", "spec", "cuda"),
    [
        (CUDA12, (3, 11), gpu.CUDA12_SPEC, 12),
        (CUDA13, (3, 11), gpu.CUDA13_SPEC, 13),
        (CUDA13, (3, 10), gpu.CUDA12_SPEC, 12),  # Maya 2024: no CUDA 13 wheels for 3.10
        (TOO_OLD, (3, 11), "onnxruntime", None),
        (None, (3, 11), "onnxruntime", None),
    ],
)
def test_the_build_follows_the_drivers_cuda(
    smi: str | None, python: tuple[int, int], spec: str, cuda: int | None
) -> None:
    choice = gpu.choose(faked(smi), "Linux", python)
    assert (choice.requirement, choice.cuda) == (spec, cuda)
    assert gpu.choose(faked(smi), "Windows", python) == choice
    assert gpu.choose(faked(smi), "Darwin", python).requirement == "onnxruntime"


def test_the_messages_say_why() -> None:
    old = gpu.choose(faked(TOO_OLD), "Linux", (3, 11)).reason
    assert "470.239.06 is too old" in old and "CUDA up to 11.4" in old
    assert "needs CUDA 12 or newer" in old and "update the driver" in old
    assert "nvidia-smi is not on the PATH" in gpu.choose(faked(None), "Linux").reason
    assert "the CUDA 13 build" in gpu.choose(faked(CUDA13), "Linux", (3, 11)).reason
    py310 = gpu.choose(faked(CUDA13), "Linux", (3, 10)).reason
    assert "Python 3.10 has no CUDA 13 build" in py310
    assert "no wheels for Darwin" in gpu.choose(faked(CUDA13), "Darwin").reason


def test_which_cuda_an_installed_build_needs() -> None:
    assert gpu.build_cuda("1.18.1") == 11
    assert gpu.build_cuda("1.19.0") == gpu.build_cuda("1.26.0") == 12
    assert gpu.build_cuda("1.27.0") == gpu.build_cuda("1.31.1") == 13


def test_doctor_lines_and_problems() -> None:
    libs13 = {"nvidia-cuda-runtime": "13.0.96", "nvidia-cudnn-cu13": "9.14.0.64"}
    lines, problems = gpu.diagnose(faked(CUDA13), {"onnxruntime-gpu": "1.31.1", **libs13})
    assert lines["nvidia driver"] == "580.65.06 (runs CUDA up to 13.0)"
    assert lines["onnxruntime-gpu"] == "1.31.1, built for CUDA 13"
    assert "CUDA runtime: nvidia-cuda-runtime 13.0.96" in lines["cuda libraries"]
    assert "cuDNN: nvidia-cudnn-cu13 9.14.0.64" in lines["cuda libraries"]
    assert problems == []

    # The usual complaint: the current build on a CUDA 12 driver, without pip libraries.
    lines, problems = gpu.diagnose(faked(CUDA12), {"onnxruntime-gpu": "1.31.1"}, "Linux")
    assert "CUDA runtime: not from pip" in lines["cuda libraries"]
    mismatch = next(p for p in problems if "needs CUDA 13" in p)
    assert "driver 550.54.14 runs CUDA up to 12.4" in mismatch
    assert f'pip install "{gpu.CUDA12_SPEC}"' in mismatch
    assert any("no cuDNN 13 from pip" in p for p in problems)

    lines, problems = gpu.diagnose(faked(None), {"onnxruntime-gpu": "1.26.0"})
    assert "nvidia-smi is not on the PATH" in lines["nvidia driver"]
    assert any("installed but no NVIDIA driver found" in p for p in problems)

    lines, problems = gpu.diagnose(faked(TOO_OLD), {"onnxruntime-gpu": "1.26.0"}, "Linux")
    assert any("needs CUDA 12" in p and "too old" in p for p in problems)

    lines, problems = gpu.diagnose(faked(CUDA12), {"onnxruntime": "1.32.0"}, "Linux")
    assert lines["onnxruntime-gpu"] == "not installed (the CPU build runs)"
    assert problems and gpu.CUDA12_SPEC in problems[0]
    # No driver, no GPU build: nothing to complain about (a CPU machine).
    assert gpu.diagnose(faked(None), {"onnxruntime": "1.32.0"})[1] == []


def test_doctor_reports_the_gpu_section(monkeypatch: pytest.MonkeyPatch) -> None:
    found = faked(CUDA12)
    monkeypatch.setattr(gpu, "probe", lambda: found)
    monkeypatch.setattr(gpu, "distributions", lambda: {"onnxruntime-gpu": "1.31.1"})
    info = doctor.report(Path("/nowhere"))
    assert "nvidia driver: 550.54.14 (runs CUDA up to 12.4)" in info["gpu"]
    assert any(p.startswith("gpu: onnxruntime-gpu 1.31.1 needs CUDA 13") for p in info["problems"])


def test_preload_runs_once_and_only_for_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    calls: list[int] = []
    monkeypatch.setattr(gpu, "_preloaded", False)
    monkeypatch.setattr(onnxruntime, "preload_dlls", lambda: calls.append(1), raising=False)
    gpu.preload(["CPUExecutionProvider"])
    assert calls == []
    gpu.preload(["CUDAExecutionProvider", "CPUExecutionProvider"])
    gpu.preload(["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert calls == [1]

    def broken() -> None:
        raise RuntimeError("libcudnn.so.9: cannot open shared object file")

    monkeypatch.setattr(gpu, "_preloaded", False)
    monkeypatch.setattr(onnxruntime, "preload_dlls", broken, raising=False)
    gpu.preload(["TensorrtExecutionProvider"])  # never an error: the session says why


# --- the installer ------------------------------------------------------------------------


def test_the_installer_installs_the_build_for_the_driver(tmp_path: Path) -> None:
    for smi, spec in ((CUDA12, gpu.CUDA12_SPEC), (CUDA13, gpu.CUDA13_SPEC)):
        runner = FakeRunner()
        choice = gpu.choose(faked(smi), "Linux", (3, 11))
        shown: list[str] = []
        report = install(
            FakeCmds(tmp_path / "maya"), runner, make_models(tmp_path / "models"),
        gpu=None, choice=choice,
            log=shown.append,
        )  # fmt: skip
        (pip,) = runner.pip_calls()
        assert [a for a in pip[5:] if not a.startswith("-")] == [
            "numpy>=1.24", "Pillow>=10", spec,
        ]  # fmt: skip
        assert report.installed[-1] == spec and "[cuda,cudnn]" in spec
        assert any(line.startswith("xception-maya: onnxruntime: driver ") for line in shown)


def test_the_installer_takes_the_cpu_build_for_an_old_driver(tmp_path: Path) -> None:
    runner = FakeRunner()
    choice = gpu.choose(faked(TOO_OLD), "Linux", (3, 11))
    shown: list[str] = []
    install(
        FakeCmds(tmp_path / "maya"), runner, make_models(tmp_path / "models"),
        gpu=None, choice=choice,
        log=shown.append,
    )  # fmt: skip
    (pip,) = runner.pip_calls()
    assert pip[-1] == "onnxruntime>=1.16"
    assert any("is too old" in line for line in shown)


def test_the_installer_says_how_to_switch_a_build_for_another_cuda(tmp_path: Path) -> None:
    present = {**EVERYTHING, "onnxruntime": None, "onnxruntime-gpu": "1.31.1"}
    runner = FakeRunner({k: v for k, v in present.items() if v})
    choice = gpu.choose(faked(CUDA12), "Linux", (3, 11))
    report = install(
        FakeCmds(tmp_path / "maya"), runner, make_models(tmp_path / "models"),
        gpu=None, choice=choice,
    )  # fmt: skip
    assert runner.pip_calls() == []  # what is installed stays
    note = next(n for n in report.notes if "built for CUDA 13" in n)
    assert "pip uninstall -y onnxruntime-gpu" in note and gpu.CUDA12_SPEC in note


def test_the_installer_detects_the_driver_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cuda13, nothing = faked(CUDA13), faked(None)
    monkeypatch.setattr(gpu, "probe", lambda: cuda13)
    assert xi.gpu_choice("Windows") == gpu.choose(cuda13, "Windows")  # mayapy's own Python
    monkeypatch.setattr(xi, "has_nvidia_gpu", lambda system: True)
    monkeypatch.setattr(gpu, "probe", lambda: nothing)
    runner = FakeRunner()
    report = install(
        FakeCmds(tmp_path / "maya"), runner, make_models(tmp_path / "models"), gpu=None,
    )  # fmt: skip
    assert runner.pip_calls()[0][-1] == "onnxruntime>=1.16"
    assert any("an NVIDIA GPU seems present" in n for n in report.notes)
