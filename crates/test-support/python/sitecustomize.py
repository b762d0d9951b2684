# Warden test peer guard: confine this Python process to loopback (crates/test-support/src/peer.rs).
import ipaddress as _ip, os as _os, socket as _socket, sys as _sys

_REPORT = _os.environ.get("WARDEN_PEER_REPORT")

def _warden_report(what):
    line = "warden-peer: " + what + "\n"
    if _REPORT:
        with open(_REPORT, "a") as f:
            f.write(line)
    _sys.stderr.write(line)

def _is_loopback(host):
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host == "localhost":
        return True
    try:
        return _ip.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False

def _is_literal(host):
    try:
        _ip.ip_address(str(host).split("%")[0])
        return True
    except ValueError:
        return False

def _wrap(name, addr_index):
    orig = getattr(_socket.socket, name)
    def wrapped(self, *args):
        if self.family in (_socket.AF_INET, _socket.AF_INET6) and len(args) > addr_index:
            addr = args[addr_index] if addr_index >= 0 else args[-1]
            if isinstance(addr, tuple) and not _is_loopback(addr[0]):
                _warden_report("%s to a non-loopback address %r" % (name, addr))
                raise PermissionError("warden test peer confined to loopback: %s %r" % (name, addr))
        return orig(self, *args)
    setattr(_socket.socket, name, wrapped)

_wrap("connect", 0)
_wrap("connect_ex", 0)
_wrap("sendto", -1)

_orig_getaddrinfo = _socket.getaddrinfo
def _getaddrinfo(host, *args, **kwargs):
    h = host.decode() if isinstance(host, bytes) else host
    if h is not None and h != "localhost" and not _is_literal(h):
        _warden_report("system resolver asked for %r" % (h,))
        raise _socket.gaierror(_socket.EAI_NONAME, "warden test peer: no system resolver")
    return _orig_getaddrinfo(host, *args, **kwargs)
_socket.getaddrinfo = _getaddrinfo

try:
    import dns.resolver as _dr
    _orig_read = _dr.Resolver.read_resolv_conf
    def _read_resolv_conf(self, *args, **kwargs):
        _warden_report("dnspython read the system resolver configuration")
        _orig_read(self, *args, **kwargs)
        # Whatever it found, ask only loopback (where nothing answers on port 53).
        self.nameservers = ["127.0.0.1"]
    _dr.Resolver.read_resolv_conf = _read_resolv_conf
except ImportError:
    pass
