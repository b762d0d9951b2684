//! Who is calling the API, as an extractor: [`Caller<N>`] checks the caller's rate, the bearer
//! token and that its role is at least `N`'s, before the handler runs. A handler names the role
//! it needs in its signature (`Caller<Analyst>`) instead of calling a check, so no route can
//! forget one.

use crate::AppState;
use crate::api::ApiError;
use crate::metrics::inc;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::sync::Arc;
use warden_desk::tokens::{self, Role};

/// The least role a route needs.
pub trait Need {
    /// The role.
    const ROLE: Role;
}

/// Any valid token: reads.
pub struct ReadOnly;
/// Submitting reports and acting on cases.
pub struct Analyst;
/// Changing the inventory.
pub struct Admin;

impl Need for ReadOnly {
    const ROLE: Role = Role::ReadOnly;
}
impl Need for Analyst {
    const ROLE: Role = Role::Analyst;
}
impl Need for Admin {
    const ROLE: Role = Role::Admin;
}

/// A caller within its rate whose token has at least `N`'s role; holds the token's name (the
/// actor in the audit log).
pub struct Caller<N> {
    /// The token's name.
    pub name: String,
    need: PhantomData<N>,
}

impl<N: Need> FromRequestParts<Arc<AppState>> for Caller<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, ApiError> {
        // The peer as the server saw it (`into_make_service_with_connect_info`); a router served
        // without it has no peer to limit, which only tests do.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the server was started without peer addresses; the API needs them for its rate limit",
                )
            })?;
        if !state.limiter.allow(&peer) {
            inc(&state.metrics.http_rate_limited);
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate limit exceeded; slow down and retry",
            ));
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "missing `Authorization: Bearer <token>` header",
                )
            })?;
        let (name, role) = tokens::verify(state.desk.store(), token)
            .await?
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unknown API token"))?;
        if role < N::ROLE {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "this token has role {}; this call needs {}",
                    role.as_str(),
                    N::ROLE.as_str()
                ),
            ));
        }
        Ok(Self {
            name,
            need: PhantomData,
        })
    }
}
