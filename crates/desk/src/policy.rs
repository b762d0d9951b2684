//! Per-class policy: how bad, how fast, when to escalate, whom to tell. Read from the `[desk]`
//! part of `warden.toml`; every class without an entry gets the documented default.
//!
//! Defaults follow the Hosting & Cloud BCP (HC-11, HC-15): phishing, malware, botnet C2 and CSAM
//! are urgent (act within hours, notify at once); spam and scanning are normal (days, notices
//! batched per customer). The BCP gives no mandatory numbers; ours are in `docs/desk.md`.

use crate::error::{DeskError, Result};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use warden_model::{AbuseClass, Severity};

/// Policy for one abuse class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassPolicy {
    /// Severity of cases of this class.
    pub severity: Severity,
    /// Hours the customer has to act before the case is overdue.
    pub deadline_hours: u32,
    /// Notify the customer at once instead of in the next per-customer batch.
    pub urgent: bool,
    /// Escalate when a case has collected this many events (0: never by count).
    pub escalate_after_events: u32,
    /// Escalate when a case is this many hours old and not resolved (0: never by age).
    pub escalate_after_hours: u32,
    /// Notify the customer at all (off for classes an operator only wants to watch).
    pub notify_customer: bool,
}

impl ClassPolicy {
    /// The documented default for `class`.
    pub fn default_for(class: AbuseClass) -> Self {
        use AbuseClass::*;
        let (severity, deadline_hours, urgent, escalate_after_events, escalate_after_hours) = match class {
            Csam => (Severity::Critical, 1, true, 1, 1),
            Phishing | Malware | BotnetC2 => (Severity::Critical, 4, true, 10, 24),
            CompromisedServer | Ddos | Fraud => (Severity::High, 24, false, 20, 72),
            Spam | BulkMail | PortScan | LoginAttack | InfectedHost => (Severity::Medium, 72, false, 50, 168),
            VulnerableService | Blocklisting => (Severity::Low, 168, false, 0, 0),
            Copyright | Other => (Severity::Medium, 72, false, 0, 168),
        };
        Self { severity, deadline_hours, urgent, escalate_after_events, escalate_after_hours, notify_customer: true }
    }

    /// The deadline as a duration.
    pub fn deadline(&self) -> Duration {
        Duration::hours(i64::from(self.deadline_hours))
    }
}

/// The whole desk policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Events for the same (customer, class, subject) within this many hours join one case.
    pub window_hours: u32,
    /// Normal (non-urgent) customer notices wait this many minutes to be batched per customer.
    pub batch_minutes: u32,
    /// Acknowledge reporters with the case reference.
    pub acknowledge_reporters: bool,
    /// Reporter domains never acknowledged (machine feeds: nobody reads the reply).
    pub feed_domains: Vec<String>,
    /// Ask reporters for a missing source port or time zone when the address is shared (CGN).
    pub request_missing_details: bool,
    /// Where escalation and suspension webhooks go (empty: none).
    pub webhook_url: String,
    /// Secret for the webhook HMAC-SHA256 signature.
    pub webhook_secret: String,
    /// The desk's own address: From of every mail it sends.
    pub from_address: String,
    /// Per-class overrides, keyed by class name (`phishing`, `port_scan`, ...).
    pub class: BTreeMap<String, ClassPolicy>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            window_hours: 72,
            batch_minutes: 15,
            acknowledge_reporters: true,
            feed_domains: vec!["shadowserver.org".into(), "spamcop.net".into()],
            request_missing_details: true,
            webhook_url: String::new(),
            webhook_secret: String::new(),
            from_address: "abuse@localhost".into(),
            class: BTreeMap::new(),
        }
    }
}

impl Policy {
    /// Parses a policy from TOML text (the `[desk]` table of `warden.toml`, or a file of its own).
    pub fn from_toml(text: &str) -> Result<Self> {
        let p: Policy = toml::from_str(text).map_err(|e| DeskError::invalid("desk policy", e.to_string()))?;
        p.validate()?;
        Ok(p)
    }

    /// Refuses class names that are not classes and windows that make no sense.
    pub fn validate(&self) -> Result<()> {
        for name in self.class.keys() {
            name.parse::<AbuseClass>().map_err(|e| DeskError::invalid(format!("desk policy [class.{name}]"), e))?;
        }
        if self.window_hours == 0 {
            return Err(DeskError::invalid("desk policy window_hours", "must be at least 1"));
        }
        if !self.webhook_url.is_empty() && !self.webhook_url.starts_with("http://") && !self.webhook_url.starts_with("https://") {
            return Err(DeskError::invalid("desk policy webhook_url", "must be an http:// or https:// URL"));
        }
        Ok(())
    }

    /// The policy for `class`: the override when written, the default otherwise.
    pub fn for_class(&self, class: AbuseClass) -> ClassPolicy {
        self.class
            .iter()
            .find(|(k, _)| k.parse::<AbuseClass>().ok() == Some(class))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| ClassPolicy::default_for(class))
    }

    /// The grouping window.
    pub fn window(&self) -> Duration {
        Duration::hours(i64::from(self.window_hours))
    }

    /// Whether a reporter at `domain` gets acknowledgements.
    pub fn acknowledges(&self, reporter_email: &str) -> bool {
        let domain = reporter_email.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
        self.acknowledge_reporters
            && !self.feed_domains.iter().any(|f| {
                let f = f.to_ascii_lowercase();
                domain == f || domain.ends_with(&format!(".{f}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_hosting_bcp() {
        let p = Policy::default();
        for urgent in [AbuseClass::Phishing, AbuseClass::Malware, AbuseClass::BotnetC2, AbuseClass::Csam] {
            assert!(p.for_class(urgent).urgent, "{urgent}");
            assert_eq!(p.for_class(urgent).severity, Severity::Critical);
        }
        for normal in [AbuseClass::Spam, AbuseClass::PortScan] {
            assert!(!p.for_class(normal).urgent);
            assert_eq!(p.for_class(normal).deadline_hours, 72);
        }
    }

    #[test]
    fn toml_overrides_one_class() {
        let p = Policy::from_toml(
            "window_hours = 24\nfeed_domains = [\"feeds.example\"]\n[class.port-scan]\nseverity = \"low\"\ndeadline_hours = 240\nurgent = false\nescalate_after_events = 0\nescalate_after_hours = 0\nnotify_customer = false\n",
        )
        .unwrap();
        assert_eq!(p.window_hours, 24);
        assert_eq!(p.for_class(AbuseClass::PortScan).deadline_hours, 240);
        assert_eq!(p.for_class(AbuseClass::Spam).deadline_hours, 72);
        assert!(!p.acknowledges("bot@x.feeds.example"));
        assert!(p.acknowledges("person@isp.example"));
    }

    #[test]
    fn bad_policy_is_refused_with_the_reason() {
        let e = Policy::from_toml("[class.nonsense]\nseverity=\"low\"\ndeadline_hours=1\nurgent=false\nescalate_after_events=0\nescalate_after_hours=0\nnotify_customer=true\n").unwrap_err();
        assert!(e.to_string().contains("class.nonsense"), "{e}");
        assert!(Policy::from_toml("window_hours = 0").is_err());
        assert!(Policy::from_toml("colour = 1").is_err());
    }
}
