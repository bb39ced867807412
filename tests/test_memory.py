"""Nothing takes the host down: hostile files cost a bounded amount of memory, requested sizes
are limited, and running out of memory costs one image, never the run.

The big cases run in a child Python each (benchmarks/bench_memory.py's code path), under an
address-space cap so that a regression fails here with MemoryError instead of swapping the
machine, and assert the child's peak resident memory. The budget, 1.5 GiB, is about four
times what the cases take now (a sample photo alone costs ~0.3 GiB with the model loaded)
and a tenth of what they took before (4-13 GiB): generous enough not to be flaky, far below
what would hurt an artist's session.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image

from xception_maya import budget, classifier, images, limits
from xception_maya.cache import FeatureCache
from xception_maya.classifier import Classifier
from xception_maya.cli import main
from xception_maya.errors import ImageError, ModelError
from xception_maya.preprocessing import Preprocessing

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MIB = 1536
CAP_MIB = 3072  # the child's address space: fails fast on a regression


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bench_memory", ROOT / "benchmarks" / "bench_memory.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="module")
def hostile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The generated files, kept in pytest's cache folder: the EXR takes ~20 s to write."""
    pytest.importorskip("OpenImageIO")
    files: dict[str, Path] = bench.hostile_files(request.config.cache.mkdir("hostile_files"))
    files["out"] = tmp_path_factory.mktemp("out")
    return files


def test_hostile_files_are_small_on_disk(hostile: dict[str, Path]) -> None:
    assert hostile["grey16"].stat().st_size < 2 * 1024**2
    assert hostile["exr256"].stat().st_size < 16 * 1024**2
    header = hostile["grey16"].read_bytes()[16:26]  # IHDR: width, height, depth, colour
    assert struct.unpack(">IIBB", header) == (16384, 8192, 16, 0)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("exr256", "2048x2048 mean 0.46"),  # 0.18 linear is 0.461 in sRGB
        ("grey16", "exit 0; "),
        ("tag3", "exit 0; "),
        ("thumb13000", "placeholder"),  # over MAX_PIXELS: refused from the header
        ("thumb16", "thumbnail drawn"),
    ],
)
def test_peak_memory_of_hostile_cases(
    case: str, expected: str, hostile: dict[str, Path], samples: list[Path]
) -> None:
    row = bench.run_case(case, hostile, samples[0], CAP_MIB)
    assert row["result"].startswith(expected), row
    assert int(row["peak_mib"]) < BUDGET_MIB, row


def test_the_benchmark_prints_its_table(hostile: dict[str, Path]) -> None:
    lines: list[str] = []
    argv = ["size4000", "--cap-mib", str(CAP_MIB), "--work", str(hostile["grey16"].parent)]
    assert bench.main(argv, out=lines.append) == 0
    assert lines[0].startswith("CPU: ")
    (row,) = [line for line in lines if line.startswith("size4000")]
    peak = int(row.split("|")[2])
    assert 0 < peak < 200  # refused before the network is loaded
    assert "exit 2" in row and "--size 4000 is over the limit of 1024" in row


# --- what the header says is refused before decoding ------------------------------------------


def test_the_decoded_size_counts_channels_and_sample_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "deep.png"
    Image.new("I;16", (100, 100)).save(path)
    monkeypatch.setattr(limits, "MAX_DECODED_BYTES", 100 * 100 * 2 - 1)  # one byte short
    with pytest.raises(ImageError, match=r"MAX_DECODED_BYTES") as caught:
        images.load_image(path)
    assert str(path) in str(caught.value) and "I;16: 2 bytes a pixel" in str(caught.value)
    monkeypatch.setattr(limits, "MAX_DECODED_BYTES", 100 * 100 * 2)
    assert images.load_image(path).shape == (100, 100, 3)


