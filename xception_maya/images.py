"""Images: files and raw pixels in, display sRGB out, then the network's input.

Why one module of ~900 lines: decoding, colour conversion and preprocessing share one
private decode path (the header check, the memory budget's slot, the reduced decode) that
the 8-bit and float routes both run inside; split apart, each part would need the others'
internals. The colour tables are the first candidate to move out.

Every source ends up as an ``(H, W, 3)`` float32 array of display-referred sRGB values in
``[0, 1]``; :func:`preprocess` turns that into the ``(3, size, size)`` tensor Xception wants.

Choices, in the order a pixel meets them:

- **Decoding.** Pillow reads JPEG, PNG, TIFF, BMP, TGA, WebP (and the rest of its formats).
  Integer samples are divided by their real maximum (255 for 8-bit, 65535 for 16-bit, the TIFF
  bit depth for 32-bit integers). Pillow itself reduces 16-bit *RGB* PNG/TIFF to 8-bit, which is
  what Keras sees too. OpenEXR, Radiance .hdr and float RGB TIFF need OpenImageIO (optional):
  when it imports it reads every file Pillow cannot identify, otherwise the error says so.
  Embedded ICC profiles are ignored, like Keras does; CMYK uses Pillow's plain conversion.
- **Orientation.** The EXIF orientation tag is applied, so the array is upright as viewers
  show it. A broken EXIF block is ignored rather than failing an otherwise readable image.
- **Float data is scene-linear.** Float samples (Pillow mode ``F``, float TIFF, EXR, HDR) are
  read as scene-linear Rec.709, clipped to ``[0, 1]`` (NaN -> 0) and encoded with the sRGB
  transfer function. No tone mapping: a simple rule a TD can predict beats a clever one.
- **Colour space.** ``color_space`` is the file node's colour space name. ``None`` or ``""``
  means "what the data says": integer files are sRGB, float files scene-linear. See
  :data:`COLOR_SPACES`. Raw/data spaces (normal or roughness maps) are used as stored: they are
  not colour, so there is nothing correct to convert them to.
- **Alpha.** Straight alpha is composited over :data:`BACKGROUND` in display space, after the
  colour conversion, the way image viewers and browsers show a PNG.

Memory: every file is checked from its header before any pixel is decoded
(:mod:`xception_maya.budget`, limits in :mod:`xception_maya.limits`): pixel count, and decoded
size counting only the channels read. Large images are decoded reduced when the caller says
what size it needs, strip by strip where a mode must be converted; large decodes take turns.
A ``MemoryError`` becomes that image's :class:`ImageError`. Only regular files are opened (a
FIFO would block forever). Truncated files raise rather than come back half grey, as long as
the host keeps Pillow's ``ImageFile.LOAD_TRUNCATED_IMAGES`` at its default (we never change
it), and no warning filter or Pillow setting of the host is ever changed.

The classifier reads files with :func:`load_for_network`: bit for bit ``preprocess`` of
``load_image``, but an 8-bit file read as stored (no alpha to composite, no colour conversion)
stays uint8 from decoding through the resize and is scaled to [-1, 1] once at the end.

One module at about 900 lines: decoding, colour and preprocessing share the decoded form and
its invariants, and every front end imports this one name.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib
import os
import stat
import struct
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import numpy as np
from PIL import Image, ImageMode, UnidentifiedImageError

from . import budget, fsio
from .errors import ImageError
from .preprocessing import RESIZE_FILTERS, Preprocessing

_RESAMPLING = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}

# Mid grey in display space: 0.5 maps to exactly 0 at the network input (x / 127.5 - 1 on
# 127.5), the value that carries no signal, so transparent areas push the classifier towards
# no class. Black or white backgrounds look like content (night, studio product shots).
BACKGROUND: tuple[float, float, float] = (0.5, 0.5, 0.5)

# Images over this many pixels (an 8K texture is 67M) are decoded reduced when the caller
# says what size it needs: a full-size float copy of one costs about a gigabyte, and four
# are decoded at once. Below it, decoding is exact (the path Keras takes).
REDUCE_ABOVE = 16_000_000
REDUCE_MARGIN = 4  # keep at least 4x the model's input side, so resizing still filters well

# Maya file-node colour space names -> how the stored values are encoded. Matched without
# regard to case. "sRGB": display-encoded; "data": not colour, used as stored; "linear":
# scene-linear Rec.709 primaries; "ACEScg"/"ACES2065-1": linear AP1/AP0 primaries.
COLOR_SPACES: dict[str, str] = {
    "sRGB": "sRGB",
    "sRGB gamma": "sRGB",
    "sRGB Encoded Rec.709 (sRGB)": "sRGB",
    "Utility - sRGB - Texture": "sRGB",
    "Raw": "data",
    "Utility - Raw": "data",
    "linear": "linear",
    "scene-linear Rec.709-sRGB": "linear",
    "scene-linear Rec 709/sRGB": "linear",
    "Linear Rec.709 (sRGB)": "linear",
    "Utility - Linear - sRGB": "linear",
    "Utility - Linear - Rec.709": "linear",
    "ACEScg": "ACEScg",
    "ACES - ACEScg": "ACEScg",
    "ACES2065-1": "ACES2065-1",
    "ACES - ACES2065-1": "ACES2065-1",
}
_ENCODING_BY_NAME = {name.casefold(): encoding for name, encoding in COLOR_SPACES.items()}

# Linear AP1 (ACEScg) and AP0 (ACES2065-1) to linear Rec.709, D60 -> D65 by Bradford: the
# matrices of the OpenColorIO ACES configs and colour-science. Rows sum to 1 (white stays white).
ACESCG_TO_REC709 = np.array(
    [
        [1.70505099, -0.62179212, -0.08325887],
        [-0.13025642, 1.14080474, -0.01054832],
        [-0.02400336, -0.12896898, 1.15297233],
    ],
    dtype=np.float32,
)
ACES2065_1_TO_REC709 = np.array(
    [
        [2.52168619, -1.13413099, -0.38755520],
        [-0.27647991, 1.37271909, -0.09623917],
        [-0.01537806, -0.15297534, 1.16835340],
    ],
    dtype=np.float32,
)
_PRIMARIES_TO_REC709 = {"ACEScg": ACESCG_TO_REC709, "ACES2065-1": ACES2065_1_TO_REC709}

# Pillow modes that carry an alpha channel (LAB and friends contain an "A" but no alpha).
_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_EXIF_ORIENTATION = 0x0112

# Formats Pillow cannot read, recognised by their first bytes, so the error can say what to do.
_NEEDS_OPENIMAGEIO = (
    (b"v/1\x01", "OpenEXR files are not supported"),
    (b"#?RADIANCE", "Radiance .hdr files are not supported"),
    (b"#?RGBE", "Radiance .hdr files are not supported"),
    (b"SDPX", "DPX files are not supported"),
    (b"XPDS", "DPX files are not supported"),
    (b"II*\x00", "this TIFF layout (e.g. 32-bit float RGB) is not supported"),
    (b"MM\x00*", "this TIFF layout (e.g. 32-bit float RGB) is not supported"),
)
_INSTALL_OPENIMAGEIO = (
    "without OpenImageIO; install the optional OpenImageIO Python package to read it"
)

_BLOCK = 1 << 18  # elements per block of blockwise arithmetic: stays in cache
# float32 k/255 times 255 lands within ~3e-5 of k; anything from a finer source misses by far more.
_EIGHT_BIT_TOLERANCE = 1e-3


class _Decoded(NamedTuple):
    rgb: np.ndarray  # (H, W, 3) float32 as stored: integers scaled to [0, 1], floats untouched
    alpha: np.ndarray | None  # (H, W) float32 straight alpha, or None when opaque by format
    is_float: bool  # float samples: scene-linear unless the colour space says otherwise


def load_image(
    path: str | os.PathLike[str], color_space: str | None = None, *, min_side: int | None = None
) -> np.ndarray:
    """Read an image file as (H, W, 3) float32 display-referred sRGB in [0, 1].

    ``color_space`` is Maya's name for how the file is encoded (see :data:`COLOR_SPACES`);
    ``None`` or ``""`` means sRGB for integer files and scene-linear for float files.
    ``min_side``: the caller will resize to this side, so an image over
    :data:`REDUCE_ABOVE` pixels may be decoded smaller (by a whole factor, keeping each side
    at least ``REDUCE_MARGIN * min_side``); smaller images are always read whole.
    Raises :class:`ImageError` naming the file and the reason for anything unreadable.
    """
    name = os.fspath(path)
    encoding = _encoding(color_space)  # an unknown name fails before any file I/O
    _check_readable_file(name)
    try:
        return _decode(name, min_side, encoding)
    except MemoryError:
        raise budget.not_enough_memory(name) from None


def pixels_to_image(values: Sequence[float] | np.ndarray, width: int, height: int) -> np.ndarray:
    """Raw RGB display values (row-major, top row first, 0..1) -> (H, W, 3) float32 in [0, 1].

    Out-of-range values are clipped and NaN becomes 0: viewport and texture samples can
    overshoot, and one bad sample should not poison the whole image.
    """
    for label, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ImageError(f"raw pixels: {label} must be a positive whole number, got {value!r}")
    try:
        flat = np.asarray(values, dtype=np.float32).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ImageError(f"raw pixels: values are not numbers ({exc})") from None
    expected = int(width) * int(height) * 3
    if flat.size != expected:
        raise ImageError(
            f"raw pixels: expected {width} x {height} x 3 = {expected} values, got {flat.size}"
        )
    # nan_to_num copies, so the caller's array is never modified by the in-place clip.
    image = np.nan_to_num(flat.reshape(int(height), int(width), 3), nan=0.0, posinf=1.0, neginf=0.0)
    np.clip(image, 0.0, 1.0, out=image)
    return image


def preprocess(image: np.ndarray, size: int, resize: str) -> np.ndarray:
    """(H, W, 3) float [0, 1] -> (3, size, size) float32 in [-1, 1], as Keras's Xception sees it.

    The image is squashed to a square (no crop, aspect not kept), like Keras's
    ``load_img(target_size=...)``, then scaled with ``x / 127.5 - 1`` on 0..255 values.
    When every value is k/255 (the image came from an 8-bit file) the resize runs on
    uint8 RGB, exactly as Keras resizes the decoded PIL image, so the result is bit-identical;
    otherwise each channel is resized as a float ("F") image and kept in range.
    """
    resample = _resample(resize)
    size = budget.check_input_size(size)
    pixels = _check_image(image)
    try:
        return _preprocessed(pixels, size, resample)
    except MemoryError:
        height, width = pixels.shape[:2]
        raise ImageError(f"not enough memory to preprocess a {width} x {height} image") from None


def _preprocessed(pixels: np.ndarray, size: int, resample: Image.Resampling) -> np.ndarray:
    eight_bit = _as_eight_bit(pixels)
    if eight_bit is not None:
        resized = _resized_eight_bit(Image.fromarray(eight_bit), size, resample)
    else:
        scaled = pixels * np.float32(255.0)
        np.clip(scaled, 0.0, 255.0, out=scaled)
        channels = [
            np.asarray(
                Image.fromarray(np.ascontiguousarray(scaled[..., c])).resize((size, size), resample)
            )
            for c in range(3)
        ]
        resized = np.stack(channels, axis=-1)
        # Bicubic and Lanczos overshoot at edges; uint8 saturates, so floats must clip too.
        np.clip(resized, 0.0, 255.0, out=resized)
    return _network_input(resized)


def _resized_eight_bit(image: Image.Image, size: int, resample: Image.Resampling) -> np.ndarray:
    """An 8-bit RGB or grey Pillow image resized, as (size, size, 3) float32 on 0..255.
    Pillow resizes each channel alone, so grey resized then repeated equals RGB resized."""
    resized = image.resize((size, size), resample)
    if resized.mode != "RGB":
        resized = resized.convert("RGB")
    return np.asarray(resized, dtype=np.float32)


def _network_input(resized: np.ndarray) -> np.ndarray:
    """(size, size, 3) float32 on 0..255 -> (3, size, size) in [-1, 1]: Xception's scale."""
    network_input = resized / np.float32(127.5) - np.float32(1.0)
    return np.ascontiguousarray(network_input.transpose(2, 0, 1), dtype=np.float32)


