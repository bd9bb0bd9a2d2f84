//! Where a running check is, so a timeout can say what it was waiting for.

use std::sync::atomic::{AtomicU8, Ordering};

/// A step of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Phase {
    Starting = 0,
    Resolving,
    Connecting,
    TlsHandshake,
    Sending,
    WaitingResponse,
    ReadingBody,
    WaitingExpect,
    WaitingReplies,
    WaitingAgent,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            1 => Phase::Resolving,
            2 => Phase::Connecting,
            3 => Phase::TlsHandshake,
            4 => Phase::Sending,
            5 => Phase::WaitingResponse,
            6 => Phase::ReadingBody,
            7 => Phase::WaitingExpect,
            8 => Phase::WaitingReplies,
            9 => Phase::WaitingAgent,
            _ => Phase::Starting,
        }
    }
}

/// The phase of one check run, updated by the check and read by
/// [`super::run_check`] when the timeout strikes.
#[derive(Debug)]
pub(crate) struct Progress(AtomicU8);

impl Progress {
    pub(crate) fn new() -> Progress {
        Progress(AtomicU8::new(Phase::Starting as u8))
    }

    /// Records that the check entered `phase`.
    pub(crate) fn set(&self, phase: Phase) {
        self.0.store(phase as u8, Ordering::Relaxed);
    }

    /// The current phase.
    pub(crate) fn phase(&self) -> Phase {
        Phase::from_u8(self.0.load(Ordering::Relaxed))
    }

    /// "while connecting", "while waiting for the response"...
    pub(crate) fn describe(&self) -> &'static str {
        match self.phase() {
            Phase::Starting => "before the check started",
            Phase::Resolving => "while resolving the host name",
            Phase::Connecting => "while connecting",
            Phase::TlsHandshake => "during the TLS handshake",
            Phase::Sending => "while sending the request",
            Phase::WaitingResponse => "while waiting for the response",
            Phase::ReadingBody => "while reading the response body",
            Phase::WaitingExpect => "while waiting for the expected reply",
            Phase::WaitingReplies => "while waiting for replies",
            Phase::WaitingAgent => {
                "while waiting for the SNMP agent's response (wrong address, port, community or version?)"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip() {
        let p = Progress::new();
        assert_eq!(p.phase(), Phase::Starting);
        for phase in [
            Phase::Resolving,
            Phase::Connecting,
            Phase::TlsHandshake,
            Phase::Sending,
            Phase::WaitingResponse,
            Phase::ReadingBody,
            Phase::WaitingExpect,
            Phase::WaitingReplies,
            Phase::WaitingAgent,
        ] {
            p.set(phase);
            assert_eq!(p.phase(), phase);
        }
        assert!(p.describe().starts_with("while waiting for the SNMP agent"));
    }
}
