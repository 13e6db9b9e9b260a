#!/usr/bin/env bash
# Set up everything feedbot needs on a fresh machine: a CJK font for digest
# charts, a virtualenv with the project, the database schema and a trained model.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk"; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "installing a CJK font for digest charts (fonts-wqy-microhei)"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei fontconfig >/dev/null
    else
        echo "warning: no CJK font found; install fonts-wqy-microhei so digest charts show Chinese" >&2
    fi
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"

.venv/bin/feedbot db upgrade
# Train only when the current model was not trained on exactly this data by this code.
if ! .venv/bin/python - <<'PY'
import sys
from pathlib import Path
from classifier.dataset import fingerprint
from classifier.persist import ModelError, is_current, load_model
from classifier.train import load_training_examples
try:
    model = load_model(Path("models"))
except ModelError:
    sys.exit(1)
sys.exit(0 if is_current(model, fingerprint(load_training_examples(Path("training_data")))) else 1)
PY
then
    .venv/bin/feedbot train --no-compare
fi
echo "feedbot is set up: try '.venv/bin/feedbot demo'"
