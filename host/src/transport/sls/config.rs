//! `[transport.sls]` and `[transport.sls.consumer]` configuration.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::{CredentialFields, InvalidField, Secret, alibaba_credentials_from};
use crate::sls::{Compression, Credentials, CursorFrom, SlsEndpoint};

use super::error::SlsTransportError;

const DEFAULT_STATE_DIR: &str = "wproc-data/sls";
/// The service's limit of logs per LogGroup.
pub const MAX_GROUP_LOGS: usize = 4096;
/// The service's limit of a LogGroup's raw size is 5 MB; stay well under it.
pub const MAX_GROUP_BYTES: usize = 4 << 20;
const DEFAULT_GROUP_BYTES: usize = 4 << 20;
const DEFAULT_GROUP: &str = "wproc";
const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(20);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_FETCH_COUNT: u32 = 100;
const DEFAULT_MAX_IN_FLIGHT: usize = 2;

/// `[transport.sls]`: Alibaba Cloud Log Service as the transport.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlsTransportConfig {
    /// The SLS endpoint: a region endpoint such as `cn-hangzhou.log.aliyuncs.com` (https unless
    /// written `http://…`), or a literal address such as `http://127.0.0.1:8080` (then the Host
    /// header is `{project}.127.0.0.1:8080`). Required.
    pub endpoint: String,
    /// The SLS project. Required.
    pub project: String,
    /// The logstore changes are written to and read from. Required.
    pub logstore: String,
    /// AccessKey id. When neither key is set here, `ALIBABA_CLOUD_ACCESS_KEY_ID`,
    /// `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and `ALIBABA_CLOUD_SECURITY_TOKEN` are read from the
    /// environment.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// AccessKey secret; write `"${ENV_VAR}"`, never the secret itself.
    #[serde(default)]
    pub access_key_secret: Option<Secret>,
    /// STS security token, for temporary credentials (`"${ENV_VAR}"`).
    #[serde(default)]
    pub security_token: Option<Secret>,
    /// LogGroup topic (`__topic__`). Default empty.
    #[serde(default)]
    pub topic: String,
    /// LogGroup source (`__source__`). Default: this machine's host name.
    #[serde(default)]
    pub source: Option<String>,
    /// Value of the `_host_` key of every log, as service_canal's `Host` (the MySQL host).
    /// Default: no `_host_` key.
    #[serde(default)]
    pub host: Option<String>,
    /// Compression of PutLogs bodies and PullLogs responses: `lz4` (default), `zstd`,
    /// `deflate` or `none`.
    #[serde(default)]
    pub compression: Compression,
    /// Most logs (rows) per LogGroup, 1 to 4096. Default 4096.
    #[serde(default = "default_group_logs")]
    pub max_group_logs: usize,
    /// Most raw bytes per LogGroup, 1 KiB to 4 MiB (the service's limit is 5 MB). Default
    /// 4194304 (4 MiB): fewer, larger PutLogs; each is one durable write on the service.
    #[serde(default = "default_group_bytes")]
    pub max_group_bytes: usize,
    /// Local directory of `wproc capture`'s state: the binlog checkpoint `capture.json`, which
    /// lives here because SLS has no place for it. Default `wproc-data/sls`.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// `[transport.sls.consumer]`: how `wproc run` reads the logstore.
    #[serde(default)]
    pub consumer: SlsConsumerConfig,
}

/// Where a shard starts when the consumer group has no checkpoint for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartFrom {
    /// The oldest data in the shard.
    Begin,
    /// Only data written after the consumer started.
    End,
    /// Data received at or after this time (unix seconds).
    Time(u32),
}

impl StartFrom {
    /// As a GetCursor argument.
    pub fn cursor_from(self) -> CursorFrom {
        match self {
            StartFrom::Begin => CursorFrom::Begin,
            StartFrom::End => CursorFrom::End,
            StartFrom::Time(t) => CursorFrom::Time(t),
        }
    }
}

impl<'de> Deserialize<'de> for StartFrom {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        match text.as_str() {
            "begin" => Ok(StartFrom::Begin),
            "end" => Ok(StartFrom::End),
            other => chrono::DateTime::parse_from_rfc3339(other)
                .ok()
                .and_then(|t| u32::try_from(t.timestamp()).ok())
                .map(StartFrom::Time)
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "start = {other:?}: expected \"begin\", \"end\" or an RFC 3339 time such as \"2026-12-01T00:00:00Z\""
                    ))
                }),
        }
    }
}

/// `[transport.sls.consumer]`: the consumer group `wproc run` joins.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlsConsumerConfig {
    /// Consumer group name; every `wproc run` of one group shares the shards. Default `wproc`.
    #[serde(default = "default_group")]
    pub group: String,
    /// This consumer's name, unique in the group. Default `{hostname}-{pid}`.
    #[serde(default)]
    pub name: Option<String>,
    /// Time between heartbeats. Default 20 s.
    #[serde(default = "default_heartbeat", with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    /// The group's timeout: a consumer without heartbeat for this long loses its shards to the
    /// others. Whole seconds, at least twice the heartbeat interval. Default 60 s.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Where a shard without checkpoint starts: `"begin"` (default), `"end"`, or an RFC 3339
    /// time such as `"2026-12-01T00:00:00Z"` (by the service's receive time).
    #[serde(default = "default_start")]
    pub start: StartFrom,
    /// LogGroups per PullLogs, 1 to 1000. Default 100.
    #[serde(default = "default_fetch_count")]
    pub fetch_count: u32,
    /// PullLogs results a shard worker holds ahead of the sink (read-ahead), 1 to 16. Default 2.
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
}

