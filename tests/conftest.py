"""Shared fixtures: real databases, the Bot API sandbox, and one trained model per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifier.dataset import fingerprint
from classifier.persist import LoadedModel, ModelError, is_current, load_model
from classifier.train import load_training_examples, train

pytest_plugins = ["tests.storage_fixtures", "tests.sandbox_fixtures", "tests.bot_harness"]

ROOT = Path(__file__).resolve().parents[1]
TRAINING_DATA = ROOT / "training_data"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models directory whose current model was trained on today's data by today's code.

    Reuses the project's `models/` when its current model is exactly that (as
    after `scripts/setup.sh` or `feedbot train`); otherwise trains one (about a minute).
    """
    project_models = ROOT / "models"
    data_hash = fingerprint(load_training_examples(TRAINING_DATA))
    try:
        if is_current(load_model(project_models), data_hash):
            return project_models
    except ModelError:
        pass
    directory = tmp_path_factory.mktemp("models")
    train(TRAINING_DATA, directory, compare=False)
    return directory


@pytest.fixture(scope="session")
def trained_model(models_dir: Path) -> LoadedModel:
    """The current model, loaded once for the whole test run."""
    return load_model(models_dir)
