//! Notices to the notification outbox: one notification per channel, with
//! an id made of the notice's and the channel's, so a notice offered again
//! after a restart is recognised and not sent twice.

use hark_notify::{Notification, Notifier};

use crate::Outbox;
use crate::engine::Notice;

impl Outbox for Notifier {
    fn submit(&self, notice: &Notice) -> Result<(), String> {
        for channel in &notice.channels {
            Notifier::submit(self, notification(notice, channel)).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// The notification of `notice` for `channel`.
pub fn notification(notice: &Notice, channel: &str) -> Notification {
    let a = &notice.alert;
    Notification {
        id: format!("{}@{channel}", notice.id),
        channel: channel.to_owned(),
        rule: a.rule.clone(),
        group: a.group.clone(),
        kind: notice.kind,
        severity: a.severity.name().to_owned(),
        summary: a.summary.clone(),
        since: a.since,
        at: notice.at,
        count: a.count,
        samples: a
            .samples
            .iter()
            .map(|s| hark_notify::Sample {
                timestamp: s.timestamp,
                host: s.host.clone(),
                app: s.app.clone(),
                message: s.message.clone(),
            })
            .collect(),
        query: a.query.clone(),
    }
}
