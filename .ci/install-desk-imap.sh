#!/usr/bin/env bash
# Installs what the warden-desk IMAP import tests need: Dovecot's IMAP server. The tests start
# their own instance on loopback with a throw-away configuration (crates/desk/tests/imap.rs);
# the system service the package sets up is not used (and may not run in a container).
# Idempotent: does nothing when dovecot is already installed.
# `--check`: install nothing; exit 0 when everything is present, 1 when something is missing
# (scripts/test.sh asks this to decide whether to run the script).
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
    exit 0
fi
[ "${1:-}" = --check ] && exit 1
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd
