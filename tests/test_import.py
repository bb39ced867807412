"""`xception-maya import`: tiny ONNX models built here (logits only, logits + features, NHWC)
imported, checked against independent references, and refused one clear error per mismatch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from cli_run import one_line, run
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator
from PIL import Image

from xception_maya import manifest as mf
from xception_maya import registry
from xception_maya.cli import main
from xception_maya.errors import ModelError
from xception_maya.imported import ImportedClassifier, model_input
from xception_maya.preprocessing import ModelInput

LABELS = ["ash", "birch", "cedar", "deal", "elm", "fir"]
OPSET = 17


def import_into(models: Path, model: Path, labels: Path, *extra: str) -> int:
    """The exit code of ``xception-maya import MODEL --labels LABELS EXTRA --models MODELS``."""
    return main(["import", str(model), "--labels", str(labels), *extra, "--models", str(models)])


@pytest.fixture
def models(models_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the models folder (its manifest is the built v1 one; the large
    files hard-linked: never changed in place)."""
    out = tmp_path / "models"
    out.mkdir()
    for path in models_dir.iterdir():
        if path.is_file() and path.suffix == ".onnx":
            try:
                os.link(path, out / path.name)
                continue
            except OSError:
                pass
        if path.is_file():
            shutil.copy2(path, out / path.name)
        elif path.name == mf.HEADS_DIR:
            shutil.copytree(path, out / path.name)
    return out


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    path = tmp_path / "labels.txt"
    path.write_text("\n".join(LABELS) + "\n")
    return path


# --- tiny networks: Conv 3x3 -> Relu -> GlobalAveragePool -> Flatten (features) -> Gemm (logits)


def weights(classes: int = len(LABELS), seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "conv_w": rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32),
        "conv_b": rng.normal(0, 0.1, 4).astype(np.float32),
        "fc_w": rng.normal(0, 2.0, (4, classes)).astype(np.float32),
        "fc_b": rng.normal(0, 0.1, classes).astype(np.float32),
    }


