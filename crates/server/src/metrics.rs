//! Counters for `/metrics` (Prometheus text exposition format 0.0.4). Plain atomics: the desk
//! needs a dozen counters, not a metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Every counter the server exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Reports accepted over HTTP.
    pub reports_http: AtomicU64,
    /// Reports accepted over SMTP.
    pub reports_smtp: AtomicU64,
    /// Resends recognised.
    pub reports_duplicate: AtomicU64,
    /// Reports quarantined.
    pub reports_quarantined: AtomicU64,
    /// Events filed into cases.
    pub events: AtomicU64,
    /// SMTP sessions opened.
    pub smtp_sessions: AtomicU64,
    /// RCPT TO refused (relay attempts, unknown mailboxes).
    pub smtp_rcpt_refused: AtomicU64,
    /// Messages refused for size.
    pub smtp_too_large: AtomicU64,
    /// SMTP sessions upgraded with STARTTLS.
    pub smtp_starttls: AtomicU64,
    /// STARTTLS commands followed by pipelined plaintext, which was discarded.
    pub smtp_starttls_discarded: AtomicU64,
    /// Messages refused for a bare LF in DATA (SMTP smuggling defence).
    pub smtp_bare_lf: AtomicU64,
    /// Connections refused with 421 because the session limits were full.
    pub smtp_busy: AtomicU64,
    /// HTTP requests answered, by status class.
    pub http_2xx: AtomicU64,
    /// 4xx answers.
    pub http_4xx: AtomicU64,
    /// 5xx answers.
    pub http_5xx: AtomicU64,
    /// Requests refused by the rate limit.
    pub http_rate_limited: AtomicU64,
    /// Mails sent.
    pub mails_sent: AtomicU64,
    /// Webhooks posted.
    pub webhooks_sent: AtomicU64,
    /// Delivery attempts that failed.
    pub delivery_failures: AtomicU64,
    /// Cases escalated by the timer.
    pub escalations: AtomicU64,
}

/// Adds one.
pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Adds `n`.
pub fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Metrics {
    /// The exposition text; `cases` are (state, count) gauges read from the store at scrape time.
    pub fn render(&self, cases: &[(String, i64)]) -> String {
        let mut s = String::new();
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            s,
            "# HELP warden_reports_received_total Raw reports durably stored, by channel."
        );
        let _ = writeln!(s, "# TYPE warden_reports_received_total counter");
        let _ = writeln!(
            s,
            "warden_reports_received_total{{channel=\"http\"}} {}",
            g(&self.reports_http)
        );
        let _ = writeln!(
            s,
            "warden_reports_received_total{{channel=\"smtp\"}} {}",
            g(&self.reports_smtp)
        );
        for (name, help, c) in [
            (
                "warden_reports_duplicate_total",
                "Resends of already stored reports.",
                &self.reports_duplicate,
            ),
            (
                "warden_reports_quarantined_total",
                "Reports no parser understood.",
                &self.reports_quarantined,
            ),
            (
                "warden_events_total",
                "Events filed into cases.",
                &self.events,
            ),
            (
                "warden_smtp_sessions_total",
                "SMTP sessions opened.",
                &self.smtp_sessions,
            ),
            (
                "warden_smtp_rcpt_refused_total",
                "RCPT TO refused (relay attempts, unknown mailboxes).",
                &self.smtp_rcpt_refused,
            ),
            (
                "warden_smtp_too_large_total",
                "Messages refused for size.",
                &self.smtp_too_large,
            ),
            (
                "warden_smtp_starttls_total",
                "SMTP sessions upgraded with STARTTLS.",
                &self.smtp_starttls,
            ),
            (
                "warden_smtp_starttls_discarded_total",
                "STARTTLS commands followed by pipelined plaintext (discarded, CVE-2011-0411).",
                &self.smtp_starttls_discarded,
            ),
            (
                "warden_smtp_bare_lf_total",
                "Messages refused for a bare LF in DATA (SMTP smuggling defence).",
                &self.smtp_bare_lf,
            ),
            (
                "warden_smtp_busy_total",
                "SMTP connections refused with 421: total or per-client session limit full.",
                &self.smtp_busy,
            ),
            (
                "warden_http_rate_limited_total",
                "Requests refused by the rate limit.",
                &self.http_rate_limited,
            ),
            (
                "warden_mails_sent_total",
                "Notification and acknowledgement mails sent.",
                &self.mails_sent,
            ),
            (
                "warden_webhooks_sent_total",
                "Webhooks delivered.",
                &self.webhooks_sent,
            ),
            (
                "warden_delivery_failures_total",
                "Failed delivery attempts (retried).",
                &self.delivery_failures,
            ),
            (
                "warden_escalations_total",
                "Cases escalated by the timer.",
                &self.escalations,
            ),
        ] {
            let _ = writeln!(
                s,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                g(c)
            );
        }
        let _ = writeln!(
            s,
            "# HELP warden_http_responses_total HTTP responses by status class."
        );
        let _ = writeln!(s, "# TYPE warden_http_responses_total counter");
        for (class, c) in [
            ("2xx", &self.http_2xx),
            ("4xx", &self.http_4xx),
            ("5xx", &self.http_5xx),
        ] {
            let _ = writeln!(
                s,
                "warden_http_responses_total{{class=\"{class}\"}} {}",
                g(c)
            );
        }
        let _ = writeln!(s, "# HELP warden_cases Cases by state.");
        let _ = writeln!(s, "# TYPE warden_cases gauge");
        for (state, n) in cases {
            let _ = writeln!(s, "warden_cases{{state=\"{state}\"}} {n}");
        }
        s
    }
}
