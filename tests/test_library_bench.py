"""benchmarks/bench_index.py's code paths at small sizes give real results."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from xception_maya.classifier import Classifier
from xception_maya.library import Model

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_index.py"


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_index", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_parts_give_real_numbers(
    bench, tmp_path: Path, samples: list[Path], models_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    assert "cores" in bench.cpu()
    p = bench.precision(models_dir, samples[:4])
    assert p["photos"] == 4 and 0.999 < p["min_cosine"] <= 1.0 and p["same_top1"] == 1.0

    classifier = Classifier(models_dir=models_dir)
    model = Model(str(classifier.manifest.backbone.sha256), classifier.size, classifier.resize)
    r = bench.latency(600, model, tmp_path, queries=5)
    assert r["exact_warm_ms"] > 0 and r["db_bytes_per_image"] > 4096
    if "recall10" in r:
        assert 0.9 <= r["recall10"] <= 1.0 and r["ann_build_s"] > 0
    rows = bench.compare_libraries(300)
    assert all(0.9 <= float(row[3]) <= 1.0 for row in rows)

    re = bench.reindex(50, model, classifier.head, tmp_path)
    assert re["files"] == 50 and re["in_process_s"] > 0
    heads = [classifier.head, bench.random_head(20, classifier.size, classifier.resize)]
    tagged = bench.retag(tmp_path / "lib600.db", heads, model.backbone_sha256)
    assert [row[2] for row in tagged] == [600, 600] and [row[4] for row in tagged] == [0, 0]


def test_bench_ray_against_local(
    bench, tmp_path: Path, samples: list[Path], models_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("ray")
    r = bench.ray_vs_local(samples, 4, models_dir, tmp_path)
    assert r["ray_identical_0"] == r["ray_identical_1"] == "4/4" and r["ray_max_diff"] == 0
    assert r["local_s"] > 0 and r["ray_rate"] > 0 and r["ray_start_s"] > 0
