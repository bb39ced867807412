"""The models folder as untrusted input and as a transaction: schema, confinement, sha256,
head files checked before allocation, user-given names, atomic writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_run import one_line, run

from xception_maya import fsio
from xception_maya import manifest as mf
from xception_maya.convert import install_head
from xception_maya.errors import ModelError, XceptionMayaError
from xception_maya.heads import Head
from xception_maya.names import is_valid_name, validate_name

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def models(models_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the built models folder (the backbone hard-linked: never modify it
    in place, replace it)."""
    out = tmp_path / "models"
    shutil.copytree(models_dir, out, copy_function=_link_or_copy, ignore=_samples)
    return out


def _link_or_copy(src: str, dst: str) -> None:
    if src.endswith(".onnx"):
        try:
            os.link(src, dst)
            return
        except OSError:
            pass
    shutil.copy2(src, dst)


def _samples(folder: str, names: list[str]) -> list[str]:
    return ["samples"] if Path(folder).name == "models" else []


def _manifest_data(models: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((models / mf.MANIFEST).read_text())
    return data


def _write_manifest(models: Path, data: object) -> None:
    (models / mf.MANIFEST).write_text(json.dumps(data))


# --- the manifest's schema ---------------------------------------------------------------------


def _break(data: dict[str, Any], how: str) -> object:
    head = next(iter(data["heads"]))
    if how == "no backbone":
        del data["backbone"]
    elif how == "a list":
        return []
    elif how == "heads as a list":
        data["heads"] = [data["heads"][head]]
    elif how == "head without file":
        del data["heads"][head]["file"]
    elif how == "text size":
        data["heads"][head]["input_size"] = "150"
    elif how == "huge size":
        data["heads"][head]["input_size"] = 100_000
    elif how == "integer labels":
        data["heads"][head]["labels"] = [1, 2]
    elif how == "bad sha":
        data["backbone"]["sha256"] = "abc"
    elif how == "newer version":
        data["version"] = 99
    elif how == "unknown default":
        data["default_head"] = "wood"
    elif how == "escaping head path":
        data["heads"][head]["file"] = "../../outside/evil.npz"
    elif how == "absolute head path":
        data["heads"][head]["file"] = "/etc/evil.npz"
    elif how == "windows drive path":
        data["heads"][head]["file"] = "C:\\evil.npz"
    return data


BROKEN = {
    "no backbone": "backbone must be a JSON object",
    "a list": "the manifest must be a JSON object",
    "heads as a list": "heads must be a JSON object",
    "head without file": "field 'heads.kitchenware.file' must be str",
    "text size": "field 'heads.kitchenware.input_size' must be int",
    "huge size": "input size 100000 is over the limit of 1024",
    "integer labels": "'heads.kitchenware.labels' must be a non-empty list of text",
    "bad sha": "'backbone.sha256' must be a sha256 in hex",
    "newer version": "written by a newer xception-maya",
    "unknown default": "default_head 'wood' is not one of its heads",
    "escaping head path": "must be a path inside the models folder",
    "absolute head path": "must be a path inside the models folder",
    "windows drive path": "must be a path inside the models folder",
}


@pytest.mark.parametrize("how", sorted(BROKEN))
def test_a_malformed_manifest_is_one_error_naming_the_field(
    models: Path, samples: list[Path], how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_manifest(models, _break(_manifest_data(models), how))
    with pytest.raises(ModelError, match=r"manifest\.json") as failure:
        mf.Manifest.load(models)
    assert BROKEN[how] in str(failure.value)

    code, _, err = run(["classify", "--models", str(models), str(samples[0])], capsys)
    assert code == 2 and BROKEN[how] in one_line(err)
    code, out, err = run(["doctor", "--models", str(models)], capsys)
    assert code == 1 and BROKEN[how] in out and "Traceback" not in out + err


def test_a_symlink_out_of_the_folder_is_refused(models: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.npz"
    shutil.copy2(mf.Manifest.load(models).head_path("kitchenware"), outside)
    data = _manifest_data(models)
    link = models / "heads" / "linked.npz"
    link.symlink_to(outside)
    data["heads"]["kitchenware"]["file"] = "heads/linked.npz"
    _write_manifest(models, data)
    with pytest.raises(ModelError, match="leads outside"):
        mf.Manifest.load(models)


def test_a_changed_backbone_is_refused_when_classifying(
    models: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = mf.Manifest.load(models)
    data = manifest.backbone_path.read_bytes()
    manifest.backbone_path.unlink()  # hard-linked: replace, never modify in place
    manifest.backbone_path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    code, _, err = run(["classify", "--models", str(models), str(samples[0])], capsys)
    assert code == 2 and "does not match its sha256" in one_line(err)


def test_a_changed_head_is_refused(models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = mf.Manifest.load(models).head_path("kitchenware")
    path.write_bytes(path.read_bytes() + b"x")
    code, out, _ = run(["doctor", "--models", str(models)], capsys)
    assert code == 1 and "head kitchenware" in out and "does not match its sha256" in out


# --- head files: checked before anything is allocated ------------------------------------------


def _npz(path: Path, meta: object, arrays: dict[str, np.ndarray]) -> Path:
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as bool
    return path


def _meta(**changes: object) -> dict[str, object]:
    meta: dict[str, object] = {
        "format": "xception-maya-head",
        "version": 1,
        "name": "tiny",
        "labels": ["a", "b"],
        "input_size": 150,
        "resize": "nearest",
        "activations": ["linear"],
    }
    meta.update(changes)
    return meta


def _weights() -> dict[str, np.ndarray]:
    return {"kernel_0": np.zeros((2048, 2), np.float32), "bias_0": np.zeros(2, np.float32)}


BAD_META = {
    "meta is a list": (["x"], "meta must be a JSON object"),
    "no name": ({k: v for k, v in _meta().items() if k != "name"}, "'name' must be text"),
    "text size": (_meta(input_size="150"), "'input_size' must be a whole number"),
    "huge size": (_meta(input_size=100_000), "over the limit of 1024"),
    "integer labels": (_meta(labels=[1, 2]), "'labels' must hold 1 to"),
    "unknown filter": (_meta(resize="area"), "resize 'area' is not one of"),
    "bad activation": (_meta(activations=["tanh"]), "activation 'tanh' is not one of"),
}


@pytest.mark.parametrize("case", sorted(BAD_META))
def test_malformed_head_metadata_is_one_error(tmp_path: Path, case: str) -> None:
    meta, message = BAD_META[case]
    path = _npz(tmp_path / "h.npz", meta, _weights())
    with pytest.raises(ModelError, match=r"h\.npz") as failure:
        Head.load(path)
    assert message in str(failure.value)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"kernel_0": np.array("a string"), "bias_0": np.zeros(2)}, "expected float32"),
        (
            {"kernel_0": np.full((2048, 2), np.nan, np.float32), "bias_0": np.zeros(2)},
            "NaN or infinite weights",
        ),
        ({"kernel_0": np.zeros((2048, 2), np.float32)}, "missing array 'bias_0'"),
        ({"kernel_0": np.zeros((10, 2), np.float32), "bias_0": np.zeros(2)}, "expected (2048, n)"),
        (
            {"kernel_0": np.zeros((2048, 2), object), "bias_0": np.zeros(2)},
            "kernel_0 has dtype object; expected float32",
        ),
    ],
)
def test_bad_head_arrays_are_refused(
    tmp_path: Path, arrays: dict[str, np.ndarray], message: str
) -> None:
    path = tmp_path / "h.npz"
    if any(a.dtype.hasobject for a in arrays.values()):
        # np.savez would pickle it; a hostile file does exactly that.
        np.savez(path, meta=np.array(json.dumps(_meta())), **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as bool
    else:
        _npz(path, _meta(), arrays)
    with pytest.raises(ModelError) as failure:
        Head.load(path)
    assert message in str(failure.value)


def test_a_declared_huge_kernel_is_refused_from_its_header(tmp_path: Path) -> None:
    # 2048 x 10,000,000 float32 is 82 GB; the file holds a header and a few bytes.
    header = {"descr": "<f4", "fortran_order": False, "shape": (2048, 10_000_000)}
    member = bytearray(b"\x93NUMPY\x01\x00")
    text = repr(header).encode("latin1")
    text += b" " * (-(len(member) + 2 + len(text) + 1) % 64) + b"\n"
    member += len(text).to_bytes(2, "little") + text + b"\0" * 64
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta.npy", _npy_bytes(np.array(json.dumps(_meta()))))
        archive.writestr("kernel_0.npy", bytes(member))
        archive.writestr("bias_0.npy", _npy_bytes(np.zeros(2, np.float32)))
    with pytest.raises(ModelError, match="declares more data than the file holds"):
        Head.load(path)


def test_a_zip_bomb_head_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "bomb.npz"
    # 4 GB of zeros would deflate to about 4 MB; a declared 600 MB is enough to show the rule.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.npy", _npy_bytes(np.array(json.dumps(_meta()))))
        with archive.open("kernel_0.npy", "w", force_zip64=True) as f:
            f.write(_npy_bytes(np.zeros((2048, 2), np.float32))[:128])
            chunk = bytes(1 << 24)
            for _ in range(36):
                f.write(chunk)
    assert path.stat().st_size < 4 * 1024**2
    with pytest.raises(ModelError, match="over the head limit"):
        Head.load(path)


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_a_truncated_head_is_one_error(tmp_path: Path, models: Path) -> None:
    good = mf.Manifest.load(models).head_path("kitchenware").read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelError, match="not an xception-maya head file"):
        Head.load(path)


# --- names users give --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../../pwned_head", "/tmp/abs", "sub/dir", "none", "None", "default", "auto", "CON", "nul.x",
     "", ".hidden", "x" * 65, "a b", "wood.npz", "dot.", "é"],
)  # fmt: skip
def test_names_that_are_refused(name: str) -> None:
    assert not is_valid_name(name)
    with pytest.raises(XceptionMayaError, match="is not allowed"):
        validate_name(name)


