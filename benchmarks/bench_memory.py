"""Peak memory of hostile files: small on disk, huge when decoded naively.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_memory.py [--cap-mib 8192] [CASE ...]

Each case runs in a child Python of its own, under an address-space limit (``--cap-mib``) so
that a case the code does not protect against fails with MemoryError instead of taking the
machine down; its peak resident memory is the child's own (VmHWM, else ru_maxrss). The files
are generated here, compressible, a few MB each. tests/test_memory.py runs the same cases.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8", "amx_tile")

# --- hostile files, generated cheaply ----------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, width: int, height: int, *, bits: int, channels: int) -> Path:
    """A PNG holding a horizontal ramp, streamed row by row: every row after the first is
    filtered "Up" (all zeros), so a 2**27-pixel image compresses to about a megabyte."""
    colour_type = {1: 0, 3: 2}[channels]
    top = (1 << bits) - 1
    ramp = (np.arange(width, dtype=np.uint64) * top // max(width - 1, 1)).astype(
        ">u2" if bits == 16 else np.uint8
    )
    first = np.repeat(ramp[:, None], channels, axis=1).tobytes()
    up_row = b"\x02" + bytes(len(first))
    packer = zlib.compressobj(6)
    idat = [packer.compress(b"\x00" + first)]
    for _ in range(height - 1):
        idat.append(packer.compress(up_row))
    idat.append(packer.flush())
    header = struct.pack(">IIBBBBB", width, height, bits, colour_type, 0, 0, 0)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(idat))
        + _chunk(b"IEND", b"")
    )
    partial.replace(path)  # a killed run leaves no half file to be reused
    return path


def write_many_channel_exr(path: Path, side: int = 2048, channels: int = 256) -> Path:
    """A zip-compressed half-float EXR: R, G, B = 0.18, A = 1, then channels of zeros."""
    import OpenImageIO as oiio

    spec = oiio.ImageSpec(side, side, channels, "half")
    spec.channelnames = ("R", "G", "B", "A", *(f"c{i:03d}" for i in range(4, channels)))
    spec.alpha_channel = 3
    spec.attribute("compression", "zip")
    partial = path.with_name(path.name + ".partial.exr")
    output = oiio.ImageOutput.create(str(partial))
    if output is None or not output.open(str(partial), spec):
        raise RuntimeError(f"cannot write {path}: {oiio.geterror()}")
    rows = 32
    strip = np.zeros((rows, side, channels), dtype=np.float16)
    strip[..., :3] = 0.18
    strip[..., 3] = 1.0
    for y in range(0, side, rows):
        output.write_scanlines(y, y + rows, 0, strip)
    output.close()
    partial.replace(path)
    return path


def hostile_files(folder: Path) -> dict[str, Path]:
    """The hostile files in ``folder``; those already there (from an earlier run) are kept."""
    folder.mkdir(parents=True, exist_ok=True)

    def made(name: str, write: Callable[[Path], Path]) -> Path:
        path = folder / name
        return path if path.is_file() else write(path)

    files = {
        "grey16": made("grey16.png", lambda p: write_png(p, 16384, 8192, bits=16, channels=1)),
        "rgb13000": made("rgb13000.png", lambda p: write_png(p, 13000, 13000, bits=8, channels=3)),
    }
    tag = folder / "three"
    tag.mkdir(exist_ok=True)
    for i in range(3):
        copy = tag / f"grey16_{i}.png"
        if not copy.exists():
            os.link(files["grey16"], copy)
    files["three"] = tag
    with contextlib.suppress(ImportError):  # OpenImageIO is optional
        files["exr256"] = made("exr256.exr", write_many_channel_exr)
    return files


# --- the cases: what a user runs, each in a child process ------------------------------------

# Each case's code runs in the child with `files` (name -> path) and `photo` (a sample photo);
# it sets `result` to a short text saying what came out.
CLASSIFY = (
    "from xception_maya.cli import main\n"
    "code = main([{args}])\n"
    "out = sink.getvalue()\n"
    "recs = json.loads(out[: out.rindex(']') + 1]) if code < 2 else []\n"
    "result = f'exit {{code}}; ' + '; '.join(\n"
    "    (r['labels'][:1] or [r['error'] or 'features only'])[0][:40] for r in recs)"
)
CASES: dict[str, tuple[str, str]] = {
    "photo": (
        "one sample photo: classify (the baseline)",
        CLASSIFY.format(args="'classify', '--json', photo"),
    ),
    "exr256": (
        "2048^2 EXR, 256 half channels: load_image",
        "from xception_maya import images\n"
        "px = images.load_image(files['exr256'], min_side=299)\n"
        "result = f'{px.shape[1]}x{px.shape[0]} mean {px.mean():.3f}'",
    ),
    "grey16": (
        "16384x8192 16-bit grey PNG: classify",
        CLASSIFY.format(args="'classify', '--json', files['grey16']"),
    ),
    "tag3": (
        "three such PNGs: tag",
        CLASSIFY.format(args="'tag', '--json', files['three']"),
    ),
    "thumb13000": (
        "13000^2 PNG (over MAX_PIXELS): report thumbnail",
        "from xception_maya.report import write_report\n"
        "rec = {'image': files['rgb13000'], 'labels': [], 'scores': [], 'indices': [],\n"
        "       'error': 'refused'}\n"
        "html = write_report([rec], files['out'] / 'r.html', title='t').read_text()\n"
        "result = 'thumbnail drawn' if 'base64' in html else 'placeholder'",
    ),
    "thumb16": (
        "the 16-bit grey PNG: report thumbnail",
        "from xception_maya.report import write_report\n"
        "rec = {'image': files['grey16'], 'labels': [], 'scores': [], 'indices': [],\n"
        "       'error': None}\n"
        "html = write_report([rec], files['out'] / 'r.html', title='t').read_text()\n"
        "result = 'thumbnail drawn' if 'base64' in html else 'placeholder'",
    ),
    "size4000": (
        "classify --size 4000 (one photo)",
        CLASSIFY.format(args="'classify', '--json', '--size', '4000', photo"),
    ),
}

CHILD = """
import io, json, os, resource, sys, contextlib
cap = int(sys.argv[1]) * 1024 * 1024
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
files = {k: v for k, v in json.loads(sys.argv[2]).items()}
files['out'] = __import__('pathlib').Path(files['out'])
photo = sys.argv[3]
result = '?'
sink = io.StringIO()
try:
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        exec(sys.argv[4])
except MemoryError:
    result = 'MemoryError escaped'
