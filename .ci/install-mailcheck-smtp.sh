#!/usr/bin/env bash
# Installs what the warden-mailcheck SMTP/TLS and message-lint tests need:
#  - libssl-dev and pkg-config: the `openssl` crate (dev-dependency) builds against the system
#    OpenSSL; the loopback SMTP test servers use it because it can still be told to accept
#    TLS 1.0/1.1 like old MTAs, which rustls cannot.
#  - testssl.sh (command `testssl`): the peer whose protocol verdicts tests/testssl.rs compares
#    with ours. It brings the `openssl` command it drives.
#  - bind9 (named): tests/message_lint.rs serves DKIM keys from a real authoritative server on
#    loopback.
# Idempotent: nothing is installed when every program is already present.
# `--check`: install nothing; exit 0 when everything is present, 1 when something is missing
# (scripts/test.sh asks this to decide whether to run the script).
set -euo pipefail

need_apt=()
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
[ -f /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
command -v testssl >/dev/null 2>&1 || need_apt+=(testssl.sh)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v named >/dev/null 2>&1 || [ -x /usr/sbin/named ] || need_apt+=(bind9)

if [ "${1:-}" = --check ]; then
    [ "${#need_apt[@]}" -eq 0 ]
    exit
fi

if [ "${#need_apt[@]}" -gt 0 ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_apt[@]}"
fi
