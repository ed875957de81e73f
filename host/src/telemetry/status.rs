//! The terminal status line of long runs and the progress bar of finite work (`indicatif`).
//!
//! Both are drawn on stderr only when stderr is a terminal, the log format is text and
//! `--no-progress` is not given ([`enabled`]); otherwise nothing here writes anything, so logs
//! piped to a file or a collector stay clean. While a bar is shown, log lines go through
//! [`stderr_writer`], which hides the bar for the time of the write so that lines and bar
//! never interleave.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::LogFormat;
use super::metrics::{self, Stage};

/// How often the status line is refreshed.
const STATUS_INTERVAL: Duration = Duration::from_secs(1);

/// The bar on screen, if any, for the log writer to hide while it writes.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn set_active(bar: Option<ProgressBar>) {
    *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = bar;
}

/// Whether to draw status lines and progress bars.
pub fn enabled(format: LogFormat, no_progress: bool) -> bool {
    !no_progress && format == LogFormat::Text && std::io::stderr().is_terminal()
}

/// stderr for the log subscriber: hides an active bar while a line is written.
pub fn stderr_writer() -> SuspendingStderr {
    SuspendingStderr
}

/// See [`stderr_writer`].
#[derive(Debug)]
pub struct SuspendingStderr;

impl Write for SuspendingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf).map(|()| buf.len())),
            None => std::io::stderr().write_all(buf).map(|()| buf.len()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Shows `rows/s` and the replication lag every second until `shutdown`, on one line that is
/// cleared at the end. `stage` is the stage whose durable output is counted (`Sink` for `run`,
/// `Capture` for `capture`).
pub async fn run_status_line(stage: Stage, shutdown: CancellationToken) {
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    set_active(Some(bar.clone()));
    let started = Instant::now();
    let mut last = (Instant::now(), metrics::events_out_count(stage));
    let mut ticker = tokio::time::interval(STATUS_INTERVAL);
    loop {
        tokio::select! {
            biased;
            _ = shutdown.cancelled() => break,
            _ = ticker.tick() => {}
        }
        let now = Instant::now();
        let total = metrics::events_out_count(stage);
        let rate = rate_per_sec(total.saturating_sub(last.1), now - last.0);
        last = (now, total);
        bar.set_message(status_text(
            rate,
            total,
            metrics::replication_lag(),
            started.elapsed(),
        ));
        bar.tick();
    }
    set_active(None);
    bar.finish_and_clear();
}

fn rate_per_sec(count: u64, elapsed: Duration) -> f64 {
    if elapsed.is_zero() {
        0.0
    } else {
        count as f64 / elapsed.as_secs_f64()
    }
}

/// `12,345 rows/s · 1,204,000 rows · lag 0s · up 3m 12s`.
pub fn status_text(rate: f64, total: u64, lag_secs: f64, up: Duration) -> String {
    let up = Duration::from_secs(up.as_secs());
    format!(
        "{} rows/s · {} rows · lag {:.0}s · up {}",
        thousands(rate.round() as u64),
        thousands(total),
        lag_secs,
        humantime_serde::re::humantime::format_duration(up)
    )
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte progress bar for finite work over `total` bytes, drawn only when `show`; `None`
/// otherwise. Finish it with [`finish_progress`].
pub fn byte_progress(show: bool, total: u64, what: &str) -> Option<ProgressBar> {
    if !show {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    set_active(Some(bar.clone()));
    Some(bar)
}

/// Removes a bar made by [`byte_progress`].
pub fn finish_progress(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        set_active(None);
        bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_is_readable() {
        assert_eq!(
            status_text(12345.4, 1_204_000, 0.4, Duration::from_millis(192_500)),
            "12,345 rows/s · 1,204,000 rows · lag 0s · up 3m 12s"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(rate_per_sec(10, Duration::ZERO), 0.0);
    }
}
