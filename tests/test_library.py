"""The library index: incremental updates, content reuse, models kept apart, bad files, search."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from xception_maya import cli
from xception_maya.cache import FeatureCache
from xception_maya.classifier import Classifier
from xception_maya.library import Library, LibraryError, Model
from xception_maya.library.scan import index_folders, local_extractor
from xception_maya.library.search import Searcher
from xception_maya.library.store import SCHEMA_VERSION
from xception_maya.library.text import matching_labels
from xception_maya.similarity import cosine_similarity


@pytest.fixture
def classifier(models_dir: Path) -> Classifier:
    # batch_size 1: each image extracted is one engine run, so runs count images.
    return Classifier(models_dir=models_dir, batch_size=1, cache=FeatureCache(1 << 20))


def model_of(classifier: Classifier) -> Model:
    sha = str(classifier.manifest.backbone.sha256)
    return Model(sha, classifier.size, classifier.resize)


def copy_samples(samples: list[Path], folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(p, folder / p.name)) for p in samples[:count]]


def run_index(library: Library, folder: Path, classifier: Classifier):  # type: ignore[no-untyped-def]
    before = classifier.engine.runs
    report = index_folders(
        library, [folder], model_of(classifier), local_extractor(classifier), head=classifier.head
    )
    return report, classifier.engine.runs - before


def test_changes_reextract_exactly_the_changed_files(
    tmp_path: Path, samples: list[Path], classifier: Classifier
) -> None:
    folder = tmp_path / "tex"
    files = copy_samples(samples, folder, 6)
    (folder / "notes.txt").write_text("not an image")
    model = model_of(classifier)
    with Library.open(tmp_path / "lib.db") as library:
        report, runs = run_index(library, folder, classifier)
        assert (report.found, report.extracted, runs, report.failed) == (6, 6, 6, [])
        renamed_features = library.features_for(files[2], model)
        assert renamed_features is not None

        report, runs = run_index(library, folder, classifier)  # nothing changed
        assert (report.unchanged, report.extracted, runs) == (6, 0, 0)

        changed, deleted, renamed, original = files[0], files[1], files[2], files[3]
        changed.write_bytes(samples[10].read_bytes())  # other bytes, new mtime
        os.utime(changed, ns=(10**18, 10**18))
        deleted.unlink()
        renamed_to = renamed.rename(folder / "renamed.jpg")
        duplicate = Path(shutil.copy(original, folder / "dup.jpg"))
        report, runs = run_index(library, folder, classifier)

        assert runs == 1 and report.extracted == 1, (
            report
        )  # only the changed file went to the network
        assert report.reused == 2  # the renamed file and the duplicate, by content
        assert report.pruned == 2  # the deleted file and the renamed file's old path
        assert report.unchanged == 3
        kept = library.features_for(renamed_to, model)
        assert kept is not None and np.array_equal(kept, renamed_features)
        assert library.features_for(deleted, model) is None
        paths = {r[0] for r in library.store.db.execute("SELECT path FROM files")}
        assert str(deleted.resolve()) not in paths and str(renamed.resolve()) not in paths
        assert str(duplicate.resolve()) in paths
        dup, orig = library.features_for(duplicate, model), library.features_for(original, model)
        assert dup is not None and orig is not None and np.array_equal(dup, orig)
        new = library.features_for(changed, model)
        assert new is not None and not np.array_equal(new, library.features_for(files[4], model))
        # Deleted content is gone with its features: one content per distinct file left.
        counts = library.counts()
        assert counts["files"] == 6 and counts["contents"] == 5 and counts["features"] == 5


def test_unreadable_files_are_recorded_with_their_reason(
    tmp_path: Path, samples: list[Path], classifier: Classifier
) -> None:
    folder = tmp_path / "tex"
    copy_samples(samples, folder, 2)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "empty.jpg").write_bytes(b"")
    with Library.open(tmp_path / "lib.db") as library:
        report, _ = run_index(library, folder, classifier)
        failed = dict(report.failed)
        assert set(failed) == {str(folder / "broken.png"), str(folder / "empty.jpg")}
        assert "empty file" in failed[str(folder / "empty.jpg")]
        assert report.extracted == 2
        report, runs = run_index(library, folder, classifier)  # listed again, not retried
        assert runs == 0 and len(report.failed) == 2


def test_features_of_another_backbone_are_not_used(
    tmp_path: Path, samples: list[Path], classifier: Classifier
) -> None:
    folder = tmp_path / "tex"
    files = copy_samples(samples, folder, 3)
    other = Model("0" * 64, classifier.size, classifier.resize)

    def fake(paths):  # type: ignore[no-untyped-def]
        for i, _ in enumerate(paths):
            yield i, np.full(2048, 1.0, np.float32)

    with Library.open(tmp_path / "lib.db") as library:
        index_folders(library, [folder], other, fake)
        assert library.features_for(files[0], other) is not None
        assert library.features_for(files[0], model_of(classifier)) is None
        assert library.similar(np.ones(2048, np.float32), 3, model_of(classifier)) == []
        report, runs = run_index(library, folder, classifier)
        assert report.extracted == 3 and runs == 3  # nothing borrowed from the other model
        mine = library.features_for(files[0], model_of(classifier))
        assert mine is not None and not np.allclose(mine, 1.0)
        theirs = library.features_for(files[0], other)
        assert theirs is not None and np.allclose(theirs, 1.0)  # and theirs kept apart


def test_a_foreign_corrupt_or_newer_file_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is a text file, not a database\n" * 100)
    with pytest.raises(LibraryError, match="not an SQLite database"):
        Library.open(garbage)

    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE songs (title TEXT)")
    with pytest.raises(LibraryError, match="another program"):
        Library.open(foreign)

    newer = tmp_path / "newer.db"
    Library.open(newer).close()
    with sqlite3.connect(newer) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(LibraryError, match="newer xception-maya"):
        Library.open(newer)

    damaged = tmp_path / "damaged.db"
    Library.open(damaged).close()
    data = bytearray(damaged.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    damaged.write_bytes(bytes(data))
    with pytest.raises(LibraryError, match="damaged"):
        Library.open(damaged)

    for path in (garbage, foreign, newer, damaged):
        before = path.read_bytes()
        assert cli.main(["search", "--db", str(path), "--tag", "cup"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("xception-maya: error:"), err
        assert path.read_bytes() == before  # refused, not written to

    with pytest.raises(LibraryError, match="no library index"):
        Library.open(tmp_path / "missing.db", create=False)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, samples: list[Path]) -> Path:
    folder = tmp_path_factory.mktemp("photos")
    for p in samples:
        shutil.copy(p, folder / p.name)
    db = folder.parent / f"{folder.name}.db"
    assert cli.main(["index", str(folder), "--db", str(db)]) == 0
    return db


def test_search_similar_equals_brute_force(
    indexed: Path, samples: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = indexed.with_suffix("")
    capsys.readouterr()
    query = folder / samples[4].name
    assert (
        cli.main(["search", "--db", str(indexed), "--similar", str(query), "-k", "5", "--json"])
        == 0
    )
    found = json.loads(capsys.readouterr().out)
    with Library.open(indexed, create=False) as library:
        classifier = Classifier()
        model = model_of(classifier)
        ids, features = library.all_features(model)
        paths = library.paths_of(ids)
        q = library.features_for(query, model)
    assert q is not None
    similarity = cosine_similarity(q, features)
    brute = sorted(
        ((float(s), paths[cid][0]) for cid, s in zip(ids, similarity, strict=True)),
        key=lambda t: (-t[0], t[1]),
    )
    brute = [b for b in brute if b[1] != str(query)][:5]
    assert [r["image"] for r in found] == [p for _, p in brute]
    assert np.allclose([r["similarity"] for r in found], [s for s, _ in brute], atol=1e-5)

    # A query image outside the index is extracted on the fly and gives the same answer.
    outside = indexed.parent / "outside.jpg"
    shutil.copy(query, outside)
    assert (
        cli.main(["search", "--db", str(indexed), "--similar", str(outside), "-k", "6", "--json"])
        == 0
    )
    again = json.loads(capsys.readouterr().out)
    assert again[0]["image"] == str(query) and again[0]["similarity"] > 0.9999
    assert [r["image"] for r in again[1:]] == [r["image"] for r in found]


def test_search_by_tag_text_and_retag(indexed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert cli.main(["search", "--db", str(indexed), "--tag", "CUP", "--json"]) == 0
    cups = json.loads(capsys.readouterr().out)
    assert cups and all(r["label"] == "cup" for r in cups)
    assert [r["score"] for r in cups] == sorted((r["score"] for r in cups), reverse=True)
    assert cli.main(["search", "--db", str(indexed), "--text", "cups", "--json"]) == 0
    assert [r["image"] for r in json.loads(capsys.readouterr().out)] == [r["image"] for r in cups]
    assert cli.main(["search", "--db", str(indexed), "--tag", "cup", "--min-score", "2"]) == 1

    with Library.open(indexed, create=False) as library:
        before = {r[0]: r[1:] for r in library.store.db.execute("SELECT * FROM tags")}
        library.store.db.execute("DELETE FROM tags")
    classifier = Classifier()
    runs = classifier.engine.runs
    assert cli.main(["index", "--retag", "--head", "kitchenware", "--db", str(indexed)]) == 0
    assert "re-tagged 18 images" in capsys.readouterr().out
    assert classifier.engine.runs == runs  # not one backbone run
    with Library.open(indexed, create=False) as library:
        after = {r[0]: r[1:] for r in library.store.db.execute("SELECT * FROM tags")}
    assert after.keys() == before.keys()
    assert all(after[k][2] == before[k][2] for k in before)  # the same labels


def test_text_matches_names_and_synonyms() -> None:
    labels = ["tabby", "sports car", "cup", "wine glass", "crane bird"]
    assert matching_labels("tabby cat", labels) == ["tabby"]
    assert matching_labels("sport car", labels) == ["sports car"]
    assert matching_labels("glasses", labels) == ["wine glass"]
    assert matching_labels("Cups", labels) == ["cup"]
    assert matching_labels("car cat", labels) == []


def clustered(n: int, seed: int) -> np.ndarray:
    """Features with few directions that matter, non-negative like pooled ReLU outputs."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, 32)).astype(np.float32) * 2
    latent = centres[rng.integers(0, 40, n)] + rng.standard_normal((n, 32)).astype(np.float32)
    mix = rng.standard_normal((32, 2048)).astype(np.float32)
    return np.maximum(latent @ mix, 0) + 0.05 * rng.random((n, 2048), dtype=np.float32)


