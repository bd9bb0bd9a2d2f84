//! The tantivy schema of a split, and the names users type for its fields.
//!
//! Nothing is scored, so no field keeps field norms. Keywords use the raw
//! tokenizer and are fast fields (for `top`). The event is stored once, in the
//! docstore (LZ4 while its split is written, zstd once the split is sealed),
//! without its timestamps: the `ts` and `received_at` fast columns keep those
//! to the nanosecond.
//!
//! The ECS address fields (`source.ip`, `destination.ip`…) are indexed twice:
//! as text inside `fields` (for exact matches, wildcards and top values) and
//! in an IP field of their own (`ip_source_ip`…) for CIDR and range queries.
//! Splits written before the IP fields existed keep their older schema; the
//! query compiler treats a field their schema lacks as matching nothing.

use tantivy::schema::{
    BytesOptions, DateOptions, DateTimePrecision, Field, IndexRecordOption, IpAddrOptions,
    JsonObjectOptions, NumericOptions, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::tokenizer::RAW_TOKENIZER_NAME;
use tantivy::{Index, IndexSettings};

/// Docstore block size of the split being written. Larger blocks compress
/// log text better than the 16 KiB default, but every hit read from a block
/// not in the cache decompresses the whole block.
const DOCSTORE_BLOCK_BYTES: usize = 64 * 1024;
/// Docstore block size of sealed splits: denser still, and a page of
/// scattered hits still reads in milliseconds.
const SEALED_DOCSTORE_BLOCK_BYTES: usize = 128 * 1024;

/// Names of the schema fields.
pub(crate) mod names {
    pub const TS: &str = "ts";
    pub const RECEIVED_AT: &str = "received_at";
    pub const HOST: &str = "host";
    pub const APP: &str = "app";
    pub const PROCID: &str = "procid";
    pub const MSGID: &str = "msgid";
    pub const FACILITY: &str = "facility";
    pub const SEVERITY: &str = "severity";
    pub const SEVERITY_CODE: &str = "severity_code";
    pub const MESSAGE: &str = "message";
    pub const SOURCE: &str = "source";
    pub const INPUT: &str = "input";
    pub const FIELDS: &str = "fields";
    pub const TRUNCATED: &str = "truncated";
    pub const PARSE_ERROR: &str = "parse_error";
    pub const SEQ: &str = "seq";
    pub const EVENT: &str = "event";
}

/// The event names users type, and the schema field each maps to. Any
/// other name (but an [`ECS_ALIASES`] one) is a key inside `fields`, where
/// parsers write ECS names (`source.ip`), so the two never collide.
pub(crate) const USER_FIELDS: &[(&str, &str)] = &[
    ("timestamp", names::TS),
    ("received_at", names::RECEIVED_AT),
    ("host", names::HOST),
    ("app", names::APP),
    ("procid", names::PROCID),
    ("msgid", names::MSGID),
    ("facility", names::FACILITY),
    ("severity", names::SEVERITY),
    ("severity_code", names::SEVERITY_CODE),
    ("message", names::MESSAGE),
    ("source", names::SOURCE),
    ("input", names::INPUT),
    ("truncated", names::TRUNCATED),
    ("parse_error", names::PARSE_ERROR),
    ("fields", names::FIELDS),
];

/// The Elastic Common Schema's names of the same fields, accepted in queries.
pub(crate) const ECS_ALIASES: &[(&str, &str)] = &[
    ("@timestamp", names::TS),
    ("event.ingested", names::RECEIVED_AT),
    ("log.syslog.hostname", names::HOST),
    ("log.syslog.appname", names::APP),
    ("log.syslog.procid", names::PROCID),
    ("log.syslog.msgid", names::MSGID),
    ("log.syslog.facility.name", names::FACILITY),
    ("log.syslog.severity.name", names::SEVERITY),
    ("log.syslog.severity.code", names::SEVERITY_CODE),
    ("log.source.address", names::SOURCE),
];

/// The schema field holding the addresses of the ECS field `name`
/// (`source.ip` → `ip_source_ip`), when `name` is an address field.
pub(crate) fn ip_field_name(name: &str) -> Option<String> {
    hark_parse::ecs::IP_FIELDS
        .contains(&name)
        .then(|| format!("ip_{}", name.replace('.', "_")))
}

/// Maps a name a user typed to a schema field name or a `fields.` path.
pub(crate) fn resolve_user_field(name: &str) -> String {
    if let Some((_, schema_name)) = USER_FIELDS
        .iter()
        .chain(ECS_ALIASES)
        .find(|(user, _)| *user == name)
    {
        return (*schema_name).to_owned();
    }
    if name.starts_with("fields.") {
        return name.to_owned();
    }
    format!("{}.{name}", names::FIELDS)
}

/// Handles on every schema field.
#[derive(Debug, Clone)]
pub(crate) struct SchemaFields {
    pub ts: Field,
    pub received_at: Field,
    pub host: Field,
    pub app: Field,
    pub procid: Field,
    pub msgid: Field,
    pub facility: Field,
    pub severity: Field,
    pub severity_code: Field,
    pub message: Field,
    pub source: Field,
    pub input: Field,
    pub fields: Field,
    pub truncated: Field,
    pub parse_error: Field,
    pub seq: Field,
    pub event: Field,
    /// The IP field of each ECS address field, by ECS name.
    pub ips: Vec<(&'static str, Field)>,
}

impl SchemaFields {
    /// The IP field of the ECS address field `name`.
    pub fn ip(&self, name: &str) -> Option<Field> {
        self.ips.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }
}

/// Builds the schema every split uses.
pub(crate) fn build_schema() -> (Schema, SchemaFields) {
    build_schema_with(hark_parse::ecs::IP_FIELDS)
}

/// The schema with IP fields for `ip_fields` only; empty gives the schema
/// splits had before the IP fields existed.
pub(crate) fn build_schema_with(ip_fields: &[&'static str]) -> (Schema, SchemaFields) {
    let mut b = Schema::builder();
    let ts_opts = DateOptions::default()
        .set_indexed()
        .set_fast()
        .set_precision(DateTimePrecision::Nanoseconds);
    let ts = b.add_date_field(names::TS, ts_opts);
    let received_at = b.add_date_field(
        names::RECEIVED_AT,
        DateOptions::default()
            .set_fast()
            .set_precision(DateTimePrecision::Nanoseconds),
    );
    let keyword = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(RAW_TOKENIZER_NAME)
                .set_index_option(IndexRecordOption::Basic)
                .set_fieldnorms(false),
        )
        .set_fast(RAW_TOKENIZER_NAME);
    let host = b.add_text_field(names::HOST, keyword.clone());
    let app = b.add_text_field(names::APP, keyword.clone());
    let procid = b.add_text_field(names::PROCID, keyword.clone());
    let msgid = b.add_text_field(names::MSGID, keyword.clone());
    let facility = b.add_text_field(names::FACILITY, keyword.clone());
    let severity = b.add_text_field(names::SEVERITY, keyword.clone());
    let severity_code = b.add_u64_field(
        names::SEVERITY_CODE,
        NumericOptions::default().set_indexed().set_fast(),
    );
    let message = b.add_text_field(
        names::MESSAGE,
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("default")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions)
                .set_fieldnorms(false),
        ),
    );
    let source = b.add_text_field(names::SOURCE, keyword.clone());
    let input = b.add_text_field(names::INPUT, keyword);
    let fields = b.add_json_field(
        names::FIELDS,
        JsonObjectOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(RAW_TOKENIZER_NAME)
                    .set_index_option(IndexRecordOption::Basic)
                    .set_fieldnorms(false),
            )
            .set_fast(RAW_TOKENIZER_NAME)
            .set_expand_dots_enabled(),
    );
    let flag = NumericOptions::default().set_indexed();
    let truncated = b.add_bool_field(names::TRUNCATED, flag.clone());
    let parse_error = b.add_bool_field(names::PARSE_ERROR, flag);
    let seq = b.add_u64_field(names::SEQ, NumericOptions::default().set_fast());
    let event = b.add_bytes_field(names::EVENT, BytesOptions::default().set_stored());
    let ips = ip_fields
        .iter()
        .filter_map(|name| {
            let schema_name = ip_field_name(name)?;
            let opts = IpAddrOptions::default().set_indexed().set_fast();
            Some((*name, b.add_ip_addr_field(&schema_name, opts)))
        })
        .collect();
    let schema = b.build();
    let fields = SchemaFields {
        ts,
        received_at,
        host,
        app,
        procid,
        msgid,
        facility,
        severity,
        severity_code,
        message,
        source,
        input,
        fields,
        truncated,
        parse_error,
        seq,
        event,
        ips,
    };
    (schema, fields)
}

