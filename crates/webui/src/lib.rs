//! `warden-webui`: the analyst web UI of the abuse desk (M3AAWG Hosting & Cloud BCP: an abuse
//! desk needs people looking at cases, not only an API).
//!
//! Server-rendered HTML with [maud], whose templates are checked at compile time and HTML-escape
//! every interpolated value: whatever a reporter wrote (evidence, subjects, notes) reaches the
//! page as text, never as markup. A Content-Security-Policy that allows only this UI's own
//! script is the second line of defence. The pages work without JavaScript; `app.js` only adds
//! conveniences (select-all, confirmation).
//!
//! First slice: session login ([`session`]), case queue with filters, search and keyset
//! pagination ([`queue`]), case page with timeline, evidence, attribution, actions and audit log
//! ([`case_page`]); dashboard with server-side SVG charts ([`dashboard`]); the customer
//! self-help page behind signed, expiring links ([`selfhelp`]); quarantine ([`quarantine`]) and
//! inventory ([`inventory`]) pages.
//!
//! Architecture invariant: all decisions and every query live in `warden-desk`; this crate calls
//! its typed functions and holds no SQL. It never prints and never exits.

pub mod bulk;
pub mod case_page;
pub mod dashboard;
pub mod error;
pub(crate) mod extract;
pub mod inventory;
pub mod layout;
pub mod login_limit;
pub mod overrides;
pub mod quarantine;
pub mod queue;
pub mod routes;
pub mod selfhelp;
pub mod session;
pub mod state;

pub use error::UiError;
pub use routes::router;
pub use state::WebUiConfig;
