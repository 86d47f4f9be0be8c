#!/usr/bin/env bash
# Install aibtui into .venv and compile an example (the local service is the default provider).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
.venv/bin/aibtui compile examples/ubuntu-web/web.aib.yaml
