//! One module per subcommand.

pub mod alert;
pub mod auth;
pub mod config;
pub mod forward;
pub mod forward_inputs;
pub mod forwarder;
pub mod monitor;
pub mod notify;
pub mod outputs;
pub mod ports;
pub mod query;
pub mod send;
pub mod serve;
pub mod tail;
pub mod test_ldap;
pub mod token;
pub mod user;
