"""ImageNet's 1000 classes from inside Maya: the Settings window's and installer's download."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
from maya_session import IS_EMULATION, Session

# The local HTTP server and the generated weights file of the core's ImageNet tests.
from test_imagenet import Origin, Serve, imagenet_h5, no_proxy_from_outside, serve  # noqa: F401

from xception_maya import manifest as mf
from xception_maya.maya import imagenet_download


@pytest.fixture
def models(models_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "models"
    shutil.copytree(
        models_dir, out, ignore=lambda d, names: ["samples"] if d == str(models_dir) else []
    )
    return out


def test_the_download_shows_progress_and_installs_imagenet(
    maya: Session,
    models: Path,
    tmp_path: Path,
    serve: Serve,
    imagenet_h5: bytes,
) -> None:
    origin = Origin(files={"/x.h5": imagenet_h5})
    serve(origin)
    md5 = hashlib.md5(imagenet_h5).hexdigest()
    with maya.interactive():
        line = imagenet_download.download_imagenet(
            models, url=origin.url + "/x.h5", file_hash=md5, cache_dir=tmp_path / "cache"
        )
    assert line.startswith("installed head 'imagenet' (1000 classes)")
    manifest = mf.Manifest.load(models)
    assert manifest.default_head == "imagenet" and len(manifest.heads["imagenet"].labels) == 1000
    again = imagenet_download.download_imagenet(
        models, url=origin.url + "/x.h5", file_hash=md5, cache_dir=tmp_path / "cache"
    )
    assert "already installed" in again


@pytest.mark.skipif(not IS_EMULATION, reason="stopping needs a person pressing Esc")
def test_esc_stops_and_the_next_start_resumes(
    maya: Session,
    models: Path,
    tmp_path: Path,
    serve: Serve,
    imagenet_h5: bytes,
) -> None:
    from maya import _emulation  # type: ignore[attr-defined]  # the emulation's own controls

    origin = Origin(files={"/x.h5": imagenet_h5})
    serve(origin)
    md5 = hashlib.md5(imagenet_h5).hexdigest()
    cache = tmp_path / "cache"
    with maya.interactive():
        _emulation.simulate_cancel_after(3)
        with pytest.raises(imagenet_download.Stopped, match="run it again to resume"):
            imagenet_download.download_imagenet(
                models, url=origin.url + "/x.h5", file_hash=md5, cache_dir=tmp_path / "cache"
            )
        _emulation.simulate_cancel_after(None)
        assert list(cache.glob("*.partial")), "what was downloaded is kept"
        assert "imagenet" not in mf.Manifest.load(models).heads, "nothing half installed"
        imagenet_download.download_imagenet(
            models, url=origin.url + "/x.h5", file_hash=md5, cache_dir=tmp_path / "cache"
        )
    assert any(wanted for _, wanted in origin.requests), "resumed with a Range request"
    assert mf.Manifest.load(models).default_head == "imagenet"
