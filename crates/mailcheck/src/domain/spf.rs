//! SPF (RFC 7208): the record, its include/redirect tree, and the processing limits.
//!
//! The walk counts exactly what RFC 7208 section 4.6.4 counts, for a receiver that would
//! evaluate every term (the worst case, which is what a sender must stay under):
//! - each `include`, `a`, `mx`, `ptr`, `exists` mechanism and the `redirect` modifier costs one
//!   DNS-querying term; the limit is 10 across the whole tree;
//! - each `mx` may resolve at most 10 exchange names and each `ptr` at most 10 names;
//! - a "void lookup" is a term whose query answers NXDOMAIN or no data; the limit is 2.
//!
//! The receiver checks `ip4`/`ip6`/`all` without DNS, so they never count. Macros cannot be
//! expanded without a message, so a term with a macro is counted but not followed.

use std::fmt::Write as _;

use super::spf_record::{self, Mechanism, Qualifier, SpfRecord, Term};
use crate::finding::{Finding, Practice, Status};
use crate::resolver::{Resolve, RrType};

/// RFC 7208 section 4.6.4: at most 10 DNS-querying terms.
pub const LOOKUP_LIMIT: usize = 10;
/// RFC 7208 section 4.6.4: at most 2 void lookups.
pub const VOID_LIMIT: usize = 2;
/// RFC 7208 section 4.6.4: at most 10 names from one `mx` or `ptr`.
pub const MX_NAME_LIMIT: usize = 10;
/// Hard stop on the walk so that a hostile tree cannot make the audit run forever; far above
/// what a valid record can need, so the exact count is still shown for near misses.
const WALK_LOOKUP_CAP: usize = 40;

/// One SPF record in the tree, with the terms it contains and the records they lead to.
#[derive(Debug, Clone, Default)]
pub struct SpfNode {
    /// The domain whose TXT was read.
    pub domain: String,
    /// The record text, if exactly one was found.
    pub record: Option<String>,
    /// Problem at this node (no record, several records, syntax, loop, DNS failure).
    pub problem: Option<String>,
    /// Children: `include:` and `redirect=` targets in order.
    pub children: Vec<(String, SpfNode)>,
    /// DNS-querying terms in this record (not counting children).
    pub lookups: usize,
}

/// The totals of a walk.
#[derive(Debug, Clone, Default)]
pub struct SpfTree {
    /// The root record.
    pub root: SpfNode,
    /// DNS-querying terms across the tree (RFC 7208 section 4.6.4).
    pub lookups: usize,
    /// Void lookups across the tree.
    pub void_lookups: usize,
    /// Evidence lines of void lookups.
    pub void_evidence: Vec<String>,
    /// `mx` mechanisms naming more than 10 exchanges, with counts.
    pub mx_overflows: Vec<String>,
    /// `ptr` mechanisms in use (RFC 7208 section 5.5: SHOULD NOT).
    pub ptr_terms: Vec<String>,
    /// Terms with macros (not followed).
    pub macro_terms: Vec<String>,
    /// Include/redirect loops found.
    pub loops: Vec<String>,
    /// Syntax errors anywhere in the tree.
    pub syntax_errors: Vec<String>,
    /// DNS failures (timeouts, SERVFAIL) anywhere in the tree.
    pub dns_errors: Vec<String>,
    /// Whether the walk stopped at the cap.
    pub truncated: bool,
}

impl SpfTree {
    /// The tree as indented lines, for evidence.
    pub fn render(&self) -> Vec<String> {
        let mut out = Vec::new();
        render_node(&self.root, "", 0, &mut out);
        out
    }
}

