"""Dependencies point one way: bot uses classifier and storage; neither knows Telegram or the other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "classifier": {"bot", "storage", "telegram"},
    "storage": {"bot", "classifier", "telegram"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_does_not_import_upwards(package: str) -> None:
    imports = {
        str(path.relative_to(ROOT)): imported_packages(path) for path in (ROOT / package).rglob("*.py")
    }
    offenders = {
        name: sorted(found & FORBIDDEN[package])
        for name, found in imports.items()
        if found & FORBIDDEN[package]
    }
    assert offenders == {}


def test_service_layer_has_no_telegram() -> None:
    assert "telegram" not in imported_packages(ROOT / "bot" / "service.py")
