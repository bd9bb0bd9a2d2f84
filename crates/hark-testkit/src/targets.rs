//! Things a monitor checks that a test controls: a TCP port it opens and
//! closes, and a tiny HTTP server that answers as told.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::ports::free_tcp_port;

/// How often accept loops look for new connections and the stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// A listener on 127.0.0.1 accepting (and dropping) connections on a fixed
/// port while it runs; stopped, the port refuses connections.
struct AcceptLoop {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AcceptLoop {
    /// Listens on `port` (retrying while it is briefly taken) and serves
    /// each connection with `serve` on the accept thread.
    fn start(port: u16, serve: impl Fn(TcpStream) + Send + 'static) -> AcceptLoop {
        let deadline = Instant::now() + Duration::from_secs(30);
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(l) => break l,
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot listen on 127.0.0.1:{port} again: {e}"),
            }
        };
        listener
            .set_nonblocking(true)
            .expect("make the listener non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let _ = stream.set_nonblocking(false);
                        serve(stream);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(ACCEPT_POLL),
                    Err(_) => std::thread::sleep(ACCEPT_POLL),
                }
            }
            // The listener drops here: from now on the port refuses.
        });
        AcceptLoop {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops accepting and closes the listener before returning.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for AcceptLoop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP port on 127.0.0.1 that the test opens ([`TcpTarget::up`]) and
/// closes ([`TcpTarget::down`]) for a `tcp` monitor.
pub struct TcpTarget {
    port: u16,
    running: Option<AcceptLoop>,
}

impl TcpTarget {
    /// A free port, listening.
    pub fn up() -> TcpTarget {
        let mut t = TcpTarget::down_at(free_tcp_port());
        t.start();
        t
    }

    /// A free port with nothing listening (connections are refused).
    pub fn refusing() -> TcpTarget {
        TcpTarget::down_at(free_tcp_port())
    }

    fn down_at(port: u16) -> TcpTarget {
        TcpTarget {
            port,
            running: None,
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Listens (again) and accepts connections.
    pub fn start(&mut self) {
        if self.running.is_none() {
            self.running = Some(AcceptLoop::start(self.port, drop));
        }
    }

    /// Closes the listener: connections are refused from now on.
    pub fn stop(&mut self) {
        if let Some(mut l) = self.running.take() {
            l.stop();
        }
    }
}

/// The answer of an [`HttpTarget`]: status and body.
pub type Answer = (u16, String);

/// A small HTTP/1.1 server on 127.0.0.1 that answers every request with
/// what its function returns for the request's number (1 for the first),
/// one connection at a time, closing each after the response.
pub struct HttpTarget {
    port: u16,
    requests: Arc<AtomicUsize>,
    _running: AcceptLoop,
}

impl HttpTarget {
    /// Starts the server; `answer(n)` gives the response to request `n`.
    pub fn start(answer: impl Fn(usize) -> Answer + Send + Sync + 'static) -> HttpTarget {
        let port = free_tcp_port();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let answer = Arc::new(answer);
        let running = AcceptLoop::start(port, move |stream| {
            serve_one(stream, &counter, answer.as_ref());
        });
        HttpTarget {
            port,
            requests,
            _running: running,
        }
    }

    /// A server whose every answer is 200 with the text `value` holds at
    /// the time (a Prometheus text exposition, say).
    pub fn text(value: Arc<Mutex<String>>) -> HttpTarget {
        HttpTarget::start(move |_| {
            let body = value.lock().unwrap_or_else(|e| e.into_inner()).clone();
            (200, body)
        })
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one request head, answers it and closes the connection.
fn serve_one(mut stream: TcpStream, counter: &AtomicUsize, answer: &dyn Fn(usize) -> Answer) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 64 * 1024 {
            return;
        }
    }
    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
    let (status, body) = answer(n);
    let reason = match status {
        200 => "OK",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    // Let the client read everything before the socket closes.
    let _ = stream.read(&mut buf);
}