fn render_node(node: &SpfNode, via: &str, depth: usize, out: &mut Vec<String>) {
    let mut line = String::new();
    let _ = write!(line, "{}{via}{}", "  ".repeat(depth), node.domain);
    match (&node.record, &node.problem) {
        (_, Some(p)) => {
            let _ = write!(line, "  !! {p}");
        }
        (Some(r), None) => {
            let _ = write!(line, "  [{} lookups] \"{r}\"", node.lookups);
        }
        (None, None) => {}
    }
    out.push(line);
    for (kind, child) in &node.children {
        render_node(child, &format!("{kind} "), depth + 1, out);
    }
}

/// Reads the SPF records at `domain`: all TXT strings that start with `v=spf1`.
async fn spf_records<R: Resolve>(r: &R, domain: &str) -> Result<(Vec<String>, bool), String> {
    let ans = r
        .query(domain, RrType::Txt)
        .await
        .map_err(|e| e.to_string())?;
    let recs = ans
        .txt()
        .into_iter()
        .filter(|t| spf_record::is_spf(t))
        .map(str::to_owned)
        .collect();
    Ok((recs, ans.is_void()))
}

struct Walk<'a, R> {
    r: &'a R,
    tree: SpfTree,
    stack: Vec<String>,
}

impl<R: Resolve> Walk<'_, R> {
    fn count_void(&mut self, what: String) {
        self.tree.void_lookups += 1;
        self.tree.void_evidence.push(what);
    }

    /// Walks one record; boxed because it recurses through include/redirect.
    fn node<'s>(
        &'s mut self,
        domain: String,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = SpfNode> + Send + 's>>
    where
        R: Resolve,
    {
        Box::pin(async move {
            let mut node = SpfNode {
                domain: domain.clone(),
                ..SpfNode::default()
            };
            let (records, _void) = match spf_records(self.r, &domain).await {
                Ok(x) => x,
                Err(e) => {
                    self.tree.dns_errors.push(e.clone());
                    node.problem = Some(format!("DNS failure: {e}"));
                    return node;
                }
            };
            let text = match records.as_slice() {
                [] => {
                    node.problem = Some("no SPF record".into());
                    return node;
                }
                [one] => one.clone(),
                many => {
                    node.problem = Some(format!(
                        "{} SPF records (RFC 7208 section 4.5: permerror)",
                        many.len()
                    ));
                    return node;
                }
            };
            node.record = Some(text.clone());
            let rec: SpfRecord = match spf_record::parse(&text) {
                Ok(r) => r,
                Err(e) => {
                    self.tree.syntax_errors.push(format!("{domain}: {e}"));
                    node.problem = Some(e.to_string());
                    return node;
                }
            };
            self.stack.push(domain.to_ascii_lowercase());
            let mut has_all = false;
            for term in &rec.terms {
                if self.tree.lookups >= WALK_LOOKUP_CAP {
                    self.tree.truncated = true;
                    break;
                }
                match term {
                    Term::Directive(_, m) if m.queries_dns() => {
                        node.lookups += 1;
                        self.tree.lookups += 1;
                        self.mechanism(&domain, m, &mut node).await;
                    }
                    Term::Directive(_, Mechanism::All) => has_all = true,
                    _ => {}
                }
            }
            // RFC 7208 section 6.1: redirect is ignored when the record has `all`.
            if let Some(target) = rec.redirect()
                && !has_all
                && self.tree.lookups < WALK_LOOKUP_CAP
            {
                node.lookups += 1;
                self.tree.lookups += 1;
                if let Some(child) = self.follow(target, "redirect=").await {
                    node.children.push(("redirect=".into(), child));
                }
            }
            self.stack.pop();
            node
        })
    }

    /// Follows include/redirect to `target`; `None` when it is a macro or a loop.
    async fn follow(&mut self, target: &str, kind: &str) -> Option<SpfNode> {
        if target.contains('%') {
            self.tree.macro_terms.push(format!("{kind}{target}"));
            return None;
        }
        let t = target.trim_end_matches('.').to_ascii_lowercase();
        if self.stack.contains(&t) {
            self.tree
                .loops
                .push(format!("{} -> {kind}{t}", self.stack.join(" -> ")));
            return Some(SpfNode {
                domain: t,
                problem: Some("loop: already being evaluated".into()),
                ..SpfNode::default()
            });
        }
        let child = self.node(t.clone()).await;
        if child.record.is_none() && child.problem.as_deref() == Some("no SPF record") {
            // RFC 7208 section 5.2 / 6.1: an include or redirect target without a record is a
            // permerror; its empty answer is also a void lookup.
            self.count_void(format!("{kind}{t}: no SPF record"));
        }
        Some(child)
    }

    async fn mechanism(&mut self, domain: &str, m: &Mechanism, node: &mut SpfNode) {
        match m {
            Mechanism::Include(t) => {
                if let Some(child) = self.follow(t, "include:").await {
                    node.children.push(("include:".into(), child));
                }
            }
            Mechanism::A(t) => {
                let name = t.clone().unwrap_or_else(|| domain.to_owned());
                if name.contains('%') {
                    self.tree.macro_terms.push(format!("a:{name}"));
                    return;
                }
                // The receiver asks A or AAAA depending on the client; the audit asks both and
                // counts the term void only when neither has an address.
                let v4 = self.r.query(&name, RrType::A).await;
                let v6 = self.r.query(&name, RrType::Aaaa).await;
                match (v4, v6) {
                    (Ok(a), Ok(b)) if a.is_void() && b.is_void() => {
                        self.count_void(format!("a:{name}: no address"));
                    }
                    (Err(e), _) | (_, Err(e)) => self.tree.dns_errors.push(e.to_string()),
                    _ => {}
                }
            }
            Mechanism::Exists(name) => {
                if name.contains('%') {
                    self.tree.macro_terms.push(format!("exists:{name}"));
                    return;
                }
                match self.r.query(name, RrType::A).await {
                    Ok(a) if a.is_void() => self.count_void(format!("exists:{name}: no address")),
                    Ok(_) => {}
                    Err(e) => self.tree.dns_errors.push(e.to_string()),
                }
            }
            Mechanism::Mx(t) => {
                let name = t.clone().unwrap_or_else(|| domain.to_owned());
                if name.contains('%') {
                    self.tree.macro_terms.push(format!("mx:{name}"));
                    return;
                }
                match self.r.query(&name, RrType::Mx).await {
                    Ok(a) if a.is_void() => self.count_void(format!("mx:{name}: no MX")),
                    Ok(a) => {
                        let hosts = a.mx();
                        if hosts.len() > MX_NAME_LIMIT {
                            self.tree.mx_overflows.push(format!(
                                "mx:{name} has {} exchanges (limit {MX_NAME_LIMIT})",
                                hosts.len()
                            ));
                        }
                    }
                    Err(e) => self.tree.dns_errors.push(e.to_string()),
                }
            }
            Mechanism::Ptr(t) => {
                let name = t.clone().unwrap_or_else(|| domain.to_owned());
                self.tree.ptr_terms.push(format!("{domain}: ptr:{name}"));
            }
            Mechanism::All | Mechanism::Ip4(..) | Mechanism::Ip6(..) => {}
        }
    }
}