except BaseException as exc:
    result = f'{type(exc).__name__} escaped: {str(exc)[-60:]}'
try:
    hwm = int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])
except OSError:
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
last = sink.getvalue().strip().splitlines()[-1:] or ['']
print(json.dumps({'peak_kib': hwm, 'result': result, 'last_line': last[0][:120]}))
"""


def run_case(name: str, files: dict[str, Path], photo: Path, cap_mib: int = 8192) -> dict[str, str]:
    """Run one case in a child Python; its peak RSS in MiB and what came out."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), KERAS_BACKEND="torch")
    paths = {k: str(v) for k, v in files.items()}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(cap_mib), json.dumps(paths), str(photo), CASES[name][1]],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or [""])[-1]
        return {"case": name, "peak_mib": "-", "result": f"child died ({proc.returncode}) {tail}"}
    out = json.loads(lines[-1])
    return {
        "case": name,
        "peak_mib": f"{out['peak_kib'] / 1024:.0f}",
        "result": out["result"],
        "last_line": out["last_line"],
    }


def cpu_line() -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout's package
    from xception_maya import cpu

    return cpu.benchmark_line()


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"some of {', '.join(CASES)} (default: all)")
    parser.add_argument("--cap-mib", type=int, default=8192, help="address-space cap per case")
    parser.add_argument("--work", type=Path, help="keep the generated files here, to reuse")
    args = parser.parse_args(argv)
    unknown = [name for name in args.cases if name not in CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {', '.join(CASES)}")
    args.cases = args.cases or list(CASES)
    photo = ROOT / "models" / "samples" / "0000.jpg"
    with tempfile.TemporaryDirectory() as tmp:
        files = hostile_files(args.work or Path(tmp))
        files["out"] = Path(tmp)
        # The EXR case needs OpenImageIO (optional) to write its file.
        names = [n for n in args.cases if n != "exr256" or "exr256" in files]
        rows = [run_case(name, files, photo, args.cap_mib) for name in names]
    out(cpu_line())
    out(f"peak resident memory per case, one child process each, capped at {args.cap_mib} MiB")
    out(f"{'case':<11} | {'what':<48} | {'peak MiB':>8} | result")
    out("-" * 100)
    for row in rows:
        what = CASES[row["case"]][0]
        detail = row["result"]
        if row.get("last_line") and ("exit 2" in detail or "escaped" in detail):
            detail += f": {row['last_line']}"
        out(f"{row['case']:<11} | {what:<48} | {row['peak_mib']:>8} | {detail[:110]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
