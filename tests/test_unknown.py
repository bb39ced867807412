"""Heads say "unknown" when nothing fits: on real photos, scikit-image's images and textures.

The kitchenware head is rebuilt with its references in a temporary models folder by the
set-up step itself; the kitchen photos are judged held out (each against a model fitted
without it). How the rates move with the threshold is printed by benchmarks/bench_unknown.py,
whose code path the last test runs.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("skimage", reason="scikit-image's sample images (the test extra)")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_unknown  # noqa: E402

from xception_maya import default_model, unknown  # noqa: E402
from xception_maya import manifest as mf  # noqa: E402
from xception_maya.classifier import Classifier, Prediction  # noqa: E402
from xception_maya.convert import install_head  # noqa: E402
from xception_maya.errors import ModelError  # noqa: E402
from xception_maya.heads import REFERENCES, Head  # noqa: E402
from xception_maya.learn import train_head  # noqa: E402

CROPS = 3  # per scikit-image image: 22 whole + 66 crops


@pytest.fixture(scope="module")
def data(models_dir: Path) -> bench_unknown.Data:
    """Features of the 18 sample photos and of the non-kitchen images (the bench's)."""
    return bench_unknown.load(models_dir, CROPS)


@pytest.fixture(scope="module")
def rebuilt(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder whose kitchenware head was given its references by the set-up step."""
    copy = tmp_path_factory.mktemp("unknown") / "models"
    shutil.copytree(models_dir, copy)
    head = Head.load(mf.Manifest.load(copy).verified_head(default_model.HEAD_NAME))
    head.novelty = None  # as `convert` writes it
    install_head(copy, head, make_default=True)
    assert not Head.load(mf.Manifest.load(copy).verified_head("kitchenware")).can_say_unknown
    assert default_model.add_references(copy)
    return copy


def kitchenware(models: Path) -> Head:
    return Head.load(mf.Manifest.load(models).verified_head(default_model.HEAD_NAME))


def test_setup_gives_the_kitchenware_head_references_once(rebuilt: Path) -> None:
    manifest = mf.Manifest.load(rebuilt)
    head = kitchenware(rebuilt)
    assert head.can_say_unknown and head.novelty is not None
    assert head.novelty.references.shape == (18, 2048) and head.novelty.energy is not None
    assert manifest.default_head == "kitchenware" and not manifest.verify()
    before = (rebuilt / mf.MANIFEST).read_bytes()
    assert not default_model.add_references(rebuilt)  # idempotent: nothing rewritten
    default_model.build(rebuilt)  # setup on a current folder changes nothing either
    assert (rebuilt / mf.MANIFEST).read_bytes() == before
    assert sorted(p.name for p in (rebuilt / mf.HEADS_DIR).iterdir()) == [
        Path(manifest.heads["kitchenware"].file).name
    ]


def test_kitchenware_head_says_unknown_on_non_kitchen_images(rebuilt: Path) -> None:
    names, pixels = bench_unknown.non_kitchen(CROPS)
    results = Classifier(models_dir=rebuilt).classify(pixels, top_k=2)
    unknown_rate = np.mean([r.unknown for r in results])
    assert unknown_rate >= 0.8, f"only {unknown_rate:.0%} unknown"
    by_name = dict(zip(names, results, strict=True))
    # The examples: brick -> fork 0.40, a page of text -> knife 0.94, a horse -> knife.
    for name in ("brick", "text", "horse", "grass"):
        r = by_name[name]
        assert r.unknown and r.shown_label == "unknown" and r.labels[0] != "unknown"
        assert r.confidence is not None and 0 <= r.confidence < 0.5
        record = r.record()
        assert record["unknown"] is True and record["labels"] == r.labels
        assert json.loads(json.dumps(record))["confidence"] == round(r.confidence, 6)


def test_kitchen_photos_keep_their_label_held_out(
    rebuilt: Path, data: bench_unknown.Data, samples: list[Path]
) -> None:
    head = kitchenware(rebuilt)
    confidence = unknown.leave_one_out_confidence(data.kitchen, logits=head.logits(data.kitchen))
    tops = [head.labels[i] for i in head.scores(data.kitchen).argmax(axis=1)]
    kept = [
        unknown.is_known(c) and t == label
        for c, t, label in zip(confidence, tops, data.kitchen_labels, strict=True)
    ]
    assert sum(kept) >= 17, f"{sum(kept)} of 18 kept"
    # Not held out, every sample photo is known, through the whole pipeline.
    results = Classifier(models_dir=rebuilt).classify(samples)
    assert all(not r.unknown and r.shown_label == r.labels[0] for r in results)
    assert all(r.confidence is not None and r.confidence > 0.5 for r in results)


def test_a_learned_head_says_unknown_far_from_its_examples(
    data: bench_unknown.Data, tmp_path: Path
) -> None:
    head = train_head(
        data.kitchen, data.kitchen_labels, name="kitchen", input_size=150, resize="nearest"
    )
    assert head.can_say_unknown and head.novelty is not None and head.novelty.energy is None
    head = Head.load(head.save(tmp_path / "kitchen.npz"))
    assert head.novelty is not None and head.novelty.references.shape == (18, 2048)
    far = [data.other_names.index(n) for n in ("grass", "gravel", "brick", "text", "moon")]
    assert not head.known(data.other[far]).any()
    assert head.known(data.kitchen).all()  # its own examples
    held_out = unknown.leave_one_out_confidence(data.kitchen)  # kNN alone, as learn fits it
    assert sum(unknown.is_known(c) for c in held_out) >= 17
    # The rule learn documents: the references' held-out 5% quantile less a quarter spread.
    scores = head.novelty.knn.z(
        unknown.leave_one_out_similarity(head.novelty.references, head.novelty.k)
    )
    assert head.novelty.threshold == pytest.approx(np.quantile(scores, 0.05) - 0.25)


def test_old_heads_never_say_unknown(rebuilt: Path, tmp_path: Path) -> None:
    old = kitchenware(rebuilt)
    old.novelty = None
    path = old.save(tmp_path / "old.npz")
    with zipfile.ZipFile(path) as archive:
        assert f"{REFERENCES}.npy" not in archive.namelist()
    brick = bench_unknown.skimage_image("brick")
    (result,) = Classifier(path, models_dir=rebuilt).classify([brick])
    assert not Head.load(path).can_say_unknown
    assert not result.unknown and result.confidence is None
    assert result.shown_label == result.labels[0] == "fork"
    record = result.record()
    assert record["unknown"] is False and record["confidence"] is None


def test_no_head_and_errors_are_not_unknown(
    rebuilt: Path, tmp_path: Path, samples: list[Path]
) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    (features_only,) = Classifier("none", models_dir=rebuilt).classify(samples[:1])
    assert features_only.features is not None
    (failed,) = Classifier(models_dir=rebuilt).classify([broken])
    assert failed.error is not None
    for r in (features_only, failed):
        assert not r.unknown and r.confidence is None and r.shown_label is None
    assert Prediction("a", ["cup"], [0.9], [0], unknown=True).shown_label == "unknown"


def test_head_file_round_trips_without_pickle(rebuilt: Path, tmp_path: Path) -> None:
    head = kitchenware(rebuilt)
    assert head.novelty is not None
    path = head.save(tmp_path / "kitchenware.npz")
    with np.load(path, allow_pickle=False) as f:
        assert f[REFERENCES].dtype == np.float16 and f[REFERENCES].shape == (18, 2048)
        meta = json.loads(str(f["meta"]))
    assert meta["novelty"]["method"] == "knn-cosine+energy" and meta["novelty"]["references"] == 18
    again = Head.load(path)
    assert again.novelty is not None
    np.testing.assert_array_equal(again.novelty.references, head.novelty.references)
    assert again.novelty.meta() == head.novelty.meta()
    assert "novelty" not in again.extra
    x = np.random.default_rng(0).uniform(0, 1, (4, 2048)).astype(np.float32)
    np.testing.assert_array_equal(again.confidence(x), head.confidence(x))


def rewrite(path: Path, out: Path, **changes: Any) -> Path:
    """The head file with arrays replaced (None: removed) and ``novelty_meta`` patched."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))
    meta["novelty"] = {**meta["novelty"], **changes.pop("novelty_meta", {})}
    if changes.pop("drop_meta", False):
        del meta["novelty"]
    arrays["meta"] = np.array(json.dumps(meta))
    for name, value in changes.items():
        if value is None:
            arrays.pop(name)
        else:
            arrays[name] = value
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    out.write_bytes(buffer.getvalue())
    return out


def test_head_load_checks_the_references(
    rebuilt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = kitchenware(rebuilt).save(tmp_path / "good.npz")
    refs = np.load(good, allow_pickle=False)[REFERENCES]
    nan = refs.copy()
    nan[3, 7] = np.nan
    cases: list[tuple[dict[str, Any], str]] = [
        ({REFERENCES: refs[:, :100]}, "expected (n, 2048)"),
        ({REFERENCES: refs[0]}, "expected (n, 2048)"),
        ({REFERENCES: nan}, "NaN or infinite"),
        ({REFERENCES: refs[:5]}, "reference_0 holds 5"),
        ({REFERENCES: None}, "no reference_0"),
        ({"drop_meta": True}, "no meta 'novelty'"),
        ({"novelty_meta": {"threshold": "low"}}, "'threshold' must be a finite number"),
        ({"novelty_meta": {"k": 18}}, "k 18 must be 1 to 17"),
        ({"novelty_meta": {"method": "magic"}}, "is not one of"),
        ({"novelty_meta": {"energy": None}}, "'energy' must be given exactly"),
        ({"novelty_meta": {"knn": {"mean": 0.5, "std": 0}}}, "must be positive"),
    ]
    for i, (changes, message) in enumerate(cases):
        bad = rewrite(good, tmp_path / f"bad{i}.npz", **changes)
        with pytest.raises(ModelError, match=re.escape(message)) as caught:
            Head.load(bad)
        assert str(bad) in str(caught.value) and "\n" not in str(caught.value)
    monkeypatch.setattr(unknown, "MAX_HEAD_REFERENCES", 10)
    with pytest.raises(ModelError, match="18 references; 2 to 10 allowed"):
        Head.load(good)


def test_bench_unknown_prints_the_curve(
    models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench_unknown.main(["--crops", str(CROPS), "--models", str(models_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CPU: ") and "cores; flags:" in out.splitlines()[0]
    kitchen_table = out.split("kitchenware head (kNN")[1].split("\n\n")[0]
    chosen = [line for line in kitchen_table.splitlines() if "<- chosen" in line]
    assert len(chosen) == 1
    cells = [c.strip() for c in chosen[0].split("|")]
    assert float(cells[0]) == unknown.MARGIN
    kept, unknown_rate = float(cells[2].rstrip("%")), float(cells[3].rstrip("%"))
    assert kept >= 100 * 17 / 18 - 0.05 and unknown_rate >= 80
