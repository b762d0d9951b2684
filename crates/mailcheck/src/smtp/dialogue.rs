//! The plain-text half of an SMTP session (RFC 5321 section 4.2): reading replies, sending
//! commands, EHLO keywords and the switch to TLS. Every read is bounded in size and time, because
//! the peer is a stranger: a server that never ends a line or a multi-line reply must not hold
//! the probe forever or fill memory.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// Longest reply line we accept. RFC 5321 section 4.5.3.1.5 allows 512 octets; real servers
/// send longer banners, so we allow four times that before calling the line abusive.
pub const MAX_LINE: usize = 2048;
/// Most lines in one multi-line reply. EHLO replies have a few dozen at most.
pub const MAX_REPLY_LINES: usize = 100;

/// Why the dialogue could not go on.
#[derive(Debug, thiserror::Error)]
pub enum DialogueError {
    /// The socket failed.
    #[error("i/o error during {step}: {source}")]
    Io {
        /// The step of the dialogue (e.g. "EHLO").
        step: &'static str,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The server took longer than the step timeout.
    #[error("timed out after {0:?} waiting for the reply to {1}")]
    Timeout(Duration, &'static str),
    /// The server closed the connection.
    #[error("server closed the connection during {0}")]
    Closed(&'static str),
    /// The server sent something that is not an SMTP reply.
    #[error("malformed reply to {step}: {reason}")]
    Malformed {
        /// The step of the dialogue.
        step: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The server sent bytes after its reply to STARTTLS, before the TLS handshake: a
    /// command-injection risk (CVE-2011-0411 class), see RFC 3207 section 4.2.
    #[error("server sent {0} bytes after its STARTTLS reply, before the TLS handshake")]
    DataAfterStarttls(usize),
}

/// One SMTP reply: the three-digit code and the text of each line (without the code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Reply code (RFC 5321 section 4.2).
    pub code: u16,
    /// Text of each line, code and separator removed.
    pub lines: Vec<String>,
}

impl Reply {
    /// True for 2xx codes.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// The reply as the server sent it, lines joined with " | ", for evidence.
    pub fn text(&self) -> String {
        let body = self.lines.join(" | ");
        format!("{} {}", self.code, body)
    }

    /// The EHLO keywords (RFC 5321 section 4.1.1.1): the first word of every line after the
    /// greeting line, upper-cased, with its parameters kept.
    pub fn ehlo_keywords(&self) -> Vec<String> {
        self.lines
            .iter()
            .skip(1)
            .map(|l| {
                let mut words = l.split_whitespace();
                let kw = words.next().unwrap_or("").to_ascii_uppercase();
                let rest: Vec<&str> = words.collect();
                if rest.is_empty() {
                    kw
                } else {
                    format!("{kw} {}", rest.join(" "))
                }
            })
            .filter(|k| !k.is_empty())
            .collect()
    }
}

/// Parses one reply line into (code, is_last, text). Pure so that odd server output is tested
/// without sockets.
pub fn parse_reply_line(line: &str) -> Result<(u16, bool, String), String> {
    let line = line.trim_end_matches(['\r', '\n']);
    let bytes = line.as_bytes();
    let code_part = bytes
        .get(..3)
        .ok_or_else(|| format!("line too short: {line:?}"))?;
    if !code_part.iter().all(u8::is_ascii_digit) {
        return Err(format!("no three-digit code: {line:?}"));
    }
    let code: u16 = line
        .get(..3)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no three-digit code: {line:?}"))?;
    if !(200..600).contains(&code) {
        return Err(format!("reply code {code} outside 2xx-5xx: {line:?}"));
    }
    match bytes.get(3) {
        None => Ok((code, true, String::new())),
        Some(b' ') => Ok((code, true, line.get(4..).unwrap_or("").to_owned())),
        Some(b'-') => Ok((code, false, line.get(4..).unwrap_or("").to_owned())),
        Some(_) => Err(format!("bad separator after code: {line:?}")),
    }
}

/// An SMTP client over any byte stream (plain TCP or TLS), with a per-step timeout.
pub struct SmtpClient<S> {
    stream: BufReader<S>,
    timeout: Duration,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SmtpClient<S> {
    /// Wraps a connected stream.
    pub fn new(stream: S, timeout: Duration) -> Self {
        Self {
            stream: BufReader::new(stream),
            timeout,
        }
    }

    /// Reads one line of at most [`MAX_LINE`] bytes.
    pub async fn read_line(&mut self, step: &'static str) -> Result<String, DialogueError> {
        let mut buf = Vec::with_capacity(128);
        let mut limited = (&mut self.stream).take(MAX_LINE as u64);
        let n = tokio::time::timeout(self.timeout, limited.read_until(b'\n', &mut buf))
            .await
            .map_err(|_| DialogueError::Timeout(self.timeout, step))?
            .map_err(|source| DialogueError::Io { step, source })?;
        if n == 0 {
            return Err(DialogueError::Closed(step));
        }
        if buf.last() != Some(&b'\n') {
            return Err(DialogueError::Malformed {
                step,
                reason: format!("line longer than {MAX_LINE} bytes or cut off"),
            });
        }
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }

    /// Reads a whole (possibly multi-line) reply.
    pub async fn read_reply(&mut self, step: &'static str) -> Result<Reply, DialogueError> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(step).await?;
            let (code, last, text) = parse_reply_line(&line)
                .map_err(|reason| DialogueError::Malformed { step, reason })?;
            lines.push(text);
            if last {
                return Ok(Reply { code, lines });
            }
            if lines.len() >= MAX_REPLY_LINES {
                return Err(DialogueError::Malformed {
                    step,
                    reason: format!("more than {MAX_REPLY_LINES} lines in one reply"),
                });
            }
        }
    }

    /// Sends one command line (CRLF added) and reads the reply.
    pub async fn command(
        &mut self,
        line: &str,
        step: &'static str,
    ) -> Result<Reply, DialogueError> {
        let mut out = Vec::with_capacity(line.len() + 2);
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
        let stream = self.stream.get_mut();
        tokio::time::timeout(self.timeout, async {
            stream.write_all(&out).await?;
            stream.flush().await
        })
        .await
        .map_err(|_| DialogueError::Timeout(self.timeout, step))?
        .map_err(|source| DialogueError::Io { step, source })?;
        self.read_reply(step).await
    }

    /// Gives back the stream for the TLS handshake. Refuses if the server already sent more
    /// bytes: anything read before the handshake would otherwise be trusted as if it came over
    /// TLS (RFC 3207 section 4.2, the STARTTLS injection class of bugs).
    pub fn into_inner(self) -> Result<S, DialogueError> {
        let buffered = self.stream.buffer().len();
        if buffered > 0 {
            return Err(DialogueError::DataAfterStarttls(buffered));
        }
        Ok(self.stream.into_inner())
    }

    /// Sends QUIT and ignores the answer: politeness, not evidence.
    pub async fn quit(mut self) {
        let _ = self.command("QUIT", "QUIT").await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_continuation_lines() {
        assert_eq!(
            parse_reply_line("220 mx.example ESMTP\r\n").unwrap(),
            (220, true, "mx.example ESMTP".into())
        );
        assert_eq!(
            parse_reply_line("250-STARTTLS\r\n").unwrap(),
            (250, false, "STARTTLS".into())
        );
        assert_eq!(
            parse_reply_line("250\r\n").unwrap(),
            (250, true, String::new())
        );
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_reply_line("HTTP/1.1 400").is_err());
        assert!(parse_reply_line("25").is_err());
        assert!(parse_reply_line("250+x").is_err());
        assert!(parse_reply_line("999 x").is_err());
        assert!(parse_reply_line("é5 x").is_err());
    }

    #[test]
    fn ehlo_keywords_are_upper_cased_and_skip_greeting() {
        let r = Reply {
            code: 250,
            lines: vec![
                "mx.example hello".into(),
                "starttls".into(),
                "AUTH PLAIN LOGIN".into(),
            ],
        };
        assert_eq!(r.ehlo_keywords(), vec!["STARTTLS", "AUTH PLAIN LOGIN"]);
    }

    #[tokio::test]
    async fn reads_multiline_reply_and_detects_injection() {
        let (client, mut server) = tokio::io::duplex(4096);
        server
            .write_all(b"250-mx hello\r\n250-STARTTLS\r\n250 SIZE 100\r\n220 go\r\nEXTRA")
            .await
            .unwrap();
        let mut c = SmtpClient::new(client, Duration::from_secs(1));
        let r = c.read_reply("EHLO").await.unwrap();
        assert_eq!(r.lines.len(), 3);
        assert_eq!(c.read_reply("STARTTLS").await.unwrap().code, 220);
        assert!(matches!(
            c.into_inner(),
            Err(DialogueError::DataAfterStarttls(5))
        ));
    }

    #[tokio::test]
    async fn overlong_line_is_an_error_not_a_hang() {
        let (client, mut server) = tokio::io::duplex(8192);
        server.write_all(&[b'2'; MAX_LINE + 10]).await.unwrap();
        let mut c = SmtpClient::new(client, Duration::from_secs(1));
        assert!(matches!(
            c.read_reply("banner").await,
            Err(DialogueError::Malformed { .. })
        ));
    }

    #[tokio::test]
    async fn silent_server_times_out() {
        let (client, _server) = tokio::io::duplex(64);
        let mut c = SmtpClient::new(client, Duration::from_millis(50));
        assert!(matches!(
            c.read_reply("banner").await,
            Err(DialogueError::Timeout(..))
        ));
    }
}
