//! Waiting for a condition with a deadline instead of sleeping a fixed time: a test is as fast
//! as the code under test allows, and a slow machine only fails it when the deadline passes.
//!
//! Conditions are checked at once, then after pauses that grow from 10 ms to 100 ms, so a quick
//! condition costs little and a slow probe (an API call, a process list) is not hammered. Each
//! condition is checked once more at the deadline before the wait gives up.

use std::future::Future;
use std::time::{Duration, Instant};

const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_millis(100);

/// When to look again, and when to stop.
struct Pacer {
    deadline: Instant,
    pause: Duration,
}

impl Pacer {
    fn new(limit: Duration) -> Pacer {
        Pacer {
            deadline: Instant::now() + limit,
            pause: FIRST_PAUSE,
        }
    }

    /// How long to pause before the next look, or `None` once the deadline has passed.
    fn next_pause(&mut self) -> Option<Duration> {
        let left = self.deadline.checked_duration_since(Instant::now())?;
        let pause = self.pause.min(left);
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        Some(pause)
    }
}

/// Calls `probe` until it gives a value, and returns it. After `limit`, fails the test naming
/// `what` and the last thing `probe` saw.
#[track_caller]
pub fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let mut pacer = Pacer::new(limit);
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) => match pacer.next_pause() {
                Some(pause) => std::thread::sleep(pause),
                None => panic!("timed out after {limit:?} waiting for {what}; last seen: {last}"),
            },
        }
    }
}

/// Waits until `condition` holds; after `limit`, fails the test naming `what`.
#[track_caller]
pub fn wait_until(what: &str, limit: Duration, mut condition: impl FnMut() -> bool) {
    wait_for(what, limit, || {
        if condition() {
            Ok(())
        } else {
            Err("not yet".to_owned())
        }
    });
}

/// Whether `condition` holds within `limit`, for a caller that goes on either way.
pub fn holds_within(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let mut pacer = Pacer::new(limit);
    loop {
        if condition() {
            return true;
        }
        match pacer.next_pause() {
            Some(pause) => std::thread::sleep(pause),
            None => return false,
        }
    }
}

/// [`wait_for`] for a probe that awaits (an SDK call), pausing without blocking the runtime.
pub async fn wait_for_async<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let mut pacer = Pacer::new(limit);
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) => match pacer.next_pause() {
                Some(pause) => tokio::time::sleep(pause).await,
                None => panic!("timed out after {limit:?} waiting for {what}; last seen: {last}"),
            },
        }
    }
}

/// Whether `condition` holds within `limit`, checked between awaits so that the tasks it waits
/// for run meanwhile. For an `assert!` with its own message, or to report what is left over.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let mut pacer = Pacer::new(limit);
    loop {
        if condition() {
            return true;
        }
        match pacer.next_pause() {
            Some(pause) => tokio::time::sleep(pause).await,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_that_succeeds_later_is_waited_for() {
        let mut calls = 0;
        let value = wait_for("the third call", Duration::from_secs(5), || {
            calls += 1;
            if calls == 3 {
                Ok(calls)
            } else {
                Err(format!("call {calls}"))
            }
        });
        assert_eq!(value, 3);
    }

    #[test]
    #[should_panic(expected = "waiting for nothing; last seen: never")]
    fn a_probe_that_never_succeeds_fails_with_what_it_saw() {
        wait_for::<()>("nothing", Duration::from_millis(30), || {
            Err("never".to_owned())
        });
    }

    #[test]
    fn the_condition_is_checked_once_more_at_the_deadline() {
        let started = Instant::now();
        let limit = Duration::from_millis(50);
        let mut last_check = started;
        let held = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until("never", limit, || {
                last_check = Instant::now();
                false
            });
        }));
        assert!(held.is_err());
        assert!(last_check.duration_since(started) >= limit);
    }

    #[tokio::test]
    async fn eventually_reports_whether_the_condition_held() {
        let started = Instant::now();
        assert!(
            eventually(Duration::from_secs(5), || started.elapsed()
                > Duration::from_millis(30))
            .await
        );
        assert!(!eventually(Duration::from_millis(30), || false).await);
    }

    #[tokio::test]
    async fn an_async_probe_is_awaited_until_it_gives_a_value() {
        let mut calls = 0;
        let value = wait_for_async("the second call", Duration::from_secs(5), || {
            calls += 1;
            let now = calls;
            async move {
                if now == 2 {
                    Ok(now)
                } else {
                    Err(format!("call {now}"))
                }
            }
        })
        .await;
        assert_eq!(value, 2);
    }
}
