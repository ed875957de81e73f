//! `[source.mysql]` configuration.

use std::num::NonZeroUsize;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::filter::{Filter, FilterConfig};
use super::gtid::GtidState;
use crate::config::{InvalidField, Secret};
use crate::position::BinlogPosition;

const DEFAULT_PORT: u16 = 3306;
const DEFAULT_SERVER_ID: u32 = 4_170_001;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_BATCH_EVENTS: usize = 4096;
const DEFAULT_PASSWORD_ENV: &str = "WPROC_MYSQL_PASSWORD";

/// Where to start reading when there is no checkpoint yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartPosition {
    /// The oldest binlog the server still has.
    Earliest,
    /// The current end of the binlog: only changes made from now on.
    Latest,
    /// An exact position, `FILE:OFFSET`, at the start of a transaction.
    At(BinlogPosition),
    /// A GTID position, `gtid:SET`: a MySQL GTID set (`gtid:uuid:1-100`, the transactions
    /// already captured) or a MariaDB GTID position (`gtid:0-101-265`, the last transaction
    /// of each domain already captured). `gtid:` alone (MariaDB) starts at the oldest binlog.
    /// Capture started this way also resumes by GTID, so it survives a failover to another
    /// server whose binlog files differ.
    Gtid(GtidState),
}

impl<'de> Deserialize<'de> for StartPosition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.as_str() {
            "earliest" => Ok(StartPosition::Earliest),
            "latest" => Ok(StartPosition::Latest),
            other if other.starts_with("gtid:") => other["gtid:".len()..]
                .parse::<GtidState>()
                .map(StartPosition::Gtid)
                .map_err(serde::de::Error::custom),
            other => BinlogPosition::from_str(other)
                .map(StartPosition::At)
                .map_err(|e| {
                    serde::de::Error::custom(format!(
                        "{e}; or use \"earliest\", \"latest\" or \"gtid:...\""
                    ))
                }),
        }
    }
}

/// `[source.mysql]`: a MySQL or MariaDB server read as a replica.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MysqlSourceConfig {
    /// Server host name or address. Default `127.0.0.1`.
    #[serde(default = "default_host")]
    pub host: String,
    /// Server port. Default 3306.
    #[serde(default = "default_port")]
    pub port: u16,
    /// User with REPLICATION SLAVE and REPLICATION CLIENT (MariaDB: BINLOG MONITOR).
    pub user: String,
    /// Password. Write `"${SOME_VAR}"` to take it from the environment; when absent, the
    /// variable `WPROC_MYSQL_PASSWORD` is used if set, else no password.
    #[serde(default)]
    pub password: Option<Secret>,
    /// Replica server id; must differ from every other replica of the server.
    /// Default 4170001.
    #[serde(default = "default_server_id")]
    pub server_id: u32,
    /// Where to start when there is no checkpoint: `"earliest"`, `"latest"` (default),
    /// `"FILE:OFFSET"` or `"gtid:SET"` (MySQL `gtid:uuid:1-100`, MariaDB `gtid:0-101-265`).
    #[serde(default = "default_start")]
    pub start: StartPosition,
    /// Timeout for connecting. Default `10s`.
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Largest number of events in one batch handed to the transport; larger transactions are
    /// split. Default 4096.
    #[serde(default = "default_max_batch_events")]
    pub max_batch_events: NonZeroUsize,
    /// Which tables, operations and columns are captured. Default: everything.
    #[serde(default)]
    pub filter: FilterConfig,
}

fn default_host() -> String {
    "127.0.0.1".to_owned()
}
const fn default_port() -> u16 {
    DEFAULT_PORT
}
const fn default_server_id() -> u32 {
    DEFAULT_SERVER_ID
}
const fn default_start() -> StartPosition {
    StartPosition::Latest
}
const fn default_connect_timeout() -> Duration {
    DEFAULT_CONNECT_TIMEOUT
}
const fn default_max_batch_events() -> NonZeroUsize {
    NonZeroUsize::new(DEFAULT_MAX_BATCH_EVENTS).expect("constant is non-zero")
}

impl MysqlSourceConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.server_id == 0 {
            return Err(InvalidField::new("source.mysql.server_id", "must not be 0"));
        }
        if self.user.is_empty() {
            return Err(InvalidField::new("source.mysql.user", "must not be empty"));
        }
        Filter::compile(&self.filter)?;
        Ok(())
    }

    /// The password: the configured one, else `$WPROC_MYSQL_PASSWORD`.
    pub fn resolved_password(&self) -> Option<Secret> {
        self.password
            .clone()
            .or_else(|| std::env::var(DEFAULT_PASSWORD_ENV).ok().map(Secret::new))
    }
}
