//! Sources: where change events come from.
//!
//! A source runs as one task that sends [`SourceBatch`]es into a bounded channel. A batch holds
//! events in binlog order and, when it ends on a transaction boundary, the [`SourceCheckpoint`]
//! from which capture can resume without losing or repeating a transaction. Batches that end
//! inside a large transaction carry no checkpoint; the transport keeps their events, and a
//! restart replays from the previous checkpoint (the local transport drops what it already
//! holds by event position).

pub mod mysql;

use serde::{Deserialize, Serialize};

use crate::config::InvalidField;
use crate::event::ChangeEvent;
use crate::position::BinlogPosition;

pub use mysql::{MysqlSource, MysqlSourceConfig};

/// The `[source]` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum SourceConfig {
    /// `[source.mysql]`: a MySQL or MariaDB server, read as a replica.
    Mysql(MysqlSourceConfig),
}

impl SourceConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        match self {
            SourceConfig::Mysql(c) => c.validate(),
        }
    }
}

/// Where capture resumes: the first byte after the last transaction delivered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceCheckpoint {
    /// Binlog file and offset of the next transaction.
    pub binlog: BinlogPosition,
    /// The server's GTID of the last transaction delivered, when it has one.
    #[serde(default)]
    pub gtid: Option<String>,
}

/// Events read from the source, in order.
#[derive(Debug, Default)]
pub struct SourceBatch {
    /// The events.
    pub events: Vec<ChangeEvent>,
    /// Set when the batch ends at a transaction boundary: resume here after a restart.
    pub checkpoint: Option<SourceCheckpoint>,
}
