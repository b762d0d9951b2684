//! Request extractors: who is asking ([`LoggedIn`]), whether their role may do what the page
//! does ([`Allowed`]), and whether a POST form is one this session was given ([`CsrfForm`]).
//!
//! A handler names what it needs in its signature instead of repeating the checks, so a new
//! page cannot forget one. The rules are the ones the pages always had: no session goes to the
//! login page; a stale or missing CSRF token is refused (403) before the role is looked at; a
//! role below the page's need is refused (403) naming the role and the action.

use crate::error::UiError;
use crate::session::{Session, Sessions};
use axum::extract::{Form, FromRef, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use warden_desk::tokens::Role;

/// Where a request without a live session is sent.
pub(crate) fn to_login() -> Response {
    Redirect::to("/ui/login").into_response()
}

/// What a page needs: the least role, and the action its refusal names ("your role (read_only)
/// may not re-run reports"). Each page declares its own with [`need!`](crate::need).
pub(crate) trait Need {
    /// The least role that may.
    const ROLE: Role;
    /// What the page does, as the refusal says it.
    const ACTION: &'static str;

    /// Refuses `s` unless its role is at least [`Need::ROLE`].
    fn check(s: &Session) -> Result<(), UiError> {
        s.require(Self::ROLE, Self::ACTION)
    }
}

/// Declares a [`Need`]: `need!(RerunReports, Analyst, "re-run reports");`.
#[macro_export]
#[doc(hidden)]
macro_rules! need {
    ($name:ident, $role:ident, $action:literal) => {
        #[doc = concat!("Needed to ", $action, ".")]
        pub(crate) struct $name;
        impl $crate::extract::Need for $name {
            const ROLE: warden_desk::tokens::Role = warden_desk::tokens::Role::$role;
            const ACTION: &'static str = $action;
        }
    };
}

/// Any logged-in session (every role may read the pages that take this).
pub(crate) struct Anyone;

impl Need for Anyone {
    const ROLE: Role = Role::ReadOnly;
    const ACTION: &'static str = "read this page";
}

/// The live session of the request; without one the request is sent to the login page.
pub(crate) struct LoggedIn(pub(crate) Session);

impl<S> FromRequestParts<S> for LoggedIn
where
    Sessions: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        Sessions::from_ref(state)
            .current(&parts.headers)
            .await
            .map(LoggedIn)
            .ok_or_else(to_login)
    }
}

/// The live session, whose role may do what `N` says.
pub(crate) struct Allowed<N>(pub(crate) Session, pub(crate) PhantomData<N>);

impl<S, N> FromRequestParts<S> for Allowed<N>
where
    Sessions: FromRef<S>,
    S: Send + Sync,
    N: Need,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let LoggedIn(s) = LoggedIn::from_request_parts(parts, state).await?;
        N::check(&s).map_err(IntoResponse::into_response)?;
        Ok(Self(s, PhantomData))
    }
}

/// A form that carries the session's CSRF token in its `csrf` field.
pub(crate) trait CsrfField {
    /// The token the form sent.
    fn csrf(&self) -> &str;
}

/// A URL-encoded POST form of this session: parsed, its CSRF token checked, then the role
/// checked against `N`. A form that does not parse is refused as axum's `Form` refuses it,
/// before the session is looked at, as when each handler took `Form<T>` itself.
pub(crate) struct CsrfForm<T, N = Anyone> {
    /// The session that sent the form.
    pub(crate) session: Session,
    /// The form.
    pub(crate) form: T,
    need: PhantomData<N>,
}

impl<S, T, N> FromRequest<S> for CsrfForm<T, N>
where
    Sessions: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned + CsrfField,
    N: Need,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let session = Sessions::from_ref(state).current(req.headers()).await;
        let Form(form) = Form::<T>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let session = session.ok_or_else(to_login)?;
        session
            .check_csrf(form.csrf())
            .map_err(IntoResponse::into_response)?;
        N::check(&session).map_err(IntoResponse::into_response)?;
        Ok(Self {
            session,
            form,
            need: PhantomData,
        })
    }
}

/// A form whose only field is the CSRF token (logout, re-run buttons).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct CsrfOnly {
    csrf: String,
}

impl CsrfField for CsrfOnly {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}
