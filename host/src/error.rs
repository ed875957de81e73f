//! The top-level error: every component's error, and whether a retry may help.

use crate::config::ConfigError;
use crate::runtime::WasmError;
use crate::sink::SinkError;
use crate::source::mysql::MysqlError;
use crate::transport::local::LocalLogError;

/// Any failure that stops a wproc command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The MySQL source failed.
    #[error(transparent)]
    Mysql(#[from] MysqlError),
    /// The local log failed.
    #[error(transparent)]
    LocalLog(#[from] LocalLogError),
    /// The sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A WebAssembly transform failed.
    #[error(transparent)]
    Wasm(#[from] WasmError),
    /// A pipeline task panicked or was aborted: a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether retrying the operation may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Config(_) | Error::Internal(_) => false,
            Error::Mysql(e) => e.is_retriable(),
            Error::LocalLog(e) => e.is_retriable(),
            Error::Sink(e) => e.is_retriable(),
            Error::Wasm(e) => e.is_retriable(),
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(format!("task failed: {e}"))
    }
}
