#!/bin/bash
# Installs the (fictional) Contoso monitoring agent from the internal package mirror.
# Published as https://stimagingscripts.blob.core.windows.net/scripts/install-monitoring-agent.sh;
# the build reads it from there (the template's identity has Storage Blob Data Reader on it).
set -euo pipefail
sudo tee /etc/yum.repos.d/contoso-monitoring.repo >/dev/null <<'REPO'
[contoso-monitoring]
name=Contoso monitoring agent
baseurl=https://packages.contoso.example/rhel/9/x86_64/
enabled=1
gpgcheck=1
gpgkey=https://packages.contoso.example/keys/RPM-GPG-KEY-contoso
REPO
sudo dnf -y install contoso-monitoring-agent
sudo systemctl enable contoso-monitoring-agent
