//! One module per subcommand.

pub mod check;
pub mod commands;
pub mod config;
pub mod import;
pub mod inventory;
pub mod nat;
pub mod parse;
pub mod serve;
pub mod shadowserver;
