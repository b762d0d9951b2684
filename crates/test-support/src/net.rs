//! Loopback sockets for tests.
//!
//! In-process servers get a listener that is already bound to `127.0.0.1:0` and hand it over:
//! choosing a "free" port first and binding it later races every other test (and engineer) on
//! the machine. Outside programs (named, Dovecot, chromedriver) bind their own sockets and
//! cannot take one over; for them [`with_child_port`] picks a port and retries the start on
//! another one when the program could not come up there, so the race costs a retry, not a
//! failed test.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

/// The loopback address with port 0 (the kernel picks a port).
pub const LOOPBACK_ANY_PORT: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// A TCP listener bound to 127.0.0.1 on a port the kernel picked.
pub fn loopback_listener() -> TcpListener {
    TcpListener::bind(LOOPBACK_ANY_PORT).unwrap_or_else(|e| panic!("bind 127.0.0.1:0: {e}"))
}

/// [`loopback_listener`] in non-blocking mode, ready for `tokio::net::TcpListener::from_std`.
pub fn loopback_listener_nonblocking() -> TcpListener {
    let l = loopback_listener();
    l.set_nonblocking(true)
        .unwrap_or_else(|e| panic!("set_nonblocking: {e}"));
    l
}

/// A port that was free for both TCP and UDP on 127.0.0.1 a moment ago, for a program that
/// binds it itself. Use through [`with_child_port`], which retries when the port was taken in
/// between.
pub fn child_port() -> u16 {
    loop {
        let udp = UdpSocket::bind(LOOPBACK_ANY_PORT).unwrap_or_else(|e| panic!("bind udp: {e}"));
        let port = udp
            .local_addr()
            .unwrap_or_else(|e| panic!("local_addr: {e}"))
            .port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
}

/// Starts an outside program that listens on a port of its own: `start(port)` launches it and
/// waits until it serves, returning `Err(why)` when it did not come up (typically: the port
/// was taken between [`child_port`] and the program's own bind). Tried on up to `attempts`
/// ports; panics with every reason when none worked.
pub fn with_child_port<T>(
    what: &str,
    attempts: usize,
    mut start: impl FnMut(u16) -> Result<T, String>,
) -> T {
    let mut reasons = Vec::new();
    for _ in 0..attempts.max(1) {
        let port = child_port();
        match start(port) {
            Ok(t) => return t,
            Err(why) => reasons.push(format!("port {port}: {why}")),
        }
    }
    panic!("{what} did not start:\n{}", reasons.join("\n"))
}
