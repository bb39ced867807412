"""Image loading and preprocessing on real files written here with Pillow (and numpy)."""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from xception_maya import images, limits
from xception_maya.errors import ImageError
from xception_maya.images import (
    BACKGROUND,
    COLOR_SPACES,
    RESIZE_FILTERS,
    content_key,
    load_image,
    pixels_key,
    pixels_to_image,
    preprocess,
    preprocess_batch,
    srgb_encode,
)


def srgb(linear: float) -> float:
    """The sRGB transfer function, written out independently of the module."""
    return 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055


def save(image: Image.Image, path: Path, **options: object) -> Path:
    image.save(path, **options)
    return path


def mode_of(path: Path) -> str:
    with Image.open(path) as image:
        return image.mode


def write_tiff(path: Path, pixels: np.ndarray, sample_format: int) -> Path:
    """A minimal uncompressed little-endian RGB TIFF (Pillow cannot write float RGB).

    ``sample_format`` is TIFF's: 1 unsigned integer, 3 IEEE float.
    """
    height, width, channels = pixels.shape
    assert channels >= 3  # per-channel SHORT lists then need their own place after the IFD
    data = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    bits = pixels.dtype.itemsize * 8
    count = 10
    after_ifd = 8 + 2 + count * 12 + 4  # header, tag count, tags, next-IFD offset
    bits_at, format_at, data_at = after_ifd, after_ifd + 2 * channels, after_ifd + 4 * channels

    def tag(code: int, kind: int, n: int, value: int) -> bytes:
        # kind 3 is SHORT, 4 LONG; a single SHORT is stored left-justified in the value field.
        inline = struct.pack("<HH", value, 0) if kind == 3 and n == 1 else struct.pack("<I", value)
        return struct.pack("<HHI", code, kind, n) + inline

    tags = [
        tag(256, 4, 1, width),
        tag(257, 4, 1, height),
        tag(258, 3, channels, bits_at),  # bits per sample, one per channel
        tag(259, 3, 1, 1),  # no compression
        tag(262, 3, 1, 2),  # RGB
        tag(273, 4, 1, data_at),
        tag(277, 3, 1, channels),
        tag(278, 4, 1, height),
        tag(279, 4, 1, len(data)),
        tag(339, 3, channels, format_at),  # sample format, one per channel
    ]
    ifd = struct.pack("<H", count) + b"".join(tags) + struct.pack("<I", 0)
    lists = struct.pack(f"<{channels}H", *[bits] * channels)
    lists += struct.pack(f"<{channels}H", *[sample_format] * channels)
    path.write_bytes(b"II*\x00" + struct.pack("<I", 8) + ifd + lists + data)
    return path


# --- decoding: every mode to the expected values ----------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "options"),
    [
        (".png", {}),
        (".bmp", {}),
        (".tga", {}),
        (".tif", {}),
        (".webp", {"lossless": True}),
    ],
)
def test_8bit_rgb_round_trips_exactly(tmp_path: Path, suffix: str, options: dict[str, object]):
    pixels = np.random.default_rng(1).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    path = save(Image.fromarray(pixels), tmp_path / f"rgb{suffix}", **options)
    image = load_image(path)
    assert image.shape == (5, 7, 3)
    assert image.dtype == np.float32
    assert image.flags.c_contiguous
    np.testing.assert_allclose(image, pixels / 255.0, atol=1e-7)


def test_16bit_grayscale_png_uses_the_full_16_bit_range(tmp_path: Path):
    samples = np.array([[0, 32768, 65535, 257]], dtype=np.uint16)
    path = save(Image.fromarray(samples), tmp_path / "grey16.png")
    assert mode_of(path) == "I;16"
    image = load_image(path)
    assert image.shape == (1, 4, 3)
    np.testing.assert_allclose(image[0, :, 0], [0.0, 32768 / 65535, 1.0, 1 / 255], atol=1e-7)
    np.testing.assert_array_equal(image[..., 0], image[..., 1])
    np.testing.assert_array_equal(image[..., 0], image[..., 2])


