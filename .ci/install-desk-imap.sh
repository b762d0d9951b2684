#!/usr/bin/env bash
# Installs what the warden-desk IMAP import tests need: Dovecot's IMAP server. The tests start
# their own instance on loopback with a throw-away configuration (crates/desk/tests/imap.rs);
# the system service the package sets up is not used (and may not run in a container).
# Idempotent: does nothing when dovecot is already installed.
set -euo pipefail
if command -v dovecot >/dev/null 2>&1 || [ -x /usr/sbin/dovecot ]; then
    exit 0
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd
