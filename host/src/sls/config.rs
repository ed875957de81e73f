//! Client settings: where the service is, the credentials, and retry/timeout knobs.

use std::time::Duration;

use super::compress::Compression;
use super::error::SlsError;
use crate::config::Secret;

/// Default total attempts per call (the first one included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;
/// Default time budget per call, retries included.
pub const DEFAULT_MAX_ELAPSED: Duration = Duration::from_secs(120);
/// Default first backoff delay.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// Default backoff cap.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Default timeout of one HTTP attempt.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the service is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlsEndpoint {
    /// `http` or `https`.
    scheme: String,
    /// The endpoint host (and port), e.g. `cn-hangzhou.log.aliyuncs.com` or `sls.test:8080`.
    host: String,
    /// When set, connect here (`http://127.0.0.1:PORT`) and send `Host: {project}.{host}`.
    address: Option<String>,
}

impl SlsEndpoint {
    /// A cloud endpoint: `cn-hangzhou.log.aliyuncs.com` or `https://cn-hangzhou.log.aliyuncs.com`
    /// (http when the scheme is `http://`). Requests go to `{scheme}://{project}.{host}`.
    ///
    /// An endpoint whose host is an IP address or `localhost` is taken as a literal address (see
    /// [`SlsEndpoint::literal`]), with the Host header `{project}.{ip}:{port}`.
    pub fn parse(endpoint: &str) -> Result<Self, SlsError> {
        let (scheme, rest) = match endpoint.split_once("://") {
            Some((s, rest)) if s.eq_ignore_ascii_case("http") => ("http", rest),
            Some((s, rest)) if s.eq_ignore_ascii_case("https") => ("https", rest),
            Some((s, _)) => return Err(SlsError::Config(format!("unsupported scheme {s:?}"))),
            None => ("https", endpoint),
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(SlsError::Config(format!("invalid endpoint {endpoint:?}")));
        }
        let bare = host
            .rsplit_once(':')
            .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
            .map_or(host, |(h, _)| h);
        let is_literal = bare == "localhost"
            || bare.parse::<std::net::IpAddr>().is_ok()
            || bare
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::Ipv6Addr>()
                .is_ok();
        Ok(Self {
            scheme: scheme.into(),
            host: host.into(),
            address: is_literal.then(|| format!("{scheme}://{host}")),
        })
    }

    /// Connect to `address` (e.g. `http://127.0.0.1:8080`) and send `Host: {project}.{host}`:
    /// for a local server, or a cloud endpoint reached through a fixed address.
    pub fn literal(address: &str, host: &str) -> Result<Self, SlsError> {
        let parsed = Self::parse(address)?;
        Ok(Self {
            scheme: parsed.scheme.clone(),
            host: host.trim_end_matches('/').into(),
            address: Some(format!("{}://{}", parsed.scheme, parsed.host)),
        })
    }

    /// The URL prefix requests go to, and the Host header to set (when literal).
    pub(crate) fn base(&self, project: &str) -> (String, Option<String>) {
        match &self.address {
            Some(address) => (address.clone(), Some(format!("{project}.{}", self.host))),
            None => (format!("{}://{project}.{}", self.scheme, self.host), None),
        }
    }
}

impl std::str::FromStr for SlsEndpoint {
    type Err = SlsError;
    fn from_str(s: &str) -> Result<Self, SlsError> {
        Self::parse(s)
    }
}

/// An access key, optionally with an STS token.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The AccessKey id (not secret; it appears in the Authorization header).
    pub access_key_id: String,
    /// The AccessKey secret.
    pub access_key_secret: Secret,
    /// An STS security token (`x-acs-security-token`).
    pub security_token: Option<Secret>,
}

/// Knobs of the client.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Attempts per call, the first one included (1 = no retry).
    pub max_attempts: u32,
    /// Time budget per call, retries included.
    pub max_elapsed: Duration,
    /// First backoff delay.
    pub initial_backoff: Duration,
    /// Backoff cap.
    pub max_backoff: Duration,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Compression of PutLogs bodies.
    pub put_compression: Compression,
    /// Compression asked for on PullLogs (`Accept-Encoding`).
    pub pull_compression: Compression,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            max_elapsed: DEFAULT_MAX_ELAPSED,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            put_compression: Compression::Lz4,
            pull_compression: Compression::Lz4,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_cloud_or_literal() {
        let e = SlsEndpoint::parse("cn-hangzhou.log.aliyuncs.com").unwrap();
        assert_eq!(
            e.base("proj"),
            (
                "https://proj.cn-hangzhou.log.aliyuncs.com".to_string(),
                None
            )
        );
        let e = SlsEndpoint::parse("http://cn-hangzhou-intranet.log.aliyuncs.com/").unwrap();
        assert_eq!(
            e.base("p").0,
            "http://p.cn-hangzhou-intranet.log.aliyuncs.com"
        );
        let e = SlsEndpoint::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(
            e.base("proj"),
            (
                "http://127.0.0.1:8080".to_string(),
                Some("proj.127.0.0.1:8080".to_string())
            )
        );
        let e = SlsEndpoint::literal("http://127.0.0.1:9", "sls.test").unwrap();
        assert_eq!(e.base("p").1.as_deref(), Some("p.sls.test"));
        assert!(SlsEndpoint::parse("ftp://x").is_err());
        assert!(SlsEndpoint::parse("").is_err());
    }
}
