//! Appends generated syslog-like events and reports indexing speed, disk use
//! per raw byte, and the time of a few typical searches.
//!
//! ```sh
//! cargo run --release -p hark-store --example ingest_speed -- [events] [data-dir]
//! ```
//!
//! `events` defaults to 2 000 000; without `data-dir` a temporary directory is used.
//! Environment: `HARK_INDEX_THREADS`, `HARK_COMMIT_MS` and `HARK_SPLIT_EVENTS`
//! override the store settings; `HARK_SETTLE=<s>` waits up to that long for
//! the sealed split to be compacted and reports its size again; `HARK_KEEP=1`
//! keeps the data directory, and `events` 0 then only runs the queries on it.

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

/// Event `i` as an RFC 5424 line would carry it; returns it with that line's length.
///
/// Vocabularies are bounded the way real ones are (a few thousand client
/// addresses, one key per user, one process per host and program), while
/// ports, sizes, durations and ids vary per event.
fn generate(rng: &mut Rng, i: u64, start: i64) -> (Event, usize) {
    let ts = start + (i as i64) * 50_000; // 20 000 events per second of log time
    let mut e = Event::new(ts, "bench");
    let app_no = rng.below(APPS.len() as u64);
    let app = APPS[app_no as usize];
    let host_no = rng.below(600);
    let host = format!("srv{:03}.dc{}.example.net", host_no / 3, host_no % 3);
    // Clients: a few busy ones and a long tail.
    let client = if rng.below(4) == 0 {
        rng.below(4000)
    } else {
        rng.below(50)
    };
    let ip = format!(
        "10.{}.{}.{}",
        20 + client / 65_536,
        (client / 256) % 256,
        client % 256
    );
    let user_no = rng.below(USERS.len() as u64);
    let user = USERS[user_no as usize];
    let mut message = match app {
        "sshd" => format!(
            "Accepted publickey for {user} from {ip} port {} ssh2: ED25519 SHA256:{:016x}",
            1024 + rng.below(60_000),
            0x5eed_u64
                .wrapping_mul(user_no + 1)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
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
            rng.below(100_000)
        ),
        "kernel" => format!(
            "[{}.{:06}] eth{}: link up, 10000Mbps, full-duplex, lpa 0x{:04X}, queue {} reset",
            (ts - start) / 1_000_000_000,
            rng.below(1_000_000),
            rng.below(4),
            [0x45e1, 0xc5e1, 0x41e1][rng.below(3) as usize],
            rng.below(64)
        ),
        _ => format!(
            "pid {} ({user}) finished job {} on {ip} after {} s with status {}",
            rng.below(65_536),
            i / 7,
            rng.below(3600),
            rng.below(4)
        ),
    };
    if i % NEEDLE_EVERY == 7 {
        message.push_str(" needle-xyzzy");
    }
    e.host = Some(host);
    e.app = Some(app.to_owned());
    e.procid = Some((1000 + (host_no * 31 + app_no * 7) % 30_000).to_string());
    e.facility = Some(Facility::Daemon);
    e.severity = Severity::from_code([6, 6, 6, 6, 5, 4, 3, 7][rng.below(8) as usize]);
    if app == "nginx" {
        e.push_field("user", user);
        e.push_field("bytes", FieldValue::Int(rng.below(50_000) as i64));
    }
    // `<PRI>1 TIMESTAMP HOST APP PROCID - - MSG`: PRI and version 6, timestamp
    // 32, separators and nil fields 6.
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

fn env_num(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
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
    // The first run warms the page cache and readers; then the fastest of
    // seven (the machine may be shared) and the median are reported.
    let _ = store.search(req);
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..7 {
        let t = Instant::now();
        match store.search(req) {
            Ok(res) => last = Some(res),
            Err(e) => {
                println!("  {label:<38} failed: {e}");
                return;
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    if let Some(res) = last {
        println!(
            "  {label:<38} min {:>7.2} ms  median {:>7.2} ms  total={} hits={}",
            times[0],
            times[times.len() / 2],
            res.total,
            res.hits.len()
        );
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
    let mut cfg = StoreConfig::new(&dir);
    if let Some(t) = env_num("HARK_INDEX_THREADS") {
        cfg.index_threads = t as usize;
    }
    if let Some(ms) = env_num("HARK_COMMIT_MS") {
        cfg.commit_interval = Duration::from_millis(ms);
    }
    if let Some(events) = env_num("HARK_SPLIT_EVENTS") {
        cfg.split_max_events = events;
    }
    let store = Store::open(cfg)?;
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
    if let Some(secs) = env_num("HARK_SETTLE") {
        // With HARK_SPLIT_EVENTS=<events> the last event sealed the split:
        // wait for maintenance to compact it, as it does in the background.
        let t = Instant::now();
        let mut last = index_bytes;
        while t.elapsed() < Duration::from_secs(secs) {
            std::thread::sleep(Duration::from_secs(1));
            store.maintain()?;
            let now = dir_size(&dir.join("index"));
            if now == last {
                break;
            }
            last = now;
        }
        println!(
            "index compacted:   {last} bytes = {:.3} x raw ({:.1} s later)",
            last as f64 / raw_bytes as f64,
            t.elapsed().as_secs_f64()
        );
    }

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
