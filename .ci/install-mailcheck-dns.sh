#!/usr/bin/env bash
# Installs what the warden-mailcheck DNS tests need:
#  - bind9 (named) and bind9-utils (dnssec-keygen, dnssec-signzone): the tests start a real
#    authoritative server and a validating forwarder on loopback to serve fixture zones.
#  - checkdmarc (PyPI): the peer whose SPF lookup counts the tests compare against.
# Idempotent: every step is skipped when its program is already present.
# `--check`: install nothing; exit 0 when everything is present, 1 when something is missing
# (scripts/test.sh asks this to decide whether to run the script).
set -euo pipefail

need_apt=()
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || need_apt+=(bind9)
command -v dnssec-signzone >/dev/null 2>&1 || [ -x /usr/sbin/dnssec-signzone ] || need_apt+=(bind9-utils)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if ! command -v pip3 >/dev/null 2>&1 && ! python3 -m pip --version >/dev/null 2>&1; then
    need_apt+=(python3-pip)
fi

if [ "${1:-}" = --check ]; then
    [ "${#need_apt[@]}" -eq 0 ] && python3 -c 'import checkdmarc' >/dev/null 2>&1
    exit
fi

if [ "${#need_apt[@]}" -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}"
fi

# The Debian package starts a system named on port 53; the tests use their own instances on
# free ports, so the system one is not needed (and may not be running in a container).

if ! python3 -c 'import checkdmarc' >/dev/null 2>&1; then
    # --break-system-packages: Debian marks its Python as externally managed (PEP 668); this is a
    # throw-away CI machine and checkdmarc is only a test peer.
    python3 -m pip install --quiet checkdmarc 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages checkdmarc
fi
