"""The library index with imported models (`index --model NAME`): their own labels as tags,
their features (of their own width) apart from Xception's, and the schema 1 -> 2 migration."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_run import one_line, run
from test_import import LABELS, build, weights

from xception_maya import manifest as mf
from xception_maya.cli import main
from xception_maya.imported import ImportedClassifier
from xception_maya.library import Library, Model
from xception_maya.library import store as st
from xception_maya.library.models import for_imported


@pytest.fixture
def models(models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A private models folder with two tiny imported models: "tiny" (6 labels, 4 features)
    and "plain" (labels only)."""
    out = tmp_path / "models"
    out.mkdir()
    for path in models_dir.iterdir():
        if path.is_file() and path.suffix == ".onnx":
            os.link(path, out / path.name)
        elif path.is_file():
            shutil.copy2(path, out / path.name)
        elif path.name == mf.HEADS_DIR:
            shutil.copytree(path, out / path.name)
    labels = tmp_path / "labels.txt"
    labels.write_text("\n".join(LABELS) + "\n")
    tiny = build(tmp_path / "tiny.onnx", weights(seed=0))
    plain = build(tmp_path / "plain.onnx", weights(seed=2), features=False)
    for onnx_file, extra in ((tiny, ["--features", "feat"]), (plain, [])):
        args = ["import", str(onnx_file), "--labels", str(labels), "--size", "64", "64", *extra]
        assert main([*args, "--models", str(out)]) == 0
    capsys.readouterr()
    return out


@pytest.fixture
def folder(tmp_path: Path, samples: list[Path]) -> Path:
    out = tmp_path / "tex"
    out.mkdir()
    for photo in samples[:8]:
        shutil.copy2(photo, out / photo.name)
    return out


def index(
    capsys: pytest.CaptureFixture[str], folder: Path, db: Path, models: Path, *extra: str
) -> dict[str, Any]:
    code, out, err = run(
        ["index", str(folder), "--db", str(db), "--models", str(models), "--json", *extra], capsys
    )
    assert code == 0, err
    summary: dict[str, Any] = json.loads(out)
    return summary


def classify(capsys: pytest.CaptureFixture[str], models: Path, files: list[Path]) -> list[Any]:
    code, out, err = run(
        ["classify", "--model", "tiny", "--json", "--features", "--models", str(models)]
        + [str(f) for f in files],
        capsys,
    )
    assert code == 0, err
    records: list[Any] = json.loads(out)
    return records


