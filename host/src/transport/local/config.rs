//! `[transport.local]` configuration.

use std::num::NonZeroU32;
use std::path::PathBuf;

use serde::Deserialize;

use crate::config::InvalidField;

const DEFAULT_DIR: &str = "wproc-data/log";
const DEFAULT_SHARDS: u32 = 2;
const DEFAULT_SEGMENT_BYTES: u64 = 128 * 1024 * 1024;
const DEFAULT_GROUP: &str = "wproc";

/// `[transport.local]`: the embedded durable log.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalLogConfig {
    /// Directory of the log. Default `wproc-data/log`.
    #[serde(default = "default_dir")]
    pub dir: PathBuf,
    /// Number of shards, fixed when the log is created; a table's changes always go to the same
    /// shard, so per-table order is kept. Default 2.
    #[serde(default = "default_shards")]
    pub shards: NonZeroU32,
    /// Size at which a shard starts a new segment file, in bytes. Default 134217728 (128 MiB).
    #[serde(default = "default_segment_bytes")]
    pub segment_bytes: u64,
    /// Consumer group name used by `wproc run`. Default `wproc`.
    #[serde(default = "default_group")]
    pub group: String,
    /// Keep segments that every consumer group has processed. Default false (delete them).
    #[serde(default)]
    pub retain_consumed: bool,
}

fn default_dir() -> PathBuf {
    PathBuf::from(DEFAULT_DIR)
}
const fn default_shards() -> NonZeroU32 {
    NonZeroU32::new(DEFAULT_SHARDS).expect("constant is non-zero")
}
const fn default_segment_bytes() -> u64 {
    DEFAULT_SEGMENT_BYTES
}
fn default_group() -> String {
    DEFAULT_GROUP.to_owned()
}

impl Default for LocalLogConfig {
    fn default() -> Self {
        Self {
            dir: default_dir(),
            shards: default_shards(),
            segment_bytes: DEFAULT_SEGMENT_BYTES,
            group: default_group(),
            retain_consumed: false,
        }
    }
}

impl LocalLogConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.segment_bytes < 4096 {
            return Err(InvalidField::new(
                "transport.local.segment_bytes",
                "must be >= 4096",
            ));
        }
        let valid = !self.group.is_empty()
            && self
                .group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && !self.group.starts_with('.');
        if !valid {
            return Err(InvalidField::new(
                "transport.local.group",
                "use letters, digits, '-', '_' and '.' (not first)",
            ));
        }
        Ok(())
    }
}
