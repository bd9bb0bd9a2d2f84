//! Appends generated syslog-like events and reports indexing speed, disk use
//! per raw byte, and the time of a few typical searches.
//!
//! ```sh
//! cargo run --release -p hark-store --example ingest_speed -- [events] [data-dir]
//! ```
//!
//! `events` defaults to 2 000 000; without `data-dir` a temporary directory is used.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hark_event::{Event, Facility, FieldValue, Severity};
use hark_store::{HistogramInterval, SearchRequest, Store, StoreConfig};

const BATCH: usize = 1_000;
/// Tickets allowed in flight before waiting for the oldest.
const WINDOW: usize = 64;
/// One event in this many carries the needle word.
const NEEDLE_EVERY: u64 = 250_000;

const APPS: [&str; 8] = [
    "sshd", "nginx", "postgres", "kernel", "cron", "postfix", "haproxy", "systemd",
];
const USERS: [&str; 6] = ["root", "alice", "bob", "deploy", "backup", "www-data"];
const PATHS: [&str; 6] = [
    "/index.html",
    "/api/v1/items",
    "/login",
    "/static/app.js",
    "/health",
    "/api/v1/users",
];

/// A small xorshift generator: fast and reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Event `i`, about 200 bytes as an RFC 5424 line; returns it with that line's length.
fn generate(rng: &mut Rng, i: u64, start: i64) -> (Event, usize) {
    let ts = start + (i as i64) * 50_000; // 20 000 events per second of log time
    let mut e = Event::new(ts, "bench");
    let app = APPS[rng.below(APPS.len() as u64) as usize];
    let host = format!("srv{:03}.dc{}.example.net", rng.below(200), rng.below(3));
    let ip = format!(
        "10.{}.{}.{}",
        rng.below(256),
        rng.below(256),
        rng.below(256)
    );
    let user = USERS[rng.below(USERS.len() as u64) as usize];
    let mut message = match app {
        "sshd" => format!(
            "Accepted publickey for {user} from {ip} port {} ssh2: ED25519 SHA256:{:016x}",
            1024 + rng.below(60_000),
            rng.next()
        ),
        "nginx" | "haproxy" => format!(
            "{ip} - {user} \"GET {} HTTP/1.1\" {} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" rt={}.{:03}",
            PATHS[rng.below(PATHS.len() as u64) as usize],
            [200, 200, 200, 304, 404, 500][rng.below(6) as usize],
            rng.below(50_000),
            rng.below(3),
            rng.below(1000)
        ),
        "postgres" => format!(
            "duration: {}.{:03} ms  statement: SELECT * FROM orders WHERE customer_id = {} AND status = 'open'",
            rng.below(900),
            rng.below(1000),
            rng.below(1_000_000)
        ),
        "kernel" => format!(
            "[{}.{:06}] eth{}: link up, 10000Mbps, full-duplex, lpa 0x{:04X}, queue {} reset",
            rng.below(1_000_000),
            rng.below(1_000_000),
            rng.below(4),
            rng.below(65_536),
            rng.below(64)
        ),
        _ => format!(
            "pid {} ({user}) finished job {:08x} on {ip} after {} s with status {}",
            rng.below(65_536),
            rng.next() as u32,
            rng.below(3600),
            rng.below(4)
        ),
    };
    if i % NEEDLE_EVERY == 7 {
        message.push_str(" needle-xyzzy");
    }
    e.host = Some(host);
    e.app = Some(app.to_owned());
    e.procid = Some(rng.below(65_536).to_string());
    e.facility = Some(Facility::Daemon);
    e.severity = Severity::from_code([6, 6, 6, 6, 5, 4, 3, 7][rng.below(8) as usize]);
    if app == "nginx" {
        e.push_field("user", user);
        e.push_field("bytes", FieldValue::Int(rng.below(50_000) as i64));
    }
    // `<PRI>1 TIMESTAMP HOST APP PROCID - - MSG`
    let raw = 6
        + 32
        + e.host.as_ref().map_or(1, String::len)
        + app.len()
        + e.procid.as_ref().map_or(1, String::len)
        + 6
        + message.len();
    e.message = message;
    (e, raw)
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Bytes per file extension below `dir` (tantivy names files by what they hold).
fn by_extension(dir: &Path, out: &mut std::collections::BTreeMap<String, u64>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        match e.metadata() {
            Ok(m) if m.is_dir() => by_extension(&path, out),
            Ok(m) => {
                let ext = path
                    .extension()
                    .map_or_else(|| "-".to_owned(), |x| x.to_string_lossy().into_owned());
                *out.entry(ext).or_default() += m.len();
            }
            Err(_) => {}
        }
    }
}