def preprocess_batch(images: Sequence[np.ndarray], size: int, resize: str) -> np.ndarray:
    """:func:`preprocess` each image into one (N, 3, size, size) float32 batch."""
    _resample(resize)
    size = budget.check_input_size(size)
    batch = np.empty((len(images), 3, size, size), dtype=np.float32)
    for i, image in enumerate(images):
        batch[i] = preprocess(image, size, resize)
    return batch


def load_for_network(
    path: str | os.PathLike[str], color_space: str | None, preprocessing: Preprocessing
) -> np.ndarray:
    """A file as the network's (3, size, size) float32 input: bit for bit what
    ``preprocess(load_image(path, color_space, min_side=size), size, resize)`` gives.

    An 8-bit file read as stored (no alpha to composite, no colour conversion) stays uint8
    from decoding through the resize and is scaled once at the end, so the full-size float
    image is never built: about twice as fast. 16-bit, float, alpha and converted colour
    spaces take :func:`load_image`'s float path, where rounding to 8 bits would change the
    result. The same checks, memory budget and error messages as the two calls.
    """
    name = os.fspath(path)
    encoding = _encoding(color_space)  # an unknown name fails before any file I/O
    _check_readable_file(name)
    try:
        resample = _resample(preprocessing.resize)
        size = budget.check_input_size(preprocessing.size)
    except ImageError as exc:
        raise ImageError(_cannot(name, str(exc))) from None
    try:
        result = _decode_for_network(name, size, resample, encoding)
    except MemoryError:
        raise budget.not_enough_memory(name) from None
    if isinstance(result, _Prepared):
        return result.network_input
    # Outside the decode slot, as preprocess after load_image runs.
    return _preprocessed_file(name, result, size, resample)


