//! Errors of the SLS transport. Service errors are as retriable as [`SlsError`] says; local
//! state I/O is transient; undecodable logs, corrupt state and bad configuration are definite.

use std::path::PathBuf;

use crate::sls::SlsError;

use super::wire::WireError;

/// A failure of the SLS producer or consumer.
#[derive(Debug, thiserror::Error)]
pub enum SlsTransportError {
    /// An SLS call failed.
    #[error(transparent)]
    Sls(#[from] SlsError),
    /// A log in the logstore is neither wproc's nor service_canal's format.
    #[error("SLS logstore {logstore} shard {shard} cursor {cursor} log {index}: {source}")]
    Wire {
        /// The logstore.
        logstore: String,
        /// The shard.
        shard: u32,
        /// Cursor of the PullLogs that returned it.
        cursor: String,
        /// Index of the log in the pulled batch.
        index: usize,
        /// What is wrong.
        #[source]
        source: WireError,
    },
    /// A cursor the service returned is not base64 of a decimal sequence number.
    #[error("SLS logstore {logstore} shard {shard}: cursor {cursor:?} is not a sequence cursor")]
    Cursor {
        /// The logstore.
        logstore: String,
        /// The shard.
        shard: u32,
        /// The cursor.
        cursor: String,
    },
    /// No writable shard holds a table's hash key.
    #[error("SLS logstore {logstore}: no writable shard holds hash key {hash_key} of {table}")]
    NoShard {
        /// The logstore.
        logstore: String,
        /// `db.table`.
        table: String,
        /// Its hash key.
        hash_key: String,
    },
    /// Reading or writing the local state directory failed.
    #[error("SLS transport state {path}: {source}")]
    State {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A state file cannot be parsed.
    #[error("SLS transport state {path} is corrupt: {message}")]
    StateCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The transport cannot be set up (credentials, endpoint).
    #[error("SLS transport: {0}")]
    Config(String),
}

impl SlsTransportError {
    /// Whether a retry may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            SlsTransportError::Sls(e) => e.is_retriable(),
            SlsTransportError::State { .. } => true,
            SlsTransportError::Wire { .. }
            | SlsTransportError::Cursor { .. }
            | SlsTransportError::NoShard { .. }
            | SlsTransportError::StateCorrupt { .. }
            | SlsTransportError::Config(_) => false,
        }
    }

    pub(crate) fn state(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| SlsTransportError::State { path, source }
    }
}
