//! One audit's findings, grouped by practice and scored, rendered for people (text, one
//! self-contained HTML page) and for machines (JSON).
//!
//! Every check (domain DNS, SMTP/TLS probe, message lint) returns [`Finding`]s; a [`Report`]
//! collects them for one subject (a domain, a host, a message) so that one scoring rule and one
//! set of renderers serve every `warden check` command.
//!
//! Scoring (documented in docs/mailcheck.md): within a practice, `pass` earns 1 point, `warn`
//! half a point, `fail` none; `info` findings are context and not scored. The group score is
//! points over scored findings, as a percentage rounded down, so that a single warning keeps a
//! group below 100. A group with no scored finding has no score. The overall score is the mean
//! of the group scores, so that a practice with many checks (authentication) does not drown a
//! practice with few (role addresses), the way Internet.nl weighs its categories equally.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::finding::{Finding, Practice, Status};

/// All findings about one subject (a domain, an SMTP host, a message file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// What was audited, as the user named it (`example.com`, `mx1.example.com:25`).
    pub subject: String,
    /// The findings in the order the checks produced them; renderers sort them.
    pub findings: Vec<Finding>,
}

/// The score of one practice: how many findings of each status, and the percentage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupScore {
    /// Which practice.
    pub practice: Practice,
    /// Findings that pass.
    pub pass: usize,
    /// Findings that warn.
    pub warn: usize,
    /// Findings that fail.
    pub fail: usize,
    /// Context findings (not scored).
    pub info: usize,
    /// 0..=100, or `None` when the group has only `info` findings.
    pub score: Option<u8>,
}

/// The machine-readable shape of a report: the findings plus the computed scores, so that a
/// consumer of the JSON does not have to reimplement the scoring rule.
#[derive(Serialize)]
struct ReportJson<'a> {
    subject: &'a str,
    score: Option<u8>,
    worst: Option<Status>,
    groups: Vec<GroupScore>,
    findings: &'a [Finding],
}

impl Report {
    /// An empty report about `subject`.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            findings: Vec::new(),
        }
    }

    /// Adds one finding.
    pub fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// Adds many findings.
    pub fn extend(&mut self, findings: impl IntoIterator<Item = Finding>) {
        self.findings.extend(findings);
    }

    /// The worst scored status (`fail` > `warn` > `pass`); `None` when nothing was scored.
    /// The CLI maps it to its exit code (0 for pass, 1 for warn or fail).
    pub fn worst(&self) -> Option<Status> {
        self.findings
            .iter()
            .map(|f| f.status)
            .filter(|s| *s != Status::Info)
            .max_by_key(|s| severity(*s))
    }

    /// True when any finding warns or fails: the "findings" exit code.
    pub fn has_problems(&self) -> bool {
        matches!(self.worst(), Some(Status::Warn | Status::Fail))
    }

    /// Scores per practice, in the order of [`Practice`].
    pub fn groups(&self) -> Vec<GroupScore> {
        let mut by: BTreeMap<Practice, GroupScore> = BTreeMap::new();
        for f in &self.findings {
            let g = by.entry(f.practice).or_insert(GroupScore {
                practice: f.practice,
                pass: 0,
                warn: 0,
                fail: 0,
                info: 0,
                score: None,
            });
            match f.status {
                Status::Pass => g.pass += 1,
                Status::Warn => g.warn += 1,
                Status::Fail => g.fail += 1,
                Status::Info => g.info += 1,
            }
        }
        by.into_values()
            .map(|mut g| {
                let scored = g.pass + g.warn + g.fail;
                if scored > 0 {
                    // Half points for warnings: twice the points over twice the count.
                    let points = 2 * g.pass + g.warn;
                    let pct = points * 100 / (2 * scored);
                    g.score = u8::try_from(pct).ok();
                }
                g
            })
            .collect()
    }

    /// Mean of the group scores; `None` when no group is scored.
    pub fn score(&self) -> Option<u8> {
        let scores: Vec<u32> = self
            .groups()
            .iter()
            .filter_map(|g| g.score.map(u32::from))
            .collect();
        if scores.is_empty() {
            return None;
        }
        let n = u32::try_from(scores.len()).unwrap_or(u32::MAX);
        u8::try_from(scores.iter().sum::<u32>() / n).ok()
    }

    /// The report as a JSON value: subject, overall score, worst status, groups, findings.
    pub fn to_json(&self) -> serde_json::Value {
        let view = ReportJson {
            subject: &self.subject,
            score: self.score(),
            worst: self.worst(),
            groups: self.groups(),
            findings: &self.findings,
        };
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_value(view).unwrap_or(serde_json::Value::Null)
    }

    /// The report as one line of JSON (for `-f FILE` batch output: one line per subject).
    pub fn to_json_line(&self) -> String {
        self.to_json().to_string()
    }

    /// Findings of one practice, worst first, then by id: problems come before passes.
    fn sorted_in(&self, practice: Practice) -> Vec<&Finding> {
        let mut v: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.practice == practice)
            .collect();
        v.sort_by(|a, b| {
            severity(b.status)
                .cmp(&severity(a.status))
                .then_with(|| a.id.cmp(&b.id))
        });
        v
    }

    /// A readable report for a terminal: one block per practice with its score, problems first,
    /// evidence indented under each finding and the fix hint after it.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let score = self
            .score()
            .map_or_else(|| "n/a".to_owned(), |s| format!("{s}/100"));
        let _ = writeln!(out, "{}  (score {score})", self.subject);
        for g in self.groups() {
            let gs = g
                .score
                .map_or_else(|| "n/a".to_owned(), |s| format!("{s}/100"));
            let _ = writeln!(
                out,
                "\n  {}  {gs}  ({} pass, {} warn, {} fail)",
                practice_label(g.practice),
                g.pass,
                g.warn,
                g.fail
            );
            for f in self.sorted_in(g.practice) {
                let _ = writeln!(
                    out,
                    "    [{}] {:<22} {}",
                    status_label(f.status),
                    f.id,
                    one_line(&f.summary)
                );
                for e in &f.evidence {
                    let _ = writeln!(out, "           | {}", one_line(e));
                }
                if let Some(fix) = &f.fix
                    && f.status != Status::Pass
                {
                    let _ = writeln!(out, "           fix: {}", one_line(fix));
                }
            }
        }
        out
    }
}

