#!/usr/bin/env bash
# Installs what the CGN attribution tests need beyond Rust:
#  - the Python duckdb module, used by crates/attribution/tests/duckdb.rs to run the same
#    stabbing lookups over the Parquet export and compare answers with the store's;
#  - gzip (zgrep), used by `warden nat bench` to time a grep over raw logs.
# Idempotent: skips what is already present.
# `--check`: install nothing; exit 0 when everything is present, 1 when something is missing
# (scripts/test.sh asks this to decide whether to run the script).
set -euo pipefail

if [ "${1:-}" = --check ]; then
    command -v zgrep >/dev/null 2>&1 && python3 -c 'import duckdb' >/dev/null 2>&1
    exit
fi

if ! command -v python3 >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3 python3-pip
fi

if ! command -v zgrep >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gzip
fi

if ! python3 -c 'import duckdb' >/dev/null 2>&1; then
    # Debian's python marks its site-packages as externally managed; this is a CI machine.
    python3 -m pip install --quiet duckdb \
        || python3 -m pip install --quiet --break-system-packages duckdb
fi

python3 -c 'import duckdb; print("duckdb", duckdb.__version__)'
