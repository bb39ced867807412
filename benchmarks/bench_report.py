"""The HTML report on a large run: file size, write time, and how fast Chromium shows it.

    .venv/bin/python benchmarks/bench_report.py [--images 1000] [--repeat 3]

Makes ``--images`` distinct photos (seeded crops and flips of the 18 sample photos, 640 px),
records for them as the CLI's (labels of the kitchenware head, 1 in 20 "unknown", 1 in 100
an error; no network run: the report is measured, not the classifier), writes the report,
and opens it in headless Chromium over the DevTools protocol (``--remote-debugging-pipe``:
no port, no extra package). Prints, with the CPU: file size, write time, first paint and
first contentful paint, the load event, and the time to re-sort and group the cards and to
filter them by a label (the page's own script, then a forced layout), medians of
``--repeat`` fresh tabs. Linux only (it hands Chromium its pipe by file number).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageOps  # noqa: E402

from xception_maya import cpu  # noqa: E402
from xception_maya.report import write_report  # noqa: E402

LABELS = ("cup", "fork", "glass", "knife", "plate", "spoon")


def make_images(samples: list[Path], count: int, folder: Path, seed: int = 0) -> list[Path]:
    """``count`` distinct JPEGs: a random crop of a sample photo, maybe mirrored, 640 px."""
    rng = random.Random(seed)
    originals = [ImageOps.exif_transpose(Image.open(p)).convert("RGB") for p in samples]
    out = []
    for i in range(count):
        picture = originals[i % len(originals)]
        w, h = picture.size
        side = rng.uniform(0.5, 1.0)
        cw, ch = int(w * side), int(h * side)
        x, y = rng.randrange(w - cw + 1), rng.randrange(h - ch + 1)
        crop = picture.crop((x, y, x + cw, y + ch))
        if rng.random() < 0.5:
            crop = ImageOps.mirror(crop)
        crop.thumbnail((640, 640))
        path = folder / f"texture_{i:05d}.jpg"
        crop.save(path, quality=90)
        out.append(path)
    return out


def make_records(paths: list[Path], seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for i, path in enumerate(paths):
        if i % 100 == 99:
            records.append(
                {"image": str(path), "labels": [], "scores": [], "indices": [], "error": "bad"}
            )
            continue
        order = rng.sample(range(len(LABELS)), 5)
        scores = sorted((rng.random() for _ in order), reverse=True)
        total = sum(scores) + 0.1
        unknown = i % 20 == 7
        records.append(
            {
                "image": str(path),
                "labels": [LABELS[j] for j in order],
                "scores": [round(s / total, 6) for s in scores],
                "indices": order,
                "unknown": unknown,
                "confidence": 0.2 if unknown else 0.9,
                "error": None,
            }
        )
    return records


class DevTools:
    """Chromium headless driven over ``--remote-debugging-pipe`` (NUL-separated JSON)."""

    def __init__(self, chromium: str, profile: Path) -> None:
        to_chrome, self._send_fd = os.pipe()
        self._recv_fd, from_chrome = os.pipe()
        # Chromium reads fd 3 and writes fd 4: put the pipe ends there in the child.
        child_in = fcntl.fcntl(to_chrome, fcntl.F_DUPFD, 100)
        child_out = fcntl.fcntl(from_chrome, fcntl.F_DUPFD, 100)
        for fd in (to_chrome, from_chrome):
            os.close(fd)

        def give_pipes() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.process = subprocess.Popen(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1400,1000",
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                "about:blank",
            ],
            preexec_fn=give_pipes,
            close_fds=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fd in (child_in, child_out):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, session: str | None = None, **params: Any) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._send_fd, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(e.get("method") == event for e in self.events):
                self.events = [e for e in self.events if e.get("method") != event]
                return
            self.events.append(self._read())
        raise TimeoutError(event)

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.call("Runtime.evaluate", session, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            chunk = os.read(self._recv_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        reply: dict[str, Any] = json.loads(message)
        return reply

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self._send_fd)
        os.close(self._recv_fd)


TIMINGS = """JSON.stringify((function () {
  var paint = {};
  performance.getEntriesByType("paint").forEach(function (e) { paint[e.name] = e.startTime; });
  var nav = performance.getEntriesByType("navigation")[0];
  return {fp: paint["first-paint"], fcp: paint["first-contentful-paint"],
          load: nav.loadEventEnd, cards: document.querySelectorAll(".card").length};
})())"""

INTERACT = """JSON.stringify((function () {
  var form = document.getElementById("controls");
  function change(set) {
    var t = performance.now();
    set();
    form.dispatchEvent(new Event("change"));
    void document.body.offsetHeight;
    return performance.now() - t;
  }
  var regroup = change(function () { form.elements.sort.value = "score";
                                      form.elements.group.checked = true; });
  var filter = change(function () { form.elements.label.selectedIndex = 1; });
  return {regroup: regroup, filter: filter,
          shown: document.querySelectorAll("#cards .card").length};
})())"""


def open_report(tools: DevTools, page: Path) -> dict[str, float]:
    target = tools.call("Target.createTarget", url="about:blank")["targetId"]
    session = tools.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
    tools.call("Page.enable", session)
    tools.call("Page.navigate", session, url=page.as_uri())
    tools.wait_for("Page.loadEventFired")
    timings: dict[str, float] = {}
    for _ in range(50):  # the paint entries may come just after the load event
        timings = json.loads(tools.evaluate(session, TIMINGS))
        if timings.get("fcp"):
            break
        time.sleep(0.1)
    timings.update(json.loads(tools.evaluate(session, INTERACT)))
    tools.call("Target.closeTarget", targetId=target)
    return timings


def measure(count: int, repeat: int, chromium: str, work: Path) -> dict[str, Any]:
    samples = sorted((ROOT / "models" / "samples").glob("*.jpg"))
    if not samples:
        raise SystemExit("no sample photos: run `xception-maya setup` first")
    folder = work / "images"
    folder.mkdir()
    paths = make_images(samples, count, folder)
    records = make_records(paths)
    start = time.perf_counter()
    page = write_report(records, work / "report.html", title=f"bench {count}", head="kitchenware")
    written = time.perf_counter() - start
    tools = DevTools(chromium, work / "profile")
    try:
        runs = [open_report(tools, page) for _ in range(repeat)]
    finally:
        tools.close()
    keys = ("fp", "fcp", "load", "regroup", "filter")
    result: dict[str, Any] = {
        k: statistics.median(float(r.get(k) or float("nan")) for r in runs) for k in keys
    }
    result |= {
        "images": count,
        "bytes": page.stat().st_size,
        "write_s": written,
        "cards": runs[0]["cards"],
        "shown": runs[0]["shown"],
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    info = cpu.detect()
    version = subprocess.run(
        [args.chromium, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    with tempfile.TemporaryDirectory() as work:
        r = measure(args.images, args.repeat, args.chromium, Path(work))
    flags = " ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_tile") if f in info.flags)
    print(f"CPU: {info.model}, {os.cpu_count()} cores; flags: {flags}")
    print(f"browser: {version}, headless; medians of {args.repeat} fresh tabs")
    print(
        f"{'images':>7} {'file MB':>8} {'KB/card':>8} {'write s':>8} {'FP ms':>7} "
        f"{'FCP ms':>7} {'load ms':>8} {'sort+group ms':>14} {'filter ms':>10}"
    )
    print(
        f"{r['images']:>7} {r['bytes'] / 1e6:>8.2f} {r['bytes'] / 1e3 / r['images']:>8.1f} "
        f"{r['write_s']:>8.1f} {r['fp']:>7.0f} {r['fcp']:>7.0f} {r['load']:>8.0f} "
        f"{r['regroup']:>14.0f} {r['filter']:>10.0f}"
    )
    print(f"({r['cards']} cards; {r['shown']} shown after the label filter)")


if __name__ == "__main__":
    main()
