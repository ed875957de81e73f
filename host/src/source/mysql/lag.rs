//! Replication lag, from the timestamps of the binlog events read.
//!
//! Every event header carries the second at which the server wrote it. The lag is the wall
//! clock minus that timestamp when the event is read; a heartbeat (sent by the server only when
//! it has nothing newer to send) means capture has caught up, so the lag drops to 0. The values
//! are atomics that the metrics code reads without locking, through
//! [`MysqlSource::lag`](super::MysqlSource::lag).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The last event timestamp seen and the lag it gave.
#[derive(Debug, Default)]
pub struct ReplicationLag {
    last_event_timestamp: AtomicU64,
    lag_seconds: AtomicU64,
}

impl ReplicationLag {
    /// Seconds since the Unix epoch at which the server wrote the last event read (0 before the
    /// first event).
    pub fn last_event_timestamp(&self) -> u64 {
        self.last_event_timestamp.load(Ordering::Relaxed)
    }

    /// Seconds between the server writing the last event and capture reading it; 0 after a
    /// heartbeat (nothing newer to read).
    pub fn seconds(&self) -> u64 {
        self.lag_seconds.load(Ordering::Relaxed)
    }

    /// Records an event written at `timestamp` (seconds; 0 for artificial events, ignored).
    pub(crate) fn observe(&self, timestamp: u32) {
        if timestamp == 0 {
            return;
        }
        let timestamp = u64::from(timestamp);
        self.last_event_timestamp
            .store(timestamp, Ordering::Relaxed);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.lag_seconds
            .store(now.saturating_sub(timestamp), Ordering::Relaxed);
    }

    /// Records a heartbeat: the server has nothing newer.
    pub(crate) fn caught_up(&self) {
        self.lag_seconds.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_follows_event_time_and_heartbeats() {
        let lag = ReplicationLag::default();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as u32;
        lag.observe(now - 100);
        assert_eq!(lag.last_event_timestamp(), u64::from(now - 100));
        assert!((100..=102).contains(&lag.seconds()));
        lag.observe(0);
        assert_eq!(lag.last_event_timestamp(), u64::from(now - 100));
        lag.caught_up();
        assert_eq!(lag.seconds(), 0);
    }
}
