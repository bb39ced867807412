from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from xception_maya.errors import ImageError, ModelError
from xception_maya.heads import Head
from xception_maya.learn import (
    evaluate_holdout,
    learn_from_folders,
    leave_one_out,
    train_head,
)

TAGS = ["brick", "metal", "wood"]


def clustered(per_tag: int, seed: int, tags: list[str] = TAGS) -> tuple[np.ndarray, list[str]]:
    """Non-negative features (like pooled ReLUs) around one far-apart mean per tag."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(100).uniform(0, 2, size=(len(tags), 2048))
    rows, labels = [], []
    for i, tag in enumerate(tags):
        rows.append(np.maximum(centres[i] + rng.normal(0, 0.5, size=(per_tag, 2048)), 0))
        labels += [tag] * per_tag
    return np.concatenate(rows).astype(np.float32), labels


def train(features: np.ndarray, labels: list[str], *, holdout: bool = True, seed: int = 0) -> Head:
    return train_head(
        features,
        labels,
        name="materials",
        input_size=150,
        resize="nearest",
        holdout=holdout,
        seed=seed,
    )


def test_separable_tags_are_all_right_on_new_examples() -> None:
    features, labels = clustered(per_tag=8, seed=0)
    head = train(features, labels)
    assert head.labels == TAGS
    assert head.activations == ["linear"]
    assert len(head.kernels) == 1 and head.kernels[0].shape == (2048, 3)

    new_features, new_labels = clustered(per_tag=20, seed=1)
    scores = head.scores(new_features)
    assert scores.shape == (60, 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-5)
    predicted = [head.labels[i] for i in scores.argmax(axis=1)]
    assert predicted == new_labels
    assert head.extra["kind"] == "learned"
    assert head.extra["trained_on"] == 24
    assert head.extra["examples_per_tag"] == {"brick": 8, "metal": 8, "wood": 8}
    assert head.extra["holdout_accuracy"] == 1.0
    assert head.extra["holdout_scheme"] == "leave-one-out"


def test_standardisation_is_folded_into_one_dense_layer() -> None:
    # Features with a large offset and scale: the saved kernel must work on raw features.
    features, labels = clustered(per_tag=6, seed=2)
    shifted = features * 40 + 300
    head = train(shifted, labels, holdout=False)
    new_features, new_labels = clustered(per_tag=10, seed=3)
    predicted = [head.labels[i] for i in head.scores(new_features * 40 + 300).argmax(axis=1)]
    assert predicted == new_labels
    assert head.extra["holdout_accuracy"] is None


@pytest.mark.parametrize(
    ("labels", "message"),
    [(["wood"] * 4, "need at least two tags to tell apart; got only 'wood'"), ([], "got none")],
)
def test_fewer_than_two_tags_is_refused(labels: list[str], message: str) -> None:
    features = np.ones((len(labels), 2048), np.float32)
    with pytest.raises(ModelError, match=message):
        train(features, labels)


def test_mismatched_inputs_are_refused() -> None:
    features, labels = clustered(per_tag=2, seed=0)
    with pytest.raises(ModelError, match="6 feature rows but 5 labels"):
        train(features, labels[:5])
    with pytest.raises(ModelError, match=r"\(N, 2048\)"):
        train(features[:, :100], labels)
    with pytest.raises(ModelError, match="resize"):
        train_head(features, labels, name="x", input_size=150, resize="box")


def test_save_and_load_give_identical_scores(tmp_path: Path) -> None:
    features, labels = clustered(per_tag=5, seed=4)
    head = train(features, labels)
    loaded = Head.load(head.save(tmp_path / "materials.npz"))
    assert loaded.labels == head.labels
    assert loaded.extra == head.extra
    np.testing.assert_array_equal(loaded.scores(features), head.scores(features))


def test_same_seed_gives_same_weights() -> None:
    features, labels = clustered(per_tag=12, seed=5)  # 36 examples: k-fold, shuffled by seed
    first = train(features, labels, seed=7)
    second = train(features, labels, seed=7)
    np.testing.assert_array_equal(first.kernels[0], second.kernels[0])
    np.testing.assert_array_equal(first.biases[0], second.biases[0])
    assert first.extra == second.extra
    assert first.extra["holdout_scheme"] == "k-fold"


def test_holdout_scheme_follows_the_number_of_examples() -> None:
    few, few_labels = clustered(per_tag=10, seed=6)  # 30 examples
    result = evaluate_holdout(few, few_labels)
    assert (result["scheme"], result["folds"], result["accuracy"]) == ("leave-one-out", 30, 1.0)
    assert result["predictions"] == few_labels
    assert result["per_tag"] == {"brick": 1.0, "metal": 1.0, "wood": 1.0}

    many, many_labels = clustered(per_tag=20, seed=6)
    many_labels[:17] = ["moss"] * 17  # fewest examples of a tag: 3 -> 3 folds
    result = evaluate_holdout(many, many_labels)
    assert (result["scheme"], result["folds"]) == ("k-fold", 3)

    single = [*few_labels[:-1], "glass"]
    result = evaluate_holdout(few, single)
    assert result["accuracy"] is None
    assert "'glass' has a single example" in result["reason"]


def test_leave_one_out_finds_the_example_that_looks_like_another_tag() -> None:
    features, labels = clustered(per_tag=6, seed=8)
    # A "wood" example that really looks like metal: leave-one-out must call it metal.
    other_metal = clustered(per_tag=1, seed=9)[0][1]
    features[-1] = other_metal
    accuracy, predictions = leave_one_out(features, labels)
    assert predictions[-1] == "metal"
    assert predictions[:-1] == labels[:-1]
    assert accuracy == pytest.approx(17 / 18)


def test_ten_tags_of_a_hundred_examples() -> None:
    # How long this takes is measured by benchmarks/bench_learn.py, not asserted here.
    tags = [f"tag{i}" for i in range(10)]
    features, labels = clustered(per_tag=100, seed=9, tags=tags)
    head = train(features, labels, holdout=False)
    assert head.num_classes == 10
    guesses = [head.labels[i] for i in head.scores(features).argmax(1)]
    assert guesses == list(labels)


def write_examples(root: Path) -> None:
    for tag in ("metal", "wood"):
        (root / tag / "more").mkdir(parents=True)
        for i in range(3):
            (root / tag / f"{i}.png").write_bytes(b"ok")
        (root / tag / "more" / "deep.jpg").write_bytes(b"ok")
        (root / tag / "notes.txt").write_text("not an image")
    (root / "wood" / "broken.jpg").write_bytes(b"corrupt")
    (root / "loose.png").write_bytes(b"ok")


def fake_extract(paths: list[Path]) -> np.ndarray:
    """Reads the fake images: 'ok' files give features by their tag, anything else fails."""
    rows = []
    for path in paths:
        if path.read_bytes() != b"ok":
            raise ImageError(f"cannot decode {path.name}")
        level = 1.0 if "wood" in path.parts else 2.0
        rng = np.random.default_rng(zlib.crc32(str(path).encode()))
        rows.append(level + rng.normal(0, 0.1, 2048))
    return np.array(rows, dtype=np.float32)


def test_learn_from_folders_reports_unreadable_images(tmp_path: Path) -> None:
    write_examples(tmp_path / "materials")
    head = learn_from_folders(
        tmp_path / "materials", fake_extract, input_size=150, resize="nearest", batch_size=2
    )
    assert head.name == "materials"
    assert head.labels == ["metal", "wood"]
    # Recursive: the image in more/ counts; notes.txt is no image.
    assert head.extra["examples_per_tag"] == {"metal": 4, "wood": 4}
    skipped = {Path(s["image"]).name: s["reason"] for s in head.extra["skipped"]}
    assert skipped == {
        "broken.jpg": "cannot decode broken.jpg",
        "loose.png": "not inside a tag folder",
    }
    wood = fake_extract([tmp_path / "materials" / "wood" / "0.png"])
    assert head.labels[int(head.scores(wood).argmax())] == "wood"


def test_learn_from_folders_refuses_a_tag_without_readable_images(tmp_path: Path) -> None:
    write_examples(tmp_path)
    for path in (tmp_path / "metal").rglob("*.*g"):
        path.write_bytes(b"corrupt")
    with pytest.raises(ImageError, match="no image of tag 'metal' could be read"):
        learn_from_folders(tmp_path, fake_extract, input_size=150, resize="nearest")


def test_learn_from_folders_needs_two_tag_folders(tmp_path: Path) -> None:
    (tmp_path / "wood").mkdir()
    with pytest.raises(ModelError, match="at least two; found 'wood'"):
        learn_from_folders(tmp_path, fake_extract, input_size=150, resize="nearest")