def fill(library: Library, vectors: np.ndarray, model: Model, first: int = 0) -> None:
    with library.store.write():
        mid = library.store.model_id(model, create=True)
        assert mid is not None
        for i, v in enumerate(vectors, start=first):
            cid = library.content_id(f"h{i}")
            library.put_features(cid, mid, v)
            library.put_file(f"/lib/{i:06d}.png", 1, 1, cid, None)


def test_approximate_index_recall_against_exact(tmp_path: Path) -> None:
    pytest.importorskip("usearch")
    model = Model("f" * 64, 299, "bilinear")
    vectors = clustered(3000, seed=1)
    queries = clustered(40, seed=2)
    with Library.open(tmp_path / "lib.db") as library:
        fill(library, vectors, model)
        mid = library.model_id(model)
        assert mid is not None
        exact = Searcher(library.store, mid, approximate=False)
        approx = Searcher(library.store, mid, approximate=True)
        recall = [
            len({i for i, _ in exact.nearest(q, 10)} & {i for i, _ in approx.nearest(q, 10)}) / 10
            for q in queries
        ]
        assert np.mean(recall) >= 0.95, np.mean(recall)
        assert exact.mode == "exact" and approx.mode == "approximate"
        # The graph's float16 similarities are those of exact search, to float16's precision.
        for q in queries[:10]:
            truth = dict(exact.nearest(q, 10))
            for cid, similarity in approx.nearest(q, 10):
                if cid in truth:
                    assert similarity == pytest.approx(truth[cid], abs=2e-3)

        assert approx.save_ann()  # the side file round-trips and is updated incrementally
        fill(library, clustered(5, seed=3), model, first=3000)
        reloaded = Searcher(library.store, mid, approximate=True)
        new = clustered(5, seed=3)[2]
        top, similarity = reloaded.nearest(new, 1)[0]
        paths = library.paths_of([top])[top]
        assert paths == ["/lib/003002.png"] and similarity > 0.999
        assert reloaded.count == 3005


