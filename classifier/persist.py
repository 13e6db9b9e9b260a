"""Saving and loading models in versioned directories, with metadata and integrity checks."""

from __future__ import annotations

import hashlib
import json
import pickle
import platform
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

from classifier.model import FeedbackClassifier

MODEL_FILE = "model.pickle"
METADATA_FILE = "metadata.json"
CURRENT_POINTER = "CURRENT"
REBUILD_COMMAND = "feedbot train"

# The exact globals a model file may name: the classes a model is made of and
# the numpy helpers that rebuild arrays. Anything else (os.system, a getattr
# chain, a dotted name reaching through a module) is refused, so even a file
# whose checksum was forged cannot run code when it is loaded.
TRUSTED_GLOBALS = frozenset(
    {
        ("classifier.linear", "BlendedLinear"),
        ("classifier.linear", "NBSVMClassifier"),
        ("classifier.linear", "TemperatureCalibrated"),
        ("classifier.model", "FeedbackClassifier"),
        ("classifier.opening", "OpeningClause"),
        ("classifier.tokenizer", "JiebaTokenizer"),
        ("numpy", "dtype"),
        ("numpy", "float64"),
        ("numpy", "int64"),
        ("numpy", "ndarray"),
        ("numpy._core.numeric", "_frombuffer"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("sklearn.feature_extraction.text", "TfidfTransformer"),
        ("sklearn.feature_extraction.text", "TfidfVectorizer"),
        ("sklearn.linear_model._logistic", "LogisticRegression"),
        ("sklearn.multiclass", "OneVsRestClassifier"),
        ("sklearn.pipeline", "FeatureUnion"),
        ("sklearn.pipeline", "Pipeline"),
        ("sklearn.preprocessing._label", "LabelBinarizer"),
        ("sklearn.svm._classes", "LinearSVC"),
    }
)
_VERSIONED_PACKAGES = ("scikit-learn", "jieba", "numpy", "scipy")


class _TrustedUnpickler(pickle.Unpickler):
    """Unpickler that rebuilds only the globals in TRUSTED_GLOBALS."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in TRUSTED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: not a type this project writes")
        return super().find_class(module, name)


class ModelError(RuntimeError):
    """A model cannot be used; the message names the file and how to rebuild it."""


@dataclass(frozen=True)
class LoadedModel:
    """A model ready to predict, with what is known about it."""

    classifier: FeedbackClassifier
    version: str
    path: Path
    metadata: dict[str, Any]


def library_versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        versions[name] = package_metadata.version(name)
    return versions


def code_fingerprint() -> str:
    """Hash of the classifier's own code and word list: a model is only current if both match."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted([*package.glob("*.py"), *package.glob("*.txt")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_current(loaded: LoadedModel, data_hash: str) -> bool:
    """Whether a model was trained on exactly this data by exactly this code."""
    info = loaded.metadata
    return info.get("training_data_sha256") == data_hash and info.get("code_sha256") == code_fingerprint()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_model(
    classifier: FeedbackClassifier,
    models_dir: Path,
    *,
    data_hash: str,
    scores: dict[str, Any],
    make_current: bool = True,
) -> Path:
    """Write the model and its metadata to a new version directory and return it."""
    created = datetime.now(UTC)
    version = created.strftime("%Y%m%d-%H%M%S-") + data_hash[:8]
    directory = models_dir / version
    directory.mkdir(parents=True, exist_ok=False)
    model_path = directory / MODEL_FILE
    with model_path.open("wb") as handle:
        pickle.dump(classifier, handle, protocol=pickle.HIGHEST_PROTOCOL)
    info = {
        "version": version,
        "created_at": created.isoformat(),
        "labels": [str(label) for label in classifier.classes_],
        "kinds": [str(kind) for kind in classifier.kind_model_.classes_],
        "threshold": classifier.threshold,
        "params": classifier.get_params(),
        "training_data_sha256": data_hash,
        "code_sha256": code_fingerprint(),
        "model_sha256": _sha256(model_path),
        "libraries": library_versions(),
        "scores": scores,
    }
    (directory / METADATA_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=2), encoding="utf-8")
    if make_current:
        set_current(models_dir, version)
    return directory


def set_current(models_dir: Path, version: str) -> None:
    """Point the models directory at a version (written atomically)."""
    pointer = models_dir / CURRENT_POINTER
    temporary = pointer.with_suffix(".tmp")
    temporary.write_text(version + "\n", encoding="utf-8")
    temporary.replace(pointer)


def current_version_dir(models_dir: Path) -> Path:
    """The directory of the current model, or a ModelError saying how to make one."""
    pointer = models_dir / CURRENT_POINTER
    if not pointer.is_file():
        raise ModelError(f"no model found: {pointer} does not exist; build one with `{REBUILD_COMMAND}`")
    return models_dir / pointer.read_text(encoding="utf-8").strip()


def load_model(models_dir: Path, threshold: float | None = None) -> LoadedModel:
    """Load the current model after checking its file is the one training wrote."""
    return load_model_dir(current_version_dir(models_dir), threshold)


def load_model_dir(directory: Path, threshold: float | None = None) -> LoadedModel:
    """Load the model stored in one version directory."""
    model_path, info_path = directory / MODEL_FILE, directory / METADATA_FILE
    fix = f"rebuild it with `{REBUILD_COMMAND}`"
    if not model_path.is_file() or not info_path.is_file():
        missing = model_path if not model_path.is_file() else info_path
        raise ModelError(f"model file {missing} is missing; {fix}")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        expected = info["model_sha256"]
    except (ValueError, KeyError) as error:
        raise ModelError(f"model metadata {info_path} is unreadable ({error}); {fix}") from None
    if _sha256(model_path) != expected:
        raise ModelError(
            f"model file {model_path} is corrupt (its checksum does not match {info_path.name}); {fix}"
        )
    try:
        with model_path.open("rb") as handle:
            classifier = _TrustedUnpickler(handle).load()
    except Exception as error:  # a damaged file can fail in many ways
        raise ModelError(f"model file {model_path} cannot be read ({error}); {fix}") from None
    if not isinstance(classifier, FeedbackClassifier):
        raise ModelError(f"model file {model_path} does not hold a feedback classifier; {fix}")
    if threshold is not None:
        classifier.threshold = threshold
    return LoadedModel(classifier, str(info["version"]), directory, info)
