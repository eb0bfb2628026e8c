//! Time as the engine sees it. The engine never reads the wall clock itself, so tests run
//! months of schedules in virtual time.

use std::sync::Mutex;

use chrono::{NaiveDateTime, Timelike};

/// A source of the current time (UTC, second precision).
pub trait Clock: Send + Sync {
    fn now(&self) -> NaiveDateTime;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NaiveDateTime {
        let now = chrono::Utc::now().naive_utc();
        now.with_nanosecond(0).unwrap_or(now)
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct VirtualClock {
    now: Mutex<NaiveDateTime>,
}

impl VirtualClock {
    pub fn new(start: NaiveDateTime) -> Self {
        VirtualClock {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock to `at` (never backwards).
    pub fn advance_to(&self, at: NaiveDateTime) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        if at > *now {
            *now = at;
        }
    }

    pub fn advance(&self, by: chrono::Duration) {
        let at = self.now() + by;
        self.advance_to(at);
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> NaiveDateTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
