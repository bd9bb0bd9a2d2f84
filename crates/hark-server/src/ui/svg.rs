//! Small charts drawn on the server as inline SVG: sparklines, state
//! timelines and availability bars. SVG attributes are not inline styles,
//! so they need nothing from the Content-Security-Policy; colours come from
//! classes in `hark.css`.

use std::fmt::Write;

/// Escapes text for an SVG `<title>` or attribute.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line through `values`, scaled to the largest, `width`×`height` pixels.
pub(crate) fn sparkline(values: &[u64], width: u32, height: u32, label: &str) -> String {
    let max = values.iter().copied().max().unwrap_or(0).max(1) as f64;
    let n = values.len().max(2) - 1;
    let (w, h) = (f64::from(width), f64::from(height));
    let mut points = String::new();
    for (i, v) in values.iter().enumerate() {
        let x = w * i as f64 / n as f64;
        let y = h - 1.0 - (h - 2.0) * (*v as f64 / max);
        let _ = write!(points, "{x:.1},{y:.1} ");
    }
    format!(
        r#"<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{}"><polyline points="{}"/></svg>"#,
        escape(label),
        points.trim_end()
    )
}

/// A stretch of a timeline: from and to as fractions of the whole (0–1).
pub(crate) struct Segment {
    /// Where it starts, 0–1.
    pub(crate) from: f64,
    /// Where it ends, 0–1.
    pub(crate) to: f64,
    /// Its CSS class (`st-ok`, `st-crit`, …).
    pub(crate) class: &'static str,
    /// Its tooltip.
    pub(crate) title: String,
}

/// Segments side by side in a bar 1000 units wide that scales to its box.
pub(crate) fn timeline(segments: &[Segment], label: &str) -> String {
    let mut out = format!(
        r#"<svg class="timeline" viewBox="0 0 1000 20" preserveAspectRatio="none" role="img" aria-label="{}">"#,
        escape(label)
    );
    for s in segments {
        let x = (s.from.clamp(0.0, 1.0) * 1000.0).max(0.0);
        let w = ((s.to.clamp(0.0, 1.0) - s.from.clamp(0.0, 1.0)) * 1000.0).max(0.5);
        let _ = write!(
            out,
            r#"<rect class="{}" x="{x:.2}" y="0" width="{w:.2}" height="20"><title>{}</title></rect>"#,
            s.class,
            escape(&s.title)
        );
    }
    out.push_str("</svg>");
    out
}

/// One day of the availability bars.
pub(crate) struct Day {
    /// Its date, `2026-11-22`.
    pub(crate) date: String,
    /// The share of observed time it was up, 0–100; `None` without data.
    pub(crate) availability: Option<f64>,
}

/// The CSS class of an availability percentage.
pub(crate) fn availability_class(p: Option<f64>) -> &'static str {
    match p {
        None => "av-none",
        Some(p) if p >= 99.9 => "av-full",
        Some(p) if p >= 99.0 => "av-high",
        Some(p) if p >= 95.0 => "av-mid",
        Some(_) => "av-low",
    }
}

/// One bar per day, oldest left, like a public status page.
pub(crate) fn day_bars(days: &[Day], label: &str) -> String {
    let width = days.len() * 6;
    let mut out = format!(
        r#"<svg class="day-bars" viewBox="0 0 {width} 30" preserveAspectRatio="none" role="img" aria-label="{}">"#,
        escape(label)
    );
    for (i, d) in days.iter().enumerate() {
        let title = match d.availability {
            Some(p) => format!("{}: {p:.2} % available", d.date),
            None => format!("{}: no data", d.date),
        };
        let _ = write!(
            out,
            r#"<rect class="{}" x="{}" y="0" width="4" height="30" rx="1"><title>{}</title></rect>"#,
            availability_class(d.availability),
            i * 6 + 1,
            escape(&title)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_has_a_point_per_value_and_escapes_its_label() {
        let s = sparkline(&[0, 5, 10], 100, 20, "a<b");
        assert_eq!(s.matches(',').count(), 3);
        assert!(s.contains("a&lt;b"));
        assert!(s.contains("0.0,19.0") && s.contains("100.0,1.0"));
    }

    #[test]
    fn bars_are_classed_by_availability() {
        let days = [
            Day {
                date: "d1".into(),
                availability: None,
            },
            Day {
                date: "d2".into(),
                availability: Some(100.0),
            },
            Day {
                date: "d3".into(),
                availability: Some(90.0),
            },
        ];
        let s = day_bars(&days, "x");
        assert_eq!(s.matches("<rect").count(), 3);
        assert!(s.contains("av-none") && s.contains("av-full") && s.contains("av-low"));
    }
}