def test_16bit_tiff_little_and_big_endian(tmp_path: Path):
    little = save(Image.fromarray(np.array([[65535, 32768]], dtype=np.uint16)), tmp_path / "le.tif")
    big = save(Image.frombytes("I;16B", (2, 1), b"\x01\x00\xff\xff"), tmp_path / "be.tif")
    np.testing.assert_allclose(load_image(little)[0, :, 1], [1.0, 32768 / 65535], atol=1e-7)
    np.testing.assert_allclose(load_image(big)[0, :, 1], [256 / 65535, 1.0], atol=1e-7)


def test_32bit_integer_tiff_is_scaled_by_its_bit_depth(tmp_path: Path):
    samples = np.array([[0, 2**31 - 1, 2**30, -5]], dtype=np.int32)
    path = save(Image.fromarray(samples), tmp_path / "int32.tif")
    assert mode_of(path) == "I"
    image = load_image(path)
    np.testing.assert_allclose(image[0, :, 0], [0.0, 1.0, 0.5, 0.0], atol=1e-6)


def test_12bit_pgm_is_read_at_full_range(tmp_path: Path):
    # Pillow rescales a maxval-4095 PGM to 16 bits in mode "I": 4095 must still be white.
    path = tmp_path / "depth12.pgm"
    path.write_bytes(b"P5\n2 1\n4095\n" + np.array([4095, 0], dtype=">u2").tobytes())
    np.testing.assert_allclose(load_image(path)[0, :, 2], [1.0, 0.0], atol=1e-6)


def test_grayscale_and_bilevel(tmp_path: Path):
    grey = save(Image.new("L", (3, 2), 51), tmp_path / "grey.png")
    np.testing.assert_allclose(load_image(grey), np.full((2, 3, 3), 0.2), atol=1e-7)
    bilevel = Image.new("1", (2, 1), 0)
    bilevel.putpixel((1, 0), 1)
    image = load_image(save(bilevel, tmp_path / "bilevel.png"))
    np.testing.assert_array_equal(image[0, :, 0], [0.0, 1.0])


def test_grey_with_alpha_is_composited_over_the_background(tmp_path: Path):
    la = Image.new("LA", (2, 1))
    la.putpixel((0, 0), (255, 0))  # white, fully transparent
    la.putpixel((1, 0), (51, 255))  # 0.2 grey, opaque
    image = load_image(save(la, tmp_path / "grey_alpha.png"))
    np.testing.assert_allclose(image[0, 0], BACKGROUND, atol=1e-7)
    np.testing.assert_allclose(image[0, 1], [0.2, 0.2, 0.2], atol=1e-7)


def test_transparent_pixels_become_zero_network_input(tmp_path: Path):
    assert BACKGROUND == (0.5, 0.5, 0.5)
    rgba = Image.new("RGBA", (100, 100), (255, 255, 255, 0))
    image = load_image(save(rgba, tmp_path / "clear.png"))
    np.testing.assert_array_equal(preprocess(image, 71, "bilinear"), 0.0)


def test_rgba_partial_alpha_composites_in_display_space(tmp_path: Path):
    rgba = Image.new("RGBA", (1, 1), (255, 0, 102, 128))
    image = load_image(save(rgba, tmp_path / "half.png"))
    a = 128 / 255
    expected = [1.0 * a + 0.5 * (1 - a), 0.0 * a + 0.5 * (1 - a), 0.4 * a + 0.5 * (1 - a)]
    np.testing.assert_allclose(image[0, 0], expected, atol=1e-6)


def test_opaque_rgba_keeps_exact_8bit_values(tmp_path: Path):
    pixels = np.random.default_rng(2).integers(0, 256, (4, 4, 4), dtype=np.uint8)
    pixels[..., 3] = 255
    image = load_image(save(Image.fromarray(pixels), tmp_path / "opaque.png"))
    np.testing.assert_array_equal(image, (pixels[..., :3] / np.float32(255)).astype(np.float32))


def test_palette_without_transparency(tmp_path: Path):
    palette = Image.new("P", (2, 1))
    palette.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    palette.putpixel((1, 0), 1)
    image = load_image(save(palette, tmp_path / "palette.png"))
    np.testing.assert_allclose(image[0] * 255, [[10, 20, 30], [200, 100, 50]], atol=1e-4)


@pytest.mark.parametrize("suffix", [".png", ".gif"])
def test_palette_with_transparency(tmp_path: Path, suffix: str):
    palette = Image.new("P", (2, 1))
    palette.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
    palette.putpixel((1, 0), 1)
    path = save(palette, tmp_path / f"palette{suffix}", transparency=0)
    image = load_image(path)
    np.testing.assert_allclose(image[0, 0], BACKGROUND, atol=1e-7)  # index 0 is transparent
    np.testing.assert_allclose(image[0, 1] * 255, [200, 100, 50], atol=1e-4)


