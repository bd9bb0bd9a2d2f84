//! One module per subcommand.

pub mod alert;
pub mod config;
pub mod monitor;
pub mod notify;
pub mod ports;
pub mod query;
pub mod send;
pub mod serve;
pub mod tail;
pub mod token;
pub mod user;
