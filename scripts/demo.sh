#!/usr/bin/env bash
# Install aibtui into .venv, compile an example, and build it on the embedded local service
# (the default provider: no Azure account needed). Then `.venv/bin/aibtui` opens the TUI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
echo "== aibtui compile examples/ubuntu-web/web.aib.yaml"
.venv/bin/aibtui compile examples/ubuntu-web/web.aib.yaml --no-notes
echo "== aibtui build examples/ubuntu-web/web.aib.yaml   (local provider)"
.venv/bin/aibtui build examples/ubuntu-web/web.aib.yaml --replace
echo
echo "done. Next: .venv/bin/aibtui (the TUI), .venv/bin/aibtui --help, docs/cli.md"