def test_rgb_colour_key_transparency(tmp_path: Path):
    rgb = Image.new("RGB", (2, 1), (7, 8, 9))
    rgb.putpixel((1, 0), (255, 0, 0))
    image = load_image(save(rgb, tmp_path / "key.png", transparency=(7, 8, 9)))
    np.testing.assert_allclose(image[0, 0], BACKGROUND, atol=1e-7)
    np.testing.assert_allclose(image[0, 1], [1.0, 0.0, 0.0], atol=1e-7)


def test_webp_with_alpha(tmp_path: Path):
    rgba = Image.new("RGBA", (2, 2), (0, 0, 255, 0))
    rgba.putpixel((0, 0), (0, 255, 0, 255))
    image = load_image(save(rgba, tmp_path / "alpha.webp", lossless=True))
    np.testing.assert_allclose(image[0, 0], [0.0, 1.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(image[1, 1], BACKGROUND, atol=1e-7)


def test_cmyk_jpeg_with_adobe_inverted_data(tmp_path: Path):
    cmyk = Image.new("CMYK", (16, 8), (0, 255, 255, 0))  # red
    cmyk.paste((255, 0, 0, 0), (8, 0, 16, 8))  # cyan
    path = save(cmyk, tmp_path / "cmyk.jpg", quality=95)
    # Pillow writes CMYK with an Adobe marker and inverted samples, as Photoshop does.
    assert b"Adobe" in path.read_bytes()[:64]
    image = load_image(path)
    np.testing.assert_allclose(image[4, 2], [1.0, 0.0, 0.0], atol=0.03)
    np.testing.assert_allclose(image[4, 13], [0.0, 1.0, 1.0], atol=0.03)


def test_exif_orientation_6_turns_the_image_upright(tmp_path: Path):
    stored = np.zeros((20, 40, 3), dtype=np.uint8)  # 20 rows, 40 columns as stored
    stored[:8, :8] = (255, 0, 0)  # red mark in the stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = save(Image.fromarray(stored), tmp_path / "camera.jpg", exif=exif, quality=95)
    image = load_image(path)
    assert image.shape == (40, 20, 3)
    # Turned clockwise, the stored top-left corner is the displayed top-right one.
    np.testing.assert_allclose(image[1:6, -6:-1].mean(axis=(0, 1)), [1.0, 0.0, 0.0], atol=0.06)
    assert image[1:6, 1:6, 0].max() < 0.1


def test_float_tiff_is_scene_linear_and_gets_the_srgb_curve(tmp_path: Path):
    linear = np.array([[0.5, 0.18, 2.0, -1.0, np.nan, 0.0]], dtype=np.float32)
    path = save(Image.fromarray(linear), tmp_path / "linear.tif")
    assert mode_of(path) == "F"
    image = load_image(path)
    np.testing.assert_allclose(image[0, :, 0], [0.7354, 0.4613, 1.0, 0.0, 0.0, 0.0], atol=1e-4)
    np.testing.assert_array_equal(image[..., 0], image[..., 2])


def test_float_tiff_with_raw_colour_space_is_used_as_stored(tmp_path: Path):
    path = save(Image.fromarray(np.array([[0.5, 1.5]], dtype=np.float32)), tmp_path / "raw.tif")
    np.testing.assert_allclose(load_image(path, "Raw")[0, :, 0], [0.5, 1.0], atol=1e-7)
    np.testing.assert_allclose(load_image(path, "sRGB")[0, :, 0], [0.5, 1.0], atol=1e-7)


# --- colour spaces ----------------------------------------------------------------------------


def test_srgb_transfer_function_known_values():
    values = srgb_encode(np.array([0.0, 0.0031308, 0.18, 0.5, 1.0], dtype=np.float32))
    np.testing.assert_allclose(values, [0.0, 0.04045, 0.4613, 0.7354, 1.0], atol=1e-4)


@pytest.mark.parametrize(
    "name",
    ["linear", "scene-linear Rec.709-sRGB", "scene-linear Rec 709/sRGB", "Utility - Linear - sRGB"],
)
def test_linear_colour_spaces_apply_the_srgb_curve(tmp_path: Path, name: str):
    path = save(Image.new("L", (1, 1), 46), tmp_path / "linear8.png")
    np.testing.assert_allclose(load_image(path, name)[0, 0], [srgb(46 / 255)] * 3, atol=1e-6)


@pytest.mark.parametrize(
    "name", [None, "", "sRGB", "srgb", "Utility - sRGB - Texture", "sRGB gamma", "Raw"]
)
def test_display_and_data_colour_spaces_keep_integer_pixels(tmp_path: Path, name: str | None):
    path = save(Image.new("RGB", (1, 1), (46, 100, 200)), tmp_path / "display.png")
    np.testing.assert_allclose(load_image(path, name)[0, 0] * 255, [46, 100, 200], atol=1e-4)


def _rgb_to_xyz(primaries: list[tuple[float, float]], white: tuple[float, float]) -> np.ndarray:
    def xyz(x: float, y: float) -> np.ndarray:
        return np.array([x / y, 1.0, (1 - x - y) / y])

    columns = np.stack([xyz(*p) for p in primaries], axis=1)
    return columns * np.linalg.solve(columns, xyz(*white))


def _to_rec709(primaries: list[tuple[float, float]]) -> np.ndarray:
    """Derive AP0/AP1 -> Rec.709 from the published chromaticities, D60 -> D65 by Bradford."""
    d60, d65 = (0.32168, 0.33767), (0.3127, 0.3290)
    bradford = np.array(
        [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
    )

    def white_xyz(x: float, y: float) -> np.ndarray:
        return np.array([x / y, 1.0, (1 - x - y) / y])

    cone = np.diag((bradford @ white_xyz(*d65)) / (bradford @ white_xyz(*d60)))
    adapt = np.linalg.inv(bradford) @ cone @ bradford
    rec709 = _rgb_to_xyz([(0.64, 0.33), (0.30, 0.60), (0.15, 0.06)], d65)
    return np.linalg.inv(rec709) @ adapt @ _rgb_to_xyz(primaries, d60)


def test_aces_matrices_match_the_published_primaries():
    ap1 = [(0.713, 0.293), (0.165, 0.830), (0.128, 0.044)]
    ap0 = [(0.7347, 0.2653), (0.0, 1.0), (0.0001, -0.0770)]
    np.testing.assert_allclose(images.ACESCG_TO_REC709, _to_rec709(ap1), atol=1e-6)
    np.testing.assert_allclose(images.ACES2065_1_TO_REC709, _to_rec709(ap0), atol=1e-6)
    # ACEScg pure red in linear Rec.709, as the OpenColorIO ACES configs publish it.
    red = images.ACESCG_TO_REC709 @ np.array([1.0, 0.0, 0.0], dtype=np.float32)
    np.testing.assert_allclose(red, [1.705051, -0.130256, -0.024003], atol=1e-6)


@pytest.mark.parametrize(
    ("name", "matrix"),
    [
        ("ACEScg", _to_rec709([(0.713, 0.293), (0.165, 0.830), (0.128, 0.044)])),
        ("ACES - ACES2065-1", _to_rec709([(0.7347, 0.2653), (0.0, 1.0), (0.0001, -0.0770)])),
    ],
)
def test_aces_files_convert_primaries_then_encode(tmp_path: Path, name: str, matrix: np.ndarray):
    stored = (128, 100, 90)
    path = save(Image.new("RGB", (1, 1), stored), tmp_path / "aces.png")
    linear = np.clip(matrix @ (np.array(stored) / 255.0), 0.0, 1.0)
    expected = [srgb(v) for v in linear]
    np.testing.assert_allclose(load_image(path, name)[0, 0], expected, atol=1e-5)
    grey = save(Image.new("RGB", (1, 1), (60, 60, 60)), tmp_path / "grey.png")
    np.testing.assert_allclose(load_image(grey, name)[0, 0], [srgb(60 / 255)] * 3, atol=1e-5)


def test_unknown_colour_space_lists_the_known_ones(tmp_path: Path):
    path = save(Image.new("RGB", (1, 1)), tmp_path / "x.png")
    with pytest.raises(ImageError) as caught:
        load_image(path, "Rec.2020 PQ")
    message = str(caught.value)
    assert "Rec.2020 PQ" in message
    assert all(name in message for name in COLOR_SPACES)


# --- unreadable files -------------------------------------------------------------------------


def _encoded(image_format: str, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=image_format)
    return out.getvalue()


_BAD_CONTENT = {
    "empty": b"",
    "truncated-jpeg": _encoded("JPEG", 3)[:2000],
    "truncated-png": _encoded("PNG", 4)[:3000],
    "text": b"hello, not pixels",
}


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "file not found"),
        ("empty", "empty file (0 bytes)"),
        ("truncated-jpeg", "truncated or corrupt image data"),
        ("truncated-png", "truncated or corrupt image data"),
        ("text", "not an image Pillow"),
        ("directory", "is a directory"),
    ],
)
def test_bad_files_raise_image_error_naming_the_file(tmp_path: Path, kind: str, reason: str):
    path = tmp_path / "bad file.jpg"
    if kind == "directory":
        path.mkdir()
    elif kind != "missing":
        path.write_bytes(_BAD_CONTENT[kind])
    with pytest.raises(ImageError) as caught:
        load_image(path)
    assert str(path) in str(caught.value)
    assert reason in str(caught.value)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # never switched on behind the host's back


