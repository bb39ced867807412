"""Decoding a large texture for the model: time and peak memory, whole vs. reduced.

    .venv/bin/python benchmarks/bench_decode.py

An 8192x8192 texture (JPEG and PNG) is read as the classifier reads it (min_side = the
head's input side, so it may be decoded reduced) and whole. Each case runs in its own process
so that its peak resident memory is its own (Linux: /proc/self/status VmHWM).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

SIDE = 8192
CASE = """
import sys, time
from xception_maya import images
path, min_side = sys.argv[1], int(sys.argv[2]) or None
start = time.perf_counter()
pixels = images.load_image(path, min_side=min_side)
batch = images.preprocess(pixels, 299, "bilinear")
ms = (time.perf_counter() - start) * 1000
# VmHWM: this process's peak resident memory (ru_maxrss would include the parent's at fork)
status = open("/proc/self/status").read().split("VmHWM:")[1].split()[0]
print(f"{ms:.0f} {int(status) / 1024:.0f} {pixels.shape[1]}x{pixels.shape[0]}")
"""


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        blocks = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
        picture = np.kron(blocks, np.ones((SIDE // 64, SIDE // 64, 1), dtype=np.uint8))
        rows = []
        for suffix in (".jpg", ".png"):
            path = Path(tmp) / f"texture{suffix}"
            Image.fromarray(picture).save(path, quality=90)
            for label, min_side in (("reduced (as classified)", 299), ("whole", 0)):
                out = subprocess.run(
                    [sys.executable, "-c", CASE, str(path), str(min_side)],
                    capture_output=True, text=True, check=True,
                ).stdout.split()  # fmt: skip
                rows.append((suffix[1:].upper(), label, *out))
    print(f"decoding a {SIDE}x{SIDE} texture for a 299x299 input (one process per row)")
    print(f"{'format':<6} | {'decode':<23} | {'ms':>6} | {'peak RSS MiB':>12} | decoded at")
    print("-" * 72)
    for fmt, label, ms, mib, size in rows:
        print(f"{fmt:<6} | {label:<23} | {ms:>6} | {mib:>12} | {size}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
