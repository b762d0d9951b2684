//! The desk's errors: what failed, on which input, and why, so the API and CLI can tell an
//! operator what to do next.

use thiserror::Error;

/// Everything the desk engine can fail with.
#[derive(Debug, Error)]
pub enum DeskError {
    /// The database refused or failed a statement.
    #[error("database error during {context}: {source}")]
    Database {
        /// What the desk was doing.
        context: &'static str,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A file in the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Input from outside (an import file, an API body, a policy file) is not acceptable.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which input, e.g. `inventory CSV line 4`.
        what: String,
        /// Why it was refused.
        reason: String,
    },
    /// The thing asked for does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked up, e.g. `case 0190...`.
        what: String,
    },
    /// An input is larger than the configured limit.
    #[error("{what} is {size} bytes, over the {limit} byte limit")]
    TooLarge {
        /// Which input.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A case action is not allowed in the case's current state.
    #[error("cannot {action} a case that is {state}")]
    Transition {
        /// The action asked for.
        action: String,
        /// The current state.
        state: String,
    },
    /// Sending a mail or webhook failed (kept in the outbox and retried).
    #[error("delivery to {recipient} failed: {reason}")]
    Delivery {
        /// Mail address or URL.
        recipient: String,
        /// The transport's error.
        reason: String,
    },
    /// A server the desk fetches reports from (IMAP) failed or refused; nothing was marked
    /// there, so the next run takes the same messages again.
    #[error("{source_name}: {reason}")]
    Fetch {
        /// `imap://user@host:port/mailbox`.
        source_name: String,
        /// The step and the server's or transport's error.
        reason: String,
    },
}

impl DeskError {
    /// Wraps a database error with what the desk was doing.
    pub(crate) fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> DeskError {
        move |source| DeskError::Database { context, source }
    }

    /// Shorthand for [`DeskError::Invalid`].
    pub fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        DeskError::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(
        path: impl AsRef<std::path::Path>,
    ) -> impl FnOnce(std::io::Error) -> DeskError {
        let path = path.as_ref().display().to_string();
        move |source| DeskError::Io { path, source }
    }
}

/// Result alias for the desk.
pub type Result<T, E = DeskError> = std::result::Result<T, E>;
