#!/usr/bin/env bash
# Benchmark of `warden check domain -f` on 1,000 generated domains served by a local bind9,
# with checkdmarc (the peer) on the same domains. Target: <= 20 s for warden.
#
# usage: scripts/bench-mailcheck.sh [N]      (N domains, default 1000)
# needs: bind9 + bind9-utils + checkdmarc (.ci/install-mailcheck-dns.sh), a release build
#        (cargo build --release -p warden).
# Prints both wall times and the ratio; leaves the JSON lines in $WORK/warden.jsonl.
# Every peer query goes to the loopback bind9: checkdmarc gets the server and port explicitly
# (its DNSSEC step included) and runs under the loopback guard (crates/test-support/python),
# which refuses and reports any other address or use of the system resolver; any report fails
# the benchmark.
set -euo pipefail

N="${1:-1000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WARDEN="${WARDEN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/warden}"
WORK="$(mktemp -d /tmp/warden-bench-mailcheck.XXXXXX)"
[ -x "$WARDEN" ] || { echo "build first: cargo build --release -p warden" >&2; exit 2; }

# --- zone: a signed fake root with N domains, each a realistic small mail setup -------------
python3 - "$N" "$WORK/root.zone" "$WORK/domains.txt" <<'PY'
import sys
n, zone, lst = int(sys.argv[1]), sys.argv[2], sys.argv[3]
z = ["$TTL 300", ". SOA ns.test. h.test. 1 3600 600 86400 300", ". NS ns.test.", "ns.test. A 127.0.0.1",
     # shared "provider" includes, as real domains include an ESP's record
     "_spf.esp1.test. TXT \"v=spf1 ip4:192.0.2.0/24 ip4:198.51.100.0/24 -all\"",
     "_spf.esp2.test. TXT \"v=spf1 include:_spf.esp1.test ip6:2001:db8::/32 -all\"",
     "mx.esp1.test. A 192.0.2.25", "mx.esp1.test. AAAA 2001:db8::25",
     "25.2.0.192.in-addr.arpa. PTR mx.esp1.test."]
key = "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC85Vn3RdzlM72UAMy/AWcw+wHxbIy8x+h+hhuobpc3aqk9Wst4iOCV92z6yRkARhcgrMuPQ4bNWKnsnK+/SbJS1Dy6tAH32caZOZQCGgg5hiGCgyyHm7qixGIVeK7dpl/JvUyJsD4eNopzfbQ2znwPeZIoGNNLcnGJuopxWJenBQIDAQAB"
with open(lst, "w") as out:
    for i in range(n):
        d = f"d{i:05d}.test."
        out.write(d[:-1] + "\n")
        z.append(f"{d} MX 10 mx1.{d}")
        z.append(f"{d} MX 20 mx.esp1.test.")
        z.append(f"mx1.{d} A 198.51.{100 + i // 250}.{i % 250 + 1}")
        z.append(f"{i % 250 + 1}.{100 + i // 250}.51.198.in-addr.arpa. PTR mx1.{d}")
        if i % 3 == 0:
            z.append(f"mx1.{d} AAAA 2001:db8::{i % 65000 + 1:x}")
        spf = ["v=spf1 mx include:_spf.esp2.test -all", "v=spf1 a mx ~all", "v=spf1 include:_spf.esp1.test ?all"][i % 3]
        z.append(f'{d} TXT "{spf}"')
        if i % 4 != 0:
            z.append(f'_dmarc.{d} TXT "v=DMARC1; p={["none","quarantine","reject"][i % 3]}; rua=mailto:dmarc@{d[:-1]}"')
        if i % 2 == 0:
            z.append(f'selector1._domainkey.{d} TXT "v=DKIM1; k=rsa; p={key}"')
        if i % 5 == 0:
            z.append(f'_mta-sts.{d} TXT "v=STSv1; id={i}"')
            z.append(f'_smtp._tls.{d} TXT "v=TLSRPTv1; rua=mailto:tls@{d[:-1]}"')
with open(zone, "w") as f:
    f.write("\n".join(z) + "\n")
PY

cd "$WORK"
KSK=$(dnssec-keygen -q -K . -a ECDSAP256SHA256 -f KSK -n ZONE .)
dnssec-keygen -q -K . -a ECDSAP256SHA256 -n ZONE . >/dev/null
dnssec-signzone -q -S -K . -o . -f root.signed root.zone >/dev/null
grep -v '^;' "$KSK.key" > anchor.key

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > named.conf <<CONF
options { directory "$WORK"; pid-file "$WORK/named.pid"; session-keyfile "$WORK/s.key";
  managed-keys-directory "$WORK"; listen-on port $PORT { 127.0.0.1; }; listen-on-v6 { none; };
  recursion no; dnssec-validation no; notify no; minimal-responses yes; };
controls { };
zone "." { type primary; file "$WORK/root.signed"; };
CONF
/usr/sbin/named -g -c "$WORK/named.conf" > "$WORK/named.log" 2>&1 &
NAMED=$!
trap 'kill $NAMED 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null && break
    sleep 0.1
done

echo "== warden check domain -f ($N domains, DNSSEC validation on, MX PTR checks on)"
START=$(date +%s.%N)
set +e
"$WARDEN" check domain -f domains.txt --resolver "127.0.0.1:$PORT" --trust-anchor anchor.key \
    --concurrency 128 > warden.jsonl
RC=$?
set -e
END=$(date +%s.%N)
W=$(python3 -c "print(f'{$END-$START:.2f}')")
echo "warden: $W s, exit $RC, $(wc -l < warden.jsonl) JSON lines"

# The loopback guard for the Python peer (see the header).
export PYTHONPATH="$ROOT/crates/test-support/python${PYTHONPATH:+:$PYTHONPATH}"
export WARDEN_PEER_REPORT="$WORK/peer-report.txt"
: > "$WARDEN_PEER_REPORT"

echo "== checkdmarc (peer) on the same domains: SPF only, serial, as its CLI runs domains"
START=$(date +%s.%N)
python3 "$ROOT/scripts/checkdmarc-spf-counts.py" --port "$PORT" -f domains.txt > checkdmarc-spf.jsonl
END=$(date +%s.%N)
C=$(python3 -c "print(f'{$END-$START:.2f}')")
echo "checkdmarc SPF only: $C s"

echo "== checkdmarc full check_domains (SPF, DMARC, MX, MTA-STS, TLS-RPT, BIMI, DNSSEC; no TLS)"
START=$(date +%s.%N)
python3 "$ROOT/scripts/checkdmarc-spf-counts.py" --port "$PORT" --full -f domains.txt > checkdmarc-full.jsonl
END=$(date +%s.%N)
F=$(python3 -c "print(f'{$END-$START:.2f}')")
echo "checkdmarc full: $F s"
python3 -c "print(f'ratio checkdmarc-full / warden = {$F/$W:.1f}x; target 20 s -> warden at {$W/20:.2f} of target')"
if [ -s "$WARDEN_PEER_REPORT" ]; then
    echo "checkdmarc left loopback or used the system resolver:" >&2
    sort -u "$WARDEN_PEER_REPORT" >&2
    exit 1
fi
echo "work dir: $WORK"
