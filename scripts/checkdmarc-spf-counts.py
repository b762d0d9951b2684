#!/usr/bin/env python3
"""Runs checkdmarc's SPF evaluation (the peer, PyPI `checkdmarc`) against one DNS server and
prints one JSON line per domain: {"domain", "lookups", "void_lookups", "error"}.

Used by crates/mailcheck/tests/dns_checkdmarc.rs (count comparison on the fixture zones) and by
scripts/bench-mailcheck.sh (the peer's time on the benchmark domains).

usage: checkdmarc-spf-counts.py --server IP --port PORT [--full] DOMAIN... | -f FILE
  --full   run checkdmarc's whole domain check (check_domains) instead of SPF only

Every DNS question goes to SERVER:PORT only. Run it with PYTHONPATH=crates/test-support/python
(the loopback guard) to have any other address or the system resolver refused and reported.
"""
import argparse
import json
import re
import sys

import dns.nameserver
import dns.resolver
import checkdmarc
import checkdmarc.spf as spf


def loopback_nameserver(server, port):
    # A nameserver with its port (a bare address would mean port 53).
    return dns.nameserver.Do53Nameserver(server, port)


def resolver(server, port, timeout):
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [server]
    r.port = port
    r.timeout = timeout
    r.lifetime = timeout * 2
    return r


def spf_counts(domain, r):
    out = {"domain": domain, "lookups": None, "void_lookups": None, "error": None}
    try:
        res = spf.get_spf_record(domain, resolver=r)
        out["lookups"] = res.get("dns_lookups")
        out["void_lookups"] = res.get("void_dns_lookups", res.get("dns_void_lookups"))
    except Exception as e:  # checkdmarc signals limits with exceptions
        msg = str(e)
        out["error"] = f"{type(e).__name__}: {msg}"
        m = re.search(r"requires (\d+)/10", msg)
        if m:
            out["lookups"] = int(m.group(1))
        m = re.search(r"(\d+)/2 maximum void", msg)
        if m:
            out["void_lookups"] = int(m.group(1))
        for attr in ("dns_lookups", "void_dns_lookups"):
            v = getattr(e, "data", {}) or {}
            if isinstance(v, dict) and attr in v and v[attr] is not None:
                out["lookups" if attr == "dns_lookups" else "void_lookups"] = v[attr]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--full", action="store_true")
    p.add_argument("-f", "--file")
    p.add_argument("domains", nargs="*")
    a = p.parse_args()
    domains = list(a.domains)
    if a.file:
        with open(a.file) as fh:
            domains += [l.strip() for l in fh if l.strip() and not l.startswith("#")]
    r = resolver(a.server, a.port, a.timeout)
    for d in domains:
        if a.full:
            # Both the resolver and the nameservers: checkdmarc's DNSSEC step ignores `resolver`
            # and, without `nameservers`, asks the machine's system resolver (off loopback).
            res = checkdmarc.check_domains(
                [d], resolver=r, nameservers=[loopback_nameserver(a.server, a.port)],
                timeout=a.timeout, skip_tls=True)
            s = res.get("spf", {}) if isinstance(res, dict) else {}
            print(json.dumps({"domain": d, "lookups": s.get("dns_lookups"), "error": s.get("error")}))
        else:
            print(json.dumps(spf_counts(d, r)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
