"""The index across processes: a killed run keeps its batches; readers never see half a batch."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from xception_maya.library import Library, Model
from xception_maya.manifest import Manifest

ROOT = Path(__file__).resolve().parent.parent
COUNT = 120


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory, samples: list[Path]) -> Path:
    """COUNT distinct small photos: the samples, shifted and recoloured."""
    folder = tmp_path_factory.mktemp("many")
    for i in range(COUNT):
        with Image.open(samples[i % len(samples)]) as photo:
            small = photo.convert("RGB").resize((96, 96))
        pixels = np.asarray(small, dtype=np.int16)
        pixels = np.roll(pixels, i // len(samples), axis=1) + (i // len(samples))
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(folder / f"{i:03d}.png")
    return folder


def start_index(folder: Path, db: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "xception_maya.cli", "index", str(folder), "--db", str(db)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return int(conn.execute("SELECT count(*) FROM files").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_a_killed_run_keeps_its_batches_and_the_next_finishes(tmp_path: Path, many: Path) -> None:
    db = tmp_path / "lib.db"
    proc = start_index(many, db)
    deadline = time.monotonic() + 120
    while rows(db) == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""

    with Library.open(db, create=False) as library:
        committed = library.counts()
        # Every file row that made it has its features and tags: batches are whole.
        orphans = library.store.db.execute(
            "SELECT count(*) FROM files AS f LEFT JOIN features AS x ON x.content_id = "
            "f.content_id WHERE x.content_id IS NULL"
        ).fetchone()[0]
    assert 0 < committed["files"] < COUNT, committed
    assert orphans == 0 and committed["features"] == committed["files"]

    proc = start_index(many, db)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert f"{committed['files']} unchanged, {COUNT - committed['files']} extracted" in out
    with Library.open(db, create=False) as library:
        assert library.counts()["features"] == COUNT


def test_queries_while_another_process_indexes(tmp_path: Path, many: Path) -> None:
    db = tmp_path / "lib.db"
    manifest = Manifest.load()
    head = manifest.heads[str(manifest.default_head)]
    model = Model(manifest.backbone.sha256, head.preprocessing.size, head.preprocessing.resize)
    proc = start_index(many, db)
    seen: set[int] = set()
    library: Library | None = None
    try:
        while proc.poll() is None:
            if library is None:
                if rows(db) == 0:
                    time.sleep(0.02)
                    continue
                library = Library.open(db, create=False)
            with library.store.read() as conn:
                files = conn.execute("SELECT count(*) FROM files").fetchone()[0]
                whole = conn.execute(
                    "SELECT count(*) FROM files AS f JOIN features AS x ON "
                    "x.content_id = f.content_id JOIN tags AS t ON t.content_id = f.content_id "
                    "AND t.rank = 0"
                ).fetchone()[0]
            assert files == whole  # no file without its features and its top label
            seen.add(files)
            vector = np.ones(2048, np.float32)
            found = library.similar(vector, 5, model)
            assert len(found) == min(5, files)
            assert all(Path(m.path).parent == many for m in found)
            time.sleep(0.05)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        if library is not None:
            library.close()
    assert any(0 < n < COUNT for n in seen), seen  # it did read while the other wrote
    with Library.open(db, create=False) as final:
        assert final.counts()["files"] == COUNT
        assert len(final.similar(np.ones(2048, np.float32), COUNT, model)) == COUNT
