"""The pipeline on the real default model and the wheel's real photos."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from xception_maya import images
from xception_maya.cache import FeatureCache
from xception_maya.classifier import Classifier, top_k
from xception_maya.errors import ModelError
from xception_maya.manifest import Manifest
from xception_maya.registry import resolve_head


@pytest.fixture
def classifier(models_dir: Path) -> Classifier:
    return Classifier(models_dir=models_dir, device="cpu", cache=FeatureCache())


def test_the_labelled_photos_get_their_labels(
    classifier: Classifier, samples: list[Path], sample_labels: dict[str, str]
) -> None:
    labelled = [p for p in samples if p.name in sample_labels]
    results = classifier.classify(labelled, top_k=3)
    assert [r.labels[0] for r in results] == [sample_labels[p.name] for p in labelled]
    for r in results:
        assert r.error is None and len(r.labels) == 3
        assert r.scores == sorted(r.scores, reverse=True) and 0 < r.scores[0] <= 1
        assert r.class_scores is not None and r.class_scores.sum() == pytest.approx(1, abs=1e-5)
        assert r.features is not None and r.features.shape == (2048,)


def test_the_default_head_and_its_preprocessing(classifier: Classifier) -> None:
    assert classifier.head is not None and classifier.head.name == "kitchenware"
    assert classifier.labels == ["cup", "fork", "glass", "knife", "plate", "spoon"]
    assert (classifier.size, classifier.resize) == (150, "nearest")


def test_cached_features_do_not_run_the_network(
    classifier: Classifier, samples: list[Path], tmp_path: Path
) -> None:
    photo = tmp_path / "photo.jpg"
    shutil.copy(samples[0], photo)
    first = classifier.classify([photo])[0]
    runs = classifier.engine.runs
    again = classifier.classify([photo], top_k=1)[0]
    assert classifier.engine.runs == runs, "same file, same settings: read from the cache"
    assert again.labels == first.labels[:1]
    shutil.copy(samples[1], photo)  # new content at the same path
    os.utime(photo, ns=(1, 1))
    changed = classifier.classify([photo])[0]
    assert classifier.engine.runs == runs + 1
    assert not np.array_equal(changed.features, first.features)


def test_a_bad_image_does_not_stop_the_others(
    classifier: Classifier, samples: list[Path], tmp_path: Path
) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(samples[0].read_bytes()[:2000])  # truncated JPEG
    empty = tmp_path / "empty.png"
    empty.touch()
    results = classifier.classify([samples[0], broken, tmp_path / "missing.tif", empty, samples[1]])
    assert [r.error is None for r in results] == [True, False, False, False, True]
    assert "broken.jpg" in (results[1].error or "")
    assert "file not found" in (results[2].error or "")
    assert "empty" in (results[3].error or "")
    assert results[1].labels == [] and results[1].features is None


def test_batches_and_single_images_agree(models_dir: Path, samples: list[Path]) -> None:
    one = Classifier(models_dir=models_dir, device="cpu", cache=FeatureCache(), batch_size=1)
    many = Classifier(models_dir=models_dir, device="cpu", cache=FeatureCache(), batch_size=8)
    a = one.features(samples[:10])
    b = many.features(samples[:10])
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-4)


def test_pixels_give_the_same_features_as_the_file(
    classifier: Classifier, samples: list[Path]
) -> None:
    pixels = images.load_image(samples[2])
    from_file, from_pixels = classifier.features([samples[2], pixels])
    np.testing.assert_allclose(from_file, from_pixels, atol=1e-6)


def test_progress_is_reported_to_the_end(classifier: Classifier, samples: list[Path]) -> None:
    seen: list[tuple[int, int]] = []
    classifier.classify(samples[:5], progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (5, 5) and seen == sorted(seen)


def test_no_head_gives_features_only_at_299(models_dir: Path, samples: list[Path]) -> None:
    clf = Classifier("none", models_dir=models_dir, device="cpu", cache=FeatureCache())
    assert (clf.size, clf.resize, clf.head) == (299, "bilinear", None)
    result = clf.classify(samples[:1])[0]
    assert result.labels == [] and result.features is not None and result.error is None


def test_heads_by_name_by_path_and_unknown(models_dir: Path, tmp_path: Path) -> None:
    manifest = Manifest.load(models_dir)
    by_name = resolve_head("kitchenware", manifest)
    assert by_name is not None
    copy = by_name.save(tmp_path / "mine.npz")
    by_path = resolve_head(str(copy), manifest)
    assert by_path is not None and by_path.labels == by_name.labels
    with pytest.raises(ModelError, match=r"unknown head 'wood'.*kitchenware"):
        resolve_head("wood", manifest)
    with pytest.raises(ModelError, match="head file not found"):
        resolve_head(str(tmp_path / "gone.npz"), manifest)


def test_missing_models_folder_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="make models"):
        Classifier(models_dir=tmp_path)


def test_top_k_is_clamped_and_stable() -> None:
    scores = np.array([0.1, 0.4, 0.4, 0.1])
    assert top_k(scores, 2) == [1, 2]
    assert top_k(scores, 0) == [1]
    assert top_k(scores, 99) == [1, 2, 0, 3]