/// Walks the SPF tree of `domain`.
pub async fn walk<R: Resolve>(r: &R, domain: &str) -> SpfTree {
    let mut w = Walk {
        r,
        tree: SpfTree::default(),
        stack: Vec::new(),
    };
    let root = w.node(domain.to_ascii_lowercase()).await;
    w.tree.root = root;
    w.tree
}

/// All SPF findings for `domain`.
pub async fn check<R: Resolve>(r: &R, domain: &str) -> Vec<Finding> {
    let auth = Practice::Authentication;
    let mut out = Vec::new();
    // The root record set is read separately so that "none" and "several" get their own id.
    let (records, _) = match spf_records(r, domain).await {
        Ok(x) => x,
        Err(e) => {
            out.push(
                Finding::new(
                    "spf.record",
                    auth,
                    Status::Fail,
                    "SPF record could not be read",
                )
                .evidence(e)
                .fix("Make the domain's name servers answer TXT queries."),
            );
            return out;
        }
    };
    match records.len() {
        0 => {
            out.push(
                Finding::new("spf.record", auth, Status::Fail, format!("{domain} publishes no SPF record"))
                    .fix("RFC 7208 section 3: publish one TXT record starting with \"v=spf1\" listing the hosts that send for this domain, ending in -all or ~all; a domain that sends no mail publishes \"v=spf1 -all\"."),
            );
            return out;
        }
        1 => out.push(
            Finding::new("spf.record", auth, Status::Pass, "exactly one SPF record")
                .evidence(records[0].clone()),
        ),
        n => {
            let mut f = Finding::new(
                "spf.record",
                auth,
                Status::Fail,
                format!("{n} SPF records: receivers return permerror"),
            )
            .fix("RFC 7208 section 4.5: a domain MUST NOT publish more than one SPF record; merge them into one.");
            for rec in &records {
                f = f.evidence(rec.clone());
            }
            out.push(f);
            return out;
        }
    }
    let tree = walk(r, domain).await;
    let rendered = tree.render();

    let mut tree_f = Finding::new(
        "spf.tree",
        auth,
        Status::Info,
        format!("include/redirect tree: {} DNS-querying terms", tree.lookups),
    );
    for l in &rendered {
        tree_f = tree_f.evidence(l.clone());
    }
    out.push(tree_f);

    if tree.syntax_errors.is_empty() {
        out.push(Finding::new(
            "spf.syntax",
            auth,
            Status::Pass,
            "every record in the tree parses",
        ));
    } else {
        let mut f = Finding::new(
            "spf.syntax",
            auth,
            Status::Fail,
            "syntax error in the SPF tree: receivers return permerror",
        )
        .fix("RFC 7208 section 12 (ABNF): correct the term; see section 5 for each mechanism's form.");
        for e in &tree.syntax_errors {
            f = f.evidence(e.clone());
        }
        out.push(f);
    }

    let count = if tree.truncated {
        format!("more than {}", tree.lookups)
    } else {
        tree.lookups.to_string()
    };
    let lookups = if tree.lookups > LOOKUP_LIMIT {
        Finding::new(
            "spf.lookups",
            auth,
            Status::Fail,
            format!("{count} DNS-querying terms (limit {LOOKUP_LIMIT}): receivers return permerror"),
        )
        .fix("RFC 7208 section 4.6.4: at most 10 include/a/mx/ptr/exists/redirect terms across all includes; replace includes with ip4:/ip6: ranges or drop unused ones.")
    } else {
        Finding::new(
            "spf.lookups",
            auth,
            if tree.lookups >= 9 { Status::Warn } else { Status::Pass },
            format!("{count} DNS-querying terms (limit {LOOKUP_LIMIT})"),
        )
        .fix("RFC 7208 section 4.6.4: keep a margin under 10; an included provider can add terms at any time.")
    };
    out.push(lookups.evidence(format!(
        "counted: include, a, mx, ptr, exists, redirect across {} records",
        count_nodes(&tree.root)
    )));

    let mut void = Finding::new(
        "spf.void_lookups",
        auth,
        if tree.void_lookups > VOID_LIMIT { Status::Fail } else if tree.void_lookups > 0 { Status::Warn } else { Status::Pass },
        format!("{} void lookups (limit {VOID_LIMIT})", tree.void_lookups),
    )
    .fix("RFC 7208 section 4.6.4: remove terms that name domains without the asked records (NXDOMAIN or no data).");
    for e in &tree.void_evidence {
        void = void.evidence(e.clone());
    }
    out.push(void);

    if !tree.mx_overflows.is_empty() {
        let mut f = Finding::new(
            "spf.mx_lookups",
            auth,
            Status::Fail,
            "an mx mechanism names more than 10 exchanges: receivers return permerror",
        )
        .fix("RFC 7208 section 4.6.4: an mx term may resolve at most 10 exchange names; list the sending addresses with ip4:/ip6: instead.");
        for e in &tree.mx_overflows {
            f = f.evidence(e.clone());
        }
        out.push(f);
    }
    if !tree.ptr_terms.is_empty() {
        let mut f = Finding::new(
            "spf.ptr",
            auth,
            Status::Warn,
            "the ptr mechanism is used",
        )
        .fix("RFC 7208 section 5.5: ptr SHOULD NOT be used (slow, unreliable, some receivers skip it); list addresses instead.");
        for e in &tree.ptr_terms {
            f = f.evidence(e.clone());
        }
        out.push(f);
    }
    if !tree.macro_terms.is_empty() {
        let mut f = Finding::new(
            "spf.macros",
            auth,
            Status::Info,
            "terms with macros: counted, not followed (they depend on each message)",
        );
        for e in &tree.macro_terms {
            f = f.evidence(e.clone());
        }
        out.push(f);
    }
    if !tree.loops.is_empty() {
        let mut f = Finding::new(
            "spf.loop",
            auth,
            Status::Fail,
            "include/redirect loop",
        )
        .fix("RFC 7208 section 4.6.4: a loop exhausts the lookup limit; remove the include that points back.");
        for e in &tree.loops {
            f = f.evidence(e.clone());
        }
        out.push(f);
    }
    if !tree.dns_errors.is_empty() {
        let mut f = Finding::new(
            "spf.dns",
            auth,
            Status::Fail,
            "DNS failures while walking the SPF tree: receivers return temperror",
        )
        .fix("RFC 7208 section 2.6.6: make the named domains' servers answer.");
        for e in &tree.dns_errors {
            f = f.evidence(e.clone());
        }
        out.push(f);
    }
    if let Some(f) = all_finding(&tree.root) {
        out.push(f);
    }
    out
}

