//! Runs each monitor at a fixed rate from its own offset, with bounded
//! concurrency.
//!
//! - A monitor is never run twice at once: it goes back into the queue only
//!   when its run has finished.
//! - The normal schedule is a grid `anchor + k × interval`, so checks do not
//!   drift; a run that overruns its slot skips the slots it missed and only
//!   delays itself.
//! - While a problem is soft the next run is `retry_interval` after the
//!   previous one finished, as Nagios-family cores do; afterwards the monitor
//!   returns to its grid.
//! - At most `concurrency` runs are in flight; a monitor that is due while
//!   all slots are busy waits, and the wait is measured as lateness.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How a monitor is scheduled.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Time between runs on the normal grid.
    pub interval: Duration,
    /// Time from the end of a run to the next while a problem is soft.
    pub retry_interval: Duration,
    /// The first run; the grid is anchored here.
    pub first_due: Instant,
}

/// What a run says about the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextRun {
    /// Back on the grid.
    Interval,
    /// `retry_interval` from now (a soft problem being confirmed).
    Retry,
}

/// The work the scheduler runs.
pub trait Job: Send + Sync + 'static {
    /// Runs monitor `index` once. `due` is when it should have started,
    /// `lateness` how long after that it did.
    fn run(
        &self,
        index: usize,
        due: Instant,
        lateness: Duration,
    ) -> impl Future<Output = NextRun> + Send;

    /// Tells the job when monitor `index` runs next (for listings).
    fn scheduled(&self, index: usize, due: Instant);
}

/// The next grid slot strictly after `now`.
pub fn next_slot(anchor: Instant, interval: Duration, now: Instant) -> Instant {
    if now < anchor {
        return anchor;
    }
    let elapsed = now.duration_since(anchor).as_nanos();
    let step = interval.as_nanos().max(1);
    let k = elapsed / step + 1;
    let offset = step.saturating_mul(k);
    anchor + Duration::from_nanos(u64::try_from(offset).unwrap_or(u64::MAX))
}

