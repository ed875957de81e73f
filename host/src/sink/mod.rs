//! Sinks: where processed change events land.
//!
//! A sink writes one batch at a time. A batch is the events of a consecutive range of one
//! transport shard, `[start, end)`; the sink names its files after that range, writes them under
//! temporary names, makes them durable, renames them, and only then reports success, after which
//! the pipeline commits the transport checkpoint `end`. On start a sink recovers: it finishes or
//! removes temporaries and reports the highest range end it holds per shard, so a batch that
//! was renamed but not yet committed is never written twice.

pub mod fs;
mod partition;

use serde::Deserialize;

use crate::config::InvalidField;

pub use fs::{FilesSink, FilesSinkConfig, FilesSinkError};
pub use partition::PathTemplate;

/// The `[sink]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SinkConfig {
    /// `[sink.files]`: JSON Lines files in a local directory.
    Files(FilesSinkConfig),
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
        }
    }
}
