#!/usr/bin/env bash
# The project's test command (README). Sets itself up, runs every unit, integration and
# property test of the workspace, then says which real-server tests ran and which were skipped.
#
# usage: bash scripts/test.sh [--no-install] [CARGO TEST ARGS...]
#
#  1. Each .ci/install-*.sh whose tools are missing (asked with `--check`) is run, as root:
#     directly when root, through sudo when it exists, else a note says what to run and the
#     tests go on. --no-install skips this step. The scripts are idempotent.
#  2. cargo test --workspace --locked, with the remaining arguments passed through.
#  3. Tests that need an outside program (bind9, Dovecot, DuckDB, OpenSSL servers, testssl,
#     checkdmarc, Chromium) record through warden-test-support's require_tool whether they ran
#     or were skipped, in the file named by WARDEN_TEST_RECORD (under the target directory);
#     the last lines printed are the summary of that file. With CI=true a missing tool fails
#     its test instead.
#
# Exits with cargo test's status.
set -euo pipefail
cd "$(dirname "$0")/.."

install=1
args=()
for a in "$@"; do
    case "$a" in
        --no-install) install=0 ;;
        *) args+=("$a") ;;
    esac
done

# --- 1. set-up -------------------------------------------------------------------------------
if [ "$install" = 1 ]; then
    for script in .ci/install-*.sh; do
        [ -e "$script" ] || continue
        if bash "$script" --check >/dev/null 2>&1; then
            continue
        fi
        echo "== test.sh: $script (a tool it provides is missing)"
        if [ "$(id -u)" = 0 ]; then
            bash "$script" || echo "test.sh: $script failed; its tests will be skipped (or fail under CI)" >&2
        elif command -v sudo >/dev/null 2>&1; then
            sudo bash "$script" || echo "test.sh: sudo bash $script failed; its tests will be skipped (or fail under CI)" >&2
        else
            echo "test.sh: $script needs root and sudo is not installed; run it as root. Going on without it." >&2
        fi
    done
fi

# --- 2. the tests ----------------------------------------------------------------------------
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
    target="$CARGO_TARGET_DIR"
else
    target="$(cargo metadata --format-version 1 --no-deps --locked \
        | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
fi
[ -n "$target" ] || { echo "test.sh: cannot find the cargo target directory" >&2; exit 2; }
mkdir -p "$target"
record="$target/warden-test-record.tsv"
: > "$record"
export WARDEN_TEST_RECORD="$record"

set +e
cargo test --workspace --locked ${args[@]+"${args[@]}"}
rc=$?
set -e

# --- 3. the summary --------------------------------------------------------------------------
# A test that recorded any skip was skipped (its first missing tool is the reason); a test
# with only "ran" records ran against its real servers.
echo
echo "== real-server tests (record: $record)"
awk -F '\t' '
    $1 == "ran"     { ran[$2] = ran[$2] ? ran[$2] : $3 }
    $1 == "skipped" { if (!($2 in skip)) { skip[$2] = $3 ": " $4; order[++n] = $2 } }
    END {
        r = 0; for (t in ran) if (!(t in skip)) r++
        s = 0; for (i = 1; i <= n; i++) { print "skipped " order[i] " (" skip[order[i]] ")"; s++ }
        printf "real-server tests: %d ran, %d skipped\n", r, s
    }' "$record"
if [ "$rc" -ne 0 ]; then
    echo "cargo test failed (exit $rc)"
fi
exit "$rc"
