#!/usr/bin/env bash
# Installs what the warden-mailcheck DNS tests need:
#  - bind9 (named) and bind9-utils (dnssec-keygen, dnssec-signzone): the tests start a real
#    authoritative server and a validating forwarder on loopback to serve fixture zones.
#  - checkdmarc (PyPI): the peer whose SPF lookup counts the tests compare against.
# Idempotent: every step is skipped when its program is already present.
set -euo pipefail

need_apt=()
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || need_apt+=(bind9)
command -v dnssec-signzone >/dev/null 2>&1 || need_apt+=(bind9-utils)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
if ! command -v pip3 >/dev/null 2>&1 && ! python3 -m pip --version >/dev/null 2>&1; then
    need_apt+=(python3-pip)
fi

if [ "${#need_apt[@]}" -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}"
fi

# The Debian package starts a system named on port 53; the tests use their own instances on
# free ports, so the system one is not needed (and may not be running in a container).

if ! command -v checkdmarc >/dev/null 2>&1; then
    # --break-system-packages: Debian marks its Python as externally managed (PEP 668); this is a
    # throw-away CI machine and checkdmarc is only a test peer.
    python3 -m pip install --quiet checkdmarc 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages checkdmarc
fi
