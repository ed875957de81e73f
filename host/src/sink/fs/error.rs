//! Errors of the files sink.

use std::path::PathBuf;

/// A failure of the files sink.
#[derive(Debug, thiserror::Error)]
#[error("files sink: {action} {path}: {source}")]
pub struct FilesSinkError {
    /// What was being done.
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The error.
    #[source]
    pub source: std::io::Error,
}

impl FilesSinkError {
    pub(crate) fn at(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| FilesSinkError {
            action,
            path,
            source,
        }
    }

    /// Whether a retry may succeed (not for permission or invalid-path errors).
    pub fn is_retriable(&self) -> bool {
        !matches!(
            self.source.kind(),
            std::io::ErrorKind::PermissionDenied
                | std::io::ErrorKind::InvalidInput
                | std::io::ErrorKind::InvalidFilename
                | std::io::ErrorKind::ReadOnlyFilesystem
        )
    }
}
