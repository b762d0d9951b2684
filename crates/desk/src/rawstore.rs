//! Raw reports, content-addressed by SHA-256 and written durably before anyone is told "accepted"
//! (DESIGN.md rule 1).
//!
//! A report is written to a temporary file, `fsync`ed, renamed to `raw/ab/cd/<sha256>` and the
//! directory is `fsync`ed, so after [`RawStore::put`] returns the bytes survive a crash or power
//! loss. Files are write-once: the name is the hash of the content, so a resend of the same bytes
//! lands on the existing file and is recognised.

use crate::error::{DeskError, Result};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The content-addressed store of raw report bytes.
#[derive(Debug, Clone)]
pub struct RawStore {
    root: PathBuf,
}

/// What [`RawStore::put`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// SHA-256 of the bytes, lower-case hex: the report id.
    pub sha256: String,
    /// False when the same bytes were already stored.
    pub new: bool,
}

impl RawStore {
    /// A store under `root` (created if missing).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root).map_err(DeskError::io(&root))?;
        Ok(Self { root })
    }

    fn path_of(&self, sha256: &str) -> Result<PathBuf> {
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(DeskError::invalid(
                format!("report id {sha256:?}"),
                "a report id is 64 hex digits (SHA-256)",
            ));
        }
        let lower = sha256.to_ascii_lowercase();
        Ok(self.root.join(&lower[0..2]).join(&lower[2..4]).join(lower))
    }

    /// Stores `bytes` durably and returns their hash. Idempotent.
    pub fn put(&self, bytes: &[u8]) -> Result<Stored> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let path = self.path_of(&sha256)?;
        if path.exists() {
            return Ok(Stored { sha256, new: false });
        }
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(DeskError::io(&dir))?;
        let tmp = dir.join(format!(".{sha256}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp).map_err(DeskError::io(&tmp))?;
        f.write_all(bytes).map_err(DeskError::io(&tmp))?;
        f.sync_all().map_err(DeskError::io(&tmp))?;
        drop(f);
        fs::rename(&tmp, &path).map_err(DeskError::io(&path))?;
        sync_dir(&dir)?;
        // The two fan-out directories may themselves be new; their entries must be durable too.
        if let Some(parent) = dir.parent() {
            sync_dir(parent)?;
        }
        sync_dir(&self.root)?;
        Ok(Stored { sha256, new: true })
    }

    /// Reads a stored report back.
    pub fn get(&self, sha256: &str) -> Result<Vec<u8>> {
        let path = self.path_of(sha256)?;
        fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                DeskError::NotFound { what: format!("raw report {sha256}") }
            } else {
                DeskError::Io { path: path.display().to_string(), source: e }
            }
        })
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(DeskError::io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_is_content_addressed_and_idempotent() {
        let dir = std::env::temp_dir().join(format!("warden-raw-{}", uuid::Uuid::new_v4()));
        let store = RawStore::open(&dir).unwrap();
        let a = store.put(b"report one").unwrap();
        assert!(a.new);
        assert_eq!(a.sha256, warden_model::sha256_hex(b"report one"));
        let again = store.put(b"report one").unwrap();
        assert_eq!(again, Stored { sha256: a.sha256.clone(), new: false });
        assert_eq!(store.get(&a.sha256).unwrap(), b"report one");
        assert!(matches!(store.get(&"0".repeat(64)), Err(DeskError::NotFound { .. })));
        assert!(matches!(store.get("../etc/passwd"), Err(DeskError::Invalid { .. })));
        fs::remove_dir_all(dir).unwrap();
    }
}
