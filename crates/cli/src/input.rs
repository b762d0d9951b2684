//! Turns the paths a user names into report inputs: files, directories (recursively), Maildirs
//! (`cur/` and `new/`), mbox files (split into messages) and stdin.
//!
//! Reading is the CLI's job; the libraries stay pure. Nothing is silently skipped: an unreadable
//! file or an over-sized input becomes an [`InputError`] that the command reports, and the rest of
//! the batch goes on.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use warden_reports::Limits;
use warden_reports::container::{self, MboxFlavor};

/// Where one input came from, for messages and JSON output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file path, or `-` for stdin.
    pub path: String,
    /// 1-based message number inside an mbox; `None` for single-report files.
    pub message: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message {
            Some(n) => write!(f, "{} (message {n})", self.path),
            None => f.write_str(&self.path),
        }
    }
}

/// One report to parse, or the reason it could not be read.
pub enum Input {
    /// The bytes of one report, with a warning when it looks damaged (a cut-short last mbox
    /// message): it is still parsed, and the warning is reported.
    Report(Origin, Vec<u8>, Option<String>),
    /// Something that could not be read or split; reported, not dropped silently.
    Error(Origin, String),
}

/// Expands `paths` into inputs, in a stable order (directory entries sorted by name).
pub fn collect(paths: &[PathBuf], max_input: usize) -> Vec<Input> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            let mut buf = Vec::new();
            let origin = Origin {
                path: "-".into(),
                message: None,
            };
            // Read one byte over the limit so an over-sized stdin is detected, not truncated.
            match std::io::stdin()
                .take(max_input as u64 + 1)
                .read_to_end(&mut buf)
            {
                Ok(_) if buf.len() > max_input => out.push(Input::Error(
                    origin,
                    format!("stdin is over the {max_input} byte limit"),
                )),
                Ok(_) => push_file(&mut out, origin, buf),
                Err(e) => out.push(Input::Error(origin, format!("cannot read stdin: {e}"))),
            }
        } else {
            walk(p, max_input, &mut out);
        }
    }
    out
}

fn walk(path: &Path, max_input: usize, out: &mut Vec<Input>) {
    let origin = || Origin {
        path: path.display().to_string(),
        message: None,
    };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return out.push(Input::Error(origin(), format!("cannot read: {e}"))),
    };
    if meta.is_dir() {
        // A Maildir keeps its messages in cur/ and new/; tmp/ holds half-delivered ones that must
        // not be read (Maildir spec: a message is complete only once renamed out of tmp/).
        let is_maildir = path.join("cur").is_dir() && path.join("new").is_dir();
        let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => return out.push(Input::Error(origin(), format!("cannot list: {e}"))),
        };
        entries.sort();
        for entry in entries {
            let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // Hidden files and the Markdown notes that sit beside sample reports are not
            // reports; a file named explicitly on the command line is always read.
            if name.starts_with('.') || name.ends_with(".md") || (is_maildir && name == "tmp") {
                continue;
            }
            walk(&entry, max_input, out);
        }
        return;
    }
    if meta.len() > max_input as u64 {
        return out.push(Input::Error(
            origin(),
            format!(
                "file is {} bytes, over the {max_input} byte limit",
                meta.len()
            ),
        ));
    }
    match fs::read(path) {
        Ok(bytes) => push_file(out, origin(), bytes),
        Err(e) => out.push(Input::Error(origin(), format!("cannot read: {e}"))),
    }
}

/// Splits an mbox into its messages; anything else is one input.
fn push_file(out: &mut Vec<Input>, origin: Origin, bytes: Vec<u8>) {
    if !container::looks_like_mbox(&bytes) {
        out.push(Input::Report(origin, bytes, None));
        return;
    }
    let limits = Limits {
        max_input: bytes.len().max(Limits::default().max_input),
        ..Limits::default()
    };
    let mailbox = match container::split_mbox(&bytes, MboxFlavor::Mboxrd, &limits) {
        Ok(m) => m,
        Err(e) => return out.push(Input::Error(origin, format!("not a readable mbox: {e}"))),
    };
    for region in &mailbox.skipped {
        out.push(Input::Error(
            origin.clone(),
            format!(
                "skipped {} bytes at offset {}: {}",
                region.len, region.offset, region.reason
            ),
        ));
    }
    for (i, msg) in mailbox.messages.iter().enumerate() {
        let o = Origin {
            path: origin.path.clone(),
            message: Some(i + 1),
        };
        out.push(Input::Report(o, msg.data.to_vec(), msg.truncated.clone()));
    }
}