/// Renders several reports as one self-contained HTML page (no external CSS, scripts or
/// fonts, so it can be mailed or archived as one file). Problems come first: a summary table of
/// every warn/fail finding across all subjects, then each subject's groups. Every piece of text
/// that came from the outside (records, server answers) is HTML-escaped.
pub fn render_html(reports: &[Report]) -> String {
    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Warden mail security audit</title>\n<style>\n\
         body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n\
         table{border-collapse:collapse;margin:.5em 0 1.5em}\n\
         td,th{border:1px solid #ccc;padding:.3em .6em;vertical-align:top;text-align:left}\n\
         .fail{background:#fdd}.warn{background:#ffd}.pass{background:#dfd}.info{background:#eef}\n\
         code,pre{font-family:ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}\n\
         </style></head><body>\n<h1>Warden mail security audit</h1>\n",
    );
    h.push_str("<h2>Findings to act on</h2>\n");
    let problems: Vec<(&Report, &Finding)> = reports
        .iter()
        .flat_map(|r| {
            r.findings
                .iter()
                .filter(|f| matches!(f.status, Status::Fail | Status::Warn))
                .map(move |f| (r, f))
        })
        .collect();
    if problems.is_empty() {
        h.push_str("<p>None: every scored check passed.</p>\n");
    } else {
        let mut sorted = problems;
        sorted.sort_by_key(|p| std::cmp::Reverse(severity(p.1.status)));
        h.push_str(
            "<table><tr><th>Status</th><th>Subject</th><th>Check</th><th>Finding</th><th>Fix</th></tr>\n",
        );
        for (r, f) in sorted {
            let _ = writeln!(
                h,
                "<tr class=\"{s}\"><td>{s}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&r.subject),
                escape(&f.id),
                escape(&f.summary),
                escape(f.fix.as_deref().unwrap_or("")),
                s = status_label(f.status),
            );
        }
        h.push_str("</table>\n");
    }
    for r in reports {
        let score = r
            .score()
            .map_or_else(|| "n/a".to_owned(), |s| format!("{s}/100"));
        let _ = writeln!(h, "<h2>{} &mdash; score {score}</h2>", escape(&r.subject));
        for g in r.groups() {
            let gs = g
                .score
                .map_or_else(|| "n/a".to_owned(), |s| format!("{s}/100"));
            let _ = writeln!(
                h,
                "<h3>{} &mdash; {gs} ({} pass, {} warn, {} fail)</h3>",
                practice_label(g.practice),
                g.pass,
                g.warn,
                g.fail
            );
            h.push_str(
                "<table><tr><th>Status</th><th>Check</th><th>Finding</th><th>Evidence</th><th>Fix</th></tr>\n",
            );
            for f in r.sorted_in(g.practice) {
                let evidence: Vec<String> = f.evidence.iter().map(|e| escape(e)).collect();
                let _ = writeln!(
                    h,
                    "<tr class=\"{s}\"><td>{s}</td><td><code>{}</code></td><td>{}</td><td><pre>{}</pre></td><td>{}</td></tr>",
                    escape(&f.id),
                    escape(&f.summary),
                    evidence.join("\n"),
                    escape(f.fix.as_deref().unwrap_or("")),
                    s = status_label(f.status),
                );
            }
            h.push_str("</table>\n");
        }
    }
    h.push_str("</body></html>\n");
    h
}

/// Orders statuses by how much they need attention; `info` sorts below `pass`.
fn severity(s: Status) -> u8 {
    match s {
        Status::Fail => 3,
        Status::Warn => 2,
        Status::Pass => 1,
        Status::Info => 0,
    }
}

/// The short lower-case word for a status, as used in text, HTML classes and docs.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Warn => "warn",
        Status::Fail => "fail",
        Status::Info => "info",
    }
}

