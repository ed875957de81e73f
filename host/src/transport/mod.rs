//! Transports: what carries change events from capture to processing.
//!
//! Both halves meet at a transport. Capture appends batches and advances the binlog checkpoint
//! only after the transport acknowledged them as durable; processing reads records by shard and
//! cursor and commits a consumer checkpoint only after the sink made the records durable.
//! The embedded [`local`] log is the default; SLS is the cloud transport.

pub mod local;
pub mod sls;

use std::sync::Arc;

use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::config::InvalidField;
use crate::event::ChangeEvent;
use crate::source::SourceCheckpoint;

pub use local::{LocalLog, LocalLogConfig};
pub use sls::SlsTransportConfig;

/// The `[transport]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum TransportConfig {
    /// `[transport.local]`: the embedded durable log on local disk.
    Local(LocalLogConfig),
    /// `[transport.sls]`: an Alibaba Cloud Log Service logstore.
    Sls(Box<SlsTransportConfig>),
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig::Local(LocalLogConfig::default())
    }
}

impl TransportConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            TransportConfig::Local(c) => c.validate(),
            TransportConfig::Sls(c) => c.validate(),
        }
    }
}

/// What capture appends to: the local log's appender or the SLS producer.
#[derive(Debug)]
pub enum CaptureTransport {
    /// The embedded log (the appender is out only while an append runs).
    Local {
        /// The log.
        log: Arc<LocalLog>,
        /// Its single writer.
        appender: Option<local::Appender>,
    },
    /// An SLS logstore.
    Sls(Box<sls::SlsProducer>),
}

impl CaptureTransport {
    /// Opens the transport of `config` for writing.
    pub async fn open(config: &TransportConfig) -> Result<Self, crate::Error> {
        match config {
            TransportConfig::Local(c) => {
                let log = LocalLog::open(c)?;
                let opener = log.clone();
                let appender = tokio::task::spawn_blocking(move || opener.appender()).await??;
                Ok(CaptureTransport::Local {
                    log,
                    appender: Some(appender),
                })
            }
            TransportConfig::Sls(c) => Ok(CaptureTransport::Sls(Box::new(
                sls::SlsProducer::open(c).await?,
            ))),
        }
    }

    /// Where capture resumes, if it ever wrote a checkpoint.
    pub fn capture_checkpoint(&self) -> Result<Option<SourceCheckpoint>, crate::Error> {
        match self {
            CaptureTransport::Local { log, .. } => Ok(log.capture_checkpoint()?),
            CaptureTransport::Sls(p) => Ok(p.capture_checkpoint()?),
        }
    }

    /// Appends `events` durably (every event is in the transport when this returns `Ok`);
    /// returns how many were new.
    pub async fn append(
        &mut self,
        events: Vec<ChangeEvent>,
        shutdown: &CancellationToken,
    ) -> Result<usize, crate::Error> {
        match self {
            CaptureTransport::Local { appender, .. } => {
                let mut writer = appender.take().ok_or_else(|| {
                    crate::Error::Internal("local log appender lost by a failed append".into())
                })?;
                let (writer, result) = tokio::task::spawn_blocking(move || {
                    let result = writer.append(events);
                    (writer, result)
                })
                .await?;
                *appender = Some(writer);
                Ok(result?)
            }
            CaptureTransport::Sls(producer) => Ok(producer.append(events, shutdown).await?),
        }
    }

    /// Records where capture resumes; call only after the events before it were appended.
    pub async fn write_capture_checkpoint(&self, cp: SourceCheckpoint) -> Result<(), crate::Error> {
        match self {
            CaptureTransport::Local { log, .. } => {
                let log = log.clone();
                tokio::task::spawn_blocking(move || log.write_capture_checkpoint(&cp)).await??;
                Ok(())
            }
            CaptureTransport::Sls(p) => Ok(p.write_capture_checkpoint(&cp)?),
        }
    }
}
