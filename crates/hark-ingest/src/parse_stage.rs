//! An input's parse stage: the parsers that read each decoded event's body,
//! in the order the input lists them, then enrichment.
//!
//! Every event an input takes passes through its stage before it is
//! batched, whatever protocol decoded it (syslog, GELF, Beats, SNMP traps),
//! so a body parser written once serves every input. The first parser that
//! recognises an event wins; an event no parser recognises is kept as it
//! is. [`Parsing`] builds the stages of every input from the configuration
//! once: user parsers are compiled and MaxMind databases opened a single
//! time and shared. With `[enrich] reverse_dns`, the sending peer's name
//! is added as `log.source.hostname` once the background lookup knows it
//! (the events before that go without).

use std::collections::BTreeMap;
use std::sync::Arc;

use hark_config::parsers::AUTO;
use hark_config::{Config, InputConfig, ParserBuildError};
use hark_event::Event;
use hark_event::parse::EventParser;
use hark_parse::enrich::{EnrichError, Enricher, GeoIp, Networks};
use hark_parse::{Step, builtin};

use crate::rdns::ReverseDns;

/// The ordered parsers of one input, and the enrichment after them.
#[derive(Clone, Default)]
pub struct ParseStage {
    parsers: Vec<Arc<dyn EventParser>>,
    enricher: Option<Arc<Enricher>>,
    peer_names: Option<ReverseDns>,
}

impl ParseStage {
    /// A stage trying `parsers` in this order, without enrichment.
    pub fn new(parsers: Vec<Arc<dyn EventParser>>) -> ParseStage {
        ParseStage {
            parsers,
            enricher: None,
            peer_names: None,
        }
    }

    /// The names of the stage's parsers, in order.
    pub fn names(&self) -> Vec<&str> {
        self.parsers.iter().map(|p| p.name()).collect()
    }

    /// Runs the parsers over `event` until one recognises it, then enriches it.
    #[inline]
    pub(crate) fn apply(&self, event: &mut Event) {
        for parser in &self.parsers {
            if parser.parse(event) {
                break;
            }
        }
        if let Some(enricher) = &self.enricher {
            enricher.enrich(event);
        }
        if let Some(rdns) = &self.peer_names
            && let Some(ip) = event.peer_ip()
            && let Some(name) = rdns.cached(ip)
        {
            event.push_field(PEER_NAME, &*name);
        }
    }
}

impl std::fmt::Debug for ParseStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

/// The field naming the sending peer by reverse DNS.
pub const PEER_NAME: &str = "log.source.hostname";

/// The parsers and enrichment of a configuration, built once.
pub struct Parsing {
    auto: Arc<dyn EventParser>,
    user: BTreeMap<String, Arc<dyn EventParser>>,
    enricher: Option<Arc<Enricher>>,
    peer_names: Option<ReverseDns>,
}

/// The configuration's parsers or enrichment could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ParsingError {
    /// A `[parsers.NAME]` table does not compile.
    #[error(transparent)]
    Parser(#[from] ParserBuildError),
    /// A network block or a MaxMind database is unusable.
    #[error("enrich: {0}")]
    Enrich(#[from] EnrichError),
}

impl Parsing {
    /// Compiles the user parsers and opens the enrichment databases of
    /// `cfg`; with `enrich.reverse_dns`, senders are named through `rdns`.
    pub fn from_config(cfg: &Config, rdns: &ReverseDns) -> Result<Parsing, ParsingError> {
        let mut user: BTreeMap<String, Arc<dyn EventParser>> = BTreeMap::new();
        for (name, parser) in &cfg.parsers {
            user.insert(name.clone(), parser.build(name)?);
        }
        let networks = Networks::new(&cfg.enrich.networks)?;
        let geoip = if cfg.enrich.geoip.is_empty() {
            None
        } else {
            Some(GeoIp::open(&cfg.enrich.geoip)?)
        };
        let enricher = Enricher::new(networks, geoip);
        Ok(Parsing {
            auto: Arc::new(Step::auto()),
            user,
            enricher: (!enricher.is_empty()).then(|| Arc::new(enricher)),
            peer_names: cfg.enrich.reverse_dns.then(|| rdns.clone()),
        })
    }

    /// The stage of `input`: its `parsers` list in order. Names the
    /// configuration did not define are skipped (validation refuses them).
    pub fn stage(&self, input: &InputConfig) -> ParseStage {
        self.stage_of(&input.parsers)
    }

    /// The stage of the parsers named in `names`, in order. Names the
    /// configuration did not define are skipped (validation refuses them).
    pub fn stage_of(&self, names: &[String]) -> ParseStage {
        let parsers = names
            .iter()
            .filter_map(|name| -> Option<Arc<dyn EventParser>> {
                if name == AUTO {
                    return Some(self.auto.clone());
                }
                if let Some(format) = builtin(name) {
                    return Some(Arc::new(Step::new(format)));
                }
                self.user.get(name).cloned()
            })
            .collect();
        ParseStage {
            parsers,
            enricher: self.enricher.clone(),
            peer_names: self.peer_names.clone(),
        }
    }
}
