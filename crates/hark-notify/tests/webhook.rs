//! Webhook delivery against a real HTTP receiver (Python's http.server)
//! that checks the HMAC signature and can fail on purpose.

mod common;

use common::{firing, path_str, record, start, wait_record, wait_sent};
use hark_e2e::webhook::WebhookReceiver;
use hark_notify::DeliveryState;

fn hook(
    receiver: &WebhookReceiver,
    secret_file: Option<&std::path::Path>,
    template: &str,
) -> String {
    let mut t = format!(
        "[notify.hook]\ntype = \"webhook\"\nurl = \"{}\"\ntemplate = \"{template}\"\ngroup_wait = \"0s\"\ngroup_interval = \"0s\"\n",
        receiver.url()
    );
    if let Some(p) = secret_file {
        t.push_str(&format!("secret_file = {}\n", path_str(p)));
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_bodies_are_signed_with_the_secret() {
    let receiver = WebhookReceiver::start(0, Some("s3cret hook key"));
    let dir = tempfile::tempdir().unwrap();
    let notifier = start(
        dir.path(),
        &hook(&receiver, receiver.secret_file.as_deref(), "json"),
    );
    notifier.submit(firing("n1", "hook", "web1")).unwrap();
    let rec = wait_sent(&notifier, "n1").await;
    assert_eq!(rec.attempts[0].answer.as_deref(), Some("200 ok"));
    let reqs = receiver.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].signature_ok, Some(true));
    assert_eq!(reqs[0].id.as_deref(), Some("n1"));
    assert_eq!(reqs[0].content_type.as_deref(), Some("application/json"));
    let body = reqs[0].json();
    assert_eq!(body["notifications"][0]["id"], "n1");
    assert_eq!(body["notifications"][0]["kind"], "firing");
    assert_eq!(body["notifications"][0]["group"][0][1], "web1");
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_refused_by_the_receiver_and_recorded() {
    let receiver = WebhookReceiver::start(0, Some("the right key"));
    let dir = tempfile::tempdir().unwrap();
    let wrong = dir.path().join("wrong.secret");
    std::fs::write(&wrong, "not the key\n").unwrap();
    let notifier = start(dir.path(), &hook(&receiver, Some(&wrong), "json"));
    notifier.submit(firing("n1", "hook", "web1")).unwrap();
    let rec = wait_record(&notifier, "n1", "refused", |r| !r.attempts.is_empty()).await;
    assert_eq!(rec.state, DeliveryState::Pending);
    assert_eq!(rec.attempts[0].error.as_deref(), Some("401 bad signature"));
    assert_eq!(receiver.requests()[0].signature_ok, Some(false));
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_bodies_have_text_and_blocks() {
    let receiver = WebhookReceiver::start(0, None);
    let dir = tempfile::tempdir().unwrap();
    let notifier = start(dir.path(), &hook(&receiver, None, "slack"));
    notifier.submit(firing("n1", "hook", "web1")).unwrap();
    wait_sent(&notifier, "n1").await;
    let body = receiver.requests()[0].json();
    assert_eq!(body["text"], "[FIRING] ssh_bruteforce host=web1");
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[1]["type"], "section");
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    let text = blocks[1]["text"]["text"].as_str().unwrap();
    assert!(
        text.contains("host=web1") && text.contains("count 25 > 20"),
        "{text}"
    );
    notifier.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_server_errors_then_delivered_once_with_four_attempts() {
    let receiver = WebhookReceiver::start(3, None);
    let dir = tempfile::tempdir().unwrap();
    let notifier = start(dir.path(), &hook(&receiver, None, "json"));
    notifier.submit(firing("n1", "hook", "web1")).unwrap();
    let rec = wait_sent(&notifier, "n1").await;
    assert_eq!(rec.attempts.len(), 4, "{rec:?}");
    for a in &rec.attempts[..3] {
        assert_eq!(a.error.as_deref(), Some("500 failing on purpose"));
    }
    assert_eq!(rec.attempts[3].answer.as_deref(), Some("200 ok"));
    let reqs = receiver.requests();
    assert_eq!(
        reqs.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 500, 500, 200]
    );
    assert!(reqs.iter().all(|r| r.id.as_deref() == Some("n1")));
    // Retries back off: each wait at least as long as the one before (1 s, 2 s, 4 s less jitter).
    let gaps: Vec<i64> = rec.attempts.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps.iter().all(|g| *g >= 800_000_000), "{gaps:?}");
    notifier.shutdown().await;
    assert_eq!(receiver.requests().len(), 4);
    assert_eq!(
        record(&notifier_after(dir.path(), &receiver), "n1")
            .unwrap()
            .state,
        DeliveryState::Sent
    );
}

/// A fresh notifier on the same directory, to read what was recorded.
fn notifier_after(dir: &std::path::Path, receiver: &WebhookReceiver) -> hark_notify::Notifier {
    start(dir, &hook(receiver, None, "json"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_template_renders_the_body() {
    let receiver = WebhookReceiver::start(0, None);
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("body.j2");
    std::fs::write(
        &template,
        "{\"summary\": {{ subject | tojson }}, \"hosts\": [{% for n in notifications %}{{ n.group[0].value | tojson }}{% if not loop.last %},{% endif %}{% endfor %}]}",
    )
    .unwrap();
    let notifier = start(
        dir.path(),
        &hook(&receiver, None, &template.display().to_string()),
    );
    notifier.submit(firing("n1", "hook", "web1")).unwrap();
    wait_sent(&notifier, "n1").await;
    let body = receiver.requests()[0].json();
    assert_eq!(body["summary"], "[FIRING] ssh_bruteforce host=web1");
    assert_eq!(body["hosts"][0], "web1");
    notifier.shutdown().await;
}
