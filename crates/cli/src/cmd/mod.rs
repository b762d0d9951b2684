//! One module per subcommand.

pub mod check;
pub mod nat;
pub mod parse;