@pytest.mark.parametrize(
    ("head", "format_name"),
    [
        (b"v/1\x01\x02\x00\x00\x00channels\x00", "OpenEXR"),
        (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n", "Radiance"),
    ],
)
def test_hdr_formats_without_openimageio_say_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, head: bytes, format_name: str
):
    monkeypatch.setattr(images, "_openimageio", lambda: None)
    path = tmp_path / "render.exr"
    path.write_bytes(head + b"\x00" * 64)
    with pytest.raises(ImageError) as caught:
        load_image(path)
    message = str(caught.value)
    assert str(path) in message
    assert format_name in message
    assert "not supported without OpenImageIO" in message


def test_float_rgb_tiff_without_openimageio_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(images, "_openimageio", lambda: None)
    path = write_tiff(tmp_path / "float_rgb.tif", np.full((2, 2, 3), 0.5, np.float32), 3)
    with pytest.raises(ImageError, match=r"TIFF.*not supported without OpenImageIO"):
        load_image(path)


def test_tiff_writer_makes_files_pillow_reads(tmp_path: Path):
    # Guards the helper above: the same layout with 16-bit integers is a TIFF Pillow opens.
    pixels = np.array([[[65535, 0, 65535]]], dtype=np.uint16)
    path = write_tiff(tmp_path / "rgb16.tif", pixels, 1)
    np.testing.assert_allclose(load_image(path)[0, 0], [1.0, 0.0, 1.0], atol=1e-7)