def test_top_k_rows_equals_a_stable_argsort_ties_included() -> None:
    from xception_maya.heads import top_k_rows

    rng = np.random.default_rng(0)
    for _ in range(300):
        n, classes = int(rng.integers(1, 40)), int(rng.integers(1, 30))
        k = int(rng.integers(1, classes + 1))
        scores = rng.integers(0, 4, (n, classes)).astype(np.float32)  # many ties
        scores[rng.random(scores.shape) < 0.1] = np.nan  # a broken model's output: last
        want = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(top_k_rows(scores, k), want)


def test_images_no_class_fits_are_tagged_unknown(
    samples: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    skimage_data = pytest.importorskip("skimage.data")
    folder = tmp_path / "lib"
    copy_samples(samples, folder, 3)
    Image.fromarray(skimage_data.brick()).convert("RGB").save(folder / "brick.png")
    db = tmp_path / "lib.db"
    assert cli.main(["index", str(folder), "--db", str(db), "--head", "kitchenware"]) == 0
    capsys.readouterr()
    assert cli.main(["search", "--db", str(db), "--tag", "unknown", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [Path(r["image"]).name for r in found] == ["brick.png"]
    assert 0.5 < found[0]["score"] <= 1.0, "how surely it is unknown"
    assert cli.main(["search", "--db", str(db), "--tag", "cup", "--json"]) == 0
    cups = {Path(r["image"]).name for r in json.loads(capsys.readouterr().out)}
    assert samples[0].name in cups, "a known photo keeps its label"


def test_each_precision_has_index_entries_of_its_own(
    tmp_path: Path, samples: list[Path], models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from xception_maya import precision
    from xception_maya.library import model_for
    from xception_maya.manifest import Manifest

    if precision.int8_variant(Manifest.load(models_dir)) is None:
        pytest.skip("no int8 backbone in this models folder: `make int8` builds it")
    folder = tmp_path / "tex"
    copy_samples(samples, folder, 4)
    db = tmp_path / "lib.db"
    index = ["index", str(folder), "--db", str(db), "--json"]
    assert cli.main(index) == 0
    assert json.loads(capsys.readouterr().out)["extracted"] == 4
    assert cli.main([*index, "--precision", "int8"]) == 0
    int8_run = json.loads(capsys.readouterr().out)
    # The fp32 features are not the int8 engine's: every file is extracted again.
    assert (int8_run["extracted"], int8_run["unchanged"] + int8_run["reused"]) == (4, 0)
    assert cli.main(index) == 0
    assert json.loads(capsys.readouterr().out)["extracted"] == 0  # both are kept

    fp32 = model_for(Classifier(models_dir=models_dir))
    int8 = model_for(Classifier(models_dir=models_dir, precision="int8"))
    # fp32 entries keep the plain sha256 that indexes written before precisions have.
    assert fp32.backbone_sha256 == Manifest.load(models_dir).backbone.sha256
    assert int8.backbone_sha256.startswith(fp32.backbone_sha256 + "/int8/onnxruntime/")
    with Library.open(db, create=False) as library:
        a = library.features_for(folder / samples[0].name, fp32)
        b = library.features_for(folder / samples[0].name, int8)
    assert a is not None and b is not None and not np.array_equal(a, b)
    assert 0.99 <= float(cosine_similarity(a, b[None])[0]) < 1.0

    query = str(folder / samples[1].name)
    search = ["search", "--db", str(db), "--similar", query, "-k", "3", "--json"]
    assert cli.main([*search, "--precision", "int8"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    capsys.readouterr()
    missing = tmp_path / "fp32-only.db"
    assert cli.main(["index", str(folder), "--db", str(missing)]) == 0
    capsys.readouterr()
    assert cli.main([*search[:2], str(missing), *search[3:], "--precision", "int8"]) == 2
    assert "index DIR --precision int8` first" in capsys.readouterr().err


def test_a_ray_actor_refuses_another_precision(models_dir: Path) -> None:
    from xception_maya.library.api import features_id
    from xception_maya.library.ray_index import _Features
    from xception_maya.manifest import Manifest

    sha = str(Manifest.load(models_dir).backbone.sha256)
    assert _Features(str(models_dir), sha, "cpu", "fp32").engine.key == "fp32/onnxruntime"
    with pytest.raises(LibraryError, match="must not mix"):
        _Features(str(models_dir), features_id(sha, "bf16/openvino"), "cpu", "fp32")
    with pytest.raises(LibraryError, match="another backbone"):
        _Features(str(models_dir), "0" * 64, "cpu", "fp32")