def test_index_with_an_imported_model(
    models: Path, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "lib.db"
    files = sorted(folder.iterdir())
    summary = index(capsys, folder, db, models, "--model", "tiny")
    assert summary["head"] == "model:tiny" and summary["extracted"] == len(files)

    records = classify(capsys, models, files)
    tiny, _ = for_imported(ImportedClassifier("tiny", models_dir=models))
    assert tiny.dim == 4 and tiny.backbone_sha256 == mf.Manifest.load(models).models["tiny"].sha256
    with Library.open(db, create=False) as library:
        for f, record in zip(files, records, strict=True):
            tags = library.tags_for(f, "model:tiny")["model:tiny"]
            assert [label for label, _ in tags] == record["labels"]
            assert np.allclose([s for _, s in tags], record["scores"], atol=1e-6)
            stored = library.features_for(f, tiny)
            assert stored is not None and stored.shape == (4,)
            assert np.allclose(stored, record["features"], rtol=1e-3, atol=1e-4)  # float16
        ids, vectors = library.all_features(tiny)
        paths = library.paths_of(ids)

    # --tag finds exactly the images whose top labels hold it (by --head or by --model).
    label = records[0]["labels"][0]
    want = sorted(str(f) for f, r in zip(files, records, strict=True) if label in r["labels"])
    for how in (["--head", "model:tiny"], ["--model", "tiny", "--models", str(models)]):
        code, out, err = run(["search", "--db", str(db), "--tag", label, "--json", *how], capsys)
        assert code == 0, err
        found = json.loads(out)
        assert sorted(r["image"] for r in found) == want
        assert {r["head"] for r in found} == {"model:tiny"}

    # --similar --model: brute-force cosine over the model's stored features.
    query = files[0]
    code, out, err = run(
        [
            "search",
            "--db",
            str(db),
            "--similar",
            str(query),
            "--model",
            "tiny",
            "-k",
            "5",
            "--json",
            "--exact",
            "--models",
            str(models),
        ],
        capsys,
    )
    assert code == 0, err
    got = json.loads(out)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    q = unit[[str(query) in paths[i] for i in ids].index(True)]
    others = [
        (float(unit[j] @ q), paths[i][0]) for j, i in enumerate(ids) if paths[i] != [str(query)]
    ]
    brute = sorted(others, key=lambda t: (-t[0], t[1]))[:5]
    assert [r["image"] for r in got] == [p for _, p in brute]
    assert np.allclose([r["similarity"] for r in got], [s for s, _ in brute], atol=1e-5)

    # Xception's features of the same files: 2048 wide, their own rows; nothing of tiny's moves.
    index(capsys, folder, db, models, "--head", "none")
    with Library.open(db, create=False) as library:
        xception = Model(mf.Manifest.load(models).backbone.sha256, 299, "bilinear")
        mine = library.features_for(files[0], xception)
        assert mine is not None and mine.shape == (2048,)
        assert np.array_equal(library.all_features(tiny)[1], vectors)
        assert library.model_id(xception) != library.model_id(tiny)
        assert library.tags_for(files[0], "model:tiny")["model:tiny"] == tags_of(records[0])
        dims = library.store.db.execute("SELECT dim FROM models ORDER BY dim").fetchall()
        assert [d for (d,) in dims] == [4, 2048]
    again = index(capsys, folder, db, models, "--model", "tiny")
    assert (again["unchanged"], again["extracted"]) == (len(files), 0)


def tags_of(record: dict[str, Any]) -> list[tuple[str, Any]]:
    pairs = zip(record["labels"], record["scores"], strict=True)
    return [(label, pytest.approx(score, abs=1e-6)) for label, score in pairs]


def test_a_model_without_features_stores_tags_only(
    models: Path, folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "lib.db"
    files = sorted(folder.iterdir())
    summary = index(capsys, folder, db, models, "--model", "plain")
    assert summary["extracted"] == len(files) and summary["failed"] == []
    with Library.open(db, create=False) as library:
        assert library.counts()["features"] == 0
        assert library.counts()["tags"] == len(files) * 5
        first = library.tags_for(files[0], "model:plain")["model:plain"]
    code, out, err = run(
        ["classify", "--model", "plain", "--json", "--models", str(models), str(files[0])], capsys
    )
    assert code == 0, err
    assert [label for label, _ in first] == json.loads(out)[0]["labels"]
    again = index(capsys, folder, db, models, "--model", "plain")
    assert (again["unchanged"], again["extracted"]) == (len(files), 0)

    code, _, err = run(
        [
            "search",
            "--db",
            str(db),
            "--similar",
            str(files[0]),
            "--model",
            "plain",
            "--models",
            str(models),
        ],
        capsys,
    )
    assert code != 0 and "no features output" in one_line(err)
    code, _, err = run(
        ["index", "--retag", "--model", "tiny", "--db", str(db), "--models", str(models)], capsys
    )
    assert code != 0 and "has its own labels" in one_line(err)
    code, _, err = run(
        [
            "index",
            str(folder),
            "--model",
            "tiny",
            "--head",
            "kitchenware",
            "--db",
            str(db),
            "--models",
            str(models),
        ],
        capsys,
    )
    assert code != 0 and "own labels" in one_line(err)


def test_a_schema_1_index_opens_and_migrates(tmp_path: Path, samples: list[Path]) -> None:
    """A v1 file built with the v1 schema, as xception-maya 1 wrote it: its Xception features
    read back unchanged, its models get dim 2048, and the file is at version 2."""
    db_path = tmp_path / "v1.db"
    photo = tmp_path / samples[0].name
    shutil.copy2(samples[0], photo)
    vector = np.random.default_rng(3).normal(size=2048).astype(np.float16)
    info = photo.stat()
    with sqlite3.connect(db_path) as db:
        db.executescript(st.MIGRATIONS[0])
        db.execute("INSERT INTO meta VALUES ('format', 'xception-maya-library'), ('id', 'x')")
        db.execute("INSERT INTO models VALUES (1, ?, 299, 'bilinear', '')", ("a" * 64,))
        db.execute("INSERT INTO contents VALUES (1, ?, 10, 10)", (st.content_hash(photo),))
        db.execute(
            "INSERT INTO files VALUES (1, ?, ?, ?, 1, NULL)",
            (str(photo.resolve()), info.st_size, info.st_mtime_ns),
        )
        db.execute("INSERT INTO features VALUES (1, 1, 1, ?)", (vector.tobytes(),))
        db.execute(f"PRAGMA application_id = {st.APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
    db.close()
    with Library.open(db_path, create=False) as library:
        assert library.store.db.execute("PRAGMA user_version").fetchone()[0] == 2
        model = Model("a" * 64, 299, "bilinear")
        got = library.features_for(photo, model)
        assert got is not None and np.array_equal(got, vector.astype(np.float32))
        assert library.store.model_dim(1) == 2048
        assert library.similar(got, 1, model)[0].path == str(photo.resolve())
