//! Errors of the local log. I/O errors are transient (a retry may succeed, e.g. a full disk
//! freed); corruption and a shard-count mismatch are definite.

use std::path::PathBuf;

/// A failure of the local log.
#[derive(Debug, thiserror::Error)]
pub enum LocalLogError {
    /// Reading or writing a file failed.
    #[error("local log I/O on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A record in the middle of a shard is damaged.
    #[error("local log record at {path} offset {offset} is corrupt: {message}")]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Shard offset of the record.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// The log was created with another shard count.
    #[error("local log {path} has {found} shards but the config asks for {configured}")]
    ShardMismatch {
        /// The log directory.
        path: PathBuf,
        /// Shards on disk.
        found: u32,
        /// Shards in the config.
        configured: u32,
    },
}

impl LocalLogError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| LocalLogError::Io { path, source }
    }

    /// Whether a retry may succeed.
    pub fn is_retriable(&self) -> bool {
        matches!(self, LocalLogError::Io { .. })
    }
}
