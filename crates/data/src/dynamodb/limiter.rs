//! Keeping a reader or writer to a share of a table's throughput.
//!
//! DynamoDB charges each request in capacity units and says how many in
//! `ConsumedCapacity`, but only after the request. So the limiter is a token bucket that may
//! go into debt: a request waits until the bucket is not empty, then its actual cost is taken
//! off. Over any stretch of time the units consumed are at most one burst (one second's worth)
//! plus one request's cost per concurrent requester more than `rate × elapsed`, which is what
//! the tests check.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A token bucket in capacity units per second, shared by the segments of a parallel scan or
/// the writers of one table.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    refilled_at: Instant,
    consumed: f64,
    largest: f64,
    waited: Duration,
}

/// What a limiter has let through so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LimiterStats {
    /// Capacity units the server reported as consumed.
    pub consumed_units: f64,
    /// The most units one request consumed.
    pub largest_request_units: f64,
    /// Time requests spent waiting for the bucket, summed over concurrent waiters.
    pub waited: Duration,
}

impl RateLimiter {
    /// A limiter allowing `units_per_second` (at least 0.01), starting with one second's worth
    /// in the bucket.
    pub fn new(units_per_second: f64) -> Self {
        let rate = units_per_second.max(0.01);
        let burst = rate.max(1.0);
        RateLimiter {
            rate,
            burst,
            state: Mutex::new(State {
                tokens: burst,
                refilled_at: Instant::now(),
                consumed: 0.0,
                largest: 0.0,
                waited: Duration::ZERO,
            }),
        }
    }

    /// Units per second.
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Units available at once when the bucket is full.
    pub fn burst(&self) -> f64 {
        self.burst
    }

    /// Waits until a request may go out.
    pub async fn acquire(&self) {
        loop {
            let wait = {
                let mut state = self.lock();
                self.refill(&mut state);
                if state.tokens > 0.0 {
                    return;
                }
                Duration::from_secs_f64((-state.tokens + f64::EPSILON) / self.rate)
                    .max(Duration::from_millis(1))
            };
            tokio::time::sleep(wait).await;
            self.lock().waited += wait;
        }
    }

    /// Takes a request's actual cost off the bucket (it may go negative).
    pub fn consume(&self, units: f64) {
        if !(units.is_finite() && units > 0.0) {
            return;
        }
        let mut state = self.lock();
        self.refill(&mut state);
        state.tokens -= units;
        state.consumed += units;
        state.largest = state.largest.max(units);
    }

    pub fn stats(&self) -> LimiterStats {
        let state = self.lock();
        LimiterStats {
            consumed_units: state.consumed,
            largest_request_units: state.largest,
            waited: state.waited,
        }
    }

    fn refill(&self, state: &mut State) {
        let now = Instant::now();
        let elapsed = now.duration_since(state.refilled_at).as_secs_f64();
        state.tokens = (state.tokens + elapsed * self.rate).min(self.burst);
        state.refilled_at = now;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent even if a holder panicked: every update is one assignment.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The units per second a share of a table's throughput allows. `percent` is AWS's
/// `readThroughputPercent`/`writeThroughputPercent` (0.1 to 1.0, default 0.5 as in AWS);
/// `provisioned` is the table's provisioned units, or `None` for an on-demand table, which is
/// treated as having `on_demand_units`.
pub fn share_of(provisioned: Option<i64>, on_demand_units: f64, percent: f64) -> f64 {
    let base = match provisioned {
        Some(units) if units > 0 => units as f64,
        _ => on_demand_units,
    };
    base * percent
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_the_burst_wait_for_the_rate() {
        let limiter = RateLimiter::new(2.0);
        let start = Instant::now();
        // 10 requests of 1 unit at 2 units/s with a burst of 2: the last may start once
        // 9 units minus the burst have been earned, i.e. after 3.5 s.
        for _ in 0..10 {
            limiter.acquire().await;
            limiter.consume(1.0);
        }
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(3500), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(4100), "{elapsed:?}");
        let stats = limiter.stats();
        assert_eq!(stats.consumed_units, 10.0);
        assert!(stats.waited >= Duration::from_millis(3500));
    }

    #[tokio::test(start_paused = true)]
    async fn one_expensive_request_delays_the_next_by_its_cost() {
        let limiter = RateLimiter::new(1.0);
        limiter.acquire().await;
        limiter.consume(5.0);
        let start = Instant::now();
        limiter.acquire().await;
        // The bucket went from 1 to -4 and must climb back above zero at 1 unit/s.
        assert!(start.elapsed() >= Duration::from_secs(4));
        assert!(start.elapsed() < Duration::from_millis(4100));
    }

    #[test]
    fn shares_follow_the_provisioned_capacity_or_the_on_demand_assumption() {
        assert_eq!(share_of(Some(40), 40_000.0, 0.25), 10.0);
        assert_eq!(share_of(None, 40_000.0, 0.5), 20_000.0);
        assert_eq!(share_of(Some(0), 100.0, 0.5), 50.0);
    }
}
