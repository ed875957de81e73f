//! Sinks: where processed change events land.
//!
//! A sink writes one [`OutputBatch`] at a time: the events of a consecutive range of one
//! transport shard, `[start, end)`, as a transform left them. The sink names its files after
//! that range, writes them under temporary names, makes them durable, renames them, and only
//! then reports success, after which the pipeline commits the transport checkpoint `end`.
//!
//! **Recovery.** Before a processor reads a shard, [`Sink::recover`] finishes or removes the
//! temporaries of that shard left by a crash and reports the highest range end the sink holds
//! for it, so a batch that was renamed but not yet committed is never written twice. Recovery
//! only touches the shards asked for: with SLS, other workers may be writing other shards of
//! the same tree at the same time.
//!
//! **Errors.** [`SinkError::is_retriable`] tells a transient failure (I/O, an unreachable
//! NameNode) from a definite one (permissions, an invalid path); the process half retries the
//! same batch, which is idempotent: same range, same names.

pub mod batch_file;
pub mod fs;
pub mod hdfs;
mod partition;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::config::InvalidField;
use crate::event::ChangeEvent;

pub use batch_file::Compression;
pub use fs::{FilesSink, FilesSinkConfig, FilesSinkError};
pub use hdfs::{HdfsSink, HdfsSinkConfig, HdfsSinkError};
pub use partition::{DEFAULT_ROUTE_DIR, PathTemplate};

/// The events of transport shard `shard`, offsets `[start, end)`, ready to be written.
#[derive(Debug, Clone, Default)]
pub struct OutputBatch {
    /// Transport shard.
    pub shard: usize,
    /// First offset of the range (inclusive).
    pub start: u64,
    /// End of the range (exclusive): the checkpoint committed once the batch is durable.
    pub end: u64,
    /// The events to write, in order. May be empty when a transform dropped everything: the
    /// range still commits.
    pub events: Vec<ChangeEvent>,
    /// Output partition per event (the `{route}` of the path template), aligned with
    /// `events`; empty when no transform routed any event.
    pub routes: Vec<Option<Arc<str>>>,
}

impl OutputBatch {
    /// The route of event `i`, if a transform set one.
    pub fn route(&self, i: usize) -> Option<&str> {
        self.routes.get(i).and_then(|r| r.as_deref())
    }
}

/// When the process half closes a batch (and so a file per partition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Events per batch.
    pub max_events: usize,
    /// Input bytes per batch.
    pub max_bytes: usize,
    /// Age of a batch's first event before it is written.
    pub max_wait: Duration,
}

/// The `[sink]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SinkConfig {
    /// `[sink.files]`: JSON Lines files in a local directory.
    Files(FilesSinkConfig),
    /// `[sink.hdfs]`: JSON Lines files in HDFS.
    Hdfs(HdfsSinkConfig),
}

impl Default for SinkConfig {
    fn default() -> Self {
        SinkConfig::Files(FilesSinkConfig::default())
    }
}

impl SinkConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            SinkConfig::Files(c) => c.validate(),
            SinkConfig::Hdfs(c) => c.validate(),
        }
    }

    /// The batching limits of the configured sink.
    pub fn batch_limits(&self) -> BatchLimits {
        match self {
            SinkConfig::Files(c) => BatchLimits {
                max_events: c.max_events.get(),
                max_bytes: c.max_bytes.get(),
                max_wait: c.max_wait,
            },
            SinkConfig::Hdfs(c) => BatchLimits {
                max_events: c.max_events.get(),
                max_bytes: c.max_bytes.get(),
                max_wait: c.max_wait,
            },
        }
    }
}

/// A failure of a sink.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The files sink failed.
    #[error(transparent)]
    Files(#[from] FilesSinkError),
    /// The HDFS sink failed.
    #[error(transparent)]
    Hdfs(#[from] HdfsSinkError),
    /// The sink could not be set up from its configuration.
    #[error("sink: {0}")]
    Setup(String),
    /// A blocking sink task panicked: a bug.
    #[error("sink task failed: {0}")]
    Task(String),
}

impl SinkError {
    /// The component, for the error counter's label.
    pub fn component(&self) -> crate::telemetry::metrics::Component {
        use crate::telemetry::metrics::Component;
        match self {
            SinkError::Files(_) => Component::Files,
            SinkError::Hdfs(_) => Component::Hdfs,
            SinkError::Setup(_) | SinkError::Task(_) => Component::Pipeline,
        }
    }

    /// Whether retrying the same batch may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            SinkError::Files(e) => e.is_retriable(),
            SinkError::Hdfs(e) => e.is_retriable(),
            SinkError::Setup(_) | SinkError::Task(_) => false,
        }
    }
}

/// The configured sink. Cheap to clone; shared by every shard processor.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Local files.
    Files(Arc<FilesSink>),
    /// HDFS.
    Hdfs(Arc<HdfsSink>),
}

impl Sink {
    /// Builds the sink of a validated configuration.
    pub async fn new(config: &SinkConfig) -> Result<Self, SinkError> {
        match config {
            SinkConfig::Files(c) => Ok(Sink::Files(Arc::new(
                FilesSink::new(c).map_err(SinkError::Setup)?,
            ))),
            SinkConfig::Hdfs(c) => Ok(Sink::Hdfs(Arc::new(HdfsSink::new(c)?))),
        }
    }

    /// Finishes or removes the temporaries of `shards` left by a crash and returns, per shard,
    /// the highest range end the sink holds (shards without files are absent).
    pub async fn recover(&self, shards: &[usize]) -> Result<HashMap<usize, u64>, SinkError> {
        match self {
            Sink::Files(sink) => {
                let (sink, shards) = (sink.clone(), shards.to_vec());
                tokio::task::spawn_blocking(move || sink.recover(&shards))
                    .await
                    .map_err(|e| SinkError::Task(e.to_string()))?
                    .map_err(SinkError::from)
            }
            Sink::Hdfs(sink) => Ok(sink.recover(shards).await?),
        }
    }

    /// Writes `batch` durably; returns the number of files written (0 for an empty batch).
    /// Safe to call again for the same batch after a failure.
    pub async fn write_batch(&self, batch: Arc<OutputBatch>) -> Result<usize, SinkError> {
        match self {
            Sink::Files(sink) => {
                let sink = sink.clone();
                tokio::task::spawn_blocking(move || sink.write_batch(&batch))
                    .await
                    .map_err(|e| SinkError::Task(e.to_string()))?
                    .map_err(SinkError::from)
            }
            Sink::Hdfs(sink) => Ok(sink.write_batch(batch).await?),
        }
    }
}