@pytest.mark.parametrize("name", ["wood", "Wood_2", "metal-rough", "v1.2", "a" * 64])
def test_names_that_are_accepted(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["../../pwned_head", "/tmp/abs_head", "none", "sub/dir"])
def test_convert_refuses_a_bad_name_before_writing(
    tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = tmp_path / "w.h5"
    weights.write_bytes(b"never read")
    out = tmp_path / "deep" / "er" / "models"
    code, _, err = run(["convert", str(weights), "-o", str(out), "--name", name], capsys)
    assert code == 2 and "is not allowed" in one_line(err)
    assert not out.exists() and not (tmp_path / "pwned_head.npz").exists()


# --- writing: atomic files and one transaction per change -------------------------------------


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "head.npz"
    target.write_bytes(b"old")

    def half_then_fail(f: Any) -> None:
        f.write(b"half of the new")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        fsio.write_atomic_with(target, half_then_fail)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head.npz"]


def test_writing_onto_a_folder_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(XceptionMayaError, match="it is a folder"):
        fsio.write_atomic(tmp_path, b"x")


def _learned_head(models: Path, name: str = "wood") -> Head:
    head = Head.load(mf.Manifest.load(models).head_path("kitchenware"))
    head.name = name
    head.extra = {"source": {"kind": "learned"}}
    return head


def test_installing_a_head_is_one_transaction(
    models: Path, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (models / mf.MANIFEST).read_bytes()

    def killed() -> Path:
        raise KeyboardInterrupt  # as a kill would: after the file, before the manifest

    monkeypatch.setattr(mf.Manifest, "save", lambda self: killed())
    with pytest.raises(KeyboardInterrupt):
        install_head(models, _learned_head(models))
    monkeypatch.undo()
    assert (models / mf.MANIFEST).read_bytes() == before, "the old set, untouched"
    assert list(mf.Manifest.load(models).heads) == ["kitchenware"]
    leftover = [p.name for p in (models / "heads").iterdir() if p.name.startswith("wood-")]
    assert len(leftover) == 1, "the new file was written but is not part of the set"

    # The next change commits its own set and removes what the killed one left.
    (models / "heads" / ".x.npz.1.ab.partial").write_bytes(b"temp of a killed write")
    (models / "xception_backbone.onnx.tmp").write_bytes(b"left by version 0.1")
    path = install_head(models, _learned_head(models, "metal"))
    names = sorted(p.name for p in (models / "heads").iterdir())
    assert names == sorted([mf.Manifest.load(models).head_path("kitchenware").name, path.name])
    assert not (models / "xception_backbone.onnx.tmp").exists()
    assert mf.Manifest.load(models).verify() == []


def test_the_manifest_is_never_half_written(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = mf.Manifest.load(models)
    real_replace = os.replace

    def fail_replace(src: Any, dst: Any) -> None:
        raise OSError("killed before the rename")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError):
        manifest.save()
    monkeypatch.setattr(os, "replace", real_replace)
    assert mf.Manifest.load(models).record() == manifest.record()
    assert not list(models.glob(f".*{fsio.TEMP_SUFFIX}"))


def test_a_killed_install_leaves_a_working_folder(
    models: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGKILL a real `learn --install`-style head install at several points."""
    script = (
        "import sys; from pathlib import Path; from xception_maya import manifest as mf;"
        "from xception_maya.convert import install_head; from xception_maya.heads import Head;"
        "m = Path(sys.argv[1]); h = Head.load(mf.Manifest.load(m).head_path('kitchenware'));"
        "h.extra = {'source': {'kind': 'learned'}}; print('ready', flush=True);"
        "[install_head(m, Head(f'h{i}', h.labels, h.input_size, h.resize, h.kernels, h.biases,"
        " h.activations, dict(h.extra))) for i in range(1000)]"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.0, 0.02, 0.05, 0.1, 0.2):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(models)], env=env, stdout=subprocess.PIPE
        )
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(delay)
        child.kill()
        child.wait()
        manifest = mf.Manifest.load(models)
        assert manifest.verify() == [], f"killed {delay} s into installing"
    code, out, _ = run(["classify", "--models", str(models), str(samples[16])], capsys)
    assert code == 0 and "fork" in out


def test_the_kill_sweep_benchmark_measures_a_real_install(models: Path) -> None:
    """benchmarks/bench_models.py's own code: one kill of a real `learn --install`."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "bench_models", ROOT / "benchmarks" / "bench_models.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = bench.sha_cost(models)
    assert rows[0][0].startswith("backbone") and rows[0][1] > rows[0][2] > 0
    examples = models.parent / "examples"
    for tag, file in (("cup", "0000.jpg"), ("plate", "0002.jpg")):
        (examples / tag).mkdir(parents=True)
        shutil.copy2(mf.default_models_dir() / "samples" / file, examples / tag / file)

    def command(m: Path) -> list[str]:
        return [*bench.CLI, "learn", str(examples), "-o", str(m.parent / "d.npz"),
                "--models", str(m), "--install", "--base-head", "kitchenware"]  # fmt: skip

    photo = mf.default_models_dir() / "samples" / "0412.jpg"
    name, kills, broken, dirty, seconds = bench.sweep("learn", command, models, photo, 1)
    assert (name, kills, broken, dirty) == ("learn", 1, 0, 0) and seconds > 0
