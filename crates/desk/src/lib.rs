//! `warden-desk`: the abuse desk engine.
//!
//! A raw report is stored durably and content-addressed (`raw_reports`, committed in a batch by
//! [`groupcommit`] before anyone is acknowledged; [`rawstore`] holds older ones), parsed by
//! `warden-reports`, attributed to a customer ([`attribute`], [`inventory`], and for shared CGN
//! pools the NAT logs through [`cgn`]), grouped into a case ([`cases`]) under the per-class
//! [`policy`], and turned into queued messages ([`outbox`]) that [`notify`] delivers: customer
//! notices batched per customer, reporter acknowledgements,
//! requests for a missing source port or time zone, signed webhooks. Every change is in the
//! [`audit`] log. [`intake::Desk`] wires it together.
//!
//! Architecture invariant: no listening sockets here; the only connections are the outgoing
//! SMTP and webhook clients in [`notify`] and the IMAP client in [`imap`]; listening (HTTP, SMTP)
//! belongs to `warden-server`. Nothing prints; every failure
//! is a [`DeskError`].

pub mod attribute;
pub mod audit;
pub mod cases;
pub mod cgn;
pub mod customers;
pub mod dashboard;
pub mod demo;
pub mod error;
pub mod groupcommit;
pub mod imap;
pub mod intake;
pub mod inventory;
pub mod maildir;
pub mod notify;
pub mod outbox;
pub mod policy;
pub mod quarantine;
pub mod queue;
pub mod rawstore;
pub mod selfhelp;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;

pub use attribute::{Attribution, Attributor, InventoryAttributor};
pub use cgn::{CgnAttributor, NatConfig, NatResolver};
pub use error::{DeskError, Result};
pub use intake::{Channel, Desk, IntakeReceipt, ReportStatus, Submitted};
pub use policy::{ClassPolicy, Policy};
pub use rawstore::RawStore;
pub use store::{Backend, Store};
