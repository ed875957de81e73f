//! Errors of the HDFS sink.

use std::time::Duration;

use hdfs_native::HdfsError;

/// Java exceptions of the NameNode that no retry fixes.
const DEFINITE_REMOTE_EXCEPTIONS: &[&str] = &[
    "AccessControlException",
    "InvalidPathException",
    "ParentNotDirectoryException",
    "UnresolvedPathException",
    "PathIsNotDirectoryException",
    "FileAlreadyExistsException",
];

/// A failure of the HDFS sink.
#[derive(Debug, thiserror::Error)]
pub enum HdfsSinkError {
    /// An HDFS call failed.
    #[error("hdfs sink: {action} {path}: {source}")]
    Hdfs {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: String,
        /// The client's error.
        #[source]
        source: HdfsError,
    },
    /// An HDFS call did not answer in time (`op_timeout`).
    #[error("hdfs sink: {action} {path}: no answer after {after:?}")]
    Timeout {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: String,
        /// The timeout.
        after: Duration,
    },
    /// Compressing a file body failed.
    #[error("hdfs sink: compressing shard {shard} range [{start}, {end}): {source}")]
    Compress {
        /// Transport shard.
        shard: usize,
        /// Range start.
        start: u64,
        /// Range end.
        end: u64,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Transient failures lasted longer than `give_up_after`.
    #[error(
        "hdfs sink: giving up on shard {shard} range [{start}, {end}) after failing for \
         {failing_for:?} (give_up_after): {last}"
    )]
    GaveUp {
        /// Transport shard.
        shard: usize,
        /// Range start.
        start: u64,
        /// Range end.
        end: u64,
        /// How long the failures lasted.
        failing_for: Duration,
        /// The last failure.
        last: Box<HdfsSinkError>,
    },
    /// A task of the sink panicked: a bug.
    #[error("hdfs sink: task failed: {0}")]
    Task(String),
    /// The client could not be built from the configuration.
    #[error("hdfs sink: connecting to {url}: {source}")]
    Setup {
        /// The configured URL (or `fs.defaultFS`).
        url: String,
        /// The client's error.
        #[source]
        source: HdfsError,
    },
}

impl HdfsSinkError {
    pub(crate) fn at(action: &'static str, path: &str) -> impl FnOnce(HdfsError) -> Self {
        let path = path.to_owned();
        move |source| HdfsSinkError::Hdfs {
            action,
            path,
            source,
        }
    }

    /// Whether a retry may succeed: an unreachable or restarting NameNode or DataNode, a hung
    /// call, a NameNode in safe mode or on standby; not a refused permission, an invalid path
    /// or a failed authentication.
    pub fn is_retriable(&self) -> bool {
        match self {
            HdfsSinkError::Hdfs { source, .. } => hdfs_error_is_retriable(source),
            HdfsSinkError::Timeout { .. } => true,
            HdfsSinkError::Compress { .. }
            | HdfsSinkError::GaveUp { .. }
            | HdfsSinkError::Task(_)
            | HdfsSinkError::Setup { .. } => false,
        }
    }
}

/// Transient vs definite, for an error of the `hdfs-native` client.
pub fn hdfs_error_is_retriable(e: &HdfsError) -> bool {
    match e {
        HdfsError::IOError(_)
        | HdfsError::DataTransferError(_)
        | HdfsError::ChecksumError
        | HdfsError::AlreadyExists(_)
        | HdfsError::OperationFailed(_)
        | HdfsError::FileNotFound(_)
        | HdfsError::BlocksNotFound(_)
        | HdfsError::InvalidRPCResponse(_) => true,
        HdfsError::RPCError(class, _) => !DEFINITE_REMOTE_EXCEPTIONS
            .iter()
            .any(|definite| class.ends_with(definite)),
        _ => false,
    }
}