def test_decompression_bomb_is_refused_with_our_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = save(Image.new("RGB", (20, 20)), tmp_path / "bomb.png")
    monkeypatch.setattr(limits, "MAX_PIXELS", 100)
    with pytest.raises(ImageError) as caught:
        load_image(path)
    message = str(caught.value)
    assert str(path) in message
    assert "400 pixels" in message
    assert "limit of 100 pixels" in message


def test_pillow_bomb_error_and_warning_never_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = save(Image.new("RGB", (20, 20), (255, 0, 0)), tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 300)  # Pillow warns (400 > 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        image = load_image(path)
    np.testing.assert_array_equal(image[0, 0], [1.0, 0.0, 0.0])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow refuses (400 > 2 * 100)
    with pytest.raises(ImageError, match="Pillow's pixel limit"):
        load_image(path)


# --- OpenImageIO (optional) -------------------------------------------------------------------


def test_openimageio_reads_exr_and_hdr(tmp_path: Path):
    oiio = pytest.importorskip("OpenImageIO")
    pixels = np.zeros((2, 3, 4), dtype=np.float32)
    pixels[..., :3] = 0.18
    pixels[..., 3] = 1.0
    pixels[1, 2] = (0.25, 0.0, 0.0, 0.5)  # premultiplied: straight red 0.5 at half alpha
    exr = tmp_path / "render.exr"
    output = oiio.ImageOutput.create(str(exr))
    output.open(str(exr), oiio.ImageSpec(3, 2, 4, "half"))
    output.write_image(pixels)
    output.close()
    image = load_image(exr)
    assert image.shape == (2, 3, 3)
    np.testing.assert_allclose(image[0, 0], [0.4613] * 3, atol=2e-3)
    expected = [srgb(0.5) * 0.5 + 0.25, 0.25, 0.25]
    np.testing.assert_allclose(image[1, 2], expected, atol=2e-3)

    hdr = tmp_path / "sky.hdr"
    output = oiio.ImageOutput.create(str(hdr))
    output.open(str(hdr), oiio.ImageSpec(3, 2, 3, "float"))
    output.write_image(np.ascontiguousarray(pixels[..., :3]))
    output.close()
    np.testing.assert_allclose(load_image(hdr)[0, 0], [0.4613] * 3, atol=1e-2)

    tiff = write_tiff(tmp_path / "float_rgb.tif", np.full((2, 2, 3), 0.5, np.float32), 3)
    np.testing.assert_allclose(load_image(tiff)[0, 0], [0.7354] * 3, atol=1e-3)


