//! Wiring: the capture half (source → transport) and the process half (transport → sink).
//!
//! Each half has its own acknowledgement rule. Capture advances the binlog checkpoint only
//! after the transport made the events durable ([`capture`]). Processing commits the transport
//! checkpoint of a shard only after the sink made the batch durable ([`process`]). `wproc run`
//! with a source and the local transport runs both halves in one process.
//!
//! **Shutdown.** One root [`CancellationToken`]. On cancel the source stops reading and capture
//! appends what it already received and writes its checkpoint. Processing has its own token,
//! cancelled only when capture has ended (or with the root when this process runs no capture),
//! so it drains everything capture made durable: each shard processor reads to the end of its
//! shard, writes and commits, and the tasks end. If one task fails, the others are cancelled
//! the same way and the first error is returned. [`shutdown`] bounds the whole drain by
//! `drain_timeout`.
//!
//! **Telemetry.** With `[telemetry] listen` set, the `/metrics` endpoint runs for as long as
//! the pipeline; `/ready` turns 200 once the transport is open, the sink recovered and the
//! source streams.

pub mod capture;
pub mod process;
pub mod shutdown;

use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::error;

use crate::config::Config;
use crate::error::Error;
use crate::sink::Sink;
use crate::source::{MysqlSource, SourceConfig};
use crate::telemetry::MetricsServer;
use crate::telemetry::health::{self, Part};
use crate::telemetry::metrics::{self, ErrorClass};
use crate::transport::sls::SlsTransportConfig;
use crate::transport::{CaptureTransport, LocalLog, TransportConfig};

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halves {
    /// Capture and processing (processing only when no source is configured).
    All,
    /// Only capture: source to transport.
    CaptureOnly,
}

/// Runs the pipeline described by `config` until `shutdown` is cancelled or a task fails.
pub async fn run(config: Config, halves: Halves, shutdown: CancellationToken) -> Result<(), Error> {
    let _endpoint = match config.telemetry.listen {
        Some(addr) => Some(
            MetricsServer::start(addr)
                .await
                .map_err(|source| Error::Telemetry { addr, source })?,
        ),
        None => None,
    };
    let capturing = config.source.is_some();
    let mut parts = vec![Part::Transport];
    if capturing {
        parts.push(Part::Source);
    }
    if halves == Halves::All {
        parts.push(Part::Sink);
    }
    health::start(&parts);
    if let TransportConfig::Sls(sls) = &config.transport {
        let result = run_sls(&config, sls, halves, shutdown).await;
        health::stop();
        return result;
    }
    let TransportConfig::Local(log_config) = &config.transport else {
        return Err(Error::Internal("unhandled transport".into()));
    };
    let log = LocalLog::open(log_config)?;
    health::set(Part::Transport, true);
    let mut tasks: JoinSet<Result<(), Error>> = JoinSet::new();
    // Processing stops after capture, so that it drains what capture made durable.
    let process_shutdown = if capturing {
        CancellationToken::new()
    } else {
        shutdown.clone()
    };

    match (&config.source, halves) {
        (Some(SourceConfig::Mysql(mysql)), _) => {
            let source = MysqlSource::new(mysql.clone());
            let lag = source.lag();
            metrics::set_replication_lag_fn(move || Duration::from_secs(lag.seconds()));
            let appender = tokio::task::spawn_blocking({
                let log = log.clone();
                move || log.appender()
            })
            .await??;
            let transport = CaptureTransport::Local {
                log: log.clone(),
                appender: Some(appender),
            };
            let (shutdown, captured) = (shutdown.clone(), process_shutdown.clone());
            tasks.spawn(async move {
                let result = capture::run(source, transport, shutdown).await;
                captured.cancel();
                result
            });
        }
        (None, Halves::CaptureOnly) => {
            return Err(Error::Internal(
                "`wproc capture` needs a [source] section".into(),
            ));
        }
        (None, Halves::All) => {}
    }
    if halves == Halves::All {
        let handler = process::BatchHandler::new(Sink::new(&config.sink).await?);
        let settings = process::ProcessSettings::new(config.sink.batch_limits(), &log_config.group);
        tasks.spawn(process::run(
            log.clone(),
            handler,
            settings,
            process_shutdown.clone(),
        ));
    }

    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(Error::from).and_then(|r| r);
        if let Err(e) = result {
            error!(message = "Pipeline task failed; stopping.", error = %e);
            metrics::error(e.component(), ErrorClass::from_retriable(e.is_retriable()));
            shutdown.cancel();
            first_error.get_or_insert(e);
        }
    }
    health::stop();
    first_error.map_or(Ok(()), Err)
}

/// The SLS transport: `wproc capture` runs the producer; `wproc run` runs the consumer-group
/// member (capture is a separate process, as ilogtail was: a `[source]` is ignored by `run`).
async fn run_sls(
    config: &Config,
    sls: &SlsTransportConfig,
    halves: Halves,
    shutdown: CancellationToken,
) -> Result<(), Error> {
    match (halves, &config.source) {
        (Halves::CaptureOnly, Some(SourceConfig::Mysql(mysql))) => {
            let transport = CaptureTransport::open(&config.transport).await?;
            capture::run(MysqlSource::new(mysql.clone()), transport, shutdown).await
        }
        (Halves::CaptureOnly, None) => Err(Error::Internal(
            "`wproc capture` needs a [source] section".into(),
        )),
        (Halves::All, source) => {
            if source.is_some() {
                tracing::warn!(
                    message = "With [transport.sls], `wproc run` only consumes; run `wproc capture` for the [source]."
                );
            }
            let handler = process::BatchHandler::new(Sink::new(&config.sink).await?);
            crate::transport::sls::consumer::run(sls, handler, config.sink.batch_limits(), shutdown)
                .await
        }
    }
}
