#!/usr/bin/env bash
# Installs what the warden-webui browser tests need: headless Chromium and its WebDriver.
# Idempotent: does nothing when both binaries are already present.
# `--check`: install nothing; exit 0 when everything is present, 1 when something is missing
# (scripts/test.sh asks this to decide whether to run the script).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
[ "${1:-}" = --check ] && exit 1
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver fonts-dejavu-core
