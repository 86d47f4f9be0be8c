#!/bin/bash
set -euo pipefail
sudo useradd --system --home-dir /opt/web --shell /usr/sbin/nologin web || true
sudo install -d -o web -g web /opt/web
sudo install -m 0644 /tmp/app.conf /etc/nginx/conf.d/app.conf
sudo rm -f /etc/nginx/sites-enabled/default
sudo nginx -t
sudo systemctl reload nginx
