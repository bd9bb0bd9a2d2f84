//! The metrics of notification delivery, named in one place.

/// Notifications in messages a server accepted.
pub(crate) fn sent(channel: &str, n: usize) {
    metrics::counter!("hark_notifications_sent_total", "channel" => channel.to_owned())
        .increment(n as u64);
}

/// Notifications in messages that were not accepted and will be tried again.
pub(crate) fn retried(channel: &str, n: usize) {
    metrics::counter!("hark_notifications_retried_total", "channel" => channel.to_owned())
        .increment(n as u64);
}

/// Notifications given up.
pub(crate) fn failed(channel: &str, n: usize) {
    metrics::counter!("hark_notifications_failed_total", "channel" => channel.to_owned())
        .increment(n as u64);
}

/// Notifications pending over all channels.
pub(crate) fn depth(n: usize) {
    metrics::gauge!("hark_notification_outbox_depth").set(n as f64);
}
