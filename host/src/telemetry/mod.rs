//! Telemetry: logs, metrics, health, and the terminal status line.
//!
//! - Logging: `tracing` to stderr as text or JSON, filtered by `-v`/`-q` or `RUST_LOG`.
//! - [`metrics`]: Prometheus metric names and the API the components call.
//! - [`health`]: readiness of the running pipeline.
//! - [`MetricsServer`]: `/metrics`, `/health`, `/ready` over HTTP when `[telemetry] listen`
//!   (or `--metrics-listen`) is set.
//! - [`status`]: the status line and progress bars on a terminal.

mod config;
pub mod health;
pub mod metrics;
mod server;
pub mod status;

use tracing_subscriber::EnvFilter;

pub use config::TelemetryConfig;
pub use server::MetricsServer;

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber. `verbosity` is `-v` count minus `-q` count; `RUST_LOG`
/// overrides it.
pub fn init(format: LogFormat, verbosity: i8) {
    let level = match verbosity {
        i8::MIN..=-2 => "error",
        -1 => "warn",
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},mysql_async=warn")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(status::stderr_writer);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[cfg(test)]
mod tests;
