//! [`Out`]: where a format writes the fields it reads, typed by their ECS kind.

use std::net::IpAddr;

use hark_event::FieldValue;

use crate::ecs::{self, Kind};

/// The fields a format adds to an event, and the event time it read.
pub struct Out<'a> {
    fields: &'a mut Vec<(String, FieldValue)>,
    timestamp: Option<i64>,
}

impl<'a> Out<'a> {
    /// Writes into `fields` (an event's extra fields).
    pub fn new(fields: &'a mut Vec<(String, FieldValue)>) -> Out<'a> {
        Out {
            fields,
            timestamp: None,
        }
    }

    /// Adds `name` = `value`, typed by the field's ECS kind: a port or a
    /// byte count becomes a number, an address is written in its canonical
    /// form. A value that does not fit its kind is kept as text, so nothing
    /// is lost. Empty values are skipped.
    pub fn put(&mut self, name: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        let typed = match ecs::kind(name) {
            Kind::Long => value.parse::<i64>().map(FieldValue::Int).ok(),
            Kind::Ip => value
                .parse::<IpAddr>()
                .ok()
                .map(|ip| FieldValue::Str(ip.to_string())),
            Kind::Bool => match value {
                "true" => Some(FieldValue::Bool(true)),
                "false" => Some(FieldValue::Bool(false)),
                _ => None,
            },
            Kind::Keyword => None,
        };
        let value = typed.unwrap_or_else(|| FieldValue::Str(value.to_owned()));
        self.fields.push((name.to_owned(), value));
    }

    /// Adds `name` = `value` as text, whatever its kind.
    pub fn put_str(&mut self, name: &str, value: impl Into<String>) {
        self.fields
            .push((name.to_owned(), FieldValue::Str(value.into())));
    }

    /// Adds `name` = `value` as a number.
    pub fn put_int(&mut self, name: &str, value: i64) {
        self.fields.push((name.to_owned(), FieldValue::Int(value)));
    }

    /// Adds `name` = `value` as a boolean.
    pub fn put_bool(&mut self, name: &str, value: bool) {
        self.fields.push((name.to_owned(), FieldValue::Bool(value)));
    }

    /// Adds a value already typed.
    pub fn put_value(&mut self, name: &str, value: FieldValue) {
        self.fields.push((name.to_owned(), value));
    }

    /// Sets the event time (nanoseconds since the epoch, UTC), read from the body.
    pub fn set_timestamp(&mut self, nanos: i64) {
        self.timestamp = Some(nanos);
    }

    /// The event time the format read, if any.
    pub fn timestamp(&self) -> Option<i64> {
        self.timestamp
    }

    /// The fields written so far (for tests and for formats that look back).
    pub fn fields(&self) -> &[(String, FieldValue)] {
        self.fields
    }
}
