//! Wiring: the capture half (source → transport) and the process half (transport → sink).
//!
//! Each half has its own acknowledgement rule. Capture advances the binlog checkpoint only
//! after the transport made the events durable ([`capture`]). Processing commits the transport
//! checkpoint of a shard only after the sink made the batch durable ([`process`]). `wproc run`
//! with a source and the local transport runs both halves in one process.
//!
//! **Shutdown.** One root [`CancellationToken`]. On cancel the source stops reading, capture
//! appends what it already received, each shard processor writes and commits the batch it holds,
//! and the tasks end. If one task fails, the others are cancelled the same way and the first
//! error is returned.

pub mod capture;
pub mod process;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::error;

use crate::config::Config;
use crate::error::Error;
use crate::sink::Sink;
use crate::source::{MysqlSource, SourceConfig};
use crate::transport::{LocalLog, TransportConfig};

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
    let TransportConfig::Local(log_config) = &config.transport;
    let log = LocalLog::open(log_config)?;
    let mut tasks: JoinSet<Result<(), Error>> = JoinSet::new();

    match (&config.source, halves) {
        (Some(SourceConfig::Mysql(mysql)), _) => {
            let source = MysqlSource::new(mysql.clone());
            tasks.spawn(capture::run(source, log.clone(), shutdown.clone()));
        }
        (None, Halves::CaptureOnly) => {
            return Err(Error::Internal(
                "`wproc capture` needs a [source] section".into(),
            ));
        }
        (None, Halves::All) => {}
    }
    if halves == Halves::All {
        let mut handler = process::BatchHandler::new(Sink::new(&config.sink).await?);
        let transforms = config.transform_settings().map_err(|f| {
            Error::Internal(format!(
                "invalid transform config `{}`: {}",
                f.field, f.message
            ))
        })?;
        if !transforms.is_empty() {
            let chain = tokio::task::spawn_blocking(move || {
                crate::runtime::TransformChain::load(&transforms)
            })
            .await??;
            handler = handler.with_transforms(chain);
        }
        let settings = process::ProcessSettings::new(config.sink.batch_limits(), &log_config.group);
        tasks.spawn(process::run(
            log.clone(),
            handler,
            settings,
            shutdown.clone(),
        ));
    }

    let mut first_error = None;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.map_err(Error::from).and_then(|r| r);
        if let Err(e) = result {
            error!(message = "Pipeline task failed; stopping.", error = %e);
            shutdown.cancel();
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}
