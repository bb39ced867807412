"""What a classifier node costs when nothing or little changed, on the Maya emulation
(or on real Maya under mayapy): the re-evaluations Maya makes all the time.

    .venv/bin/python benchmarks/bench_node.py

Rows: an unchanged re-evaluation (getAttr on a clean output: compute is not called), a topK
change (compute runs, the features come from the cache), the same with compute on a worker
thread (the emulation's Evaluation Manager mode: a thread start and join per compute), the
core's cache hit alone, and a real inference for scale. Median microseconds over many runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from maya_session import IS_EMULATION, maya_session  # noqa: E402

from xception_maya.manifest import default_models_dir  # noqa: E402


def median_us(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def main() -> int:
    photo = sorted((default_models_dir() / "samples").glob("*.jpg"))[16]
    with maya_session() as maya:
        cmds = maya.cmds
        cmds.loadPlugin(str(ROOT / "plug-ins" / "xception_classifier.py"))
        texture = cmds.shadingNode("file", asTexture=True)
        cmds.setAttr(f"{texture}.fileTextureName", str(photo), type="string")
        clf = cmds.xceptionCreate(texture)[0]
        cmds.getAttr(f"{clf}.labels")
        from xception_maya.maya.classifiers import classifier_for

        core = classifier_for("", "auto")
        toggle = iter(range(10**9))

        def top_k_change() -> object:
            cmds.setAttr(f"{clf}.topK", 2 + next(toggle) % 3)
            return cmds.getAttr(f"{clf}.labels")

        def real_inference() -> object:
            core.cache.clear()
            return core.classify([photo])

        rows = [
            (
                "unchanged re-evaluation (getAttr)",
                median_us(lambda: cmds.getAttr(f"{clf}.labels"), 2000),
            ),
            ("topK change (compute, cache hit)", median_us(top_k_change, 500)),
        ]
        with maya.compute_on_worker_thread():
            on_worker = median_us(top_k_change, 500)
        where_worker = "worker thread" if IS_EMULATION else "as the Evaluation Manager runs it"
        rows += [
            (f"topK change, compute on a {where_worker}", on_worker),
            ("core cache hit (classify)", median_us(lambda: core.classify([photo]), 500)),
            ("real inference (decode + network)", median_us(real_inference, 10)),
        ]
        cmds.unloadPlugin("xception_classifier", force=True)
    where = "Maya emulation" if IS_EMULATION else "real Maya"
    print(f"xceptionClassifier node costs on {where}, {core.engine.provider} (median µs)")
    print(f"CPU: {cpu_model()}")
    width = max(len(r[0]) for r in rows)
    for name, us in rows:
        print(f"{name:<{width}} | {us:12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
