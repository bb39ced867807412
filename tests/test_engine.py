"""The engine: providers, sharing, threads, and the feature cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from xception_maya import engine
from xception_maya.cache import FeatureCache
from xception_maya.errors import DeviceError, ModelError
from xception_maya.manifest import Manifest


@pytest.fixture(scope="module")
def backbone(models_dir: Path) -> Path:
    return Manifest.load(models_dir).backbone_path


def test_auto_runs_the_best_available_provider(backbone: Path) -> None:
    e = engine.Engine(backbone, "auto")
    assert e.requested[-1] == "CPUExecutionProvider"
    assert e.provider == e.requested[0]  # here: the CPU, the only one installed
    assert e.describe()["provider"] == e.provider


def test_an_unavailable_device_says_what_is_installed_and_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "available_providers", lambda: ["CPUExecutionProvider"])
    with pytest.raises(DeviceError) as info:
        engine.requested_providers("cuda")
    message = str(info.value)
    assert "CPUExecutionProvider" in message and "onnxruntime-gpu" in message


def test_unknown_device(backbone: Path) -> None:
    with pytest.raises(DeviceError, match="unknown device 'quantum'"):
        engine.Engine(backbone, "quantum")


def test_a_gpu_that_fails_to_start_is_visible(
    monkeypatch: pytest.MonkeyPatch, backbone: Path
) -> None:
    """onnxruntime quietly drops a CUDA provider whose libraries are missing: that must
    show, as an error for an explicit device and a recorded fallback for auto."""
    monkeypatch.setattr(
        engine, "available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    monkeypatch.setattr(engine, "_provider_options", lambda p: {})
    import onnxruntime as ort

    real = ort.InferenceSession

    def session(path: str, options: object, providers: list[object]) -> object:
        return real(path, options, providers=["CPUExecutionProvider"])

    monkeypatch.setattr(ort, "InferenceSession", session)
    auto = engine.Engine(backbone, "auto")
    assert auto.provider == "CPUExecutionProvider"
    assert auto.fallback and "CUDAExecutionProvider" in auto.fallback
    with pytest.raises(DeviceError, match="failed to start"):
        _ = engine.Engine(backbone, "cuda").session


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"backbone model not found.*xception-maya setup"):
        _ = engine.Engine(tmp_path / "none.onnx", "cpu").session


def test_wrong_input_shape(backbone: Path) -> None:
    with pytest.raises(ModelError, match=r"H, W >= 71; got \(1, 3, 50, 50\)"):
        engine.get_engine(backbone, "cpu").features(np.zeros((1, 3, 50, 50), np.float32))


def test_one_engine_per_model_and_device(backbone: Path) -> None:
    assert engine.get_engine(backbone, "cpu") is engine.get_engine(str(backbone), "CPU")
    assert engine.get_engine(backbone, "cpu") is not engine.get_engine(backbone, "auto")


def test_threads_share_one_session_and_agree(backbone: Path) -> None:
    e = engine.get_engine(backbone, "cpu")
    rng = np.random.default_rng(0)
    batches = [rng.uniform(-1, 1, (1, 3, 80, 96)).astype(np.float32) for _ in range(4)]
    alone = [e.features(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(e.features, batches))
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a, b)


def test_batching_gives_the_features_of_each_image(backbone: Path) -> None:
    e = engine.get_engine(backbone, "cpu")
    x = np.random.default_rng(1).uniform(-1, 1, (3, 3, 75, 75)).astype(np.float32)
    together = e.features(x)
    assert together.shape == (3, 2048)
    for i in range(3):
        np.testing.assert_allclose(e.features(x[i : i + 1])[0], together[i], atol=1e-5)


def test_cache_is_bounded_in_bytes_and_least_recently_used() -> None:
    cache = FeatureCache(max_bytes=3 * 2048 * 4)
    for key in "abc":
        cache.put(key, np.full(2048, ord(key), np.float32))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("d", np.zeros(2048, np.float32))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 3
    assert cache.bytes == 3 * 2048 * 4
    value = cache.get("a")
    assert value is not None and not value.flags.writeable  # callers cannot corrupt it
