//! `SlsError`: what the service (or the network) said, with enough context to act on it.

use std::time::Duration;

/// Error codes of the service that mean "slow down": retriable.
const THROTTLING_CODES: &[&str] = &[
    "ServerBusy",
    "WriteQuotaExceed",
    "ShardWriteQuotaExceed",
    "ReadQuotaExceed",
    "ShardReadQuotaExceed",
    "ProjectQuotaExceed",
    "ExceedQuota",
    "RequestTimeout",
    "InternalServerError",
];

/// A failed SLS call.
#[derive(Debug, thiserror::Error)]
pub enum SlsError {
    /// The service answered with an error status.
    #[error("SLS {operation} failed: HTTP {status} {code}: {message} (request id {request_id})")]
    Service {
        /// The call, e.g. `PutLogs logstore=s shard=2`.
        operation: String,
        /// HTTP status.
        status: u16,
        /// `errorCode` of the JSON body (or `HttpStatus<N>` when the body was not JSON).
        code: String,
        /// `errorMessage` of the JSON body (or the start of the body).
        message: String,
        /// `x-log-requestid` (empty when absent).
        request_id: String,
    },
    /// Connecting, sending or receiving failed.
    #[error("SLS {operation}: network error: {source}")]
    Network {
        /// The call.
        operation: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The call did not finish within the client's total time budget.
    #[error(
        "SLS {operation}: gave up after {attempts} attempts in {elapsed:?}; last error: {last}"
    )]
    GaveUp {
        /// The call.
        operation: String,
        /// Attempts made.
        attempts: u32,
        /// Time spent.
        elapsed: Duration,
        /// The last error.
        last: Box<SlsError>,
    },
    /// The response could not be understood (bad JSON, corrupt compression, bad protobuf).
    #[error("SLS {operation}: bad response (request id {request_id}): {reason}")]
    BadResponse {
        /// The call.
        operation: String,
        /// `x-log-requestid`.
        request_id: String,
        /// What was wrong.
        reason: String,
    },
    /// The client was configured wrongly (bad endpoint, header value, name).
    #[error("SLS client configuration: {0}")]
    Config(String),
}

impl SlsError {
    /// Whether retrying may succeed: 5xx, throttling (`*QuotaExceed`, `ServerBusy`) and network
    /// errors are transient; every other 4xx is definite. [`SlsError::GaveUp`] is as retriable as
    /// its last error.
    pub fn is_retriable(&self) -> bool {
        match self {
            SlsError::Service { status, code, .. } => {
                *status >= 500 || THROTTLING_CODES.contains(&code.as_str())
            }
            SlsError::Network { .. } => true,
            SlsError::BadResponse { .. } => true,
            // The client's own budget ran out on a transient error: a caller that must not drop
            // data (the producer) may wait and call again.
            SlsError::GaveUp { last, .. } => last.is_retriable(),
            SlsError::Config(_) => false,
        }
    }

    /// The service's `errorCode`, when the service answered (also through [`SlsError::GaveUp`]).
    pub fn code(&self) -> Option<&str> {
        match self {
            SlsError::Service { code, .. } => Some(code),
            SlsError::GaveUp { last, .. } => last.code(),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            SlsError::Service { status, .. } => Some(*status),
            SlsError::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }

    /// The request id, when the service answered.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            SlsError::Service { request_id, .. } | SlsError::BadResponse { request_id, .. } => {
                Some(request_id)
            }
            SlsError::GaveUp { last, .. } => last.request_id(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(status: u16, code: &str) -> SlsError {
        SlsError::Service {
            operation: "PutLogs".into(),
            status,
            code: code.into(),
            message: "m".into(),
            request_id: "RID".into(),
        }
    }

    #[test]
    fn classifies_statuses_and_codes() {
        assert!(service(503, "ServerBusy").is_retriable());
        assert!(service(500, "InternalServerError").is_retriable());
        assert!(service(403, "ShardWriteQuotaExceed").is_retriable());
        assert!(service(403, "WriteQuotaExceed").is_retriable());
        assert!(!service(400, "ParameterInvalid").is_retriable());
        assert!(!service(401, "SignatureNotMatch").is_retriable());
        assert!(!service(404, "LogStoreNotExist").is_retriable());
        let text = service(400, "InvalidCursor").to_string();
        assert!(text.contains("InvalidCursor") && text.contains("RID") && text.contains("m"));
    }
}
