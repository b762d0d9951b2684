#!/usr/bin/env bash
# Benchmark of `warden check domain -f` on 1,000 generated domains served by a local bind9,
# with checkdmarc (the peer) on the same domains. Target: <= 20 s for warden.
#
# usage: scripts/bench-mailcheck.sh [N]      (N domains, default 1000)
# needs: bind9 + bind9-utils + checkdmarc (.ci/install-mailcheck-dns.sh), a release build
#        (cargo build --release -p warden).
# Prints both wall times and the ratio; leaves the JSON lines in $WORK/warden.jsonl.
set -euo pipefail

N="${1:-1000}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WARDEN="${WARDEN:-$ROOT/target/release/warden}"
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
     "mx.esp1.test. A 192.0.2.25", "mx.esp1.test. AAAA 2001:db8::25"]
key = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtDQZPTzCXyLb0aBdrGEQhUHH0CsB39m3lEg9QI+XvSj2+eRCaANIP6V"
with open(lst, "w") as out:
    for i in range(n):
        d = f"d{i:05d}.test."
        out.write(d[:-1] + "\n")
        z.append(f"{d} MX 10 mx1.{d}")
        z.append(f"{d} MX 20 mx.esp1.test.")
        z.append(f"mx1.{d} A 192.0.2.{i % 250 + 1}")
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
/usr/sbin/named -g -n 1 -c "$WORK/named.conf" > "$WORK/named.log" 2>&1 &
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
echo "work dir: $WORK"
