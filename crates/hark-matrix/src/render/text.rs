//! Tabular formats: aligned text, Markdown, CSV and JSON.

use crate::flow::Flow;

/// Column keys, as in the JSON form, in display order.
const KEYS: [&str; 9] = [
    "direction",
    "source",
    "destination",
    "port",
    "transport",
    "protocol",
    "security",
    "component",
    "purpose",
];

/// Column headings for people.
const HEADINGS: [&str; 9] = [
    "Direction",
    "Source",
    "Destination",
    "Port",
    "Transport",
    "Protocol",
    "Security",
    "Component",
    "Purpose",
];

/// A flow's cells; `no_port` stands for the port of ICMP rows.
fn cells(f: &Flow, no_port: &str) -> [String; 9] {
    [
        f.direction.name().to_owned(),
        f.source.to_string(),
        f.destination.to_string(),
        f.port.joined("-").unwrap_or_else(|| no_port.to_owned()),
        f.transport.name().to_owned(),
        f.protocol.clone(),
        f.security.name().to_owned(),
        f.component.clone(),
        f.purpose.clone(),
    ]
}

/// Columns padded to their widest cell, headings in capitals.
pub(super) fn table(flows: &[Flow]) -> String {
    let mut rows: Vec<Vec<String>> = vec![HEADINGS.iter().map(|h| h.to_uppercase()).collect()];
    rows.extend(flows.iter().map(|f| cells(f, "-").to_vec()));
    align(&rows)
}

/// Rows as columns padded to their widest cell, two spaces apart, without
/// trailing blanks.
pub(crate) fn align(rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        widths.resize(widths.len().max(row.len()), 0);
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A Markdown table; `|` inside cells is escaped.
pub(super) fn markdown(flows: &[Flow]) -> String {
    let row = |cells: &[String]| {
        let escaped: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |\n", escaped.join(" | "))
    };
    let mut out = row(&HEADINGS.map(str::to_owned));
    out.push_str(&row(&vec!["---".to_owned(); HEADINGS.len()]));
    for f in flows {
        out.push_str(&row(&cells(f, "-")));
    }
    out
}

/// RFC 4180 CSV with LF line ends; the header holds the JSON keys.
pub(super) fn csv(flows: &[Flow]) -> String {
    let field = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let mut out = KEYS.join(",");
    out.push('\n');
    for f in flows {
        let line: Vec<String> = cells(f, "").iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

/// The JSON array of the API, pretty-printed.
pub(super) fn json(flows: &[Flow]) -> String {
    // Flows hold only strings, numbers and unit enums: serialising cannot fail.
    let mut out = serde_json::to_string_pretty(flows).expect("flows always serialise");
    out.push('\n');
    out
}