def build(
    path: Path,
    w: dict[str, np.ndarray],
    *,
    shape: list[Any] | None = None,
    layout: str = "NCHW",
    features: bool | str = True,
    dtype: int = TensorProto.FLOAT,
    second_input: bool = False,
) -> Path:
    shape = shape or ["N", 3, "H", "W"] if layout == "NCHW" else shape or ["N", "H", "W", 3]
    nodes = []
    first = "x"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["x"], ["x_nchw"], perm=[0, 3, 1, 2]))
        first = "x_nchw"
    nodes += [
        helper.make_node("Conv", [first, "conv_w", "conv_b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["g"]),
        helper.make_node("Flatten", ["g"], ["feat"]),
        helper.make_node("Gemm", ["feat", "fc_w", "fc_b"], ["logits"]),
    ]
    inputs = [helper.make_tensor_value_info("x", dtype, shape)]
    if second_input:
        inputs.append(helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["N", 1]))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", w["fc_b"].size])]
    if features is True:
        outputs.append(helper.make_tensor_value_info("feat", TensorProto.FLOAT, ["N", 4]))
    elif features:  # another tensor as the features output: "g" is (N, 4, 1, 1)
        outputs.append(helper.make_tensor_value_info(features, TensorProto.FLOAT, ["N", 4, 1, 1]))
    graph = helper.make_graph(
        nodes,
        "tiny",
        inputs,
        outputs,
        [numpy_helper.from_array(v, k) for k, v in w.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.save_model(model, path)
    return path


def reference_network(x: np.ndarray, w: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The same network in numpy, in float64: (N, 3, H, W) -> (logits, features)."""
    x = x.astype(np.float64)
    n, _, h, wd = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    kernel = w["conv_w"].astype(np.float64)
    conv = np.zeros((n, 4, h, wd))
    for i in range(3):
        for j in range(3):
            conv += np.einsum(
                "oc,nchw->nohw", kernel[:, :, i, j], padded[:, :, i : i + h, j : j + wd]
            )
    conv += w["conv_b"][None, :, None, None]
    feats = np.maximum(conv, 0).mean(axis=(2, 3))
    return feats @ w["fc_w"] + w["fc_b"], feats


def reference_input(path: Path, height: int, width: int, mean: Any, std: Any) -> np.ndarray:
    """(3, H, W) from Pillow directly: the file's 8-bit RGB resized bilinear, normalized."""
    with Image.open(path) as image:
        resized = image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    unit = np.asarray(resized, np.float64) / 255.0
    out: np.ndarray = ((unit - np.asarray(mean)) / np.asarray(std)).transpose(2, 0, 1)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    out: np.ndarray = e / e.sum(axis=-1, keepdims=True)
    return out


# --- importing and running ---------------------------------------------------------------------


def test_imported_model_matches_numpy_end_to_end(
    models: Path,
    labels_file: Path,
    samples: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Logits + features, any size: imported at a non-square 64 x 80 with --range -1,1;
    `classify --model` on the sample photos equals the numpy network on Pillow's pixels."""
    w = weights()
    onnx_file = build(tmp_path / "tiny.onnx", w)
    code, out, err = run(
        [
            "import",
            str(onnx_file),
            "--labels",
            str(labels_file),
            "--features",
            "feat",
            "--size",
            "64",
            "80",
            "--range",
            "-1,1",
            "--models",
            str(models),
        ],
        capsys,
    )
    assert code == 0, err
    assert "imported tiny: 6 labels, 64x80 NCHW bilinear" in out and "--model tiny" in out

    entry = mf.Manifest.load(models).models["tiny"]
    assert entry.preprocessing == ModelInput(64, 80, "bilinear", (0.5,) * 3, (0.5,) * 3, "NCHW")
    assert (entry.logits, entry.features, entry.input, entry.batch) == ("logits", "feat", "x", None)
    assert mf.sha256_of(models / entry.file) == mf.sha256_of(onnx_file)

    photos = [str(p) for p in samples[:6]]
    code, out, err = run(
        [
            "classify",
            "--model",
            "tiny",
            "--json",
            "--features",
            "--top-k",
            "6",
            "--models",
            str(models),
            "--batch-size",
            "4",
            *photos,
        ],
        capsys,
    )
    assert code == 0, err
    records = json.loads(out)
    x = np.stack([reference_input(Path(p), 64, 80, 0.5, 0.5) for p in photos])
    logits, feats = reference_network(x, w)
    probs = softmax(logits)
    worst = 0.0
    for record, p, f in zip(records, probs, feats, strict=True):
        assert record["error"] is None and sorted(record["labels"]) == sorted(LABELS)
        got = np.array(
            [dict(zip(record["labels"], record["scores"], strict=True))[n] for n in LABELS]
        )
        worst = max(
            worst,
            float(np.abs(got - p).max()),
            float(np.abs(np.array(record["features"]) - f).max()),
        )
        assert record["labels"][0] == LABELS[int(np.argmax(p))]
    print(
        f"imported model vs numpy, 6 photos, probabilities and features: max abs diff {worst:.2e}"
    )
    assert worst < 1e-5
    assert len({r["labels"][0] for r in records}) > 1, "the tiny network must tell photos apart"


def test_nhwc_model_matches_onnx_reference_evaluator(
    models: Path, labels_file: Path, samples: list[Path], tmp_path: Path
) -> None:
    """NHWC with a fixed 1 x 72 x 96 x 3 input and mean/std: the session's numbers equal
    onnx's own reference evaluator on the same input, and the input equals Pillow's."""
    w = weights(seed=1)
    onnx_file = build(tmp_path / "nhwc.onnx", w, shape=[1, 72, 96, 3], layout="NHWC")
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    code = main(
        [
            "import",
            str(onnx_file),
            "--labels",
            str(labels_file),
            "--features",
            "feat",
            "--layout",
            "nhwc",
            "--mean",
            "0.485,0.456,0.406",
            "--std",
            "0.229",
            "0.224",
            "0.225",
            "--name",
            "wood.nhwc",
            "--models",
            str(models),
        ]
    )
    assert code == 0
    classifier = ImportedClassifier("wood.nhwc", models_dir=models, device="cpu", batch_size=8)
    assert classifier.batch_size == 1, "a fixed batch of 1 runs one image at a time"
    photos = samples[6:10]
    results = classifier.classify(photos, top_k=3)
    evaluator = ReferenceEvaluator(str(onnx_file))
    worst = 0.0
    for photo, result in zip(photos, results, strict=True):
        pixels = reference_input(photo, 72, 96, mean, std).transpose(1, 2, 0)[None]
        ours = model_input(
            np.asarray(Image.open(photo).convert("RGB"), np.float32) / 255, classifier.preprocessing
        )
        worst_input = float(np.abs(ours - pixels[0]).max())
        assert worst_input < 1e-5, worst_input
        logits, feats = evaluator.run(["logits", "feat"], {"x": pixels.astype(np.float32)})
        assert result.error is None and len(result.labels) == 3
        assert result.class_scores is not None and result.features is not None
        worst = max(
            worst,
            float(np.abs(result.class_scores - softmax(np.asarray(logits[0], np.float64))).max()),
        )
        worst = max(worst, float(np.abs(result.features - feats[0]).max()))
    print(f"NHWC model vs onnx ReferenceEvaluator: max abs diff {worst:.2e}")
    assert worst < 1e-5


def test_logits_only_model_classifies_and_says_it_has_no_features(
    models: Path,
    labels_file: Path,
    samples: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    onnx_file = build(
        tmp_path / "plain.onnx", weights(seed=2), features=False, shape=["N", 3, 48, 48]
    )
    assert (
        main(["import", str(onnx_file), "--labels", str(labels_file), "--models", str(models)]) == 0
    )
    capsys.readouterr()
    code, out, err = run(
        [
            "tag",
            str(samples[0].parent),
            "--model",
            "plain",
            "--json",
            "--top-k",
            "6",
            "--models",
            str(models),
        ],
        capsys,
    )
    assert code == 0, err
    records = json.loads(out)
    assert len(records) == 18 and all(r["labels"] and r["labels"][0] in LABELS for r in records)
    assert all(abs(sum(r["scores"]) - 1) < 1e-5 for r in records), "probabilities"

    classifier = ImportedClassifier("plain", models_dir=models)
    with pytest.raises(ModelError, match="no features output; import it again with --features"):
        classifier.features(samples[:1])
    code, _, err = run(
        [
            "similar",
            str(samples[0]),
            str(samples[0].parent),
            "--model",
            "plain",
            "--models",
            str(models),
        ],
        capsys,
    )
    assert code == 2 and "no features output" in one_line(err)


def test_model_options_of_the_default_model_are_refused_with_model(
    models: Path,
    labels_file: Path,
    samples: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    onnx_file = build(tmp_path / "tiny.onnx", weights(), shape=["N", 3, 32, 32])
    assert (
        main(["import", str(onnx_file), "--labels", str(labels_file), "--models", str(models)]) != 0
    )
    capsys.readouterr()  # two outputs and no --logits: refused (see the mismatch cases)
    assert import_into(models, onnx_file, labels_file, "--logits", "logits") == 0
    capsys.readouterr()
    base = ["classify", "--model", "tiny", "--models", str(models), str(samples[0])]
    for extra, words in (
        (["--head", "kitchenware"], "--head is for the default model"),
        (["--size", "128"], "--size, --resize and --precision are for the default model"),
        (["--precision", "int8"], "--size, --resize and --precision are for the default model"),
    ):
        code, _, err = run([*base, *extra], capsys)
        assert code == 2 and words in one_line(err), (extra, err)
    code, _, err = run(
        ["classify", "--model", "oak", "--models", str(models), str(samples[0])], capsys
    )
    assert code == 2 and "unknown model 'oak'; known models: default, tiny" in one_line(err)


def test_the_default_model_is_unchanged_by_model_default(
    models: Path,
    labels_file: Path,
    samples: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build(tmp_path / "tiny.onnx", weights(), features=False, shape=["N", 3, 32, 32])
    assert import_into(models, tmp_path / "tiny.onnx", labels_file) == 0
    capsys.readouterr()
    plain = run(["classify", "--json", "--models", str(models), str(samples[16])], capsys)
    named = run(
        ["classify", "--json", "--model", "default", "--models", str(models), str(samples[16])],
        capsys,
    )
    assert plain == named and plain[0] == 0
    assert json.loads(plain[1])[0]["labels"][0] == "fork"
    assert registry.resolve_model("default", mf.Manifest.load(models)) is None


# --- one clear error for each mismatch -----------------------------------------------------------


def _case(case: str, tmp_path: Path) -> tuple[Path, list[str], str]:
    w = weights()
    path = tmp_path / "model.onnx"
    extra: list[str] = []
    if case == "4 channels":
        w["conv_w"] = np.zeros((4, 4, 3, 3), np.float32)
        build(path, w, shape=["N", 4, 32, 32])
        return path, extra, "has 4 channels in NCHW; an image model takes 3 (RGB)"
    if case == "NHWC model declared NCHW":
        build(path, w, shape=["N", 32, 32, 3], layout="NHWC")
        return (
            path,
            extra,
            "has 32 channels in NCHW; an image model takes 3 (RGB) "
            "(in NHWC it has 3: add --layout NHWC)",
        )
    if case == "2 inputs":
        build(path, w, shape=["N", 3, 32, 32], second_input=True)
        return path, extra, "the model has 2 inputs ('x', 'mask'); an image model takes one"
    if case == "missing output":
        build(path, w, shape=["N", 3, 32, 32])
        return (
            path,
            ["--features", "embedding"],
            "no output 'embedding' (--features); its outputs: logits, feat",
        )
    if case == "labels != logits":
        build(path, weights(classes=10), shape=["N", 3, 32, 32], features=False)
        return path, extra, "output 'logits' gives 10 scores per image but there are 6 labels"
    if case == "features not 2-D":
        build(path, w, shape=["N", 3, 32, 32], features="g")
        return (
            path,
            ["--features", "g"],
            "output 'g' has shape (2, 4, 1, 1) for 2 images; expected 2-D",
        )
    if case == "int input":
        build(path, w, shape=["N", 3, 32, 32], dtype=TensorProto.INT64)
        return path, extra, "input 'x' is int64; an image model here takes float32"
    if case == "not onnx":
        path.write_text("this is a text file, not a model\n" * 10)
        return path, extra, "is not an ONNX model"
    if case == "huge size":
        build(path, w, shape=[1, 3, 100_000, 100_000], features=False)
        return path, extra, "input height 100000 is over the limit of 1024 pixels"
    if case == "dynamic size, no --size":
        build(path, w, features=False)
        return path, extra, "has no fixed height and width: give --size H W"
    if case == "--size against a fixed size":
        build(path, w, shape=["N", 3, 32, 32], features=False)
        return path, ["--size", "32", "40"], "has width 32, not 40 (--size)"
    if case == "3-D input":
        build(path, w, shape=["N", 3, 32], features=False)
        return path, extra, "has 3 dimensions; an image model takes 4 (NCHW)"
    if case == "mean on 0..255":
        build(path, w, shape=["N", 3, 32, 32], features=False)
        return path, ["--mean", "123.7,116.3,103.5"], "is for 0..255 values"
    if case == "bad name":
        build(path, w, shape=["N", 3, 32, 32], features=False)
        return path, ["--name", "con"], "model name 'con' is not allowed"
    raise AssertionError(case)


CASES = [
    "4 channels",
    "NHWC model declared NCHW",
    "2 inputs",
    "missing output",
    "labels != logits",
    "features not 2-D",
    "int input",
    "not onnx",
    "huge size",
    "dynamic size, no --size",
    "--size against a fixed size",
    "3-D input",
    "mean on 0..255",
    "bad name",
]


@pytest.mark.parametrize("case", CASES)
def test_each_mismatch_is_one_clear_error_and_changes_nothing(
    case: str, models: Path, labels_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, extra, words = _case(case, tmp_path)
    before = (models / mf.MANIFEST).read_bytes()
    code, out, err = run(
        ["import", str(path), "--labels", str(labels_file), "--models", str(models), *extra], capsys
    )
    line = one_line(err)
    assert code == 2 and out == "" and words in line, line
    assert (models / mf.MANIFEST).read_bytes() == before
    assert not (models / mf.IMPORTED_DIR).exists() or not list((models / mf.IMPORTED_DIR).iterdir())


def test_bad_labels_files_and_option_mixes_are_one_error(
    models: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = build(tmp_path / "m.onnx", weights(), shape=["N", 3, 32, 32], features=False)
    (tmp_path / "gap.txt").write_text("ash\n\nbirch\n")
    (tmp_path / "bad.json").write_text('{"0": "ash"}')
    (tmp_path / "six.json").write_text(json.dumps(LABELS))
    for labels, extra, words in (
        ("gap.txt", [], "label 2 is empty"),
        ("bad.json", [], "must hold a JSON list of text"),
        ("missing.txt", [], "cannot read labels file"),
        ("six.json", ["--range", "-1,1", "--mean", "0.5"], "give either --range or --mean/--std"),
    ):
        code, _, err = run(
            [
                "import",
                str(model),
                "--labels",
                str(tmp_path / labels),
                "--models",
                str(models),
                *extra,
            ],
            capsys,
        )
        assert code == 2 and words in one_line(err), err
    # argparse's usage error: exit 2 and one line, before anything is read
    code = main(["import", str(model), "--labels", str(tmp_path / "six.json"), "--range", "1,-1"])
    assert code == 2 and "LOW < HIGH" in capsys.readouterr().err
    six = str(tmp_path / "six.json")
    code, _, err = run(["import", six, "--labels", six, "--models", str(models)], capsys)
    assert code == 2 and "is not an ONNX model" in one_line(err)
    os.symlink("/dev/null", tmp_path / "null.onnx")
    code, _, err = run(
        ["import", str(tmp_path / "null.onnx"), "--labels", six, "--models", str(models)], capsys
    )
    assert code == 2 and "not a regular file" in one_line(err)
    code, _, err = run(
        ["import", str(tmp_path / "my model.onnx"), "--labels", six, "--models", str(models)],
        capsys,
    )
    assert code == 2 and "does not make a model name: give --name NAME" in one_line(err)
    args = ["import", str(model), "--labels", str(tmp_path / "six.json"), "--models", str(models)]
    assert run(args, capsys)[0] == 0
    code, _, err = run(args, capsys)
    assert code == 2 and "already has a model 'm': add --replace" in one_line(err)
    assert run([*args, "--replace"], capsys)[0] == 0


# --- the manifest ------------------------------------------------------------------------------


def test_manifest_v2_round_trips_and_v1_still_loads(
    models: Path, labels_file: Path, tmp_path: Path
) -> None:
    # The folder as version 1 wrote it: no models section (set-up now writes version 2).
    data = json.loads((models / mf.MANIFEST).read_text())
    data["version"] = 1
    data.pop("models", None)
    (models / mf.MANIFEST).write_text(json.dumps(data))
    old = mf.Manifest.load(models)
    assert old.models == {} and old.heads and old.default_head == "kitchenware"

    build(tmp_path / "tiny.onnx", weights(), shape=["N", 3, 40, 56])
    options = ["--features", "feat", "--resize", "bicubic", "--probabilities"]
    assert import_into(models, tmp_path / "tiny.onnx", labels_file, *options) == 0
    written = json.loads((models / mf.MANIFEST).read_text())
    assert written["version"] == mf.VERSION == 2
    manifest = mf.Manifest.load(models)
    assert mf.parse(models, manifest.record(), where="x").record() == manifest.record() == written
    assert manifest.heads.keys() == old.heads.keys() and manifest.backbone == old.backbone
    entry = manifest.models["tiny"]
    assert entry.probabilities and entry.preprocessing.resize == "bicubic"
    assert (entry.preprocessing.height, entry.preprocessing.width) == (40, 56)
    assert manifest.verify() == []

    newer = {**written, "version": 3}
    with pytest.raises(ModelError, match="written by a newer xception-maya"):
        mf.parse(models, newer, where="m.json")
    broken = json.loads(json.dumps(written))
    broken["models"]["tiny"]["preprocessing"]["layout"] = "CHWN"
    with pytest.raises(ModelError, match=r"models.tiny.preprocessing.layout"):
        mf.parse(models, broken, where="m.json")
    broken["models"]["tiny"]["preprocessing"]["layout"] = "NCHW"
    broken["models"]["tiny"]["file"] = "../elsewhere.onnx"
    with pytest.raises(ModelError, match="must be a path inside the models folder"):
        mf.parse(models, broken, where="m.json")


def test_a_changed_imported_file_is_refused(
    models: Path,
    labels_file: Path,
    samples: list[Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build(tmp_path / "tiny.onnx", weights(), features=False, shape=["N", 3, 32, 32])
    assert import_into(models, tmp_path / "tiny.onnx", labels_file) == 0
    path = models / mf.Manifest.load(models).models["tiny"].file
    build(path, weights(seed=9), features=False, shape=["N", 3, 32, 32])
    capsys.readouterr()
    code, _, err = run(
        ["classify", "--model", "tiny", "--models", str(models), str(samples[0])], capsys
    )
    assert code == 2 and "does not match its sha256" in one_line(err)


def test_a_killed_import_leaves_the_old_set(
    models: Path, labels_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = (models / mf.MANIFEST).read_bytes()
    build(tmp_path / "tiny.onnx", weights(), features=False, shape=["N", 3, 32, 32])

    def killed(self: mf.Manifest) -> Path:
        raise KeyboardInterrupt  # as a kill would: after the file, before the manifest

    monkeypatch.setattr(mf.Manifest, "save", killed)
    assert (
        main(
            [
                "import",
                str(tmp_path / "tiny.onnx"),
                "--labels",
                str(labels_file),
                "--models",
                str(models),
            ]
        )
        == 130
    )
    monkeypatch.undo()
    assert (models / mf.MANIFEST).read_bytes() == before, "the old set, untouched"
    assert mf.Manifest.load(models).models == {}
    left = list((models / mf.IMPORTED_DIR).glob("tiny-*.onnx"))
    assert len(left) == 1, "the file was written but is not part of the set"

    build(tmp_path / "other.onnx", weights(seed=3), features=False, shape=["N", 3, 32, 32])
    assert import_into(models, tmp_path / "other.onnx", labels_file) == 0
    manifest = mf.Manifest.load(models)
    assert list(manifest.models) == ["other"] and manifest.verify() == []
    assert [p.name for p in (models / mf.IMPORTED_DIR).iterdir()] == [
        Path(manifest.models["other"].file).name
    ]


def test_a_sigkilled_import_leaves_a_working_folder(
    models: Path, labels_file: Path, samples: list[Path], tmp_path: Path
) -> None:
    """SIGKILL a process importing model after model, at several points: the folder is the
    old set or the new one every time, and the next import cleans up after it."""
    build(tmp_path / "tiny.onnx", weights(), features=False, shape=["N", 3, 32, 32])
    script = (
        "import sys, onnx, onnxruntime;"
        "from xception_maya.imported import ImportOptions, import_model, read_labels;"
        "o = ImportOptions(read_labels(sys.argv[3])); print('ready', flush=True);"
        "[import_model(sys.argv[1], sys.argv[2], o, name=f'm{i}') for i in range(1000)]"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    argv = [
        sys.executable,
        "-c",
        script,
        str(models),
        str(tmp_path / "tiny.onnx"),
        str(labels_file),
    ]
    for delay in (0.0, 0.2, 0.5, 1.0):
        child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE)
        assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        time.sleep(delay)
        child.kill()
        child.wait()
        assert mf.Manifest.load(models).verify() == [], f"killed {delay} s into importing"
    imported = mf.Manifest.load(models).models
    assert imported, "some imports committed before the kills"
    name = next(iter(imported))
    results = ImportedClassifier(name, models_dir=models).classify(samples[:2])
    assert all(r.error is None and r.labels[0] in LABELS for r in results)
    assert import_into(models, tmp_path / "tiny.onnx", labels_file, "--name", "last") == 0
    named = {Path(m.file).name for m in mf.Manifest.load(models).models.values()}
    assert {p.name for p in (models / mf.IMPORTED_DIR).iterdir()} == named
