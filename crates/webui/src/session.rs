//! Browser sessions: an analyst logs in with a desk API token (`warden_desk::tokens`), and gets
//! a random session id in a `Secure; HttpOnly; SameSite=Strict` cookie. The session carries the
//! token's name and role, and a CSRF token that every POST form must echo.
//!
//! Sessions live in memory: a restart logs everyone out, which is acceptable for an analyst UI
//! and keeps session ids out of the database. The table is bounded ([`MAX_SESSIONS`]).

use crate::error::UiError;
use crate::layout::Viewer;
use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use warden_desk::tokens::Role;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "warden_session";
/// The cookie that carries the login form's CSRF token (double submit: there is no session yet).
pub const LOGIN_CSRF_COOKIE: &str = "warden_login_csrf";
/// At most this many live sessions; a login beyond it is refused rather than evicting others.
pub const MAX_SESSIONS: usize = 10_000;
/// Cookie headers longer than this are ignored (no legitimate browser sends more for this UI).
const MAX_COOKIE_HEADER: usize = 8 * 1024;

/// One logged-in analyst.
#[derive(Debug, Clone)]
pub struct Session {
    /// The API token's name (shown in the audit log as the actor).
    pub user: String,
    /// What the token may do.
    pub role: Role,
    /// Every POST form of this session must carry this value.
    pub csrf: String,
    expires: Instant,
}

/// The live sessions, keyed by session id.
#[derive(Debug, Clone)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
    ttl: Duration,
}

/// 256 random bits as hex, from the OS generator (via UUID v4, whose 122 random bits twice
/// plus the fixed version bits give 244 bits of entropy: plenty for a session id).
pub fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of cookie `name` in the request, if present and sane.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter(|v| v.len() <= MAX_COOKIE_HEADER)
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for `name=value` that the browser keeps for `max_age` seconds, sends only
/// to this UI's paths, never to scripts, and never on cross-site requests.
pub fn set_cookie(name: &str, value: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/ui; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}

impl Sessions {
    /// An empty table; sessions last `ttl` from login.
    pub fn new(ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Mutex::new(HashMap::new())),
            ttl,
        }
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Opens a session for `user` with `role`; returns its id.
    pub async fn open(&self, user: String, role: Role) -> Result<String, UiError> {
        let now = Instant::now();
        let mut map = self.inner.lock().await;
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.expires > now);
            if map.len() >= MAX_SESSIONS {
                return Err(UiError::SessionsFull);
            }
        }
        let id = random_token();
        map.insert(
            id.clone(),
            Session {
                user,
                role,
                csrf: random_token(),
                expires: now + self.ttl,
            },
        );
        Ok(id)
    }

    /// The live session the request's cookie names, if any.
    pub async fn current(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, SESSION_COOKIE)?;
        if id.len() != 64 {
            return None;
        }
        let mut map = self.inner.lock().await;
        match map.get(id) {
            Some(s) if s.expires > Instant::now() => Some(s.clone()),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    /// Ends the session the request's cookie names.
    pub async fn close(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, SESSION_COOKIE) {
            self.inner.lock().await.remove(id);
        }
    }
}

impl Session {
    /// Checks a form's CSRF token against the session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), UiError> {
        if same_secret(&self.csrf, sent) {
            Ok(())
        } else {
            Err(UiError::Csrf)
        }
    }

    /// Refuses unless the role may act on cases (analyst or admin).
    pub fn require_analyst(&self, action: &'static str) -> Result<(), UiError> {
        self.require(Role::Analyst, action)
    }

    /// Refuses unless the role is at least `need`, naming the role and `action`.
    pub fn require(&self, need: Role, action: &'static str) -> Result<(), UiError> {
        if self.role >= need {
            Ok(())
        } else {
            Err(UiError::Forbidden {
                role: self.role.as_str(),
                action,
            })
        }
    }

    /// Who is looking, as the page layout shows it.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer {
            user: &self.user,
            role: self.role.as_str(),
            csrf: &self.csrf,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_cookie(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(v).unwrap());
        h
    }

    #[tokio::test]
    async fn open_find_close() {
        let s = Sessions::new(Duration::from_secs(60));
        let id = s.open("alice".into(), Role::Analyst).await.unwrap();
        let h = with_cookie(&format!("other=1; {SESSION_COOKIE}={id}"));
        let got = s.current(&h).await.unwrap();
        assert_eq!(got.user, "alice");
        assert!(got.check_csrf(&got.csrf).is_ok());
        assert!(got.check_csrf("nope").is_err());
        s.close(&h).await;
        assert!(s.current(&h).await.is_none());
    }

    #[tokio::test]
    async fn expired_and_forged_sessions_are_refused() {
        let s = Sessions::new(Duration::from_millis(0));
        let id = s.open("bob".into(), Role::ReadOnly).await.unwrap();
        assert!(
            s.current(&with_cookie(&format!("{SESSION_COOKIE}={id}")))
                .await
                .is_none()
        );
        let forged = "a".repeat(64);
        assert!(
            s.current(&with_cookie(&format!("{SESSION_COOKIE}={forged}")))
                .await
                .is_none()
        );
    }

    #[test]
    fn read_only_may_not_act() {
        let s = Session {
            user: "r".into(),
            role: Role::ReadOnly,
            csrf: String::new(),
            expires: Instant::now(),
        };
        assert!(matches!(
            s.require_analyst("close cases"),
            Err(UiError::Forbidden { .. })
        ));
    }

    #[test]
    fn cookie_attributes() {
        let c = set_cookie(SESSION_COOKIE, "x", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
    }
}