impl Default for SlsConsumerConfig {
    fn default() -> Self {
        Self {
            group: default_group(),
            name: None,
            heartbeat_interval: DEFAULT_HEARTBEAT,
            timeout: DEFAULT_TIMEOUT,
            start: StartFrom::Begin,
            fetch_count: DEFAULT_FETCH_COUNT,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

const fn default_group_logs() -> usize {
    MAX_GROUP_LOGS
}
const fn default_group_bytes() -> usize {
    DEFAULT_GROUP_BYTES
}
fn default_state_dir() -> PathBuf {
    PathBuf::from(DEFAULT_STATE_DIR)
}
fn default_group() -> String {
    DEFAULT_GROUP.to_owned()
}
const fn default_heartbeat() -> Duration {
    DEFAULT_HEARTBEAT
}
const fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}
const fn default_start() -> StartFrom {
    StartFrom::Begin
}
const fn default_fetch_count() -> u32 {
    DEFAULT_FETCH_COUNT
}
const fn default_max_in_flight() -> usize {
    DEFAULT_MAX_IN_FLIGHT
}

fn is_name(s: &str, extra: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(c))
}

impl SlsTransportConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        let f = |field: &str, message: &str| Err(InvalidField::new(field, message));
        if SlsEndpoint::parse(&self.endpoint).is_err() {
            return f(
                "transport.sls.endpoint",
                "expected a host such as cn-hangzhou.log.aliyuncs.com or http://HOST:PORT",
            );
        }
        if !is_name(&self.project, "-") {
            return f(
                "transport.sls.project",
                "use lower-case letters, digits and '-'",
            );
        }
        if !is_name(&self.logstore, "-_") {
            return f(
                "transport.sls.logstore",
                "use lower-case letters, digits, '-' and '_'",
            );
        }
        if self.access_key_id.is_some() != self.access_key_secret.is_some() {
            return f(
                "transport.sls.access_key_secret",
                "set both access_key_id and access_key_secret, or neither (then the ALIBABA_CLOUD_* environment variables are used)",
            );
        }
        if !(1..=MAX_GROUP_LOGS).contains(&self.max_group_logs) {
            return f("transport.sls.max_group_logs", "must be 1 to 4096");
        }
        if !(1024..=MAX_GROUP_BYTES).contains(&self.max_group_bytes) {
            return f("transport.sls.max_group_bytes", "must be 1024 to 4194304");
        }
        let c = &self.consumer;
        if !is_name(&c.group, "-_") {
            return f(
                "transport.sls.consumer.group",
                "use lower-case letters, digits, '-' and '_'",
            );
        }
        if c.name.as_deref().is_some_and(str::is_empty) {
            return f("transport.sls.consumer.name", "must not be empty");
        }
        if c.heartbeat_interval < Duration::from_millis(100) {
            return f(
                "transport.sls.consumer.heartbeat_interval",
                "must be at least 100ms",
            );
        }
        if c.timeout.subsec_nanos() != 0
            || c.timeout.as_secs() == 0
            || c.timeout < c.heartbeat_interval * 2
        {
            return f(
                "transport.sls.consumer.timeout",
                "must be whole seconds and at least twice the heartbeat interval",
            );
        }
        if !(1..=1000).contains(&c.fetch_count) {
            return f("transport.sls.consumer.fetch_count", "must be 1 to 1000");
        }
        if !(1..=16).contains(&c.max_in_flight) {
            return f("transport.sls.consumer.max_in_flight", "must be 1 to 16");
        }
        Ok(())
    }

    /// The credentials, resolved as every Alibaba Cloud section resolves them
    /// ([`crate::config::alibaba_credentials`]): from the file, else from the
    /// `ALIBABA_CLOUD_*` environment variables. `env` reads a variable.
    pub fn credentials(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Credentials, SlsTransportError> {
        let id = self.access_key_id.as_deref().map(Secret::new);
        let fields = CredentialFields {
            access_key_id: id.as_ref(),
            access_key_secret: self.access_key_secret.as_ref(),
            security_token: self.security_token.as_ref(),
        };
        let resolved = alibaba_credentials_from("transport.sls", fields, env)
            .map_err(|e| SlsTransportError::Config(format!("{}: {}", e.field, e.message)))?;
        Ok(Credentials {
            access_key_id: resolved.access_key_id.expose().to_owned(),
            access_key_secret: resolved.access_key_secret,
            security_token: resolved.security_token,
        })
    }

    /// The LogGroup source: configured, else the host name.
    pub fn source_name(&self) -> String {
        self.source.clone().unwrap_or_else(hostname)
    }

    /// The consumer name: configured, else `{hostname}-{pid}`.
    pub fn consumer_name(&self) -> String {
        self.consumer
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-{}", hostname(), std::process::id()))
    }
}

/// This machine's host name (`wproc` when it cannot be read).
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "wproc".to_owned())
}
