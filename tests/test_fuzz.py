"""Property-based tests: whatever a disk holds, each file gives a result or one error.

Generated manifests, head files and images go through the same functions users' files do.
The contract: a valid result, or the product's own error (one line); no other exception
escapes. The number of examples per property is set by ``FUZZ_EXAMPLES`` (CI: the default).
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from xception_maya import images
from xception_maya import manifest as mf
from xception_maya.errors import ImageError, ModelError
from xception_maya.heads import Head

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)  # fmt: skip


def _one_line(exc: BaseException) -> None:
    assert (str(exc) and "\n" not in str(exc).strip()) or "manifest" in str(exc)


@pytest.fixture(scope="module")
def valid_manifest(models_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((models_dir / mf.MANIFEST).read_text())
    return data


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _mutations() -> st.SearchStrategy[tuple[list[str], object]]:
    paths = st.lists(
        st.sampled_from(["backbone", "heads", "kitchenware", "file", "sha256", "labels",
                         "input_size", "resize", "default_head", "version", "format", "source"]),
        min_size=1, max_size=3,
    )  # fmt: skip
    return st.tuples(paths, json_values)


def _mutate(data: Any, path: list[str], value: object) -> Any:
    node = data
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return data
        node = node[key]
    if isinstance(node, dict):
        node[path[-1]] = value
    return data


@FUZZ
@given(mutations=st.lists(_mutations(), min_size=1, max_size=4))
def test_any_manifest_loads_or_is_one_model_error(
    valid_manifest: dict[str, Any], scratch: Path, mutations: list[tuple[list[str], object]]
) -> None:
    data = json.loads(json.dumps(valid_manifest))
    for path, value in mutations:
        data = _mutate(data, path, value)
    (scratch / mf.MANIFEST).write_text(json.dumps(data))
    try:
        manifest = mf.Manifest.load(scratch)
    except ModelError as exc:
        _one_line(exc)
        return
    assert manifest.backbone.file and len(manifest.backbone.sha256) == 64
    for name in manifest.heads:
        assert manifest.head_path(name).resolve().is_relative_to(scratch.resolve())
    manifest.verify()  # problems are listed, never raised


@FUZZ
@given(data=json_values)
def test_any_json_as_a_manifest_is_one_model_error(scratch: Path, data: object) -> None:
    (scratch / mf.MANIFEST).write_text(json.dumps(data))
    with pytest.raises(ModelError):
        mf.Manifest.load(scratch)


@pytest.fixture(scope="module")
def head_bytes(models_dir: Path) -> bytes:
    return mf.Manifest.load(models_dir).head_path("kitchenware").read_bytes()


@FUZZ
@given(
    cut=st.integers(min_value=0, max_value=900_000),
    flips=st.lists(st.tuples(st.integers(0, 900_000), st.integers(1, 255)), max_size=8),
)
def test_any_damaged_head_file_loads_or_is_one_model_error(
    head_bytes: bytes, scratch: Path, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(head_bytes[: cut or None])
    for offset, mask in flips:
        if offset < len(data):
            data[offset] ^= mask
    path = scratch / "damaged.npz"
    path.write_bytes(bytes(data))
    try:
        head = Head.load(path)
    except ModelError as exc:
        _one_line(exc)
        return
    scores = head.scores(np.ones((1, 2048), np.float32))
    assert scores.shape == (1, len(head.labels)) and np.isfinite(scores).all()


@FUZZ
@given(
    meta=st.dictionaries(
        st.sampled_from(
            ["format", "name", "labels", "input_size", "resize", "activations", "version"]
        ),
        json_values,
    )
)
def test_any_head_metadata_loads_or_is_one_model_error(scratch: Path, meta: dict[str, Any]) -> None:
    meta = {"format": "xception-maya-head", **meta}
    path = scratch / "meta.npz"
    arrays = {"kernel_0": np.zeros((2048, 2), np.float32), "bias_0": np.zeros(2, np.float32)}
    np.savez(path, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]  # numpy stubs type **kwds as bool
    try:
        head = Head.load(path)
    except ModelError as exc:
        _one_line(exc)
        return
    assert len(head.labels) == 2 and 71 <= head.input_size <= 1024


MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "YCbCr"]
FORMATS = {"PNG": ".png", "TIFF": ".tif", "JPEG": ".jpg", "BMP": ".bmp", "WEBP": ".webp",
           "TGA": ".tga", "GIF": ".gif"}  # fmt: skip


@st.composite
def image_files(draw: st.DrawFn) -> tuple[bytes, str]:
    mode = draw(st.sampled_from(MODES))
    width, height = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**16))
    array = np.random.default_rng(seed).integers(0, 256, (height, width, 4), dtype=np.uint8)
    picture = Image.fromarray(array, "RGBA").convert(
        mode if mode not in ("I;16", "I", "F") else "L"
    )
    if mode in ("I;16", "I", "F"):
        picture = (
            picture.convert("I").point(lambda v: v * 257) if mode != "F" else picture.convert("F")
        )
        if mode == "I;16":
            picture = picture.convert("I;16")
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    buffer = io.BytesIO()
    try:
        picture.save(buffer, format=fmt)
    except (OSError, ValueError, KeyError):  # a mode this format cannot store
        picture.convert("RGB").save(buffer, format=fmt)
    data = bytearray(buffer.getvalue())
    cut = draw(st.integers(0, len(data)))
    if draw(st.booleans()):
        data = data[: max(cut, 1)]
    for offset, mask in draw(
        st.lists(st.tuples(st.integers(0, 4096), st.integers(1, 255)), max_size=4)
    ):
        if offset < len(data):
            data[offset] ^= mask
    return bytes(data), FORMATS[fmt]


@FUZZ
@given(
    file=image_files(),
    size=st.sampled_from([71, 150]),
    resize=st.sampled_from(images.RESIZE_FILTERS),
)
def test_any_image_file_decodes_or_is_one_image_error(
    scratch: Path, file: tuple[bytes, str], size: int, resize: str
) -> None:
    data, suffix = file
    path = scratch / f"fuzzed{suffix}"
    path.write_bytes(data)
    try:
        pixels = images.load_image(path, min_side=size)
        tensor = images.preprocess(pixels, size, resize)
    except ImageError as exc:
        _one_line(exc)
        return
    assert pixels.ndim == 3 and pixels.shape[2] == 3 and pixels.dtype == np.float32
    assert np.isfinite(pixels).all() and pixels.min() >= 0.0 and pixels.max() <= 1.0
    assert tensor.shape == (3, size, size) and np.abs(tensor).max() <= 1.0


def test_fuzzing_reaches_the_good_paths_too(scratch: Path) -> None:
    """The generators are not all errors: a valid image still decodes."""
    path = scratch / "good.png"
    Image.new("RGB", (8, 8), (10, 20, 30)).save(path)
    assert images.load_image(path).shape == (8, 8, 3)
    shutil.rmtree(scratch / "unused", ignore_errors=True)
