//! Hark's active monitoring: configured checks of hosts and services run on
//! a schedule, and their results become OK/WARN/CRIT/UNKNOWN (services) or
//! UP/DOWN/UNREACHABLE (hosts) states with soft and hard types, flapping,
//! downtimes and acknowledgements, the way Nagios-family cores keep them.

pub mod checks;
pub mod downtime;
pub mod event;
pub mod flapping;
pub mod history;
pub mod outcome;
pub mod persist;
pub mod scheduler;
mod serde_time;
pub mod service;
pub mod state;
pub mod telemetry;

pub use outcome::{CheckOutcome, Perf, Status};
pub use service::{EventSink, Monitoring};
