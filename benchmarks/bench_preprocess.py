"""Preprocessing a file for the network: the float path against the uint8 path, ms per image.

    python benchmarks/bench_preprocess.py               # or: --repeats 9

"old" is ``preprocess(load_image(path, min_side=size), size, resize)``: a full-size float
[0, 1] image, then the 8-bit test and the resize. "new" is ``load_for_network``, the
classifier's path: 8-bit files stay uint8 from decoding through the resize. Both run on the
18 sample photos at 150 px nearest (the kitchenware head) and 299 px bilinear, old and new
in turn for each photo, round after round, so a neighbour's load falls on both alike; the
table gives medians and says whether every result was bit-identical.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from xception_maya import cpu, images
from xception_maya.manifest import default_models_dir
from xception_maya.preprocessing import Preprocessing

SHAPES = ((150, "nearest"), (299, "bilinear"))
# The instruction sets that tell machines apart; "amx" stands for any amx_* flag.
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx")


def cpu_line() -> str:
    return cpu.benchmark_line()


def old_path(path: Path, preprocessing: Preprocessing) -> np.ndarray:
    size, resize = preprocessing.size, preprocessing.resize
    return images.preprocess(images.load_image(path, min_side=size), size, resize)


def new_path(path: Path, preprocessing: Preprocessing) -> np.ndarray:
    return images.load_for_network(path, None, preprocessing)


def measure(photos: Sequence[Path], size: int, resize: str, repeats: int) -> dict[str, float]:
    """Median ms per image of each path (one warm-up round), and whether they agree."""
    preprocessing = Preprocessing(size, resize)
    paths: dict[str, Callable[[Path, Preprocessing], np.ndarray]] = {
        "old": old_path,
        "new": new_path,
    }
    times: dict[str, list[float]] = {name: [] for name in paths}
    identical = True
    for round_ in range(repeats + 1):
        for photo in photos:
            outputs = []
            for name, run in paths.items():
                start = time.perf_counter()
                outputs.append(run(photo, preprocessing))
                if round_:
                    times[name].append((time.perf_counter() - start) * 1000)
            identical = identical and bool(np.array_equal(outputs[0], outputs[1]))
    old, new = statistics.median(times["old"]), statistics.median(times["new"])
    return {"old_ms": old, "new_ms": new, "speedup": old / new, "identical": float(identical)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", type=Path, default=default_models_dir())
    args = parser.parse_args()
    photos = sorted((args.models / "samples").glob("*.jpg"))
    print(cpu_line())
    print(f"{len(photos)} sample photos, median of {args.repeats} interleaved rounds\n")
    print(f"{'input':<18} | {'old ms':>7} | {'new ms':>7} | {'speed-up':>8} | bit-identical")
    print("-" * 64)
    for size, resize in SHAPES:
        r = measure(photos, size, resize, args.repeats)
        same = "yes" if r["identical"] else "NO"
        print(
            f"{f'{size} px {resize}':<18} | {r['old_ms']:7.2f} | {r['new_ms']:7.2f} | "
            f"{r['speedup']:7.2f}x | {same}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
