//! Hark's uplink: edge forwarders (`hark forward`) send the events of their
//! disk buffer to a central Hark, which stores each exactly once.
//!
//! - [`center`]: the `[uplink]` listener, HTTPS with client certificates;
//!   the batch endpoint appends with an origin mark and drops what an
//!   origin sent before ([`hark_store::Store::append_marked`]).
//! - [`client`]: enrolment and the [`client::UplinkClient`], a
//!   [`hark_output::Destination`] driven by the shared delivery loop.
//! - [`ca`] and [`enroll`]: the center's own CA, one-time tokens that pin
//!   it, the registry of forwarders and revocation.
//! - [`wire`]: the batch body, zstd-compressed.
//! - [`groups`]: the configuration the center keeps per forwarder group,
//!   which forwarders pull and apply without a restart.
//! - [`fleet`] and [`liveness`]: the forwarders' health reports, their
//!   status, and that status as a monitor state (`forwarder/NAME`).
//!
//! `docs/internals/forwarder.md` describes the guarantees and what tests
//! check them.

pub mod ca;
pub mod center;
pub mod client;
pub mod enroll;
mod files;
pub mod fleet;
pub mod forwarder;
pub mod groups;
pub mod liveness;
pub mod wire;

use std::path::Path;

/// Errors of the uplink, on either side.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// A file could not be read or written.
    #[error("{context} {path}: {source}")]
    File {
        /// What was being done.
        context: &'static str,
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// A shared JSON file failed.
    #[error(transparent)]
    Json(#[from] hark_auth::FileError),
    /// A certificate or key could not be made or read.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The listener could not bind.
    #[error("cannot listen on {0}: {1}")]
    Listen(std::net::SocketAddr, std::io::Error),
    /// An HTTP exchange failed.
    #[error("{0}")]
    Http(String),
    /// The other side (or this one) refuses: why, in words for the operator.
    #[error("{0}")]
    Refused(String),
}

impl UplinkError {
    pub(crate) fn file(path: &Path, context: &'static str, source: std::io::Error) -> UplinkError {
        UplinkError::File {
            context,
            path: path.display().to_string(),
            source,
        }
    }
}

/// The file in a forwarder's data directory naming its buffer.
const BUFFER_ID_FILE: &str = "buffer-id";

/// The identity of the forwarder's buffer in `data_dir`, made on first use.
///
/// Sequence numbers count within one buffer; the center keeps its
/// deduplication marks per forwarder and buffer, so a forwarder whose data
/// directory was wiped (numbers start again at 1) is not taken for a
/// resend.
pub fn buffer_id(data_dir: &Path) -> Result<String, UplinkError> {
    let path = data_dir.join(BUFFER_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_owned()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(UplinkError::file(&path, "reading", e)),
    }
    let id = hex::encode(rand::random::<[u8; 8]>());
    files::write_public(&path, id.as_bytes())?;
    Ok(id)
}