/// The heading a person reads for a practice.
pub fn practice_label(p: Practice) -> &'static str {
    match p {
        Practice::Authentication => "Authentication (SPF, DKIM, DMARC)",
        Practice::Identity => "Identity (MX, reverse DNS)",
        Practice::Transport => "Transport (STARTTLS, TLS)",
        Practice::Hardening => "Hardening (MTA-STS, TLS-RPT, DANE, BIMI)",
        Practice::RoleAddresses => "Role addresses (RFC 2142)",
        Practice::Message => "Message",
    }
}

/// Replaces control characters so that a hostile record cannot forge extra report lines or
/// terminal escape sequences.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// HTML-escapes text for element content and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut r = Report::new("example.test");
        r.push(Finding::new(
            "spf.record",
            Practice::Authentication,
            Status::Pass,
            "one SPF record",
        ));
        r.push(
            Finding::new(
                "dmarc.policy",
                Practice::Authentication,
                Status::Warn,
                "p=none",
            )
            .fix("RFC 7489 section 6.3: move to p=quarantine"),
        );
        r.push(Finding::new(
            "mx.present",
            Practice::Identity,
            Status::Fail,
            "no MX",
        ));
        r.push(Finding::new(
            "mx.ipv6",
            Practice::Identity,
            Status::Info,
            "context",
        ));
        r
    }

    #[test]
    fn scores_half_points_for_warnings_and_skip_info() {
        let r = sample();
        let g = r.groups();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].practice, Practice::Authentication);
        assert_eq!(g[0].score, Some(75));
        assert_eq!(g[1].score, Some(0));
        assert_eq!(g[1].info, 1);
        assert_eq!(r.score(), Some(37));
        assert_eq!(r.worst(), Some(Status::Fail));
        assert!(r.has_problems());
    }

    #[test]
    fn empty_and_info_only_reports_have_no_score() {
        let mut r = Report::new("x");
        assert_eq!(r.score(), None);
        assert!(!r.has_problems());
        r.push(Finding::new("a", Practice::Identity, Status::Info, "i"));
        assert_eq!(r.groups()[0].score, None);
        assert_eq!(r.worst(), None);
    }

    #[test]
    fn text_puts_problems_first_and_strips_control_characters() {
        let mut r = sample();
        r.push(
            Finding::new("x.y", Practice::Identity, Status::Warn, "a\nforged line")
                .evidence("evil\u{1b}[31m"),
        );
        let t = r.render_text();
        assert!(t.contains("a forged line"));
        assert!(!t.contains('\u{1b}'));
        let fail = t.find("mx.present").unwrap();
        let info = t.find("mx.ipv6").unwrap();
        assert!(fail < info);
        assert!(t.contains("fix: RFC 7489"));
    }

    #[test]
    fn html_escapes_everything_from_outside() {
        let mut r = Report::new("<script>alert(1)</script>");
        r.push(
            Finding::new(
                "spf.syntax",
                Practice::Authentication,
                Status::Fail,
                "bad \"record\" & <b>",
            )
            .evidence("v=spf1 <img src=x onerror=alert(1)>"),
        );
        let h = render_html(&[r]);
        assert!(!h.contains("<script>alert"));
        assert!(!h.contains("<img"));
        assert!(h.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(h.contains("bad &quot;record&quot; &amp; &lt;b&gt;"));
        // Findings to act on come before the per-subject sections.
        let act = h.find("Findings to act on").unwrap();
        let subject = h
            .find("&lt;script&gt;alert(1)&lt;/script&gt; &mdash;")
            .unwrap();
        assert!(act < subject);
    }

    #[test]
    fn json_carries_scores_and_findings() {
        let v = sample().to_json();
        assert_eq!(v["subject"], "example.test");
        assert_eq!(v["score"], 37);
        assert_eq!(v["worst"], "fail");
        assert_eq!(v["groups"][0]["practice"], "authentication");
        assert_eq!(v["findings"].as_array().unwrap().len(), 4);
        assert!(!sample().to_json_line().contains('\n'));
    }
}
