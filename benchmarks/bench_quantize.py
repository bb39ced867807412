"""int8 calibration settings against the accuracy bound: which ones keep the features.

    python benchmarks/bench_quantize.py                     # the default grid
    python benchmarks/bench_quantize.py --only percentile-dw

Each setting builds an int8 backbone from scikit-image's sample photos (calibration) and is
judged on the 18 kitchenware photos (held out): the minimum feature cosine to fp32 at 150
nearest and 299 bilinear, the kitchenware head's top-1 labels changed, and the model-only
time at 150 px, batch 1, on onnxruntime and (where installed) on OpenVINO, which runs its
own int8 kernels and so gets cosines of its own. Prints one table, the CPU first.

The "OV:" rows quantize only convolutions' inputs. OpenVINO then runs every convolution in
int8 and keeps its output in float; onnxruntime fuses a QDQ convolution only when its output
is quantized too, so on it those rows run at fp32 speed.

``--calibrate-on-held-out`` is a diagnostic, never a shipping setting: the ranges then come
from the very photos the bound is judged on, which shows whether calibration photos closer to
the ones judged would close a setting's gap to the bound.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from xception_maya import cpu, precision, quantize
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
    "OV: Conv inputs, all": quantize.Settings(op_types=_C, conv_outputs=False),
    "OV: + residual readers": quantize.Settings(
        op_types=_C, conv_outputs=False, keep_residual_readers=True
    ),
    # The 1x1 convolutions after each depthwise one: most of the network's arithmetic.
    "OV: pointwise inputs only": quantize.Settings(
        op_types=_C, conv_outputs=False, keep_stem=True, skip_depthwise=True, keep_shortcuts=True
    ),
}


def session(path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """onnxruntime on the CPU, with the engine's thread settings: features of a batch."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return lambda x: np.asarray(sess.run(["features"], {"images": x})[0])


def openvino(path: Path) -> Callable[[np.ndarray], np.ndarray] | None:
    """OpenVINO as the engine runs int8 (float layers in f32), one static model per shape."""
    if not precision.has_openvino():
        return None
    import openvino as ov

    core = ov.Core()
    compiled: dict[tuple[int, ...], Any] = {}

    def run(x: np.ndarray) -> np.ndarray:
        if x.shape not in compiled:
            model = core.read_model(str(path))
            model.reshape({model.inputs[0].get_any_name(): list(x.shape)})
            config = {"INFERENCE_PRECISION_HINT": "f32", "PERFORMANCE_HINT": "LATENCY"}
            compiled[x.shape] = core.compile_model(model, "CPU", config).create_infer_request()
        request = compiled[x.shape]
        return np.array(request.infer({0: x})[0])

    return run


def median_ms(run: Callable[[np.ndarray], np.ndarray], x: np.ndarray, repeats: int = 7) -> float:
    times = []
    for _ in range(repeats + 2):
        start = time.perf_counter()
        run(x)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[2:])


def measure(
    path: Path,
    ref: Callable[[np.ndarray], np.ndarray],
    inputs: dict[tuple[int, str], np.ndarray],
    head: Head,
) -> dict[str, Any]:
    """One built int8 model's row: per runtime, cosines, top-1 changed and ms at 150 b1."""
    x150 = inputs[quantize.SIZES[0]][:1]
    row: dict[str, Any] = {}
    for runtime, run in (("onnxruntime", session(path)), ("openvino", openvino(path))):
        if run is not None:
            bound = quantize.accuracy_bound(ref, run, inputs, head)
            row[runtime] = {**bound, "ms": median_ms(run, x150)}
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=default_models_dir())
    parser.add_argument("--only", nargs="*", choices=sorted(GRID))
    parser.add_argument("--out", type=Path, default=Path("build/bench/int8"))
    parser.add_argument("--calibrate-on-held-out", action="store_true", help="diagnostic")
    args = parser.parse_args()

    manifest = Manifest.load(args.models)
    head = Head.load(manifest.head_path("kitchenware"))
    held_out = sorted((args.models / "samples").glob("*.jpg"))
    inputs = quantize.held_out_inputs(held_out)
    calibration = held_out if args.calibrate_on_held_out else quantize.skimage_photos()
    ref = session(manifest.backbone_path)
    x150 = inputs[quantize.SIZES[0]][:1]
    print(cpu.benchmark_line())
    source = "held-out (DIAGNOSTIC only)" if args.calibrate_on_held_out else "scikit-image"
    print(
        f"calibration: {len(calibration)} {source} photos x {len(quantize.SIZES)} sizes; "
        f"held out: {len(held_out)} kitchenware photos; fp32 onnxruntime at 150 b1: "
        f"{median_ms(ref, x150):.1f} ms"
    )
    cell = "cos 150 | cos 299 | top-1 | ms 150"
    header = f"{'setting':<26} | onnxruntime: {cell} | OpenVINO: {cell}"
    print(header)
    print("-" * len(header))
    if args.calibrate_on_held_out:
        args.out = args.out / "held-out"
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or GRID:
        path = args.out / f"{''.join(c if c.isalnum() else '-' for c in name)}.onnx"
        st = GRID[name]
        ranges = args.out / f"ranges-{st.method}-{st.percentile}-{st.symmetric_activations}.json"
        quantize.build_int8(manifest.backbone_path, path, calibration, st, ranges_cache=ranges)
        row = measure(path, ref, inputs, head)
        cells = []
        for runtime in ("onnxruntime", "openvino"):
            if runtime not in row:
                cells.append("not installed")
                continue
            r = row[runtime]
            cos = list(r["min_cosine"].values())
            cells.append(f"{cos[0]:.4f}  | {cos[1]:.4f}  | {r['top1_changed']:>5} | {r['ms']:6.1f}")
        print(f"{name:<26} | {'onnxruntime: ' + cells[0]} | {'OpenVINO: ' + cells[1]}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
