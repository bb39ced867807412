"""load_for_network (8-bit files kept in uint8 until the final scale) is bit for bit
``preprocess(load_image(...))``: on the sample photos and on generated files of every kind,
for every resize filter, with the same errors and the same memory budget."""

from __future__ import annotations

import importlib.util
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from xception_maya import budget, cpu, images, limits
from xception_maya.classifier import Classifier
from xception_maya.errors import ImageError
from xception_maya.preprocessing import RESIZE_FILTERS, Preprocessing

ROOT = Path(__file__).resolve().parent.parent
SIZES = (150, 299)


def old_way(path: Path, color_space: str | None, size: int, resize: str) -> np.ndarray:
    return images.preprocess(images.load_image(path, color_space, min_side=size), size, resize)


def assert_same(path: Path, color_space: str | None = None, sizes: tuple[int, ...] = SIZES) -> None:
    for size in sizes:
        for resize in RESIZE_FILTERS:
            new = images.load_for_network(path, color_space, Preprocessing(size, resize))
            old = old_way(path, color_space, size, resize)
            assert new.dtype == np.float32 and new.shape == (3, size, size)
            assert new.flags.c_contiguous
            assert np.array_equal(new, old), (path.name, color_space, size, resize)


def test_sample_photos_are_bit_identical_for_every_filter(samples: list[Path]) -> None:
    for photo in samples:
        assert_same(photo)


# --- generated files of every kind -------------------------------------------------------------