def source_key(source: str | os.PathLike[str] | np.ndarray) -> str:
    """What a cache knows a source by: :func:`pixels_key` of an array, else :func:`content_key`."""
    return pixels_key(source) if isinstance(source, np.ndarray) else content_key(source)


def content_key(path: str | os.PathLike[str]) -> str:
    """``"path|size|mtime_ns"`` of the resolved absolute path: changes when the file does.

    Cheap (one stat, no read), so Maya's frequent re-evaluation costs nothing. A rewrite that
    keeps both size and modification time is not seen; file systems update mtime on write.
    """
    name = os.fspath(path)
    try:
        resolved = Path(name).resolve()
        info = resolved.stat()
    except FileNotFoundError:
        raise ImageError(_cannot(name, "file not found")) from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop on Python < 3.13
        raise ImageError(_cannot(name, f"cannot access it ({_reason(exc)})")) from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(_cannot(name, "it is a directory, not an image file"))
    return f"{resolved}|{info.st_size}|{info.st_mtime_ns}"


def pixels_key(image: np.ndarray) -> str:
    """blake2b hash of the array's values, dtype and shape, for caching raw-pixel inputs."""
    array = np.ascontiguousarray(image)
    if array.dtype.hasobject:
        raise ImageError(f"pixels_key needs a numeric array, got dtype {array.dtype}")
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.reshape(-1).view(np.uint8).data)
    return digest.hexdigest()


