"""Tile and frame tokens of file-node patterns resolve to the file Maya would show first."""

from __future__ import annotations

from pathlib import Path

import pytest

from xception_maya.errors import ImageError
from xception_maya.texture_paths import has_tokens, resolve


def touch(folder: Path, *names: str) -> None:
    for name in names:
        (folder / name).write_bytes(b"x")


def test_plain_paths_are_left_alone(tmp_path: Path) -> None:
    assert resolve(str(tmp_path / "a [1].png")) == tmp_path / "a [1].png"
    assert not has_tokens("/textures/wood_diffuse.1001.png")


def test_udim_takes_the_lowest_tile(tmp_path: Path) -> None:
    touch(tmp_path, "wood.1012.png", "wood.1002.png", "wood.1011.png", "other.1001.png")
    assert resolve(str(tmp_path / "wood.<UDIM>.png")) == tmp_path / "wood.1002.png"


def test_uvtile_and_u_v_tokens(tmp_path: Path) -> None:
    touch(tmp_path, "t_u2_v1.tif", "t_u1_v2.tif", "t_u1_v1.tif")
    assert resolve(str(tmp_path / "t_<UVTILE>.tif")) == tmp_path / "t_u1_v1.tif"
    assert resolve(str(tmp_path / "t_u<U>_v<V>.tif")) == tmp_path / "t_u1_v1.tif"


def test_frame_tokens_use_the_frame_and_the_padding_on_disk(tmp_path: Path) -> None:
    touch(tmp_path, "seq.0012.png", "seq.0013.png", "tiles.0012.1001.exr")
    assert resolve(str(tmp_path / "seq.<f>.png"), frame=13) == tmp_path / "seq.0013.png"
    assert resolve(str(tmp_path / "seq.####.png"), frame=12.2) == tmp_path / "seq.0012.png"
    assert resolve(str(tmp_path / "seq.<f4>.png"), frame=12) == tmp_path / "seq.0012.png"
    got = resolve(str(tmp_path / "tiles.<f>.<UDIM>.exr"), frame=12)
    assert got == tmp_path / "tiles.0012.1001.exr"


def test_no_match_names_the_pattern(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"no file matches .*wood\.<UDIM>\.png"):
        resolve(str(tmp_path / "wood.<UDIM>.png"))
    touch(tmp_path, "seq.0012.png")
    with pytest.raises(ImageError, match="at frame 3"):
        resolve(str(tmp_path / "seq.<f>.png"), frame=3)
