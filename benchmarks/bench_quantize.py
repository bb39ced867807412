"""int8 calibration settings against the accuracy bound: which ones keep the features.

    python benchmarks/bench_quantize.py                     # the default grid
    python benchmarks/bench_quantize.py --only percentile-dw

Each setting builds an int8 backbone from scikit-image's sample photos (calibration) and is
judged on the 18 kitchenware photos (held out): the minimum feature cosine to fp32 at 150
nearest and 299 bilinear, the kitchenware head's top-1 labels changed, and the model-only
onnxruntime time at 150 px, batch 1. Prints one table, the CPU first.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from xception_maya import cpu, quantize
from xception_maya.heads import Head
from xception_maya.manifest import Manifest, default_models_dir

_C = ["Conv"]
GRID: dict[str, quantize.Settings] = {
    "minmax, all ops": quantize.Settings(method="minmax"),
    "percentile, all ops": quantize.Settings(),
    "percentile, Conv only": quantize.Settings(op_types=_C),
    "entropy, Conv only": quantize.Settings(method="entropy", op_types=_C),
    "+ stem in float": quantize.Settings(op_types=_C, keep_stem=True),
    "+ residual writers": quantize.Settings(
        op_types=_C, keep_stem=True, keep_residual_writers=True
    ),
    "chosen (+ 6 sensitive)": quantize.CHOSEN,
    "chosen, minmax": dataclasses.replace(quantize.CHOSEN, method="minmax"),
    "chosen, entropy": dataclasses.replace(quantize.CHOSEN, method="entropy"),
    "chosen, percentile 99.99": dataclasses.replace(quantize.CHOSEN, percentile=99.99),
    "chosen, per-tensor": dataclasses.replace(quantize.CHOSEN, per_channel=False),
    "chosen, reduce_range": dataclasses.replace(quantize.CHOSEN, reduce_range=True),
    "chosen, symmetric act.": dataclasses.replace(quantize.CHOSEN, symmetric_activations=True),
    "Conv inputs only": quantize.Settings(op_types=_C, conv_outputs=False, keep_stem=True),
}


def session(path: Path) -> object:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def median_ms(run: object, x: np.ndarray, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats + 2):
        start = time.perf_counter()
        run.run(["features"], {"images": x})  # type: ignore[attr-defined]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[2:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=default_models_dir())
    parser.add_argument("--only", nargs="*", choices=sorted(GRID))
    parser.add_argument("--out", type=Path, default=Path("build/bench/int8"))
    args = parser.parse_args()

    manifest = Manifest.load(args.models)
    head = Head.load(manifest.head_path("kitchenware"))
    held_out = sorted((args.models / "samples").glob("*.jpg"))
    inputs = quantize.held_out_inputs(held_out)
    calibration = quantize.skimage_photos()
    fp32 = session(manifest.backbone_path)

    def ref(x: np.ndarray) -> np.ndarray:
        return np.asarray(fp32.run(["features"], {"images": x})[0])  # type: ignore[attr-defined]

    x150 = inputs[quantize.SIZES[0]][:1]
    fp32_ms = median_ms(fp32, x150)
    print(f"CPU: {cpu.detect().summary()}")
    print(
        f"calibration: {len(calibration)} scikit-image photos x {len(quantize.SIZES)} sizes; "
        f"held out: {len(held_out)} kitchenware photos; fp32 at 150 b1: {fp32_ms:.1f} ms"
    )
    header = f"{'setting':<26} | {'cos 150':>7} | {'cos 299':>7} | {'top-1 chg':>9} | {'ms 150':>6}"
    print(header)
    print("-" * len(header))
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or GRID:
        path = args.out / f"{''.join(c if c.isalnum() else '-' for c in name)}.onnx"
        st = GRID[name]
        ranges = args.out / f"ranges-{st.method}-{st.percentile}-{st.symmetric_activations}.json"
        quantize.build_int8(manifest.backbone_path, path, calibration, st, ranges_cache=ranges)
        int8 = session(path)

        def new(x: np.ndarray, s: object = int8) -> np.ndarray:
            return np.asarray(s.run(["features"], {"images": x})[0])  # type: ignore[attr-defined]

        bound = quantize.accuracy_bound(ref, new, inputs, head)
        cos = list(bound["min_cosine"].values())
        print(
            f"{name:<26} | {cos[0]:7.4f} | {cos[1]:7.4f} | {bound['top1_changed']:>9} | "
            f"{median_ms(int8, x150):6.1f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