# --- raw pixels -------------------------------------------------------------------------------


def test_pixels_to_image_is_row_major_top_row_first():
    values = [float(i) / 20 for i in range(2 * 3 * 3)]  # width 3, height 2
    image = pixels_to_image(values, width=3, height=2)
    assert image.shape == (2, 3, 3)
    assert image.dtype == np.float32
    np.testing.assert_allclose(image[0, 0], [0.0, 0.05, 0.1], atol=1e-7)  # first triple
    np.testing.assert_allclose(image[0, 1], [0.15, 0.2, 0.25], atol=1e-7)  # next to the right
    np.testing.assert_allclose(image[1, 0], [0.45, 0.5, 0.55], atol=1e-7)  # second row


def test_pixels_to_image_clips_and_never_mutates_the_input():
    values = np.array([-0.5, 0.5, 1.5, np.nan, np.inf, -np.inf], dtype=np.float32)
    before = values.copy()
    image = pixels_to_image(values, width=2, height=1)
    np.testing.assert_array_equal(image.reshape(-1), [0.0, 0.5, 1.0, 0.0, 1.0, 0.0])
    np.testing.assert_array_equal(values, before)


def test_pixels_to_image_wrong_length_says_expected_and_got():
    with pytest.raises(ImageError, match=r"expected 4 x 2 x 3 = 24 values, got 23"):
        pixels_to_image([0.0] * 23, width=4, height=2)


@pytest.mark.parametrize(("width", "height"), [(0, 2), (2, -1), (2.5, 2), (True, 3)])
def test_pixels_to_image_rejects_bad_sizes(width, height):
    with pytest.raises(ImageError, match="positive whole number"):
        pixels_to_image([0.0] * 6, width=width, height=height)


def test_pixels_to_image_rejects_non_numbers():
    with pytest.raises(ImageError, match="not numbers"):
        pixels_to_image(["red"] * 3, width=1, height=1)


# --- preprocess -------------------------------------------------------------------------------


def _random_8bit(height: int, width: int, seed: int = 5) -> np.ndarray:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return pixels


@pytest.mark.parametrize("resize", RESIZE_FILTERS)
def test_preprocess_matches_keras_exactly_for_8bit_images(resize: str):
    pixels = _random_8bit(97, 130)
    image = (pixels / np.float32(255)).astype(np.float32)
    result = preprocess(image, 80, resize)
    # Keras: load_img resizes the uint8 PIL image, img_to_array, then x / 127.5 - 1 in float32.
    keras = np.asarray(
        Image.fromarray(pixels).resize((80, 80), images._RESAMPLING[resize]), dtype=np.float32
    )
    keras = keras / np.float32(127.5) - np.float32(1.0)
    assert result.shape == (3, 80, 80)
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, keras.transpose(2, 0, 1))


def test_preprocess_maps_the_display_range_to_minus_one_to_one():
    for value, expected in ((0.0, -1.0), (0.5, 0.0), (1.0, 1.0), (0.25, -0.5)):
        result = preprocess(np.full((10, 12, 3), value, dtype=np.float32), 71, "bilinear")
        np.testing.assert_allclose(result, expected, atol=1e-6)


def test_preprocess_float_path_clips_filter_overshoot():
    # A hard edge in non-8-bit values: Lanczos rings past the range, the output must not.
    image = np.full((100, 100, 3), 0.0001, dtype=np.float32)
    image[:, 50:] = 0.9999
    result = preprocess(image, 299, "lanczos")
    assert result.min() >= -1.0
    assert result.max() <= 1.0
    assert result.min() < -0.99
    assert result.max() > 0.99


