//! Logging through the host (the WIT `log` import).
//!
//! Messages go to the host's log, tagged with the transform's name; the host decides what
//! level is shown. Prefer this to `println!`: guest stdout/stderr are captured, bounded and
//! may be truncated. Each call is one host call: do not log per event on hot paths.
//!
//! On native targets (tests) messages are kept in memory per thread: see
//! `testing::take_logs` (native only).
//!
//! ```no_run
//! wproc_sdk::log::info(format!("dropping {} tables", 3));
//! ```

/// Severity of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Very detailed diagnostics.
    Trace,
    /// Development diagnostics.
    Debug,
    /// Normal operational messages.
    Info,
    /// Unexpected but handled.
    Warn,
    /// Failures.
    Error,
}

/// Logs a message at `level`.
pub fn log(level: Level, message: impl AsRef<str>) {
    imp::log(level, message.as_ref());
}

/// Logs at [`Level::Trace`].
pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message);
}

/// Logs at [`Level::Debug`].
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message);
}

/// Logs at [`Level::Info`].
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message);
}

/// Logs at [`Level::Warn`].
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message);
}

/// Logs at [`Level::Error`].
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message);
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Level;
    use crate::bindings::{self, wproc::transform::types::Level as WitLevel};

    pub(super) fn log(level: Level, message: &str) {
        let level = match level {
            Level::Trace => WitLevel::Trace,
            Level::Debug => WitLevel::Debug,
            Level::Info => WitLevel::Info,
            Level::Warn => WitLevel::Warn,
            Level::Error => WitLevel::Error,
        };
        bindings::log(level, message);
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod imp {
    use std::cell::RefCell;

    use super::Level;

    thread_local! {
        static LOGS: RefCell<Vec<(Level, String)>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn log(level: Level, message: &str) {
        LOGS.with_borrow_mut(|l| l.push((level, message.to_owned())));
    }

    pub(crate) fn take() -> Vec<(Level, String)> {
        LOGS.with_borrow_mut(std::mem::take)
    }
}
