"""``setup --imagenet`` and the download under it, against HTTP servers on 127.0.0.1 started
here: the origin (which can drop a connection half way or ignore ranges) and a proxy. No test
touches the internet."""

from __future__ import annotations

import hashlib
import http.server
import io
import itertools
import json
import shutil
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from test_convert import keras2_file
from test_keras1 import keras1_file

from xception_maya import default_model, download, imagenet, keras_weights
from xception_maya.cli import main
from xception_maya.errors import ModelError
from xception_maya.manifest import Manifest

PROXY_VARS = ["http_proxy", "https_proxy", "all_proxy", "no_proxy"]
Serve = Callable[..., str]  # serve(origin, proxy=False) -> its base URL


@dataclass
class Origin:
    """What the test server serves and how, and what it was asked."""

    files: dict[str, bytes] = field(default_factory=dict)
    ranges: bool = True  # honour Range requests
    drop_next: int = 0  # requests still to cut off half way
    wrong_ranges: bool = False  # answer a Range with another part (from byte 0)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)
    url: str = ""


def _handler(origin: Origin, proxy: bool) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_CONNECT(self) -> None:  # an https request through the proxy: refused here
            origin.requests.append((f"CONNECT {self.path}", None))
            self.send_error(502, "no tunnels in tests")

        def do_GET(self) -> None:
            # A proxy is sent the absolute URL; the origin only the path.
            path = urllib.parse.urlsplit(self.path).path if proxy else self.path
            wanted = self.headers.get("Range")
            origin.requests.append((self.path, wanted))
            body = origin.files.get(path)
            if body is None:
                self.send_error(404)
                return
            start = 0
            if wanted and origin.ranges and not proxy:
                start = 0 if origin.wrong_ranges else int(wanted[6:].rstrip("-"))
                if start >= len(body):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            if origin.drop_next and not proxy:
                origin.drop_next -= 1
                self.wfile.write(body[start : start + (len(body) - start) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(body[start:])

    return Handler


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[http.server.ThreadingHTTPServer] = []

    def start(origin: Origin, *, proxy: bool = False) -> str:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(origin, proxy))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        origin.url = f"http://127.0.0.1:{server.server_address[1]}"
        return origin.url

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def no_proxy_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv(imagenet.ENV_URL, raising=False)


PAYLOAD = np.random.default_rng(7).bytes(3_000_000)  # 12 chunks: enough to drop half way
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def origin(serve: Serve) -> Origin:
    found = Origin(files={"/w.bin": PAYLOAD})
    serve(found)
    return found


# --- download -------------------------------------------------------------------------


def test_download_verifies_then_renames_and_is_not_repeated(origin: Origin, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    dest = download.download(
        origin.url + "/w.bin", tmp_path / "w.bin", SHA, lambda d, t: seen.append((d, t))
    )
    assert dest.read_bytes() == PAYLOAD
    assert list(tmp_path.iterdir()) == [dest], "no partial file left"
    assert seen[0] == (0, len(PAYLOAD)) and seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert all(a[0] <= b[0] for a, b in itertools.pairwise(seen))
    download.download(origin.url + "/w.bin", dest, SHA)
    assert len(origin.requests) == 1, "a verified file is not downloaded again"


def test_an_md5_is_checked_as_keras_checks_it(origin: Origin, tmp_path: Path) -> None:
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    assert download.hash_algorithm(md5) == "md5" and download.hash_algorithm(SHA) == "sha256"
    assert download.hash_algorithm(imagenet.WEIGHTS_HASH) == "md5"
    assert download.download(origin.url + "/w.bin", tmp_path / "w", md5).read_bytes() == PAYLOAD


def test_a_wrong_hash_is_one_error_and_leaves_nothing(origin: Origin, tmp_path: Path) -> None:
    with pytest.raises(
        ModelError, match=r"has sha256 [0-9a-f]{64}, expected 0{64}; it was removed"
    ):
        download.download(origin.url + "/w.bin", tmp_path / "w.bin", "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_a_dropped_connection_resumes_on_the_next_run(origin: Origin, tmp_path: Path) -> None:
    origin.drop_next = 1
    dest = tmp_path / "w.bin"
    with pytest.raises(ModelError, match=r"interrupted after 1\.5 MB of 3\.0 MB .*run the same"):
        download.download(origin.url + "/w.bin", dest, SHA, retries=0)
    partial = download.partial_path(dest)
    assert not dest.exists() and partial.stat().st_size == len(PAYLOAD) // 2
    download.download(origin.url + "/w.bin", dest, SHA, retries=0)
    assert dest.read_bytes() == PAYLOAD and not partial.exists()
    assert origin.requests == [("/w.bin", None), ("/w.bin", f"bytes={len(PAYLOAD) // 2}-")]


def test_a_dropped_connection_is_resumed_within_one_call(origin: Origin, tmp_path: Path) -> None:
    origin.drop_next = 2  # the first try and the first resumption are both cut
    dest = download.download(origin.url + "/w.bin", tmp_path / "w.bin", SHA)
    assert dest.read_bytes() == PAYLOAD
    assert [r for _, r in origin.requests] == [None, "bytes=1500000-", "bytes=2250000-"]


def test_a_server_without_ranges_restarts_cleanly(origin: Origin, tmp_path: Path) -> None:
    origin.ranges = False
    dest = tmp_path / "w.bin"
    download.partial_path(dest).write_bytes(PAYLOAD[:1000])
    assert download.download(origin.url + "/w.bin", dest, SHA).read_bytes() == PAYLOAD
    assert origin.requests == [("/w.bin", "bytes=1000-")]  # asked, got the whole file


def test_a_stale_partial_file_is_fetched_again_from_the_start(
    origin: Origin, tmp_path: Path
) -> None:
    dest = tmp_path / "w.bin"
    download.partial_path(dest).write_bytes(b"x" * 1000)  # from another version of the file
    assert download.download(origin.url + "/w.bin", dest, SHA).read_bytes() == PAYLOAD
    assert [r for _, r in origin.requests] == ["bytes=1000-", None]


def test_a_part_other_than_asked_is_not_appended(origin: Origin, tmp_path: Path) -> None:
    origin.wrong_ranges = True
    dest = tmp_path / "w.bin"
    download.partial_path(dest).write_bytes(PAYLOAD[:1000])
    assert download.download(origin.url + "/w.bin", dest, SHA).read_bytes() == PAYLOAD
    assert [r for _, r in origin.requests] == ["bytes=1000-", None]


def test_http_errors_are_one_line(origin: Origin, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"could not download .*/nope: HTTP 404"):
        download.download(origin.url + "/nope", tmp_path / "w", SHA)


# --- proxies --------------------------------------------------------------------------


def test_http_proxy_from_the_environment_is_used(
    serve: Serve,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The host does not resolve: only the proxy can answer for it.
    url = "http://weights.invalid/w.bin"
    proxy = Origin(files={"/w.bin": PAYLOAD})
    monkeypatch.setenv("http_proxy", serve(proxy, proxy=True))
    assert download.download(url, tmp_path / "w.bin", SHA).read_bytes() == PAYLOAD
    assert proxy.requests == [(url, None)]


def test_https_proxy_from_the_environment_is_used(
    serve: Serve,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    proxy = Origin()
    monkeypatch.setenv("https_proxy", serve(proxy, proxy=True))
    with pytest.raises(ModelError, match=r"could not download .* \(through the proxy http://127"):
        download.download("https://weights.invalid/w.bin", tmp_path / "w.bin", SHA)
    assert proxy.requests == [("CONNECT weights.invalid:443", None)]
    assert list(tmp_path.iterdir()) == []


def test_no_proxy_is_honoured(
    origin: Origin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    monkeypatch.setenv("http_proxy", dead)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    assert download.download(origin.url + "/w.bin", tmp_path / "w", SHA).read_bytes() == PAYLOAD


# --- progress on a terminal -----------------------------------------------------------


def test_progress_line_has_rate_and_eta() -> None:
    assert download.describe_progress(44_000_000, 88_000_000, 11e6) == (
        "44.0/88.0 MB 50%  11.0 MB/s  ETA 0:04"
    )
    assert download.describe_progress(5_000_000, None, 1e6) == "5.0 MB  1.0 MB/s"


def test_terminal_progress_draws_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = download.TerminalProgress("weights", stream)
        bar(0, 2_000_000)
        time.sleep(0.11)
        bar(1_000_000, 2_000_000)
        bar(2_000_000, 2_000_000)
    assert pipe.getvalue() == ""
    lines = tty.getvalue().split("\r")[1:]
    assert lines[0].startswith("weights 0.0/2.0 MB 0%")
    assert lines[1].startswith("weights 1.0/2.0 MB 50%") and "MB/s  ETA 0:" in lines[1]
    assert lines[2].startswith("weights 2.0/2.0 MB 100%") and lines[2].endswith("\n")


# --- setup --imagenet -----------------------------------------------------------------


@pytest.fixture(scope="module")
def imagenet_h5(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Keras's ImageNet file as Keras 1 wrote it (random weights): 92 MB, as the real one."""
    path = tmp_path_factory.mktemp("imagenet") / imagenet.WEIGHTS_FILE
    return keras1_file(path).read_bytes()


def _setup(*args: str) -> int:
    return main(["setup", "--imagenet", *args])


def _files(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_setup_imagenet_resumes_installs_and_becomes_the_default(
    serve: Serve,
    imagenet_h5: bytes,
    tmp_path: Path,
    samples: list[Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    origin = Origin(files={"/x.h5": imagenet_h5}, drop_next=1)
    monkeypatch.setenv(imagenet.ENV_URL, serve(origin) + "/x.h5")  # a studio mirror
    monkeypatch.setattr(download, "RETRIES", 0)
    md5 = hashlib.md5(imagenet_h5).hexdigest()
    models, cache = tmp_path / "models", tmp_path / "cache"
    args = ["--models", str(models), "--cache", str(cache), "--hash", md5]

    assert _setup(*args) == 2  # cut half way
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1
        and "interrupted after 45.9 MB of 91.9 MB" in err
        and "Traceback" not in err
    )
    assert not models.exists(), "nothing in the models folder before the file is whole"

    started = time.perf_counter()
    assert _setup(*args) == 0
    elapsed = time.perf_counter() - started
    out = capsys.readouterr().out
    assert "installed head 'imagenet' (1000 classes), the default head now" in out
    with capsys.disabled():
        print(f"\nsetup --imagenet, resumed from the local server: {elapsed:.1f} s")
    assert origin.requests[1][1] == f"bytes={len(imagenet_h5) // 2}-"
    assert sorted(p.name for p in cache.iterdir()) == [imagenet.WEIGHTS_FILE]

    manifest = Manifest.load(models)
    assert manifest.default_head == "imagenet" and manifest.verify() == []
    source = manifest.heads["imagenet"].source
    assert (source["md5"], source["layout"], source["url"]) == (md5, "keras1", origin.url + "/x.h5")
    assert (
        main(["classify", "--models", str(models), "--json", "--top-k", "1", str(samples[0])]) == 0
    )
    record = json.loads(capsys.readouterr().out)[0]
    assert record["labels"][0] in manifest.heads["imagenet"].labels

    assert _setup(*args) == 0
    assert "up to date" in capsys.readouterr().out and len(origin.requests) == 2


def test_setup_imagenet_wrong_hash_installs_nothing(
    serve: Serve,
    imagenet_h5: bytes,
    tmp_path: Path,
    models_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    origin = Origin(files={"/x.h5": imagenet_h5})
    serve(origin)
    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    before = _files(models)
    code = _setup(
        "--models", str(models), "--cache", str(tmp_path / "c"), "--url", origin.url + "/x.h5"
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"expected {imagenet.WEIGHTS_HASH}; it was removed and nothing was installed" in err
    assert _files(models) == before and list((tmp_path / "c").iterdir()) == []


def test_setup_imagenet_from_a_file_offline(
    imagenet_h5: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keras2 = keras2_file(tmp_path / "keras2.h5")  # a Keras 2 re-save: its own hash
    sha = hashlib.sha256(keras2.read_bytes()).hexdigest()
    models = tmp_path / "models"
    assert _setup("--from", str(keras2), "--models", str(models)) == 2
    assert "not 0a58e3b7378bc2990ea3b43d5981f1f6 (Keras's" in capsys.readouterr().err
    assert not models.exists()
    assert _setup("--from", str(keras2), "--models", str(models), "--hash", sha) == 0
    manifest = Manifest.load(models)
    assert manifest.default_head == "imagenet"
    assert manifest.heads["imagenet"].source["layout"] == "keras2"


def test_a_notop_file_is_refused_before_converting(tmp_path: Path) -> None:
    notop = keras1_file(tmp_path / "notop.h5", top=False)
    md5 = hashlib.md5(notop.read_bytes()).hexdigest()
    with pytest.raises(ModelError, match=r"has no classifier \(a _notop file\?\)"):
        imagenet.install_imagenet(tmp_path / "models", notop, file_hash=md5)
    assert not (tmp_path / "models").exists()


def test_no_network_points_to_from_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        monkeypatch.setenv(imagenet.ENV_URL, f"http://127.0.0.1:{s.getsockname()[1]}/x.h5")
    assert _setup("--models", str(tmp_path / "m"), "--cache", str(tmp_path / "c")) == 2
    err = capsys.readouterr().err
    assert err.startswith("xception-maya: error: could not download http://127.0.0.1:")
    assert err.endswith("run setup --imagenet --from FILE\n") and err.count("\n") == 1


def test_setup_options_need_imagenet(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["setup", "--url", "http://127.0.0.1:9/x.h5"]) == 2
    assert (
        capsys.readouterr().err
        == "xception-maya: error: --from, --url and --hash go with --imagenet\n"
    )


def test_imagenet_joins_kitchenware_on_the_same_backbone(
    models_dir: Path, keras_file: Path, tmp_path: Path
) -> None:
    """The real case: the kitchenware model's base is Keras's ImageNet Xception, so both heads
    share one backbone file; ImageNet becomes the default and the kitchenware set-up stays
    current (``make demo`` converts nothing again and keeps to --head kitchenware)."""
    models = tmp_path / "models"
    shutil.copytree(models_dir, models)
    base = keras_weights.read_weights(keras_file).backbone
    weights = keras1_file(tmp_path / imagenet.WEIGHTS_FILE, backbone=base)
    md5 = hashlib.md5(weights.read_bytes()).hexdigest()
    installed = imagenet.install_imagenet(models, weights, file_hash=md5)
    assert installed.dropped == []
    manifest = Manifest.load(models)
    assert set(manifest.heads) == {"kitchenware", "imagenet"}
    assert manifest.default_head == "imagenet" and manifest.verify() == []
    assert default_model.is_current(models)
