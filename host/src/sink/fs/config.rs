//! `[sink.files]` configuration.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::InvalidField;
use crate::sink::PathTemplate;
use crate::sink::batch_file::Compression;

const DEFAULT_DIR: &str = "wproc-out";
const DEFAULT_PATH: &str = "{db}/{table}/dt={date}";
const DEFAULT_MAX_EVENTS: usize = 100_000;
const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;
const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(1);

/// `[sink.files]`: JSON Lines files under a local directory.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesSinkConfig {
    /// Root directory of the output. Default `wproc-out`.
    #[serde(default = "default_dir")]
    pub dir: PathBuf,
    /// Directory of each file below `dir`: `{db}`, `{table}`, `{date}`, `{hour}`, `{route}`.
    /// Default `{db}/{table}/dt={date}`.
    #[serde(default = "default_path")]
    pub path: String,
    /// `none` (`.jsonl`), `gzip` (`.jsonl.gz`) or `zstd` (`.jsonl.zst`). Default `none`.
    #[serde(default)]
    pub compression: Compression,
    /// A batch (and so a file per partition) closes after this many events. Default 100000.
    #[serde(default = "default_max_events")]
    pub max_events: NonZeroUsize,
    /// … or after about this many bytes of input. Default 67108864 (64 MiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: NonZeroUsize,
    /// … or this long after its first event arrived: the landing latency. Default `1s`.
    #[serde(default = "default_max_wait", with = "humantime_serde")]
    pub max_wait: Duration,
}

fn default_dir() -> PathBuf {
    PathBuf::from(DEFAULT_DIR)
}
fn default_path() -> String {
    DEFAULT_PATH.to_owned()
}
const fn default_max_events() -> NonZeroUsize {
    NonZeroUsize::new(DEFAULT_MAX_EVENTS).expect("constant is non-zero")
}
const fn default_max_bytes() -> NonZeroUsize {
    NonZeroUsize::new(DEFAULT_MAX_BYTES).expect("constant is non-zero")
}
const fn default_max_wait() -> Duration {
    DEFAULT_MAX_WAIT
}

impl Default for FilesSinkConfig {
    fn default() -> Self {
        Self {
            dir: default_dir(),
            path: default_path(),
            compression: Compression::None,
            max_events: default_max_events(),
            max_bytes: default_max_bytes(),
            max_wait: DEFAULT_MAX_WAIT,
        }
    }
}

impl FilesSinkConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        PathTemplate::parse(&self.path).map_err(|m| InvalidField::new("sink.files.path", m))?;
        Ok(())
    }
}