/// Runs `plans` until `shutdown`, then waits for the runs in flight.
pub async fn run<J: Job>(
    job: Arc<J>,
    plans: Vec<Plan>,
    concurrency: usize,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut queue: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
    for (i, p) in plans.iter().enumerate() {
        queue.push(Reverse((p.first_due, i)));
        job.scheduled(i, p.first_due);
    }
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut running = JoinSet::new();
    loop {
        let next_due = queue.peek().map(|Reverse((due, _))| *due);
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            Some((index, due)) = done_rx.recv() => {
                job.scheduled(index, due);
                queue.push(Reverse((due, index)));
            }
            _ = sleep_until_opt(next_due) => {
                let Some(Reverse((due, index))) = queue.pop() else { continue };
                let permit = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                };
                let plan = plans[index];
                let job = job.clone();
                let done = done_tx.clone();
                running.spawn(async move {
                    // Measured when the run is first polled, so a busy
                    // runtime's queueing counts as lateness too.
                    let lateness = Instant::now().saturating_duration_since(due);
                    let next = job.run(index, due, lateness).await;
                    drop(permit);
                    let now = Instant::now();
                    let next_due = match next {
                        NextRun::Interval => next_slot(plan.first_due, plan.interval, now.max(due)),
                        NextRun::Retry => now + plan.retry_interval,
                    };
                    let _ = done.send((index, next_due));
                });
                // Reap finished tasks so the set does not grow.
                while running.try_join_next().is_some() {}
            }
        }
    }
    while running.join_next().await.is_some() {}
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Default)]
    struct Recorder {
        starts: Mutex<Vec<(usize, Duration)>>,
        lateness: Mutex<Vec<(usize, Duration)>>,
        running: Mutex<Vec<bool>>,
        overlaps: AtomicUsize,
        slow: Option<(usize, Duration)>,
        retry_first: Option<usize>,
        base: Mutex<Option<Instant>>,
    }

    impl Job for Recorder {
        async fn run(&self, index: usize, _due: Instant, lateness: Duration) -> NextRun {
            let base = self.base.lock().unwrap().expect("base");
            self.lateness.lock().unwrap().push((index, lateness));
            let n = {
                let mut starts = self.starts.lock().unwrap();
                starts.push((index, Instant::now() - base));
                starts.iter().filter(|(i, _)| *i == index).count()
            };
            {
                let mut running = self.running.lock().unwrap();
                if running[index] {
                    self.overlaps.fetch_add(1, Ordering::SeqCst);
                }
                running[index] = true;
            }
            if let Some((slow, took)) = self.slow
                && slow == index
            {
                tokio::time::sleep(took).await;
            }
            self.running.lock().unwrap()[index] = false;
            if self.retry_first == Some(index) && n == 1 {
                NextRun::Retry
            } else {
                NextRun::Interval
            }
        }

        fn scheduled(&self, _index: usize, _due: Instant) {}
    }

    fn starts_of(r: &Recorder, index: usize) -> Vec<u64> {
        r.starts
            .lock()
            .unwrap()
            .iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, t)| t.as_millis() as u64)
            .collect()
    }

    async fn drive(rec: Arc<Recorder>, plans: Vec<Plan>, concurrency: usize, for_: Duration) {
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(rec, plans, concurrency, stop.clone()));
        tokio::time::sleep(for_).await;
        stop.cancel();
        task.await.unwrap();
    }

    fn plan(base: Instant, offset_ms: u64, interval_ms: u64, retry_ms: u64) -> Plan {
        Plan {
            interval: Duration::from_millis(interval_ms),
            retry_interval: Duration::from_millis(retry_ms),
            first_due: base + Duration::from_millis(offset_ms),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn fixed_rate_from_each_offset_without_drift() {
        let rec = Arc::new(Recorder {
            running: Mutex::new(vec![false; 2]),
            ..Default::default()
        });
        let base = Instant::now();
        *rec.base.lock().unwrap() = Some(base);
        let plans = vec![plan(base, 100, 1000, 1000), plan(base, 350, 500, 500)];
        drive(rec.clone(), plans, 4, Duration::from_millis(2600)).await;
        assert_eq!(starts_of(&rec, 0), vec![100, 1100, 2100]);
        assert_eq!(starts_of(&rec, 1), vec![350, 850, 1350, 1850, 2350]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_check_skips_its_missed_slots_and_delays_only_itself() {
        let rec = Arc::new(Recorder {
            running: Mutex::new(vec![false; 2]),
            slow: Some((0, Duration::from_millis(2500))),
            ..Default::default()
        });
        let base = Instant::now();
        *rec.base.lock().unwrap() = Some(base);
        let plans = vec![plan(base, 0, 1000, 1000), plan(base, 0, 1000, 1000)];
        drive(rec.clone(), plans, 4, Duration::from_millis(5500)).await;
        // Runs 0..2.5 s, next slot after 2.5 s is 3 s; runs 3..5.5 s.
        assert_eq!(starts_of(&rec, 0), vec![0, 3000]);
        assert_eq!(starts_of(&rec, 1), vec![0, 1000, 2000, 3000, 4000, 5000]);
        assert_eq!(rec.overlaps.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_interval_after_a_soft_problem_then_back_on_the_grid() {
        let rec = Arc::new(Recorder {
            running: Mutex::new(vec![false; 1]),
            retry_first: Some(0),
            ..Default::default()
        });
        let base = Instant::now();
        *rec.base.lock().unwrap() = Some(base);
        drive(
            rec.clone(),
            vec![plan(base, 0, 1000, 300)],
            1,
            Duration::from_millis(3100),
        )
        .await;
        assert_eq!(starts_of(&rec, 0), vec![0, 300, 1000, 2000, 3000]);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_bound_makes_the_rest_wait() {
        let rec = Arc::new(Recorder {
            running: Mutex::new(vec![false; 3]),
            slow: Some((0, Duration::from_millis(400))),
            ..Default::default()
        });
        let base = Instant::now();
        *rec.base.lock().unwrap() = Some(base);
        let plans = vec![
            plan(base, 0, 10_000, 10_000),
            plan(base, 100, 10_000, 10_000),
            plan(base, 200, 10_000, 10_000),
        ];
        drive(rec.clone(), plans, 1, Duration::from_millis(1000)).await;
        // One slot: monitor 1 and 2 wait for monitor 0 to finish at 400 ms.
        assert_eq!(starts_of(&rec, 0), vec![0]);
        assert_eq!(starts_of(&rec, 1), vec![400]);
        assert_eq!(starts_of(&rec, 2), vec![400]);
        // The wait for the slot is the lateness the run is told about.
        let mut lateness = rec.lateness.lock().unwrap().clone();
        lateness.sort();
        assert_eq!(
            lateness,
            vec![
                (0, Duration::ZERO),
                (1, Duration::from_millis(300)),
                (2, Duration::from_millis(200))
            ]
        );
    }

    #[test]
    fn next_slot_is_strictly_after_now() {
        let a = Instant::now();
        let i = Duration::from_secs(10);
        assert_eq!(next_slot(a, i, a), a + i);
        assert_eq!(
            next_slot(a, i, a + Duration::from_secs(25)),
            a + Duration::from_secs(30)
        );
        assert_eq!(next_slot(a + i, i, a), a + i);
    }
}