fn timed(store: &Store, label: &str, req: &SearchRequest) {
    // First run warms the page cache and readers; report the second.
    let _ = store.search(req);
    let t = Instant::now();
    match store.search(req) {
        Ok(res) => println!(
            "  {label:<38} {:>8.2} ms  total={} hits={}",
            t.elapsed().as_secs_f64() * 1e3,
            res.total,
            res.hits.len()
        ),
        Err(e) => println!("  {label:<38} failed: {e}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(2_000_000);
    let tmp;
    let dir: PathBuf = match args.next() {
        Some(d) => PathBuf::from(d),
        None => {
            tmp = std::env::temp_dir().join(format!("hark-ingest-speed-{}", std::process::id()));
            tmp.clone()
        }
    };
    if n == 0 {
        // Queries only, on data kept by an earlier run (HARK_KEEP=1).
        let store = Store::open(StoreConfig::new(&dir))?;
        run_queries(&store);
        return Ok(store.shutdown()?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let store = Store::open(StoreConfig::new(&dir))?;
    let rt = tokio::runtime::Builder::new_current_thread().build()?;
    let start_ts = hark_event::now_nanos() - (n as i64) * 50_000;

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut raw_bytes = 0u64;
    let mut generating = Duration::ZERO;
    let started = Instant::now();
    rt.block_on(async {
        let mut in_flight = std::collections::VecDeque::new();
        let mut i = 0u64;
        while i < n {
            let g = Instant::now();
            let size = BATCH.min((n - i) as usize);
            let mut batch = Vec::with_capacity(size);
            for _ in 0..size {
                let (e, raw) = generate(&mut rng, i, start_ts);
                raw_bytes += raw as u64;
                batch.push(e);
                i += 1;
            }
            generating += g.elapsed();
            in_flight.push_back(store.append(batch).await?);
            if in_flight.len() >= WINDOW
                && let Some(t) = in_flight.pop_front()
            {
                t.wait().await?;
            }
        }
        for t in in_flight {
            t.wait().await?;
        }
        Ok::<(), hark_store::StoreError>(())
    })?;
    let appended = started.elapsed();
    store.flush()?;
    let searchable = started.elapsed();
    let busy = searchable.saturating_sub(generating).as_secs_f64();

    let index_bytes = dir_size(&dir.join("index"));
    let wal_bytes = dir_size(&dir.join("wal"));
    println!("events:            {n}");
    println!(
        "raw bytes:         {raw_bytes} ({:.0} per event)",
        raw_bytes as f64 / n as f64
    );
    println!(
        "appended (WAL):    {:.2} s  ({:.0} events/s)",
        appended.as_secs_f64(),
        n as f64 / appended.as_secs_f64()
    );
    println!(
        "searchable:        {:.2} s  ({:.0} events/s; {:.0} events/s without {:.2} s of generation)",
        searchable.as_secs_f64(),
        n as f64 / searchable.as_secs_f64(),
        n as f64 / busy,
        generating.as_secs_f64()
    );
    println!(
        "index on disk:     {index_bytes} bytes = {:.3} x raw ({} splits)",
        index_bytes as f64 / raw_bytes as f64,
        store.stats().splits
    );
    let mut parts = std::collections::BTreeMap::new();
    by_extension(&dir.join("index"), &mut parts);
    let parts: Vec<String> = parts
        .iter()
        .filter(|(_, b)| **b * 200 > index_bytes)
        .map(|(ext, b)| format!("{ext} {:.3}", *b as f64 / raw_bytes as f64))
        .collect();
    println!("  per raw byte:    {}", parts.join(", "));
    println!("WAL on disk:       {wal_bytes} bytes (before truncation)");

    run_queries(&store);
    store.shutdown()?;
    if std::env::var_os("HARK_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

fn run_queries(store: &Store) {
    println!("queries (warm):");
    let now = hark_event::now_nanos();
    let mut needle = SearchRequest::new("needle-xyzzy");
    needle.limit = 100;
    timed(store, "needle word, newest 100 + total", &needle);
    let mut phrase = SearchRequest::new("\"link up\" AND host:srv001.dc1.example.net");
    phrase.limit = 100;
    timed(store, "phrase + host, newest 100", &phrase);
    let all = SearchRequest::new("");
    timed(store, "everything, newest 100 + total", &all);
    let mut hist = SearchRequest::new("");
    hist.from = Some(now - 24 * 3600 * 1_000_000_000);
    hist.to = Some(now);
    hist.histogram = Some(HistogramInterval::Auto);
    timed(store, "24 h histogram (auto) + hits", &hist);
    let mut top = SearchRequest::new("app:nginx");
    top.top = vec!["host".into(), "user".into()];
    timed(store, "top host,user of app:nginx", &top);
}