# --- decoding ---------------------------------------------------------------------------------


def _cannot(name: str, reason: str) -> str:
    return f"cannot read image '{name}': {reason}"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or type(exc).__name__


def _check_readable_file(name: str) -> None:
    # Plain-words reasons for the common cases, before Pillow gets a chance to be cryptic.
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise ImageError(_cannot(name, "file not found")) from None
    except OSError as exc:
        raise ImageError(_cannot(name, f"cannot access it ({_reason(exc)})")) from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageError(_cannot(name, "it is a directory, not an image file"))
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
        raise ImageError(_cannot(name, f"it is {fsio.kind_of(info.st_mode)}, not a regular file"))
    if info.st_size == 0:
        raise ImageError(_cannot(name, "empty file (0 bytes)"))


def _open_file(name: str) -> BinaryIO:
    try:
        return fsio.open_regular(name)
    except FileNotFoundError:
        raise ImageError(_cannot(name, "file not found")) from None
    except OSError as exc:
        raise ImageError(_cannot(name, f"cannot access it ({_reason(exc)})")) from None


def _decode(name: str, min_side: int | None, encoding: str | None) -> np.ndarray:
    with _decoded_by_pillow(name, min_side) as decoded:
        if decoded is None:
            return _decode_unidentified(name, min_side, encoding)
        picture, integer_max = decoded
        return _to_display(_pillow_pixels(name, picture, integer_max), encoding)


@contextlib.contextmanager
def _decoded_by_pillow(name: str, min_side: int | None) -> Iterator[tuple[Image.Image, int] | None]:
    """The decoded, upright Pillow image and its integer maximum, alive (and its decode
    slot held) inside the block; None when Pillow cannot identify the file."""
    with _open_file(name) as file:
        try:
            image: Image.Image | None = _open_pillow(file, name)
        except UnidentifiedImageError:
            image = None
        if image is None:  # the caller's errors are not raised inside this handler
            yield None
            return
        with image:
            decoded_bytes = _check_pillow_header(name, image)
            integer_max = _integer_max(image)
            with budget.decode_slot(decoded_bytes):
                yield _load(name, image, _kept_side(image, min_side)), integer_max


class _Prepared(NamedTuple):
    network_input: np.ndarray  # (3, size, size) float32: the 8-bit path's finished result


def _decode_for_network(
    name: str, size: int, resample: Image.Resampling, encoding: str | None
) -> _Prepared | np.ndarray:
    """The network input of an 8-bit file, else its display image for :func:`preprocess`."""
    with _decoded_by_pillow(name, size) as decoded:
        if decoded is None:
            return _decode_unidentified(name, size, encoding)
        picture, integer_max = decoded
        eight_bit = _as_stored_eight_bit(picture, encoding)
        if eight_bit is None:
            return _to_display(_pillow_pixels(name, picture, integer_max), encoding)
        # Resized inside the block: the decoded image (and its slot) lives until then.
        try:
            resized = _resized_eight_bit(eight_bit, size, resample)
        except MemoryError:
            raise ImageError(_preprocess_memory(name, picture.width, picture.height)) from None
    return _Prepared(_network_input(resized))


def _as_stored_eight_bit(picture: Image.Image, encoding: str | None) -> Image.Image | None:
    """The RGB (or grey) 8-bit image whose values load_image would give divided by 255,
    or None where its float path changes them: 16-bit or float samples, alpha below opaque
    (composited), or a colour space that converts (the sRGB curve, ACES primaries)."""
    mode = picture.mode
    if encoding not in (None, "sRGB", "data") or mode == "F" or mode.startswith("I"):
        return None
    try:
        if mode in _ALPHA_MODES or "transparency" in picture.info:
            rgba = picture if mode == "RGBA" else picture.convert("RGBA")
            if int(np.asarray(rgba.getchannel("A")).min()) < 255:
                return None
            return rgba.convert("RGB")  # drops alpha: opaque, so nothing is composited
        if mode in ("RGB", "L"):
            return picture
        return picture.convert("RGB")
    except ValueError:  # a mode Pillow cannot convert: the float path says so
        return None


def _preprocessed_file(
    name: str, display: np.ndarray, size: int, resample: Image.Resampling
) -> np.ndarray:
    try:
        return _preprocessed(display, size, resample)
    except MemoryError:
        height, width = display.shape[:2]
        raise ImageError(_preprocess_memory(name, width, height)) from None


