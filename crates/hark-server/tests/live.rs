//! The API served on a real socket: peer addresses, the WebSocket tail and
//! graceful shutdown with live tails open.

mod kit;

use std::net::SocketAddr;

use futures_util::StreamExt;
use kit::{Harness, with_deadline};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

async fn start(h: &Harness) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(hark_server::serve(listener, h.state(), async {
        let _ = rx.await;
    }));
    Running {
        addr,
        stop: Some(tx),
        task,
    }
}

impl Running {
    async fn stop(mut self) {
        self.stop.take().unwrap().send(()).unwrap();
        with_deadline(self.task).await.unwrap().unwrap();
    }
}

/// One HTTP/1.1 request on its own connection; returns the status and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    with_deadline(s.read_to_end(&mut buf)).await.unwrap();
    let text = String::from_utf8(buf).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn websocket_tail_gets_matching_events_with_peer_address() {
    let h = Harness::new();
    let server = start(&h).await;
    let url = format!(
        "ws://{}/api/v1/tail?q=app:wstail&access_token={}",
        server.addr, h.viewer
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();

    let body = "{\"message\":\"skip me\",\"app\":\"other\"}\n{\"message\":\"over the socket\",\"app\":\"wstail\"}\n";
    let (status, reply) = http(server.addr, "POST", "/api/v1/ingest", &h.admin, body).await;
    assert_eq!(status, 200, "{reply}");
    let reply: Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["accepted"], 2);

    let text = with_deadline(async {
        loop {
            match ws.next().await.expect("socket open").unwrap() {
                Message::Text(t) => return t.to_string(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected {other:?}"),
            }
        }
    })
    .await;
    let ev: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(ev["message"], "over the socket");
    assert_eq!(ev["input"], "http");
    assert!(
        ev["source"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{ev}"
    );

    // Shutdown must not wait for the open tail, and tells the client why it closes.
    server.stop().await;
    let closing = with_deadline(async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return None,
            }
        }
    })
    .await;
    let frame = closing.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1001);
    let _ = ws.close(None).await;
}

#[tokio::test]
async fn websocket_with_a_bad_query_is_refused() {
    let h = Harness::new();
    let server = start(&h).await;
    let url = format!(
        "ws://{}/api/v1/tail?q=app%3A(broken&access_token={}",
        server.addr, h.viewer
    );
    let err = tokio_tungstenite::connect_async(url).await.unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => assert_eq!(resp.status(), 400),
        other => panic!("unexpected {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn shutdown_ends_an_open_sse_tail() {
    let h = Harness::new();
    let server = start(&h).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "GET /api/v1/tail HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nAccept: text/event-stream\r\n\r\n",
        h.viewer
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut first = [0u8; 12];
    with_deadline(s.read_exact(&mut first)).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    server.stop().await;
    // The stream ends, so the connection reaches its end.
    let mut rest = Vec::new();
    with_deadline(s.read_to_end(&mut rest)).await.unwrap();
    assert!(String::from_utf8_lossy(&rest).contains("text/event-stream"));
}