def test_preprocess_float_path_agrees_with_the_8bit_path():
    pixels = _random_8bit(64, 64, seed=6)
    exact = (pixels / np.float32(255)).astype(np.float32)
    nudged = exact + np.float32(0.2 / 255)  # no longer whole 8-bit steps: float path
    np.clip(nudged, 0.0, 1.0, out=nudged)
    a = preprocess(exact, 80, "bilinear")
    b = preprocess(nudged, 80, "bilinear")
    assert not np.array_equal(a, b)
    np.testing.assert_allclose(a, b, atol=2.0 / 127.5)


def test_preprocess_squashes_without_cropping():
    image = np.zeros((50, 200, 3), dtype=np.float32)
    image[:, :100] = 1.0  # left half white: after squashing, still the left half
    result = preprocess(image, 100, "nearest")
    np.testing.assert_allclose(result[:, :, :50], 1.0)
    np.testing.assert_allclose(result[:, :, 50:], -1.0)


def test_preprocess_nearest_and_bilinear_differ():
    image = (_random_8bit(150, 150, seed=7) / np.float32(255)).astype(np.float32)
    nearest = preprocess(image, 100, "nearest")
    bilinear = preprocess(image, 100, "bilinear")
    assert np.abs(nearest - bilinear).mean() > 0.05


def test_preprocess_rejects_bad_arguments():
    image = np.zeros((8, 8, 3), dtype=np.float32)
    with pytest.raises(ImageError) as caught:
        preprocess(image, 100, "area")
    assert all(name in str(caught.value) for name in RESIZE_FILTERS)
    with pytest.raises(ImageError, match="below Xception's minimum of 71"):
        preprocess(image, 70, "nearest")
    with pytest.raises(ImageError, match=r"shape \(height, width, 3\), got \(8, 8\)"):
        preprocess(image[..., 0], 100, "nearest")
    with pytest.raises(ImageError, match="got dtype uint8"):
        preprocess(np.zeros((8, 8, 3), dtype=np.uint8), 100, "nearest")


def test_preprocess_batch_stacks_preprocess():
    first = (_random_8bit(40, 60, seed=8) / np.float32(255)).astype(np.float32)
    second = np.full((30, 30, 3), 0.3, dtype=np.float32)
    batch = preprocess_batch([first, second], 71, "bicubic")
    assert batch.shape == (2, 3, 71, 71)
    np.testing.assert_array_equal(batch[0], preprocess(first, 71, "bicubic"))
    np.testing.assert_array_equal(batch[1], preprocess(second, 71, "bicubic"))
    assert preprocess_batch([], 71, "nearest").shape == (0, 3, 71, 71)
    with pytest.raises(ImageError):
        preprocess_batch([], 71, "box")


def test_loaded_file_through_preprocess(tmp_path: Path):
    pixels = _random_8bit(90, 120, seed=9)
    path = save(Image.fromarray(pixels), tmp_path / "texture.png")
    result = preprocess(load_image(path), 150, "nearest")
    with Image.open(path) as decoded:
        keras = np.asarray(decoded.resize((150, 150), Image.Resampling.NEAREST), np.float32)
    np.testing.assert_array_equal(result, (keras / np.float32(127.5) - 1).transpose(2, 0, 1))


# --- cache keys -------------------------------------------------------------------------------


def test_content_key_names_path_size_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = save(Image.new("RGB", (4, 4)), tmp_path / "key.png")
    info = os.stat(path)
    key = content_key(path)
    assert key == f"{path.resolve()}|{info.st_size}|{info.st_mtime_ns}"
    monkeypatch.chdir(tmp_path)
    assert content_key("key.png") == key  # relative and absolute spellings agree


def test_content_key_changes_when_the_file_is_rewritten(tmp_path: Path):
    path = save(Image.new("RGB", (4, 4), (1, 2, 3)), tmp_path / "rewrite.png")
    first = content_key(path)
    save(Image.new("RGB", (8, 8), (200, 100, 0)), path)  # different size
    second = content_key(path)
    assert second != first
    # Same size, new content: the modification time tells them apart.
    info = os.stat(path)
    path.write_bytes(bytes(255 - b for b in path.read_bytes()))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert content_key(path) not in (first, second)


