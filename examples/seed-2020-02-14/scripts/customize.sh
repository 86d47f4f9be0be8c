#!/bin/bash
# Published as https://stimagingscripts.blob.core.windows.net/seed/customize.sh.
set -euo pipefail
sudo mkdir -p /buildArtifacts
echo "built by Azure Image Builder on $(date -u +%Y-%m-%dT%H:%M:%SZ)" | sudo tee /buildArtifacts/buildinfo.txt
