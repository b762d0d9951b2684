//! `warden-server`: the abuse desk's network face.
//!
//! * an HTTP API (axum): report intake, cases, actions, inventory, OpenAPI document at
//!   `/api/openapi.json`, bearer tokens with roles, per-client rate limits, `/metrics`
//!   (Prometheus text) and `/healthz`;
//! * an SMTP listener for abuse@ that never relays and answers `250` only once the message is
//!   durably stored ([`smtp`]);
//! * a background worker that escalates overdue cases and delivers the outbox.
//!
//! Architecture invariant: all decisions live in `warden-desk`; this crate only moves bytes
//! between sockets and the desk. It never prints; [`start`] returns the bound addresses so the
//! binary can tell the operator.

pub mod api;
pub mod caller;
pub mod metrics;
pub mod openapi;
pub mod ratelimit;
pub mod smtp;
pub mod tls;

/// The analyst web UI, re-exported so that the binary configures it without its own dependency.
pub use warden_webui;

use chrono::Utc;
use metrics::{Metrics, add, inc};
use ratelimit::RateLimiter;
use smtp::SmtpConfig;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use warden_desk::notify::{Courier, Mailer, Templates, WebhookSender};
use warden_desk::{Desk, DeskError, IntakeReceipt, ReportStatus};

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum ServerError {
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The desk failed (recovery at start-up).
    #[error(transparent)]
    Desk(#[from] DeskError),
}

/// Everything the listeners share.
pub struct AppState {
    /// The engine.
    pub desk: Desk,
    /// SMTP listener settings.
    pub smtp: SmtpConfig,
    /// Counters.
    pub metrics: Metrics,
    /// Per-client limiter for the API.
    pub limiter: RateLimiter,
    /// Mail texts.
    pub templates: Templates,
    /// Outgoing mail.
    pub mailer: Arc<dyn Mailer>,
    /// Outgoing webhooks.
    pub webhooks: Arc<dyn WebhookSender>,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// HTTP API address.
    pub http_listen: SocketAddr,
    /// SMTP intake address; `None` disables it.
    pub smtp_listen: Option<SocketAddr>,
    /// SMTP settings.
    pub smtp: SmtpConfig,
    /// How often the worker escalates and delivers.
    pub tick: Duration,
    /// API requests per second per client (0: unlimited).
    pub rate_per_sec: u32,
    /// API burst per client.
    pub rate_burst: u32,
    /// The analyst web UI (login limits, operator chrome overrides).
    pub webui: warden_webui::WebUiConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            http_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            smtp_listen: None,
            smtp: SmtpConfig::default(),
            tick: Duration::from_secs(10),
            rate_per_sec: 200,
            rate_burst: 400,
            webui: warden_webui::WebUiConfig::default(),
        }
    }
}

/// A running server.
pub struct Running {
    /// Where the API listens.
    pub http_addr: SocketAddr,
    /// Where SMTP listens.
    pub smtp_addr: Option<SocketAddr>,
    /// Reports recovered (processed after a crash) at start-up.
    pub recovered: usize,
    /// Shared state (for tests and the binary).
    pub state: Arc<AppState>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, lets running requests finish and waits for the tasks.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Runs until `signal` completes, then shuts down.
    pub async fn until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }
}

pub(crate) fn count_receipt(m: &Metrics, r: &IntakeReceipt) {
    if r.status == ReportStatus::Quarantined {
        inc(&m.reports_quarantined);
    }
    add(&m.events, r.events.len() as u64);
}

/// Recovers interrupted intake, binds the listeners and starts serving.
pub async fn start(
    desk: Desk,
    cfg: ServerConfig,
    templates: Templates,
    mailer: Arc<dyn Mailer>,
    webhooks: Arc<dyn WebhookSender>,
) -> Result<Running, ServerError> {
    // DESIGN rule 1: whatever was acknowledged before a crash is processed before new work.
    let recovered = desk.recover(Utc::now()).await?;
    let state = Arc::new(AppState {
        desk,
        smtp: cfg.smtp.clone(),
        metrics: Metrics::default(),
        limiter: RateLimiter::new(cfg.rate_per_sec, cfg.rate_burst),
        templates,
        mailer,
        webhooks,
    });
    let (stop, stop_rx) = watch::channel(false);
    let http = TcpListener::bind(cfg.http_listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: cfg.http_listen,
            source,
        })?;
    let http_addr = http.local_addr().map_err(|source| ServerError::Bind {
        addr: cfg.http_listen,
        source,
    })?;
    let mut tasks = Vec::new();
    // webui branch: mount the analyst web UI (crates/webui) under /ui.
    let router = api::router(state.clone())
        .merge(warden_webui::router(state.desk.clone(), cfg.webui.clone()));
    let mut rx = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        let graceful = async move {
            let _ = rx.changed().await;
        };
        if let Err(e) = axum::serve(
            http,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(graceful)
        .await
        {
            tracing::error!(error = %e, "HTTP server stopped");
        }
    }));
    let mut smtp_addr = None;
    if let Some(addr) = cfg.smtp_listen {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        smtp_addr = Some(
            l.local_addr()
                .map_err(|source| ServerError::Bind { addr, source })?,
        );
        tasks.push(tokio::spawn(smtp::serve(l, state.clone(), stop_rx.clone())));
    }
    tasks.push(tokio::spawn(worker(state.clone(), cfg.tick, stop_rx)));
    Ok(Running {
        http_addr,
        smtp_addr,
        recovered,
        state,
        stop,
        tasks,
    })
}

/// One round of background work: escalate, then deliver. Public so tests and `--demo` can
/// drive it without waiting for the timer.
pub async fn work_once(state: &AppState) -> Result<(), DeskError> {
    let now = Utc::now();
    let desk = &state.desk;
    let up = warden_desk::cases::escalate_due(desk.store(), desk.policy(), now).await?;
    add(&state.metrics.escalations, up.len() as u64);
    let courier = Courier {
        store: desk.store(),
        policy: desk.policy(),
        templates: &state.templates,
        mailer: state.mailer.as_ref(),
        webhooks: state.webhooks.as_ref(),
        self_help: desk.self_help(),
    };
    let r = courier.deliver_due(now).await?;
    add(&state.metrics.mails_sent, r.mails as u64);
    add(&state.metrics.webhooks_sent, r.webhooks as u64);
    add(&state.metrics.delivery_failures, r.failed as u64);
    Ok(())
}

async fn worker(state: Arc<AppState>, tick: Duration, mut stop: watch::Receiver<bool>) {
    let mut timer = tokio::time::interval(tick.max(Duration::from_millis(10)));
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = timer.tick() => {
                if let Err(e) = work_once(&state).await {
                    tracing::error!(error = %e, "background work failed; retrying next tick");
                }
            }
        }
    }
}
