//! Errors of the web UI, each turned into an HTML page with a status code that says whose
//! fault it was.

use crate::layout;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;
use warden_desk::DeskError;

/// Why a page could not be served.
#[derive(Debug, Error)]
pub enum UiError {
    /// The desk refused or failed.
    #[error(transparent)]
    Desk(#[from] DeskError),
    /// A form or query value is not acceptable; names the input and the reason.
    #[error("{what}: {reason}")]
    BadInput {
        /// The input.
        what: String,
        /// Why it was refused.
        reason: String,
    },
    /// The session's role may not do this.
    #[error("your role ({role}) may not {action}")]
    Forbidden {
        /// The session's role.
        role: &'static str,
        /// What was attempted.
        action: &'static str,
    },
    /// The CSRF token of a form did not match the session's.
    #[error("the form's CSRF token is missing or stale: reload the page and try again")]
    Csrf,
    /// Too many sessions are open at once.
    #[error("too many open sessions: try again later")]
    SessionsFull,
}

impl UiError {
    /// A refused input.
    pub fn bad(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::BadInput {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// The HTTP status that says whose fault it was.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Desk(DeskError::NotFound { .. }) => StatusCode::NOT_FOUND,
            Self::Desk(DeskError::Invalid { .. }) | Self::BadInput { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::Desk(DeskError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Desk(DeskError::Transition { .. }) => StatusCode::CONFLICT,
            Self::Desk(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Forbidden { .. } | Self::Csrf => StatusCode::FORBIDDEN,
            Self::SessionsFull => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "web UI request failed");
        }
        let page = layout::error_page(status, &self.to_string());
        (status, layout::secure_headers(), page).into_response()
    }
}