def test_openimageio_counts_only_the_channels_it_reads(
    hostile: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2048^2 x 4 channels x 4 bytes = 64 MiB read, of 256 channels stored
    monkeypatch.setattr(limits, "MAX_DECODED_BYTES", 64 * 1024**2 - 1)
    with pytest.raises(ImageError, match="4 of its 256 channels read"):
        images.load_image(hostile["exr256"])


def test_requested_sizes_over_the_limit_are_refused_before_anything_is_built(
    models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for size in (limits.MAX_INPUT_SIZE + 1, 20000):
        with pytest.raises(ImageError, match="MAX_INPUT_SIZE"):
            images.preprocess(np.zeros((8, 8, 3), np.float32), size, "bilinear")
        with pytest.raises(ImageError, match="MAX_INPUT_SIZE"):
            budget.check_input_size(size)

    def no_engine(*args: object, **kwargs: object) -> None:
        raise AssertionError("the engine must not be built for a refused size")

    monkeypatch.setattr(classifier, "get_engine", no_engine)
    with pytest.raises(ModelError, match="20000 is over the limit"):
        Classifier(models_dir=models_dir, size=20000)


def test_cli_size_and_head_size_over_the_limit_are_one_line(
    models_dir: Path, samples: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["classify", "--size", "20000", str(samples[0])]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "20000" in err

    # A hostile file: Head() itself refuses to be built with such a size.
    meta = {"format": "xception-maya-head", "version": 1, "name": "huge", "labels": ["a", "b"],
            "input_size": 100000, "resize": "bilinear", "activations": ["softmax"]}  # fmt: skip
    path = tmp_path / "huge.npz"
    np.savez(
        path,
        meta=np.array(json.dumps(meta)),
        kernel_0=np.zeros((2048, 2), np.float32),
        bias_0=np.zeros(2, np.float32),
    )
    assert main(["classify", "--head", str(path), str(samples[0])]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "100000" in err


def test_large_decodes_take_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    monkeypatch.setattr(limits, "LARGE_DECODE_BYTES", 10)
    inside, most = 0, 0
    lock = threading.Lock()

    def decode(nbytes: int) -> None:
        nonlocal inside, most
        with budget.decode_slot(nbytes):
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)
            with lock:
                inside -= 1

    threads = [threading.Thread(target=decode, args=(11,)) for _ in range(4)]
    threads += [threading.Thread(target=decode, args=(10,)) for _ in range(4)]  # small: free
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 1 <= most <= limits.LARGE_DECODES_AT_ONCE + 4
    # Only the large ones, alone:
    most = 0
    large = [threading.Thread(target=decode, args=(11,)) for _ in range(4)]
    for t in large:
        t.start()
    for t in large:
        t.join()
    assert most == limits.LARGE_DECODES_AT_ONCE


def test_modes_reduce_cannot_handle_are_reduced_strip_by_strip(tmp_path: Path) -> None:
    # A palette image with transparency, bigger than REDUCE_ABOVE: reduced as RGBA, so
    # colours are averaged (not palette indices) and the transparency is kept.
    side = 4096 + 64
    palette = Image.new("P", (side, side), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.paste(1, (0, 0, side // 2, side))  # left half blue
    path = tmp_path / "palette.png"
    palette.save(path, transparency=0)  # the red half is transparent
    pixels = images.load_image(path, min_side=299)
    assert min(pixels.shape[:2]) >= images.REDUCE_MARGIN * 299
    assert pixels.shape[0] < side  # it was reduced
    np.testing.assert_allclose(pixels[10, 10], [0.0, 0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(pixels[10, -10], images.BACKGROUND, atol=1e-6)

    grey = tmp_path / "grey16.png"
    ramp = np.tile(np.linspace(0, 65535, side).astype(np.uint16), (side, 1))
    Image.fromarray(ramp).save(grey)
    reduced = images.load_image(grey, min_side=299)
    assert reduced.shape[0] < side
    np.testing.assert_allclose(reduced[0, 0], [0.0] * 3, atol=1e-3)
    np.testing.assert_allclose(reduced[0, -1], [1.0] * 3, atol=1e-3)


# --- running out of memory costs one image -----------------------------------------------------


def test_memory_error_in_one_image_keeps_the_others(
    tmp_path: Path,
    samples: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    victim = tmp_path / "victim.png"
    Image.new("RGB", (123, 77), (90, 60, 30)).save(victim)
    real = images.load_for_network

    def load_for_network(
        path: Path, color_space: str | None, preprocessing: Preprocessing
    ) -> np.ndarray:
        if Path(path).name == victim.name:  # the classifier's way from file to network input
            raise MemoryError
        return real(path, color_space, preprocessing)

    monkeypatch.setattr(images, "load_for_network", load_for_network)
    monkeypatch.setattr(classifier, "shared_cache", FeatureCache())
    paths = [str(samples[0]), str(victim), str(samples[1]), str(samples[2])]

    assert main(["classify", "--json", *paths]) == 1
    records = json.loads(capsys.readouterr().out)
    assert [r["image"] for r in records] == paths
    assert "not enough memory" in records[1]["error"] and str(victim) in records[1]["error"]
    assert all(r["error"] is None and r["labels"] for i, r in enumerate(records) if i != 1)

    folder = tmp_path / "folder"
    folder.mkdir()
    for path in paths:
        shutil.copy(path, folder / Path(path).name)
    assert main(["tag", str(folder)]) == 1
    out, err = capsys.readouterr()
    rows = out.splitlines()[1:]
    assert len(rows) == 4 and sum("not enough memory" in row for row in rows) == 1
    assert "1 of 4 images could not be read:" in err and "Traceback" not in err
