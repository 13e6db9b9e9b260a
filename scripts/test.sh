#!/usr/bin/env bash
# The whole test suite: lint, types, then every test (SQLite and PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/mypy bot classifier storage
.venv/bin/python -m pytest "$@"
