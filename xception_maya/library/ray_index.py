"""Extracting features on a Ray cluster: a Ray Data pipeline (the optional extra ``ray``).

The driver (``xception-maya index --ray``) lists and hashes the files and writes the index, as
in a local run; only decoding and the network move out:

- files -> ``ray.data.from_items`` -> ``map``: each image decoded and preprocessed in a Ray task
  (:func:`xception_maya.images.load_image` and :func:`~xception_maya.images.preprocess`, the
  calls ``Classifier`` makes) -> ``map_batches`` on a pool of actors, each holding one engine
  (``num_gpus=1`` per actor when the cluster has GPUs) -> rows streamed back to the driver as
  they are ready, and committed in batches there.

Every machine needs ``xception-maya[ray]``, the same image paths (shared storage mounted at the
same place) and the models folder: at the driver's path, else ``$XCEPTION_MAYA_MODELS``. An
actor whose backbone file has another sha256 than the driver's, or whose engine runs the
precision otherwise (``--precision``), refuses to start, so features of different models
never mix. Ray schedules, retries and streams; there is no scheduler of
ours.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import XceptionMayaError
from .store import LibraryError, Model

Result = np.ndarray | XceptionMayaError
INSTALL = 'install it with: pip install "xception-maya[ray]"'
DECODE_CPUS = 0.5
ROWS_PER_BLOCK = 32  # files per decode task: Ray's per-task cost stays small beside the decoding
CPUS_PER_ACTOR_SHARE = 8  # CPU clusters: one engine per 8 cores (onnxruntime threads use them)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise LibraryError(f"--ray needs Ray, which is not installed; {INSTALL}") from None
    return ray


class _Decode:
    """A Ray task's work: one file -> the network's input, or the reason it cannot be read."""

    def __init__(self, size: int, resize: str) -> None:
        self.size = size
        self.resize = resize

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        from .. import images
        from ..preprocessing import Preprocessing

        try:
            # The same decode as the local pipeline: 8-bit files stay uint8 until the end.
            tensor = images.load_for_network(
                row["path"], None, Preprocessing(self.size, self.resize)
            )
            error = ""
        except XceptionMayaError as exc:
            tensor = np.zeros((3, self.size, self.size), np.float32)
            error = str(exc) or type(exc).__name__
        return {"position": row["position"], "tensor": tensor, "error": error}


class _Features:
    """A Ray actor: one engine, batches of inputs -> features."""

    def __init__(self, models_dir: str, features_id: str, device: str, precision: str) -> None:
        from ..engine import get_engine
        from ..manifest import Manifest, default_models_dir
        from .api import REFERENCE_ENGINE
        from .api import features_id as id_of

        root = Path(models_dir) if Path(models_dir).is_dir() else default_models_dir()
        manifest = Manifest.load(root)
        if not features_id.startswith(manifest.backbone.sha256):
            raise LibraryError(
                f"the models folder {root} on {platform.node()} holds another backbone than "
                "the driver's; install the same models there"
            )
        self.engine = get_engine(manifest.backbone_path, device, precision)
        if id_of(manifest.backbone.sha256, self.engine.key) != features_id:
            raise LibraryError(
                f"{platform.node()} runs precision {precision} as {self.engine.key}, the driver "
                f"as {features_id.partition('/')[2] or REFERENCE_ENGINE}; their features must "
                "not mix: give the same --precision and install the same extras everywhere"
            )

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ok = np.array([not e for e in batch["error"]], dtype=bool)
        features = np.zeros((len(ok), 2048), np.float32)
        if ok.any():
            features[ok] = self.engine.features(np.asarray(batch["tensor"])[ok])
        return {"position": batch["position"], "features": features, "error": batch["error"]}


class RayExtractor:
    """An :data:`~xception_maya.library.scan.Extractor` running on Ray."""

    def __init__(
        self,
        address: str | None,
        models_dir: str | os.PathLike[str],
        model: Model,
        *,
        device: str = "auto",
        precision: str = "fp32",
        batch_size: int = 8,
        actors: int | None = None,
    ) -> None:
        """``address``: a running cluster (``host:6379``, ``ray://host:10001``, ``auto``);
        None: the Ray already started in this process, else a new local one."""
        self.address = address
        self.models_dir = str(Path(models_dir).resolve())
        self.model = model
        self.device = device
        self.precision = precision  # concrete (the driver's engine resolved "auto")
        self.batch_size = max(1, batch_size)
        self.actors = actors
        self.ray = _ray()

    def start(self) -> None:
        if not self.ray.is_initialized():
            self.ray.init(address=self.address, include_dashboard=False, log_to_driver=False)

    def describe(self) -> str:
        return f"Ray ({self.address or 'local'})"

    def __call__(self, paths: Sequence[str]) -> Iterator[tuple[int, Result]]:
        if not paths:
            return
        self.start()
        ray = self.ray
        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        cpus = int(resources.get("CPU", 1))
        actors = self.actors or gpus or max(1, cpus // CPUS_PER_ACTOR_SHARE)
        items = [{"position": i, "path": p} for i, p in enumerate(paths)]
        # Left to itself Ray Data makes a block, so a task, per file or two, and the tasks'
        # own cost showed: at 1200 files on 2 CPUs the rate rose from 0.80 of the local
        # pipeline's to about 1.0 with 32 files a block (bench_index.py). Two blocks per
        # CPU at least, so every CPU of a cluster decodes.
        blocks = max(1, min(len(items), max(-(-len(items) // ROWS_PER_BLOCK), 2 * cpus)))
        # A callable instance (not a class) runs as tasks; the class below runs as actors.
        # Half a CPU per decode: two decode while an actor runs the network, as the local
        # pipeline's threads do, and the different request keeps Ray from fusing decoding
        # into the actors (where it would wait for the network).
        data = ray.data.from_items(items, override_num_blocks=blocks).map(
            _Decode(self.model.size, self.model.resize), num_cpus=DECODE_CPUS
        )
        data = data.map_batches(
            _Features,
            fn_constructor_args=(
                self.models_dir,
                self.model.backbone_sha256,
                self.device,
                self.precision,
            ),
            batch_size=self.batch_size,
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_gpus=1 if gpus else 0,
            num_cpus=1,
        )
        for batch in data.iter_batches(batch_size=None, batch_format="numpy"):
            for position, features, error in zip(
                batch["position"], batch["features"], batch["error"], strict=True
            ):
                message = str(error)
                result: Result = (
                    XceptionMayaError(message) if message else np.asarray(features, np.float32)
                )
                yield int(position), result
