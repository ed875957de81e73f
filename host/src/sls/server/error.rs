//! Errors of the local server: API errors answered to clients, and startup failures.

use std::path::PathBuf;

/// An error answered to the client as `{"errorCode","errorMessage"}` with an HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `errorCode`.
    pub code: String,
    /// `errorMessage`.
    pub message: String,
}

impl ApiError {
    /// An error.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
        }
    }

    /// 400 ParameterInvalid.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(400, "ParameterInvalid", message)
    }

    /// 404 ProjectNotExist.
    pub fn no_project(project: &str) -> Self {
        Self::new(
            404,
            "ProjectNotExist",
            format!("The Project does not exist : {project}"),
        )
    }

    /// 404 LogStoreNotExist.
    pub fn no_logstore(logstore: &str) -> Self {
        Self::new(
            404,
            "LogStoreNotExist",
            format!("logstore {logstore} does not exist"),
        )
    }

    /// 400 ShardNotExist.
    pub fn no_shard(shard: &str) -> Self {
        Self::new(
            400,
            "ShardNotExist",
            format!("shard {shard} does not exist"),
        )
    }

    /// 500 InternalServerError (storage failures).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalServerError", message)
    }
}

/// The server could not start or its storage failed.
#[derive(Debug, thiserror::Error)]
pub enum SlsServerError {
    /// Reading or writing the data directory failed.
    #[error("SLS server storage {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A metadata file is not valid JSON.
    #[error("SLS server storage {path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The configuration is invalid.
    #[error("SLS server configuration: {0}")]
    Config(String),
    /// Binding the listen address failed.
    #[error("SLS server cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

impl SlsServerError {
    /// Storage I/O may be transient; corrupt metadata and bad config are not.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            SlsServerError::Io { .. } | SlsServerError::Bind { .. }
        )
    }
}

impl From<SlsServerError> for ApiError {
    fn from(e: SlsServerError) -> Self {
        ApiError::internal(e.to_string())
    }
}
