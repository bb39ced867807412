"""``index --ray`` on a local Ray gives the same rows as a local ``index``."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from xception_maya.cache import FeatureCache
from xception_maya.classifier import Classifier
from xception_maya.library import Library, Model
from xception_maya.library.scan import index_folders, local_extractor

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def table(library: Library) -> list[tuple[object, ...]]:
    return library.store.db.execute(
        "SELECT f.path, f.size, f.error, c.hash, c.width, c.height, x.vector FROM files AS f "
        "LEFT JOIN contents AS c ON c.id = f.content_id LEFT JOIN features AS x ON "
        "x.content_id = c.id ORDER BY f.path"
    ).fetchall()


def tags(library: Library) -> list[tuple[object, ...]]:
    return library.store.db.execute(
        "SELECT f.path, t.rank, t.label FROM tags AS t JOIN files AS f ON "
        "f.content_id = t.content_id ORDER BY f.path, t.rank"
    ).fetchall()


def test_ray_gives_the_same_rows_as_local(
    local_ray: None, tmp_path: Path, samples: list[Path], models_dir: Path
) -> None:
    from xception_maya.library.ray_index import RayExtractor

    folder = tmp_path / "tex"
    folder.mkdir()
    for p in samples:
        shutil.copy(p, folder / p.name)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    classifier = Classifier(models_dir=models_dir, cache=FeatureCache(1 << 20))
    model = Model(str(classifier.manifest.backbone.sha256), classifier.size, classifier.resize)
    with Library.open(tmp_path / "local.db") as local, Library.open(tmp_path / "ray.db") as on_ray:
        index_folders(local, [folder], model, local_extractor(classifier), head=classifier.head)
        extractor = RayExtractor(None, models_dir, model, batch_size=classifier.batch_size)
        runs = classifier.engine.runs
        report = index_folders(on_ray, [folder], model, extractor, head=classifier.head)
        assert classifier.engine.runs == runs  # the driver ran no network: the actors did
        assert report.extracted == len(samples) and len(report.failed) == 1
        mine, theirs = table(local), table(on_ray)
        assert [r[:6] for r in mine] == [r[:6] for r in theirs]
        for a, b in zip(mine, theirs, strict=True):
            if a[6] is None:
                assert b[6] is None
                continue
            fa = np.frombuffer(a[6], np.float16).astype(np.float32)  # type: ignore[arg-type]
            fb = np.frombuffer(b[6], np.float16).astype(np.float32)  # type: ignore[arg-type]
            assert np.allclose(fa, fb, rtol=2e-3, atol=1e-3)
        assert tags(local) == tags(on_ray)
