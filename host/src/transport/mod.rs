//! Transports: what carries change events from capture to processing.
//!
//! Both halves meet at a transport. Capture appends batches and advances the binlog checkpoint
//! only after the transport acknowledged them as durable; processing reads records by shard and
//! cursor and commits a consumer checkpoint only after the sink made the records durable.
//! The embedded [`local`] log is the default; SLS is the cloud transport.

pub mod local;

use serde::Deserialize;

use crate::config::InvalidField;

pub use local::{LocalLog, LocalLogConfig};

/// The `[transport]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum TransportConfig {
    /// `[transport.local]`: the embedded durable log on local disk.
    Local(LocalLogConfig),
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
        }
    }
}
