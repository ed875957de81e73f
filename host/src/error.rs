//! The top-level error: every component's error, and whether a retry may help.

use crate::config::ConfigError;
use crate::sink::SinkError;
use crate::source::mysql::MysqlError;
use crate::telemetry::metrics::Component;
use crate::transport::local::LocalLogError;
use crate::transport::sls::SlsTransportError;

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
    /// The SLS transport failed.
    #[error(transparent)]
    Sls(#[from] SlsTransportError),
    /// The sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The metrics endpoint could not listen on its address.
    #[error("cannot serve metrics on {addr}: {source}")]
    Telemetry {
        /// The configured `[telemetry] listen` address.
        addr: std::net::SocketAddr,
        /// The bind error.
        source: std::io::Error,
    },
    /// A pipeline task panicked or was aborted: a bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether retrying the operation may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Config(_) | Error::Internal(_) | Error::Telemetry { .. } => false,
            Error::Mysql(e) => e.is_retriable(),
            Error::LocalLog(e) => e.is_retriable(),
            Error::Sink(e) => e.is_retriable(),
            Error::Sls(e) => e.is_retriable(),
        }
    }
}

impl Error {
    /// The component it comes from, for the `component` label of the error counter.
    pub fn component(&self) -> Component {
        match self {
            Error::Config(_) | Error::Internal(_) | Error::Telemetry { .. } => Component::Pipeline,
            Error::Mysql(_) => Component::Mysql,
            Error::LocalLog(_) => Component::LocalLog,
            Error::Sink(e) => e.component(),
            Error::Sls(_) => Component::Sls,
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(format!("task failed: {e}"))
    }
}
