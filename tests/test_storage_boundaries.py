"""The storage package stays independent of the bot, the classifier and Telegram."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STORAGE = Path(__file__).resolve().parent.parent / "storage"
FORBIDDEN = ("bot", "classifier", "telegram")


def imported_modules(path: Path) -> set[str]:
    """Return the top-level package of every module `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(STORAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(STORAGE)))
def test_storage_module_imports_no_bot_classifier_or_telegram(path: Path) -> None:
    assert imported_modules(path).isdisjoint(FORBIDDEN)
