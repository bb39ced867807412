"""What a classifier node costs Maya, on the Maya emulation (or on real Maya under mayapy):
the re-evaluations Maya makes all the time, and what a new image blocks.

    .venv/bin/python benchmarks/bench_node.py [--images N]

Rows (median over many runs):
- an unchanged re-evaluation (getAttr on a clean output: compute is not called), a topK
  change (compute runs, the features come from the cache), the same with compute on a worker
  thread (the emulation's Evaluation Manager mode), the core's cache hit alone;
- a new image, synchronous (batch/mayapy: compute runs decode + network), against async
  (interactive default: how long compute blocks Maya, then the time until the result is on
  the node, the main thread's idle queue polled every millisecond);
- a new image already in the library index (``$XCEPTION_MAYA_INDEX``): no network run.
Every "new image" is a copy of a sample photo under another name, so neither the feature
cache nor the node has seen it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

from maya_session import IS_EMULATION, Session, maya_session  # noqa: E402

from xception_maya import cpu  # noqa: E402
from xception_maya.manifest import default_models_dir  # noqa: E402

PLUGIN = ROOT / "plug-ins" / "xception_classifier.py"
Row = tuple[str, float]


def median_us(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def copies(photo: Path, folder: Path, count: int, prefix: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(count):
        path = folder / f"{prefix}{i}.jpg"
        shutil.copy(photo, path)
        out.append(path)
    return out


def new_images(maya: Session, clf: str, texture: str, paths: list[Path], wait: bool) -> list[Row]:
    """Per new image: how long the evaluation that sees it blocks, and (async) how long until
    the result is on the node."""
    from xception_maya.maya import background

    cmds = maya.cmds
    blocked, until = [], []
    for path in paths:
        cmds.setAttr(f"{texture}.fileTextureName", str(path), type="string")
        start = time.perf_counter()
        status = cmds.getAttr(f"{clf}.status")
        blocked.append((time.perf_counter() - start) * 1e6)
        if not wait:
            assert status == "ok", status
            continue
        assert status == "running", status
        while status != "ok":  # what Maya's idle loop does between events
            time.sleep(0.001)
            maya.idle()
            status = cmds.getAttr(f"{clf}.status")
        until.append((time.perf_counter() - start) * 1e6)
    assert background.wait(60)
    rows = [("", statistics.median(blocked))]
    if until:
        rows.append(("until the result is on the node", statistics.median(until)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=8, help="new images per row (default 8)")
    args = parser.parse_args(argv)
    photo = sorted((default_models_dir() / "samples").glob("*.jpg"))[16]
    work = Path(tempfile.mkdtemp(prefix="bench_node_"))
    rows: list[Row] = []
    try:
        indexed = copies(photo, work / "library", args.images, "indexed")
        db = work / "library.db"
        from xception_maya.cli import main as cli

        with contextlib.redirect_stdout(io.StringIO()):
            cli(["index", str(work / "library"), "--db", str(db)])
        os.environ["XCEPTION_MAYA_INDEX"] = str(db)
        with maya_session() as maya:
            cmds = maya.cmds
            cmds.loadPlugin(str(PLUGIN))
            from xception_maya.maya import plugin
            from xception_maya.maya.classifiers import classifier_for

            if plugin.warming is not None:
                plugin.warming.join(120)  # the session made at load: not what a row measures
            texture = cmds.shadingNode("file", asTexture=True)
            cmds.setAttr(f"{texture}.fileTextureName", str(photo), type="string")
            clf = cmds.xceptionCreate(texture)[0]
            cmds.getAttr(f"{clf}.labels")
            core = classifier_for("", "auto")
            toggle = iter(range(10**9))

            def top_k_change() -> object:
                cmds.setAttr(f"{clf}.topK", 2 + next(toggle) % 3)
                return cmds.getAttr(f"{clf}.labels")

            unchanged = median_us(lambda: cmds.getAttr(f"{clf}.labels"), 2000)
            rows += [
                ("unchanged re-evaluation (getAttr)", unchanged),
                ("topK change (compute, cache hit)", median_us(top_k_change, 500)),
            ]
            with maya.compute_on_worker_thread():
                on_worker = median_us(top_k_change, 500)
            where_worker = "worker thread" if IS_EMULATION else "as the Evaluation Manager runs it"
            rows += [
                (f"topK change, compute on a {where_worker}", on_worker),
                ("core cache hit (classify)", median_us(lambda: core.classify([photo]), 500)),
            ]
            runs = core.engine.runs
            ((_, index_us),) = new_images(maya, clf, texture, indexed, wait=False)
            assert core.engine.runs == runs, "indexed images ran the network"
            rows.append(("new image in the library index (no network run)", index_us))

            fresh = copies(photo, work / "new", 3 * args.images, "new")
            ((_, sync_us),) = new_images(maya, clf, texture, fresh[: args.images], wait=False)
            rows.append(("new image, synchronous: compute blocks for", sync_us))
            cmds.setAttr(f"{clf}.async", True)
            (_, blocked_us), (_, until_us) = new_images(
                maya, clf, texture, fresh[args.images :], wait=True
            )
            rows += [
                ("new image, async: compute blocks for", blocked_us),
                ("new image, async: until the result is on the node", until_us),
            ]
            provider = core.engine.summary
            cmds.file(new=True, force=True)
            cmds.unloadPlugin("xception_classifier", force=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    where = "Maya emulation" if IS_EMULATION else "real Maya"
    print(f"xceptionClassifier node costs on {where}, {provider} (median µs)")
    print(cpu.benchmark_line())
    width = max(len(r[0]) for r in rows)
    for name, us in rows:
        print(f"{name:<{width}} | {us:12.1f}")
    print(f"async blocks Maya {sync_us / blocked_us:.0f}x less than synchronous for a new image")
    return 0


if __name__ == "__main__":
    sys.exit(main())