def _preprocess_memory(name: str, width: int, height: int) -> str:
    return _cannot(name, f"not enough memory to preprocess a {width} x {height} image")


def _open_pillow(file: BinaryIO, name: str) -> Image.Image:
    """``Image.open`` without its DecompressionBombWarning: the plug-in registry that
    ``Image.open`` walks, walked here. Silencing the warning with ``warnings.catch_warnings``
    is not thread-safe (decoding threads would leave the host's filters changed for good);
    our own header check decides instead, and Pillow's hard limit is kept."""
    prefix = file.read(16)
    tried: set[str] = set()
    for load_plugins in (Image.preinit, Image.init):
        load_plugins()
        for format_id in list(Image.ID):
            if format_id in tried:
                continue
            tried.add(format_id)
            factory, accept = Image.OPEN[format_id]
            try:
                if accept is not None:
                    verdict = accept(prefix)
                    if not verdict or isinstance(verdict, str):  # str: "almost, but no"
                        continue
                file.seek(0)
                image = factory(file, name)
            except (SyntaxError, IndexError, TypeError, struct.error):
                continue  # not this format: Image.open tries the next one too
            except MemoryError:
                raise
            except Exception as exc:  # this format, but a damaged header: Image.open raises too
                raise ImageError(_cannot(name, f"cannot open it ({_reason(exc)})")) from None
            if Image.MAX_IMAGE_PIXELS and image.width * image.height > 2 * Image.MAX_IMAGE_PIXELS:
                image.close()
                raise ImageError(
                    _cannot(
                        name,
                        f"over Pillow's pixel limit ({image.width} x {image.height} pixels; "
                        f"PIL.Image.MAX_IMAGE_PIXELS is {Image.MAX_IMAGE_PIXELS})",
                    )
                )
            return image
    raise UnidentifiedImageError(f"cannot identify image file {name!r}")


def open_thumbnail(path: str | os.PathLike[str], side: int) -> Image.Image:
    """The image of ``path`` decoded reduced to about ``side`` pixels (at least ``side``
    where it is larger), EXIF-rotated, still in its own Pillow mode: for the report. The
    same header check, memory budget and regular-file check as :func:`load_image`."""
    name = os.fspath(path)
    _check_readable_file(name)
    try:
        with _open_file(name) as file:
            try:
                image = _open_pillow(file, name)
            except UnidentifiedImageError:
                raise ImageError(_cannot(name, "no thumbnail for this format")) from None
            with image:
                decoded_bytes = _check_pillow_header(name, image)
                with budget.decode_slot(decoded_bytes):
                    picture = _load(name, image, side)
                    return picture.copy() if picture is image else picture
    except MemoryError:
        raise budget.not_enough_memory(name, "draw its thumbnail") from None


def _check_pillow_header(name: str, image: Image.Image) -> int:
    """The decoded size of an opened (not yet loaded) image, refused when over the limits."""
    try:
        mode = ImageMode.getmode(image.mode)
        sample = np.dtype(mode.typestr).itemsize
        bands = len(mode.bands)
    except (KeyError, TypeError, ValueError):
        sample, bands = 4, 4  # a mode Pillow lists but numpy cannot spell: assume the most
    # Pillow stores 3 bands of 8 bits in 4 bytes.
    pixel_bytes = 4 if bands == 3 and sample == 1 else bands * sample
    return budget.check_decode(
        name, image.width, image.height, pixel_bytes, f"{image.mode}: {pixel_bytes} bytes a pixel"
    )


def _load(name: str, image: Image.Image, keep: int | None) -> Image.Image:
    """Decode ``image`` (reduced to about ``keep`` pixels a side when given) and turn it
    upright. Reducing comes first, so turning never copies the full-size image."""
    if keep and image.format == "JPEG":
        image.draft(None, (keep, keep))  # decode at 1/2, 1/4 or 1/8 scale: far cheaper
    try:
        image.load()
    except MemoryError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(_cannot(name, f"over Pillow's limits ({exc})")) from None
    except Exception as exc:  # Pillow raises many types; the user needs one kind of error
        raise ImageError(
            _cannot(name, f"truncated or corrupt image data ({_reason(exc)})")
        ) from None
    turn = _exif_transpose_method(image)
    picture = _reduced(image, keep) if keep else image
    return picture.transpose(turn) if turn is not None else picture


def _kept_side(image: Image.Image, min_side: int | None) -> int | None:
    """The smallest side worth decoding, for images large enough to reduce."""
    if not min_side or image.width * image.height <= REDUCE_ABOVE:
        return None
    return REDUCE_MARGIN * min_side


def _reduced(image: Image.Image, keep: int) -> Image.Image:
    factor = min(image.size) // keep
    if factor < 2:
        return image
    if image.mode in _REDUCE_AS:
        return _reduced_by_strips(image, factor, _REDUCE_AS[image.mode](image))
    try:
        return image.reduce(factor)  # box filter over whole blocks: no aliasing
    except ValueError:  # a mode reduce() does not handle: convert strip by strip
        return _reduced_by_strips(image, factor, "RGBA")