/// zstd level of a sealed split's docstore. Compaction writes it once, in
/// the background, and every later read pays nothing for a higher level.
const SEALED_ZSTD_LEVEL: i32 = 9;

/// Settings of the split being written: an LZ4 docstore, the cheapest to
/// compress on the ingest path. Compaction rewrites it with zstd once the
/// split is sealed.
pub(crate) fn active_settings() -> IndexSettings {
    IndexSettings {
        docstore_compression: Compressor::Lz4,
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..IndexSettings::default()
    }
}

/// Settings of a sealed split once compacted or merged: a zstd docstore.
pub(crate) fn sealed_settings() -> IndexSettings {
    IndexSettings {
        docstore_compression: Compressor::Zstd(ZstdCompressor {
            compression_level: Some(SEALED_ZSTD_LEVEL),
        }),
        docstore_blocksize: SEALED_DOCSTORE_BLOCK_BYTES,
        ..IndexSettings::default()
    }
}

/// `index` with [`sealed_settings`], for writers whose output is sealed.
/// Readers do not depend on the settings: each docstore file names its own
/// compression.
pub(crate) fn with_sealed_settings(index: &Index) -> Index {
    let mut index = index.clone();
    *index.settings_mut() = sealed_settings();
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_map_to_schema_or_fields() {
        assert_eq!(resolve_user_field("timestamp"), "ts");
        assert_eq!(resolve_user_field("host"), "host");
        assert_eq!(resolve_user_field("ts"), "fields.ts");
        assert_eq!(resolve_user_field("seq"), "fields.seq");
        assert_eq!(resolve_user_field("sd.origin.ip"), "fields.sd.origin.ip");
        assert_eq!(resolve_user_field("fields.user"), "fields.user");
        assert_eq!(resolve_user_field("log.source.address"), "source");
        assert_eq!(resolve_user_field("log.syslog.appname"), "app");
        assert_eq!(resolve_user_field("source.ip"), "fields.source.ip");
    }
}
