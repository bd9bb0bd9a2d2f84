//! An input's parse stage: the parsers that read each decoded event's body,
//! in the order the input lists them.
//!
//! Every event an input takes passes through its stage before it is
//! batched, whatever protocol decoded it (syslog, GELF, Beats, SNMP traps),
//! so a body parser written once serves every input. The first parser that
//! recognises an event wins; an event no parser recognises is kept as it is.

use std::sync::Arc;

use hark_config::InputConfig;
use hark_event::Event;
use hark_event::parse::EventParser;

/// The ordered parsers of one input.
#[derive(Clone, Default)]
pub struct ParseStage {
    parsers: Vec<Arc<dyn EventParser>>,
}

impl ParseStage {
    /// A stage trying `parsers` in this order.
    pub fn new(parsers: Vec<Arc<dyn EventParser>>) -> ParseStage {
        ParseStage { parsers }
    }

    /// The stage an input's configuration asks for. Inputs have no body
    /// parsers to choose from yet, so this is the empty stage: events keep
    /// what their protocol's decoder gave them.
    pub fn for_input(_input: &InputConfig) -> ParseStage {
        ParseStage::default()
    }

    /// The names of the stage's parsers, in order.
    pub fn names(&self) -> Vec<&str> {
        self.parsers.iter().map(|p| p.name()).collect()
    }

    /// Runs the parsers over `event` until one recognises it.
    #[inline]
    pub(crate) fn apply(&self, event: &mut Event) {
        for parser in &self.parsers {
            if parser.parse(event) {
                return;
            }
        }
    }
}

impl std::fmt::Debug for ParseStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}
