#!/usr/bin/env bash
# The project's test command (README). Runs every unit, integration and property test of the
# workspace. Tests that need outside programs (bind9, openssl, duckdb, chromium) find them where
# .ci/install-*.sh put them.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --workspace --locked "$@"
