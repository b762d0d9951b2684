//! The UI's configuration and the state its pages share.
//!
//! Its own module, below every page, so that pages reach the desk and the sessions without
//! depending on the router that mounts them (the router depends on the pages, never back).

use crate::login_limit::{LoginLimiter, LoginLimits};
use crate::overrides::Overrides;
use crate::session::Sessions;
use axum::extract::{FromRef, State};
use std::sync::Arc;
use std::time::Duration;
use warden_desk::Desk;

/// How the UI runs.
#[derive(Debug, Clone)]
pub struct WebUiConfig {
    /// Mark cookies `Secure`. Keep on: browsers accept Secure cookies from `http://localhost`
    /// and loopback addresses, and production runs behind TLS.
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_ttl: Duration,
    /// Failed-login limits per client address and token prefix (`crate::login_limit`).
    pub login_limits: LoginLimits,
    /// Operator chrome: extra CSS, header and footer fragments (`crate::overrides`).
    pub overrides: Arc<Overrides>,
}

impl Default for WebUiConfig {
    fn default() -> Self {
        Self {
            secure_cookies: true,
            session_ttl: Duration::from_secs(8 * 3600),
            login_limits: LoginLimits::default(),
            overrides: Arc::default(),
        }
    }
}

/// The UI's shared state (pages in other modules reach the desk and sessions through it).
pub(crate) struct Ui {
    pub(crate) desk: Desk,
    pub(crate) sessions: Sessions,
    pub(crate) config: WebUiConfig,
    pub(crate) login_limiter: LoginLimiter,
}

/// The state extractor of the UI's handlers.
pub(crate) type Shared = State<Arc<Ui>>;

/// Lets the session extractors (`crate::extract`) find the sessions in the UI's state.
impl FromRef<Arc<Ui>> for Sessions {
    fn from_ref(ui: &Arc<Ui>) -> Sessions {
        ui.sessions.clone()
    }
}
