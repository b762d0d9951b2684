//! One module per subcommand.

pub mod check;
pub mod inventory;
pub mod nat;
pub mod parse;
pub mod serve;
