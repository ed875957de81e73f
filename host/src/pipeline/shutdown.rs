//! Signals and the drain deadline.
//!
//! The first SIGINT or SIGTERM cancels the root [`CancellationToken`]: the source stops
//! reading, capture appends what it holds and writes its checkpoint, then processing drains the
//! transport up to that point, writes and commits. If that takes longer than `drain_timeout`,
//! or a second signal arrives, the process exits at once with [`EXIT_DRAIN_TIMEOUT`] or
//! [`EXIT_SECOND_SIGNAL`]. Exiting then loses nothing: every checkpoint on disk is written
//! atomically and only after the data it covers is durable, so the next start resumes from the
//! last durable point (work in flight is redone, and deduplicated where it had landed).

use std::time::Duration;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::config::InvalidField;

/// Default time allowed for draining after the first signal.
pub const DEFAULT_DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Exit code when draining outlasted `drain_timeout` (as `timeout(1)`).
pub const EXIT_DRAIN_TIMEOUT: i32 = 124;
/// Exit code on a second signal (128 + SIGINT, as shells report an interrupted job).
pub const EXIT_SECOND_SIGNAL: i32 = 130;

/// `[shutdown]`: how wproc stops on SIGINT/SIGTERM.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownConfig {
    /// After the first SIGINT/SIGTERM, how long the pipeline may take to write what it holds
    /// and commit its checkpoints. Past it wproc exits with code 124 without committing
    /// anything that is not durable. Default `30s`. `--drain-timeout` sets it.
    #[serde(default = "default_drain_timeout", with = "humantime_serde")]
    pub drain_timeout: Duration,
}

const fn default_drain_timeout() -> Duration {
    DEFAULT_DRAIN_TIMEOUT
}

impl Default for ShutdownConfig {
    fn default() -> Self {
        Self {
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
        }
    }
}

impl ShutdownConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.drain_timeout.is_zero() {
            return Err(InvalidField::new(
                "shutdown.drain_timeout",
                "must be more than 0s",
            ));
        }
        Ok(())
    }
}

/// Cancels `shutdown` on the first SIGINT/SIGTERM, then exits the process on a second signal
/// or when `drain_timeout` passes first. A shutdown started by an error gets the same deadline.
pub async fn watch_signals(shutdown: CancellationToken, drain_timeout: Duration) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        warn!(message = "Cannot install signal handlers.");
        return;
    };
    let by_signal = tokio::select! {
        _ = term.recv() => true,
        _ = int.recv() => true,
        // Stopping on an error: the same deadline and second-signal rule apply.
        _ = shutdown.cancelled() => false,
    };
    if by_signal {
        info!(
            message = "Signal received; draining. Send it again to exit at once.",
            drain_timeout = %humantime_serde::re::humantime::format_duration(drain_timeout)
        );
        shutdown.cancel();
    }
    tokio::select! {
        _ = term.recv() => {
            warn!(message = "Second signal; exiting now.");
            std::process::exit(EXIT_SECOND_SIGNAL);
        }
        _ = int.recv() => {
            warn!(message = "Second signal; exiting now.");
            std::process::exit(EXIT_SECOND_SIGNAL);
        }
        _ = tokio::time::sleep(drain_timeout) => {
            error!(
                message = "Drain timeout passed; exiting without committing further. \
                           The next start resumes from the last durable checkpoint."
            );
            std::process::exit(EXIT_DRAIN_TIMEOUT);
        }
    }
}
