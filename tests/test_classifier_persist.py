"""Saved models: what goes in metadata, what a damaged or hostile file does on load."""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Callable
from datetime import datetime
from importlib import metadata as package_metadata
from pathlib import Path

import pytest

from classifier.dataset import read_examples
from classifier.model import FeedbackClassifier
from classifier.persist import (
    CURRENT_POINTER,
    METADATA_FILE,
    MODEL_FILE,
    ModelError,
    load_model,
    load_model_dir,
    save_model,
)

TRAIN_FILE = Path(__file__).resolve().parents[1] / "training_data" / "train.jsonl"
DATA_HASH = "0123456789abcdef" * 4
PROBES = [
    "等了一个半小时才送到，饭都凉了",
    "屏幕有坏点，联系客服三天没人回",
    "昨天买的今天就降价五十，能补差价吗",
    "很好吃，会再来",
    "The rider was two hours late",
]


@pytest.fixture(scope="module")
def tiny_classifier() -> FeedbackClassifier:
    """A classifier fitted on about 200 training examples: seconds, not the full half minute."""
    examples = read_examples(TRAIN_FILE)
    sample = examples[:: max(1, len(examples) // 200)]
    return FeedbackClassifier(features="both").fit(
        [e.text for e in sample],
        [e.primary for e in sample],
        [e.kind for e in sample],
        [list(e.secondary) for e in sample],
    )


@pytest.fixture
def saved(tiny_classifier: FeedbackClassifier, tmp_path: Path) -> Path:
    """A models directory whose CURRENT is the tiny classifier."""
    save_model(tiny_classifier, tmp_path, data_hash=DATA_HASH, scores={"test": {"accuracy": 0.5}})
    return tmp_path


def _version_dir(models_dir: Path) -> Path:
    return models_dir / (models_dir / CURRENT_POINTER).read_text(encoding="utf-8").strip()


def _rewrite_checksum(directory: Path) -> None:
    """Do what an attacker who can write the model directory can do: make the checksum match."""
    info_path = directory / METADATA_FILE
    info = json.loads(info_path.read_text(encoding="utf-8"))
    info["model_sha256"] = hashlib.sha256((directory / MODEL_FILE).read_bytes()).hexdigest()
    info_path.write_text(json.dumps(info), encoding="utf-8")


def test_loaded_model_predicts_exactly_what_the_saved_one_did(
    tiny_classifier: FeedbackClassifier, saved: Path
) -> None:
    loaded = load_model(saved)
    assert loaded.classifier.route(PROBES) == tiny_classifier.route(PROBES)


def test_metadata_records_labels_versions_data_scores_and_time(saved: Path) -> None:
    directory = _version_dir(saved)
    loaded = load_model(saved)
    info = loaded.metadata
    assert loaded.version == info["version"] == directory.name
    assert loaded.path == directory
    assert directory.name.endswith("-" + DATA_HASH[:8])
    assert info["labels"] == ["none", "product", "sales", "service"]
    assert info["libraries"]["scikit-learn"] == package_metadata.version("scikit-learn")
    assert info["libraries"]["jieba"] == package_metadata.version("jieba")
    assert {"python", "numpy", "scipy"} <= set(info["libraries"])
    assert info["training_data_sha256"] == DATA_HASH
    assert info["scores"] == {"test": {"accuracy": 0.5}}
    assert datetime.fromisoformat(info["created_at"]).tzinfo is not None


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


@pytest.mark.parametrize("damage", [_flip_a_byte, _truncate], ids=["flipped byte", "truncated"])
def test_corrupt_model_file_names_the_file_and_how_to_rebuild(
    saved: Path, damage: Callable[[Path], None]
) -> None:
    model_path = _version_dir(saved) / MODEL_FILE
    damage(model_path)
    with pytest.raises(ModelError) as error:
        load_model(saved)
    assert str(model_path) in str(error.value)
    assert "corrupt" in str(error.value)
    assert "feedbot train" in str(error.value)


def test_truncated_model_with_matching_checksum_is_unreadable_not_a_crash(saved: Path) -> None:
    directory = _version_dir(saved)
    _truncate(directory / MODEL_FILE)
    _rewrite_checksum(directory)
    with pytest.raises(ModelError) as error:
        load_model(saved)
    assert str(directory / MODEL_FILE) in str(error.value)
    assert "cannot be read" in str(error.value)
    assert "feedbot train" in str(error.value)


@pytest.mark.parametrize("missing", [MODEL_FILE, METADATA_FILE])
def test_missing_file_in_the_version_directory_is_named(saved: Path, missing: str) -> None:
    path = _version_dir(saved) / missing
    path.unlink()
    with pytest.raises(ModelError) as error:
        load_model(saved)
    assert str(path) in str(error.value)
    assert "feedbot train" in str(error.value)


def test_missing_current_pointer_is_named(saved: Path) -> None:
    (saved / CURRENT_POINTER).unlink()
    with pytest.raises(ModelError) as error:
        load_model(saved)
    assert str(saved / CURRENT_POINTER) in str(error.value)
    assert "feedbot train" in str(error.value)


def test_current_pointer_to_a_deleted_version_names_the_missing_model(saved: Path) -> None:
    (saved / CURRENT_POINTER).write_text("20200101-000000-deadbeef\n", encoding="utf-8")
    with pytest.raises(ModelError) as error:
        load_model(saved)
    assert str(saved / "20200101-000000-deadbeef" / MODEL_FILE) in str(error.value)


def _text(value: str) -> bytes:
    encoded = value.encode()
    return pickle.SHORT_BINUNICODE + bytes([len(encoded)]) + encoded


def _global(module: str, name: str) -> bytes:
    return _text(module) + _text(name) + pickle.STACK_GLOBAL


def _call(function: bytes, *args: bytes) -> bytes:
    return function + b"".join(args) + {1: pickle.TUPLE1, 2: pickle.TUPLE2}[len(args)] + pickle.REDUCE


def _hostile_pickles(marker: Path) -> dict[str, bytes]:
    """Protocol-4 pickles that try to create `marker` (a harmless stand-in for os.system) on load."""
    header, stop = pickle.PROTO + b"\x04", pickle.STOP
    make = str(marker)
    return {
        "os.mkdir": header + _call(_global("os", "mkdir"), _text(make)) + stop,
        "posix.mkdir": header + _call(_global("posix", "mkdir"), _text(make)) + stop,
        "builtins.eval": header
        + _call(_global("builtins", "eval"), _text(f"__import__('os').mkdir({make!r})"))
        + stop,
        # A trusted module's attribute path reaching os: find_class resolves dotted names in protocol 4.
        "classifier.tokenizer/os.mkdir": header
        + _call(_global("classifier.tokenizer", "os.mkdir"), _text(make))
        + stop,
        # builtins.getattr is trusted, and a trusted module hands out the os module itself.
        "getattr(classifier.tokenizer.os)": header
        + _call(
            _call(_global("builtins", "getattr"), _global("classifier.tokenizer", "os"), _text("mkdir")),
            _text(make),
        )
        + stop,
    }


@pytest.mark.parametrize(
    "payload",
    [
        "os.mkdir",
        "posix.mkdir",
        "builtins.eval",
        "classifier.tokenizer/os.mkdir",
        "getattr(classifier.tokenizer.os)",
    ],
)
def test_pickle_that_runs_code_is_refused_even_with_a_matching_checksum(
    saved: Path, tmp_path: Path, payload: str
) -> None:
    directory = _version_dir(saved)
    marker = tmp_path / "code-ran"
    (directory / MODEL_FILE).write_bytes(_hostile_pickles(marker)[payload])
    _rewrite_checksum(directory)
    with pytest.raises(ModelError) as error:
        load_model(saved)
    assert not marker.exists(), "the pickle ran code while loading"
    assert "refusing to load" in str(error.value)
    assert str(directory / MODEL_FILE) in str(error.value)


def test_pickle_naming_os_system_is_refused_by_name(saved: Path) -> None:
    directory = _version_dir(saved)
    (directory / MODEL_FILE).write_bytes(pickle.PROTO + b"\x04" + _global("os", "system") + pickle.STOP)
    _rewrite_checksum(directory)
    with pytest.raises(ModelError, match=r"refusing to load os\.system"):
        load_model(saved)


@pytest.mark.parametrize(("threshold", "routed"), [(0.0, True), (1.0, False)])
def test_threshold_override_decides_between_department_and_triage(
    saved: Path, threshold: float, routed: bool
) -> None:
    loaded = load_model(saved, threshold=threshold)
    assert loaded.classifier.threshold == threshold
    for prediction in loaded.classifier.route(PROBES):
        assert prediction.queue == (prediction.label if routed else "triage")


def test_without_override_the_saved_threshold_is_used(
    tiny_classifier: FeedbackClassifier, saved: Path
) -> None:
    loaded = load_model_dir(_version_dir(saved))
    assert loaded.classifier.threshold == tiny_classifier.threshold == loaded.metadata["threshold"]