# Modes Image.reduce refuses or gets wrong (it averages palette indices), and the mode each
# is reduced in. Converting strip by strip never holds a full-size converted copy.
_REDUCE_AS: dict[str, Callable[[Image.Image], str]] = {
    "1": lambda image: "L",
    "P": lambda image: "RGBA" if "transparency" in image.info else "RGB",
    "PA": lambda image: "RGBA",
    "I;16": lambda image: "I",
    "I;16L": lambda image: "I",
    "I;16B": lambda image: "I",
    "I;16N": lambda image: "I",
}
_STRIP_BYTES = 16 * 1024 * 1024


def _reduced_by_strips(image: Image.Image, factor: int, mode: str) -> Image.Image:
    width, height = (image.width // factor) * factor, (image.height // factor) * factor
    out = Image.new(mode, (width // factor, height // factor))
    rows = factor * max(1, _STRIP_BYTES // (width * 4 * factor))
    for top in range(0, height, rows):
        strip = image.crop((0, top, width, min(top + rows, height))).convert(mode)
        out.paste(strip.reduce(factor), (0, top // factor))
    return out


def _integer_max(image: Image.Image) -> int:
    # Pillow's 32-bit "I" mode holds 16-bit samples from PNG/PPM (it rescales odd depths to
    # 16 bits); only a TIFF says it really holds 32-bit integers.
    tags = getattr(image, "tag_v2", None)
    if image.mode != "I" or tags is None:
        return 65535
    bits_tag = tags.get(258, (16,))
    bits = int(bits_tag[0] if isinstance(bits_tag, tuple) else bits_tag)
    format_tag = tags.get(339, (1,))
    signed = int(format_tag[0] if isinstance(format_tag, tuple) else format_tag) == 2
    return int(2 ** (bits - 1) - 1 if signed else 2**bits - 1)


_TRANSPOSE_FOR_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _exif_transpose_method(image: Image.Image) -> Image.Transpose | None:
    try:
        return _TRANSPOSE_FOR_ORIENTATION.get(image.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # broken camera metadata must not make readable pixels unreadable
        return None


def _pillow_pixels(name: str, image: Image.Image, integer_max: int) -> _Decoded:
    mode = image.mode
    if mode == "F":
        return _Decoded(_gray_to_rgb(np.asarray(image, dtype=np.float32)), None, True)
    if mode.startswith("I;16"):
        return _Decoded(_gray_to_rgb(_scaled(np.asarray(image), 65535)), None, False)
    if mode == "I":
        gray = _scaled(np.asarray(image), integer_max)
        np.clip(gray, 0.0, 1.0, out=gray)  # signed TIFFs can hold negatives
        return _Decoded(_gray_to_rgb(gray), None, False)
    # Everything else is 8 bits per sample: let Pillow expand palettes, bilevel, CMYK (it
    # already undid Adobe's inverted CMYK when decoding) and colour-keyed transparency.
    has_alpha = mode in _ALPHA_MODES or "transparency" in image.info
    target = "RGBA" if has_alpha else "RGB"
    try:
        converted = image if mode == target else image.convert(target)
    except ValueError:
        raise ImageError(_cannot(name, f"pixel mode {mode} is not supported")) from None
    pixels = np.asarray(converted)
    rgb = _scaled(pixels[..., :3], 255)
    alpha = _scaled(pixels[..., 3], 255) if has_alpha else None
    return _Decoded(rgb, alpha, False)


def _scaled(samples: np.ndarray, maximum: int) -> np.ndarray:
    values = samples.astype(np.float32)
    values /= np.float32(maximum)
    return values


def _gray_to_rgb(gray: np.ndarray) -> np.ndarray:
    return np.repeat(gray[..., None], 3, axis=2)


def _decode_unidentified(name: str, min_side: int | None, encoding: str | None) -> np.ndarray:
    oiio = _openimageio()
    if oiio is not None:
        return _decode_with_openimageio(oiio, name, min_side, encoding)
    try:
        with open(name, "rb") as file:
            head = file.read(16)
    except OSError as exc:
        raise ImageError(_cannot(name, f"cannot access it ({_reason(exc)})")) from None
    for magic, what in _NEEDS_OPENIMAGEIO:
        if head.startswith(magic):
            raise ImageError(_cannot(name, f"{what} {_INSTALL_OPENIMAGEIO}"))
    raise ImageError(_cannot(name, "not an image Pillow can read (unrecognised file format)"))


@functools.cache
def _openimageio() -> Any | None:
    # Optional: most Maya installs lack it. Cached so a missing module is searched for once.
    try:
        return importlib.import_module("OpenImageIO")  # by name: typed the same installed or not
    except ImportError:
        return None


def _decode_with_openimageio(
    oiio: Any, name: str, min_side: int | None, encoding: str | None
) -> np.ndarray:
    """Read only the colour channels (the first three) and alpha, strip by strip, reduced
    by whole blocks when the image is large: a 256-channel EXR costs what an RGBA one does."""
    try:
        source = oiio.ImageInput.open(name)
    except Exception as exc:
        raise ImageError(_cannot(name, f"OpenImageIO failed ({_reason(exc)})")) from None
    if source is None:
        detail = oiio.geterror().strip().splitlines()
        reason = detail[0] if detail else "unrecognised file format"
        raise ImageError(_cannot(name, f"not an image Pillow or OpenImageIO can read ({reason})"))
    try:
        spec = source.spec()
        if spec.deep:
            raise ImageError(_cannot(name, "deep images are not supported"))
        colour, alpha = _openimageio_channels(name, spec)
        wanted = sorted({*colour, *([] if alpha is None else [alpha])})
        is_float = str(spec.format) in ("half", "float", "double")
        orientation = spec.get_int_attribute("Orientation", 1)
        decoded_bytes = budget.check_decode(
            name,
            spec.width,
            spec.height,
            4 * len(wanted),
            f"{len(wanted)} of its {spec.nchannels} channels read, 4 bytes each",
        )
        keep = (
            REDUCE_MARGIN * min_side if min_side and spec.width * spec.height > REDUCE_ABOVE else 0
        )
        factor = max(1, min(spec.width, spec.height) // keep) if keep else 1
        with budget.decode_slot(decoded_bytes):
            pixels = _read_openimageio(oiio, name, source, spec, wanted, factor)
            rgb = np.ascontiguousarray(pixels[..., [wanted.index(c) for c in colour]])
            straight = None
            if (
                alpha is not None
            ):  # OpenImageIO hands out premultiplied colour; we composite straight
                straight = pixels[..., wanted.index(alpha)]
                np.divide(rgb, straight[..., None], out=rgb, where=straight[..., None] > 0)
                straight = np.nan_to_num(straight, nan=1.0, posinf=1.0, neginf=0.0)
                np.clip(straight, 0.0, 1.0, out=straight)
            rgb = _oriented(rgb, orientation)
            straight = None if straight is None else _oriented(straight, orientation)
            return _to_display(_Decoded(rgb, straight, is_float), encoding)
    except (ImageError, MemoryError):
        raise
    except Exception as exc:
        raise ImageError(_cannot(name, f"OpenImageIO failed ({_reason(exc)})")) from None
    finally:
        source.close()


def _openimageio_channels(name: str, spec: Any) -> tuple[list[int], int | None]:
    skip = {spec.alpha_channel, spec.z_channel}
    colour = [c for c in range(spec.nchannels) if c not in skip][:3]
    if not colour:
        raise ImageError(_cannot(name, "it has no colour channels"))
    if len(colour) < 3:
        colour = [colour[0]] * 3  # grey (Y or YA): repeat the one channel
    alpha = spec.alpha_channel if 0 <= spec.alpha_channel < spec.nchannels else None
    return colour, alpha


def _read_openimageio(
    oiio: Any, name: str, source: Any, spec: Any, wanted: list[int], factor: int
) -> np.ndarray:
    """(H // factor, W // factor, len(wanted)) float32: the wanted channels, read in strips
    of whole blocks and averaged over factor x factor blocks as they come."""
    runs: list[tuple[int, int]] = []  # contiguous channel ranges: one read each
    for c in wanted:
        if runs and runs[-1][1] == c:
            runs[-1] = (runs[-1][0], c + 1)
        else:
            runs.append((c, c + 1))
    height = (spec.height // factor) * factor
    # OpenImageIO reads every channel of a strip before picking the wanted ones: size the
    # strips by all of them, and by at least 16 rows (an EXR zip block) not to decode twice.
    row_bytes = spec.width * 4 * max(len(wanted), spec.nchannels)
    rows = factor * max(1, _STRIP_BYTES // (row_bytes * factor), -(-16 // factor))
    out = np.empty((height // factor, spec.width // factor, len(wanted)), dtype=np.float32)
    for top in range(0, height, rows):
        bottom = min(top + rows, height)
        parts = []
        for begin, end in runs:
            data = source.read_scanlines(
                0, 0, spec.y + top, spec.y + bottom, spec.z, begin, end, oiio.FLOAT
            )
            if data is None or source.has_error:
                detail = source.geterror().strip().splitlines()
                reason = detail[0] if detail else "no pixels"
                raise ImageError(_cannot(name, f"truncated or corrupt image data ({reason})"))
            parts.append(np.asarray(data, dtype=np.float32).reshape(bottom - top, spec.width, -1))
        strip = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=2)
        out[top // factor : bottom // factor] = _block_mean(strip, factor) if factor > 1 else strip
    return out


def _block_mean(strip: np.ndarray, factor: int) -> np.ndarray:
    rows, width = (strip.shape[0] // factor) * factor, (strip.shape[1] // factor) * factor
    blocks = strip[:rows, :width].reshape(rows // factor, factor, width // factor, factor, -1)
    mean: np.ndarray = blocks.mean(axis=(1, 3), dtype=np.float32)
    return mean


def _oriented(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an (H, W, ...) array, as viewers show it."""
    if orientation not in range(2, 9):
        return pixels
    turns: dict[int, Callable[[np.ndarray], np.ndarray]] = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
        8: lambda a: np.rot90(a, 1),
    }
    return np.ascontiguousarray(turns[orientation](pixels))


# --- colour -----------------------------------------------------------------------------------


def check_color_space(color_space: str | None) -> str | None:
    """``color_space`` when it is a name of :data:`COLOR_SPACES` (or empty), else one ImageError."""
    _encoding(color_space)
    return color_space


def _encoding(color_space: str | None) -> str | None:
    if not color_space:
        return None
    encoding = _ENCODING_BY_NAME.get(color_space.strip().casefold())
    if encoding is None:
        known = ", ".join(repr(name) for name in COLOR_SPACES)
        raise ImageError(f"unknown colour space {color_space!r}; known: {known}")
    return encoding


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer function (IEC 61966-2-1): linear [0, 1] -> display [0, 1]."""
    linear = np.ascontiguousarray(linear, dtype=np.float32)
    encoded = np.empty_like(linear)
    source, target = linear.reshape(-1), encoded.reshape(-1)
    # In blocks: a full-size temporary per step would cost several copies of a large image.
    for start in range(0, source.size, _BLOCK):
        x, out = source[start : start + _BLOCK], target[start : start + _BLOCK]
        np.maximum(x, np.float32(0.0), out=out)  # negatives stay out of the power (NaN)
        np.power(out, np.float32(1.0 / 2.4), out=out)
        out *= np.float32(1.055)
        out -= np.float32(0.055)
        low = x <= np.float32(0.0031308)
        out[low] = x[low] * np.float32(12.92)
    return encoded


def to_display(rgb: np.ndarray, color_space: str) -> np.ndarray:
    """Float RGB values in a named colour space (e.g. Maya's rendering space) -> display sRGB."""
    decoded = _Decoded(np.array(rgb, dtype=np.float32), None, True)
    return _to_display(decoded, _encoding(color_space) or "linear")


def _to_display(decoded: _Decoded, encoding: str | None) -> np.ndarray:
    if encoding is None:
        encoding = "linear" if decoded.is_float else "sRGB"
    rgb = decoded.rgb
    if decoded.is_float:
        rgb = np.nan_to_num(rgb, copy=False, nan=0.0, posinf=1.0, neginf=0.0)
    matrix = _PRIMARIES_TO_REC709.get(encoding)
    if matrix is not None:
        rgb = rgb @ matrix.T  # before clipping: out-of-gamut values must mix first
    if decoded.is_float or matrix is not None:
        np.clip(rgb, 0.0, 1.0, out=rgb)
    if encoding in ("linear", "ACEScg", "ACES2065-1"):
        rgb = srgb_encode(rgb)
    rgb = np.ascontiguousarray(rgb, dtype=np.float32)
    if decoded.alpha is not None and not np.all(decoded.alpha >= 1.0):
        alpha = decoded.alpha
        behind = np.float32(1.0) - alpha
        for c, grey in enumerate(BACKGROUND):  # in place, one channel at a time
            channel = rgb[..., c]
            channel *= alpha
            channel += np.float32(grey) * behind
    return rgb


# --- preprocessing ----------------------------------------------------------------------------


def _resample(resize: str) -> Image.Resampling:
    try:
        return _RESAMPLING[resize]
    except (KeyError, TypeError):
        raise ImageError(f"resize filter {resize!r} is not one of {RESIZE_FILTERS}") from None


def _check_image(image: np.ndarray) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ImageError(f"expected an image of shape (height, width, 3), got {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        # An 8-bit array here is almost always 0..255 passed by mistake: say so, don't clip.
        raise ImageError(f"expected float pixel values in [0, 1], got dtype {array.dtype}")
    return array.astype(np.float32, copy=False)


def _as_eight_bit(pixels: np.ndarray) -> np.ndarray | None:
    """The uint8 image when every value is k/255 (up to float32 rounding), else None."""
    flat = pixels.reshape(-1)
    out = np.empty(flat.size, dtype=np.uint8)
    # Blocks that stay in cache: a 4K image costs tens of milliseconds instead of a second of
    # full-size temporaries, and a float image is usually rejected in the first block.
    block = _BLOCK
    scaled = np.empty(min(block, flat.size), dtype=np.float32)
    rounded = np.empty_like(scaled)
    for start in range(0, flat.size, block):
        chunk = flat[start : start + block]
        s, r = scaled[: chunk.size], rounded[: chunk.size]
        np.multiply(chunk, np.float32(255.0), out=s)
        np.rint(s, out=r)
        np.subtract(s, r, out=s)
        np.abs(s, out=s)
        if not s.max() <= _EIGHT_BIT_TOLERANCE:  # written so that NaN also fails
            return None
        np.clip(r, 0.0, 255.0, out=r)
        out[start : start + chunk.size] = r
    return out.reshape(pixels.shape)
