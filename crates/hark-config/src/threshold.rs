//! Nagios-style threshold ranges, as monitoring plugins and Checkmk/Icinga
//! users write them: `10` (alert outside 0..10), `10:` (below 10), `~:10`
//! (above 10), `10:20` (outside 10..20), `@10:20` (inside 10..20).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A range of values; a value the range "alerts on" raises WARN or CRIT.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// Lower bound (−∞ for `~`).
    pub start: f64,
    /// Upper bound (+∞ when omitted after `:`).
    pub end: f64,
    /// `@`: alert when the value is inside the range instead of outside.
    pub inside: bool,
}

impl Threshold {
    /// Alert when the value is above `limit` (what a bare number means in
    /// most configurations: `warn = 80`).
    pub fn above(limit: f64) -> Threshold {
        Threshold {
            start: f64::NEG_INFINITY,
            end: limit,
            inside: false,
        }
    }

    /// Whether `value` falls where this threshold alerts.
    pub fn alerts(&self, value: f64) -> bool {
        let within = value >= self.start && value <= self.end;
        if self.inside { within } else { !within }
    }

    /// Parses the Nagios range syntax.
    pub fn parse(s: &str) -> Option<Threshold> {
        let s = s.trim();
        let (inside, s) = match s.strip_prefix('@') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let bound = |b: &str, default: f64| -> Option<f64> {
            let b = b.trim();
            if b.is_empty() {
                Some(default)
            } else if b == "~" {
                Some(f64::NEG_INFINITY)
            } else {
                b.parse::<f64>().ok().filter(|v| v.is_finite())
            }
        };
        let (start, end) = match s.split_once(':') {
            Some((a, b)) => (bound(a, 0.0)?, bound(b, f64::INFINITY)?),
            None => (0.0, bound(s, f64::NAN).filter(|v| !v.is_nan())?),
        };
        (start <= end).then_some(Threshold { start, end, inside })
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.inside {
            f.write_str("@")?;
        }
        match (self.start, self.end) {
            (s, e) if s == f64::NEG_INFINITY && e.is_finite() => write!(f, "~:{e}"),
            (s, e) if s == 0.0 && e.is_finite() && !self.inside => write!(f, "{e}"),
            (s, e) if e == f64::INFINITY => write!(f, "{s}:"),
            (s, e) => write!(f, "{s}:{e}"),
        }
    }
}

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str = "a number (alert above it) or a Nagios range like \"10:\", \"~:10\", \"10:20\" or \"@10:20\"";
        impl Visitor<'_> for V {
            type Value = Threshold;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Threshold, E> {
                Ok(Threshold::above(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Threshold, E> {
                Ok(Threshold::above(v as f64))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Threshold, E> {
                Ok(Threshold::above(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Threshold, E> {
                Threshold::parse(v).ok_or_else(|| {
                    E::custom(format!("invalid threshold {v:?}; expected {EXPECTED}"))
                })
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nagios_range_forms() {
        let t = Threshold::parse("10").unwrap();
        assert!(!t.alerts(5.0) && t.alerts(11.0) && t.alerts(-1.0));
        let t = Threshold::parse("10:").unwrap();
        assert!(t.alerts(9.0) && !t.alerts(10.0) && !t.alerts(1e9));
        let t = Threshold::parse("~:10").unwrap();
        assert!(!t.alerts(-1e9) && t.alerts(10.5));
        let t = Threshold::parse("10:20").unwrap();
        assert!(t.alerts(9.0) && !t.alerts(15.0) && t.alerts(21.0));
        let t = Threshold::parse("@10:20").unwrap();
        assert!(!t.alerts(9.0) && t.alerts(15.0) && !t.alerts(21.0));
        assert!(Threshold::above(80.0).alerts(80.5));
        assert!(!Threshold::above(80.0).alerts(80.0));
    }

    #[test]
    fn bad_ranges_are_refused() {
        for bad in ["", "x", "20:10", "1:2:3", "@", "nan"] {
            assert!(Threshold::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips() {
        for s in ["10", "10:", "~:10", "10:20", "@10:20"] {
            let t = Threshold::parse(s).unwrap();
            assert_eq!(Threshold::parse(&t.to_string()), Some(t), "{s}");
        }
    }
}
