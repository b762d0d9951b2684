//! Operator overrides of the page chrome, read at start-up from a directory:
//!
//! * `style.css`: an extra stylesheet served at `/ui/static/custom.css` and linked after the
//!   built-in one, so it can restyle anything (colours, logo, fonts);
//! * `header.html` / `footer.html`: HTML fragments shown above and below every page (a logo,
//!   a link to the operator's runbook, a legal notice).
//!
//! Why not whole-page templates: the pages are maud templates, compiled in and checked by the
//! compiler, and they are where reporter-supplied text is escaped. Handing whole pages to a
//! runtime engine would move that escaping into files the operator edits, and one `|safe`
//! there would make evidence live HTML. The fragments here are the operator's own trusted
//! markup (read from disk, never from a report), and the CSP still forbids inline script in
//! them. Notification texts are overridden separately, by the desk's template directory
//! (`warden_desk::notify::Templates`, `[serve] templates = ...`).

use std::path::Path;
use std::sync::Arc;

/// Largest override file accepted.
pub const MAX_FILE_BYTES: u64 = 256 * 1024;

/// The loaded overrides; empty = the built-in look.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// Extra CSS, linked after the built-in stylesheet.
    pub css: Option<String>,
    /// HTML above every page's content.
    pub header_html: Option<String>,
    /// HTML below every page's content.
    pub footer_html: Option<String>,
}

/// Why an override directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    /// Reading a file failed.
    #[error("web UI override {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A file is unusable.
    #[error("web UI override {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

fn read(dir: &Path, name: &str) -> Result<Option<String>, OverrideError> {
    let p = dir.join(name);
    let shown = p.display().to_string();
    let meta = match std::fs::metadata(&p) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(OverrideError::Io {
                path: shown,
                source,
            });
        }
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(OverrideError::Invalid {
            path: shown,
            reason: format!("{} bytes; at most {MAX_FILE_BYTES}", meta.len()),
        });
    }
    let bytes = std::fs::read(&p).map_err(|source| OverrideError::Io {
        path: shown.clone(),
        source,
    })?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| OverrideError::Invalid {
            path: shown,
            reason: "not UTF-8".into(),
        })
}

impl Overrides {
    /// Reads whichever of `style.css`, `header.html`, `footer.html` exist in `dir`. A missing
    /// directory is an error (a typo in the config must not silently give the default look).
    pub fn load(dir: &Path) -> Result<Self, OverrideError> {
        if !dir.is_dir() {
            return Err(OverrideError::Invalid {
                path: dir.display().to_string(),
                reason: "not a directory".into(),
            });
        }
        let css = read(dir, "style.css")?;
        if let Some(c) = &css
            && c.to_ascii_lowercase().contains("</style")
        {
            return Err(OverrideError::Invalid {
                path: dir.join("style.css").display().to_string(),
                reason: "a stylesheet file holds CSS only, not HTML".into(),
            });
        }
        Ok(Self {
            css,
            header_html: read(dir, "header.html")?,
            footer_html: read(dir, "footer.html")?,
        })
    }

    /// True when nothing is overridden.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

tokio::task_local! {
    /// The overrides of the router serving the current request (set by a middleware layer, so
    /// that every page, error pages included, sees them without threading them through each
    /// renderer).
    pub(crate) static CURRENT: Arc<Overrides>;
}

/// The current request's overrides (empty outside a request, e.g. in unit tests).
pub fn current() -> Arc<Overrides> {
    CURRENT.try_with(Arc::clone).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_what_exists_and_refuses_nonsense() {
        let d = std::env::temp_dir().join(format!("warden-ovr-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&d).unwrap();
        assert!(Overrides::load(&d).unwrap().is_empty());
        std::fs::write(d.join("style.css"), "body { color: #000 }").unwrap();
        std::fs::write(d.join("footer.html"), "<p>Acme NOC</p>").unwrap();
        let o = Overrides::load(&d).unwrap();
        assert_eq!(o.css.as_deref(), Some("body { color: #000 }"));
        assert_eq!(o.footer_html.as_deref(), Some("<p>Acme NOC</p>"));
        assert!(o.header_html.is_none());
        std::fs::write(d.join("header.html"), b"\xff\xfe").unwrap();
        assert!(
            Overrides::load(&d)
                .unwrap_err()
                .to_string()
                .contains("UTF-8")
        );
        assert!(Overrides::load(&d.join("missing")).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[tokio::test]
    async fn current_is_scoped_to_the_request() {
        assert!(current().is_empty());
        let o = Arc::new(Overrides {
            footer_html: Some("x".into()),
            ..Default::default()
        });
        let seen = CURRENT.scope(o, async { current() }).await;
        assert_eq!(seen.footer_html.as_deref(), Some("x"));
    }
}