def test_content_key_of_missing_file_or_directory(tmp_path: Path):
    with pytest.raises(ImageError, match="file not found") as caught:
        content_key(tmp_path / "gone.png")
    assert "gone.png" in str(caught.value)
    with pytest.raises(ImageError, match="is a directory"):
        content_key(tmp_path)


def test_pixels_key_follows_values_and_shape():
    image = np.random.default_rng(10).random((4, 6, 3)).astype(np.float32)
    key = pixels_key(image)
    assert key == pixels_key(image.copy())
    assert len(key) == 32
    changed = image.copy()
    changed[3, 5, 2] += 0.001
    assert pixels_key(changed) != key
    assert pixels_key(image.reshape(6, 4, 3)) != key  # same bytes, other shape
    assert pixels_key(image.astype(np.float64)) != key
    view = np.asfortranarray(image)  # same values, other memory layout
    assert pixels_key(view) == key


def test_large_images_are_decoded_reduced_when_the_size_needed_is_known(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    blocks = rng.integers(0, 256, size=(40, 50, 3), dtype=np.uint8)
    big = np.kron(blocks, np.ones((100, 100, 1), dtype=np.uint8))  # 4000 x 5000: 20 MP
    for suffix in (".png", ".jpg"):
        path = tmp_path / f"big{suffix}"
        Image.fromarray(big).save(path, quality=95)
        whole = images.load_image(path)
        reduced = images.load_image(path, min_side=150)
        assert whole.shape == (4000, 5000, 3)
        assert min(reduced.shape[:2]) >= images.REDUCE_MARGIN * 150
        assert reduced.size * 4 <= whole.size
        # The same picture: block colours survive the reduction.
        centre = reduced[reduced.shape[0] // 80, reduced.shape[1] // 100]
        np.testing.assert_allclose(centre, blocks[0, 0] / 255, atol=0.03)


def test_ordinary_images_are_read_whole_whatever_the_size_needed(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    pixels = np.random.default_rng(8).integers(0, 256, size=(600, 800, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    np.testing.assert_array_equal(images.load_image(path, min_side=150), images.load_image(path))


# --- memory: reduced reads, channel subsets, orientation ---------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_array_orientation_matches_pillows(orientation: int):
    array = np.arange(2 * 3 * 1, dtype=np.uint8).reshape(2, 3, 1) * 40
    picture = Image.fromarray(array[..., 0])
    method = images._TRANSPOSE_FOR_ORIENTATION.get(orientation)
    expected = np.asarray(picture.transpose(method) if method is not None else picture)
    np.testing.assert_array_equal(images._oriented(array, orientation)[..., 0], expected)


def test_openimageio_reads_only_colour_and_alpha_reduced_in_strips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    oiio = pytest.importorskip("OpenImageIO")
    rng = np.random.default_rng(1)
    height, width = 48, 64
    pixels = np.zeros((height, width, 6), dtype=np.float32)
    pixels[..., :3] = rng.random((height, width, 3), dtype=np.float32)
    pixels[..., 4] = 1.0  # alpha, after a depth channel: colour and alpha are not one run
    pixels[..., 3] = 7.0  # Z: never read as colour
    pixels[..., 5] = 9.0  # an extra channel: never read
    path = tmp_path / "layers.exr"
    spec = oiio.ImageSpec(width, height, 6, "float")
    spec.channelnames = ("R", "G", "B", "Z", "A", "extra")
    spec.alpha_channel, spec.z_channel = 4, 3
    output = oiio.ImageOutput.create(str(path))
    output.open(str(path), spec)
    output.write_image(pixels)
    output.close()

    whole = load_image(path, "Raw")
    np.testing.assert_allclose(whole, pixels[..., :3], atol=1e-6)
    # Reduced by 3 (keep 16 of 48 rows), in strips of 3 rows: the block means.
    monkeypatch.setattr(images, "REDUCE_ABOVE", 100)
    monkeypatch.setattr(images, "_STRIP_BYTES", 1)
    reduced = load_image(path, "Raw", min_side=4)
    blocks = pixels[:48, :63, :3].reshape(16, 3, 21, 3, 3).mean(axis=(1, 3))
    assert reduced.shape == (16, 21, 3)
    np.testing.assert_allclose(reduced, blocks, atol=1e-6)