fn count_nodes(n: &SpfNode) -> usize {
    1 + n
        .children
        .iter()
        .map(|(_, c)| count_nodes(c))
        .sum::<usize>()
}

/// The effective `all` of the root: its own, or that of the redirect chain.
fn effective_all(node: &SpfNode) -> Option<(Qualifier, String)> {
    let rec = spf_record::parse(node.record.as_deref()?).ok()?;
    if let Some(q) = rec.all() {
        return Some((q, node.domain.clone()));
    }
    node.children
        .iter()
        .find(|(k, _)| k == "redirect=")
        .and_then(|(_, c)| effective_all(c))
}

fn all_finding(root: &SpfNode) -> Option<Finding> {
    let auth = Practice::Authentication;
    root.record.as_ref()?;
    Some(match effective_all(root) {
        Some((Qualifier::Fail, d)) => Finding::new("spf.all", auth, Status::Pass, format!("ends in -all (in {d})")),
        Some((Qualifier::SoftFail, d)) => Finding::new("spf.all", auth, Status::Pass, format!("ends in ~all (in {d}); fine with an enforcing DMARC policy")),
        Some((Qualifier::Neutral, d)) => Finding::new("spf.all", auth, Status::Warn, format!("ends in ?all (in {d}): unlisted senders are neutral"))
            .fix("RFC 7208 section 8.2: ?all asserts nothing; end with -all or ~all."),
        Some((Qualifier::Pass, d)) => Finding::new("spf.all", auth, Status::Fail, format!("+all (in {d}) authorizes every host on the Internet"))
            .fix("RFC 7208 section 5.1: never use +all; end with -all or ~all."),
        None => Finding::new("spf.all", auth, Status::Warn, "no all mechanism and no redirect: unlisted senders get neutral")
            .fix("RFC 7208 section 4.7: the default result is neutral; end the record with -all or ~all."),
    })
}
