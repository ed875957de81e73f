//! The server's configuration file (TOML, `${ENV}` substituted like wproc's own config).
//!
//! ```toml
//! version = 1
//! [[access_keys]]
//! id = "wproc-test"
//! secret = "${SLS_TEST_SECRET}"
//! [[projects]]
//! name = "wproc"
//! logstores = [{ name = "binlog", shards = 4 }]
//! [[faults]]                  # optional: injected errors, also settable at run time
//! method = "POST"
//! path = "/shards/"
//! status = 503
//! code = "ServerBusy"
//! count = 2
//! ```

use serde::Deserialize;

use super::faults::FaultRule;
use crate::config::{Secret, substitute_env};

/// The only version so far.
pub const SERVER_CONFIG_VERSION: u32 = 1;
/// Shards of a logstore when not given.
pub const DEFAULT_SHARDS: u32 = 2;
/// Largest shard count of one logstore.
pub const MAX_SHARDS: u32 = 256;

/// `wproc sls-server --config FILE`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Format version; must be 1.
    #[serde(default = "default_version")]
    pub version: u32,
    /// Keys whose v1 signatures are accepted. Empty: requests are not authenticated at all
    /// (any signature, or none, is accepted).
    #[serde(default)]
    pub access_keys: Vec<AccessKeyConfig>,
    /// Projects and logstores created at start (existing ones keep their data; a configured
    /// shard count only applies when the logstore is created).
    #[serde(default)]
    pub projects: Vec<ProjectConfig>,
    /// Fault rules active from the start.
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    /// Reject requests whose `Date` is more than 15 minutes off (`RequestTimeTooSkewed`).
    #[serde(default = "default_true")]
    pub check_date: bool,
    /// Per-shard limit of PutLogs calls per second; above it PutLogs answers 403
    /// `ShardWriteQuotaExceed`. 0: unlimited (the real service allows 500).
    #[serde(default)]
    pub shard_write_qps: u32,
}

const fn default_version() -> u32 {
    SERVER_CONFIG_VERSION
}

const fn default_true() -> bool {
    true
}

const fn default_shards() -> u32 {
    DEFAULT_SHARDS
}

/// An access key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessKeyConfig {
    /// The AccessKey id.
    pub id: String,
    /// The AccessKey secret (use `${ENV}`).
    pub secret: Secret,
    /// When set, requests with this key must carry this STS token (`x-acs-security-token`).
    #[serde(default)]
    pub security_token: Option<Secret>,
}

/// A project and its logstores.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Project name (the first label of the Host header).
    pub name: String,
    /// Its logstores.
    #[serde(default)]
    pub logstores: Vec<LogstoreConfig>,
}

/// A logstore.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogstoreConfig {
    /// Logstore name.
    pub name: String,
    /// Shard count, 1..=256; the MD5 key range is split evenly.
    #[serde(default = "default_shards")]
    pub shards: u32,
}

/// Whether `name` is a valid project or logstore name (`[a-z0-9_-]`, 2..=63, as the service).
pub fn valid_name(name: &str) -> bool {
    (2..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

impl ServerConfig {
    /// Parses (after `${ENV}` substitution) and validates.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let text = substitute_env(text, |name| std::env::var(name).ok())?;
        let config: ServerConfig = toml::from_str(&text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// Checks names, shard counts and the version.
    pub fn validate(&self) -> Result<(), String> {
        if self.version != SERVER_CONFIG_VERSION {
            return Err(format!("`version`: unsupported version {}", self.version));
        }
        for p in &self.projects {
            if !valid_name(&p.name) || p.name.contains('_') {
                return Err(format!(
                    "`projects.name`: invalid project name {:?}",
                    p.name
                ));
            }
            for l in &p.logstores {
                if !valid_name(&l.name) {
                    return Err(format!(
                        "`projects.logstores.name`: invalid name {:?}",
                        l.name
                    ));
                }
                if !(1..=MAX_SHARDS).contains(&l.shards) {
                    return Err(format!(
                        "`projects.logstores.shards`: {} is not in 1..={MAX_SHARDS}",
                        l.shards
                    ));
                }
            }
        }
        for f in &self.faults {
            f.validate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let text = include_str!("config.rs")
            .split("```toml\n")
            .nth(1)
            .and_then(|s| s.split("//! ```").next())
            .unwrap()
            .lines()
            .map(|l| l.trim_start_matches("//!").trim_start())
            .collect::<Vec<_>>()
            .join("\n")
            .replace("${SLS_TEST_SECRET}", "s");
        let c = ServerConfig::from_toml(&text).unwrap();
        assert_eq!(c.projects[0].logstores[0].shards, 4);
        assert_eq!(c.access_keys[0].secret.expose(), "s");
        assert_eq!(c.faults[0].count, Some(2));
        assert!(ServerConfig::from_toml("version = 1\nbogus = 1").is_err());
        assert!(ServerConfig::from_toml("[[projects]]\nname = \"P\"").is_err());
    }
}
