#!/usr/bin/env bash
# Installs what the warden-webui browser tests need: headless Chromium and its WebDriver.
# Idempotent: does nothing when both binaries are already present.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver fonts-dejavu-core
