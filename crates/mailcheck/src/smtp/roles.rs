//! Role addresses over SMTP: does the server accept RCPT TO for postmaster@ (RFC 5321 section
//! 4.5.1: MUST exist) and abuse@ (RFC 2142 section 2)? The transaction is opened with the null
//! reverse-path, which RFC 5321 section 4.5.5 says postmaster must accept, and always reset, so
//! no message is ever sent.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};

use super::dialogue::{Reply, SmtpClient};

/// The answer to RCPT TO for one role address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleCheck {
    /// The address asked for.
    pub address: String,
    /// The server's reply, if the dialogue got that far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    /// Why there is no reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The roles we ask for.
pub const ROLES: [&str; 2] = ["postmaster", "abuse"];

/// Runs MAIL FROM:<>, one RCPT TO per role, then RSET.
pub async fn check<S: AsyncRead + AsyncWrite + Unpin>(
    client: &mut SmtpClient<S>,
    domain: &str,
) -> Vec<RoleCheck> {
    let domain = domain.trim_end_matches('.');
    let addresses: Vec<String> = ROLES.iter().map(|r| format!("{r}@{domain}")).collect();
    let bad_domain = domain.is_empty()
        || domain.len() > 253
        || !domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if bad_domain {
        return addresses
            .into_iter()
            .map(|address| RoleCheck {
                address,
                reply: None,
                error: Some(format!("{domain:?} is not a domain name")),
            })
            .collect();
    }
    let mail = match client.command("MAIL FROM:<>", "MAIL FROM").await {
        Ok(r) if r.is_positive() => None,
        Ok(r) => Some(format!("MAIL FROM:<> refused: {}", r.text())),
        Err(e) => Some(e.to_string()),
    };
    let mut out = Vec::new();
    for address in addresses {
        if let Some(e) = &mail {
            out.push(RoleCheck {
                address,
                reply: None,
                error: Some(e.clone()),
            });
            continue;
        }
        let check = match client
            .command(&format!("RCPT TO:<{address}>"), "RCPT TO")
            .await
        {
            Ok(r) => RoleCheck {
                address,
                reply: Some(r),
                error: None,
            },
            Err(e) => RoleCheck {
                address,
                reply: None,
                error: Some(e.to_string()),
            },
        };
        out.push(check);
    }
    let _ = client.command("RSET", "RSET").await;
    out
}