def noise(height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


def png16_rgb(path: Path, pixels: np.ndarray) -> Path:
    """A 16-bit RGB PNG (Pillow cannot write one): signature, IHDR, one IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    height, width = pixels.shape[:2]
    rows = b"".join(b"\x00" + pixels[y].astype(">u2").tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def _rgb_jpeg(path: Path) -> None:
    Image.fromarray(noise(240, 320, 3)).save(path, quality=90)


def _rgb_png(path: Path) -> None:
    Image.fromarray(noise(201, 333, 3, 1)).save(path)


def _grey_png(path: Path) -> None:
    Image.fromarray(noise(180, 250, 1, 2)[..., 0]).save(path)


def _bilevel_png(path: Path) -> None:
    Image.fromarray(noise(90, 70, 1, 3)[..., 0] > 127).save(path)


def _grey16_png(path: Path) -> None:
    values = np.random.default_rng(4).integers(0, 65536, (120, 160), dtype=np.uint16)
    Image.fromarray(values).save(path)  # mode I;16


def _rgb16_png(path: Path) -> None:
    values = np.random.default_rng(5).integers(0, 65536, (60, 80, 3), dtype=np.uint16)
    png16_rgb(path, values)


def _int32_tiff(path: Path) -> None:
    values = np.random.default_rng(6).integers(0, 2**31 - 1, (40, 50), dtype=np.int32)
    Image.fromarray(values, "I").save(path)


def _float_tiff(path: Path) -> None:
    values = np.random.default_rng(7).uniform(-0.2, 1.5, (64, 48)).astype(np.float32)
    values[3, 4] = np.nan
    Image.fromarray(values, "F").save(path)


def _palette_png(path: Path) -> None:
    Image.fromarray(noise(100, 120, 3, 8)).quantize(64).save(path)


def _palette_transparent_png(path: Path) -> None:  # index 0 is transparent and used
    palette = Image.fromarray(noise(100, 120, 3, 9)).quantize(16)
    palette.save(path, transparency=0)


def _palette_unused_transparency_png(path: Path) -> None:  # opaque in fact: the uint8 path
    indices = (noise(80, 90, 1, 10)[..., 0] % 15 + 1).astype(np.uint8)
    palette = Image.fromarray(indices, "P")
    palette.putpalette(list(range(256)) * 3)
    palette.save(path, transparency=0)


def _rgba_partial_png(path: Path) -> None:
    Image.fromarray(noise(90, 110, 4, 11), "RGBA").save(path)


def _rgba_opaque_png(path: Path) -> None:
    pixels = noise(90, 110, 4, 12)
    pixels[..., 3] = 255
    Image.fromarray(pixels, "RGBA").save(path)


def _grey_alpha_png(path: Path) -> None:
    Image.fromarray(noise(70, 60, 2, 13), "LA").save(path)


def _colour_key_png(path: Path) -> None:
    pixels = noise(50, 60, 3, 14) // 64 * 64  # few colours, so the key colour occurs
    Image.fromarray(pixels).save(path, transparency=(64, 128, 0))


def _cmyk_jpeg(path: Path) -> None:
    Image.fromarray(noise(80, 100, 4, 15), "CMYK").save(path, quality=92)


def _oriented_jpeg(path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(noise(120, 200, 3, 16)).save(path, exif=exif, quality=90)


def _webp_alpha(path: Path) -> None:
    Image.fromarray(noise(64, 64, 4, 17), "RGBA").save(path, lossless=True)


MAKERS: dict[str, tuple[str, Callable[[Path], None]]] = {
    "rgb_jpeg": (".jpg", _rgb_jpeg),
    "rgb_png": (".png", _rgb_png),
    "grey": (".png", _grey_png),
    "bilevel": (".png", _bilevel_png),
    "grey16": (".png", _grey16_png),
    "rgb16": (".png", _rgb16_png),
    "int32": (".tif", _int32_tiff),
    "float": (".tif", _float_tiff),
    "palette": (".png", _palette_png),
    "palette_alpha": (".png", _palette_transparent_png),
    "palette_unused_alpha": (".png", _palette_unused_transparency_png),
    "rgba": (".png", _rgba_partial_png),
    "rgba_opaque": (".png", _rgba_opaque_png),
    "grey_alpha": (".png", _grey_alpha_png),
    "colour_key": (".png", _colour_key_png),
    "cmyk": (".jpg", _cmyk_jpeg),
    "oriented": (".jpg", _oriented_jpeg),
    "webp_alpha": (".webp", _webp_alpha),
}
# Which files the uint8 path takes (the others must take the float path).
EIGHT_BIT = {
    "rgb_jpeg",
    "rgb_png",
    "grey",
    "bilevel",
    "rgb16",  # Pillow itself reduces 16-bit RGB to 8 bits, as Keras sees it
    "palette",
    "palette_unused_alpha",
    "rgba_opaque",
    "cmyk",
    "oriented",
}


def make(tmp_path: Path, kind: str) -> Path:
    suffix, maker = MAKERS[kind]
    path = tmp_path / f"{kind}{suffix}"
    maker(path)
    return path


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_generated_files_are_bit_identical(tmp_path: Path, kind: str) -> None:
    assert_same(make(tmp_path, kind))


@pytest.mark.parametrize("color_space", ["sRGB", "Raw", "linear", "ACEScg", "ACES2065-1"])
@pytest.mark.parametrize("kind", ["rgb_png", "grey", "rgba", "float"])
def test_colour_spaces_are_bit_identical(tmp_path: Path, kind: str, color_space: str) -> None:
    assert_same(make(tmp_path, kind), color_space, sizes=(150,))


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_only_files_read_as_stored_in_8_bits_skip_the_float_image(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make(tmp_path, kind)
    floats: list[str] = []
    real = images._pillow_pixels

    def spy(name: str, image: Image.Image, integer_max: int) -> Any:
        floats.append(image.mode)
        return real(name, image, integer_max)

    monkeypatch.setattr(images, "_pillow_pixels", spy)
    images.load_for_network(path, None, Preprocessing(150, "bilinear"))
    assert (not floats) == (kind in EIGHT_BIT), floats
    floats.clear()
    images.load_for_network(path, "linear", Preprocessing(150, "bilinear"))
    assert floats, "a colour conversion keeps the float path"


def _large(path: Path, kind: str) -> None:
    pixels = noise(1000, 1200, 3, 20)
    if kind == "grey16":
        Image.fromarray(pixels[..., 0].astype(np.uint16) * 257).save(path)
    elif kind.startswith("palette"):
        palette = Image.fromarray(pixels).quantize(32)
        if kind == "palette_alpha":
            palette.save(path, transparency=0)
        else:
            palette.save(path)
    else:
        Image.fromarray(pixels).save(path, quality=90)


@pytest.mark.parametrize(
    ("kind", "suffix"),
    [("rgb_jpeg", ".jpg"), ("rgb_png", ".png"), ("palette", ".png"),
     ("palette_alpha", ".png"), ("grey16", ".png")],
)  # fmt: skip
def test_large_images_decoded_reduced_are_bit_identical(
    tmp_path: Path, kind: str, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over REDUCE_ABOVE the file is decoded reduced (JPEG draft, box reduce, strips)."""
    monkeypatch.setattr(images, "REDUCE_ABOVE", 1000)
    path = tmp_path / f"large_{kind}{suffix}"
    _large(path, kind)
    for size in (71, 120):
        assert images.load_image(path, min_side=size).shape[0] <= 500  # reduced 2x or more
        for resize in RESIZE_FILTERS:
            new = images.load_for_network(path, None, Preprocessing(size, resize))
            assert np.array_equal(new, old_way(path, None, size, resize)), (size, resize)


# --- errors and the memory budget ----------------------------------------------------------------


def _bad_file(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"bad_{kind}.png"
    if kind == "missing":
        return path
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "not_an_image":
        path.write_text("hello")
    elif kind == "truncated":
        Image.fromarray(noise(200, 200, 3)).save(path)
        path.write_bytes(path.read_bytes()[:2000])
    return path


@pytest.mark.parametrize("kind", ["missing", "directory", "empty", "not_an_image", "truncated"])
def test_bad_files_give_the_same_error(tmp_path: Path, kind: str) -> None:
    path = _bad_file(tmp_path, kind)
    with pytest.raises(ImageError) as old:
        old_way(path, None, 150, "nearest")
    with pytest.raises(ImageError) as new:
        images.load_for_network(path, None, Preprocessing(150, "nearest"))
    assert str(new.value) == str(old.value)
    assert str(path) in str(new.value)


def test_unknown_colour_space_fails_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=re.escape("unknown colour space 'Rec.2020'")):
        images.load_for_network(tmp_path / "missing.png", "Rec.2020", Preprocessing(150, "nearest"))


def test_over_the_decode_limit_gives_the_same_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make(tmp_path, "rgb_jpeg")
    monkeypatch.setattr(limits, "MAX_DECODED_BYTES", 1000)
    with pytest.raises(ImageError) as old:
        old_way(path, None, 150, "nearest")
    with pytest.raises(ImageError, match="MAX_DECODED_BYTES") as new:
        images.load_for_network(path, None, Preprocessing(150, "nearest"))
    assert str(new.value) == str(old.value)


def test_a_size_over_the_limit_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make(tmp_path, "rgb_png")
    preprocessing = Preprocessing(299, "bilinear")
    monkeypatch.setattr(limits, "MAX_INPUT_SIZE", 200)  # tightened after the value was made
    with pytest.raises(
        ImageError, match=re.escape(f"cannot read image '{path}': input size 299 is over")
    ):
        images.load_for_network(path, None, preprocessing)


@pytest.mark.parametrize("kind", ["rgb_png", "rgba"])
def test_running_out_of_memory_while_resizing_is_that_image_s_error(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make(tmp_path, kind)
    width, height = Image.open(path).size

    def no_memory(*args: object) -> Any:
        raise MemoryError

    monkeypatch.setattr(images, "_resized_eight_bit", no_memory)
    monkeypatch.setattr(images, "_preprocessed", no_memory)
    expected = f"cannot read image '{path}': not enough memory to preprocess a {width} x {height}"
    with pytest.raises(ImageError, match=re.escape(expected)):
        images.load_for_network(path, None, Preprocessing(150, "nearest"))


def test_large_decodes_resize_inside_their_slot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decoded image is alive until it is resized: the slot is held until then."""
    path = make(tmp_path, "rgb_png")
    monkeypatch.setattr(limits, "LARGE_DECODE_BYTES", 0)
    monkeypatch.setattr(limits, "LARGE_DECODES_AT_ONCE", 1)
    monkeypatch.setattr(budget, "_slots", None)
    held: list[bool] = []
    real = images._resized_eight_bit

    def spy(*args: Any) -> np.ndarray:
        slots = budget._slots
        assert slots is not None
        held.append(not slots.acquire(blocking=False))  # the one slot is taken
        return real(*args)

    monkeypatch.setattr(images, "_resized_eight_bit", spy)
    images.load_for_network(path, None, Preprocessing(150, "nearest"))
    assert held == [True]
    monkeypatch.setattr(budget, "_slots", None)


def test_the_classifier_prepares_files_through_the_uint8_path(
    models_dir: Path, samples: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    classifier = Classifier(models_dir=models_dir, size=150, resize="nearest")
    calls: list[Path] = []
    real = images.load_for_network

    def spy(path: Any, color_space: str | None, preprocessing: Preprocessing) -> np.ndarray:
        calls.append(path)
        return real(path, color_space, preprocessing)

    monkeypatch.setattr(images, "load_for_network", spy)
    prepared = classifier._prepare(samples[0], None)
    assert calls == [samples[0]]
    assert np.array_equal(prepared, old_way(samples[0], None, 150, "nearest"))


def test_the_benchmark_code_path_measures_both_and_agrees(samples: list[Path]) -> None:
    spec = importlib.util.spec_from_file_location(
        "bench_preprocess", ROOT / "benchmarks" / "bench_preprocess.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    line = bench.cpu_line()
    assert line == cpu.benchmark_line() and line.startswith(f"CPU: {cpu.detect().model}, ")
    for size, resize in bench.SHAPES:
        result = bench.measure(samples[:2], size, resize, repeats=1)
        assert result["identical"] == 1.0
        assert result["old_ms"] > 0 and result["new_ms"] > 0
