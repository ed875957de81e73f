//! `[sink.hdfs]` configuration.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::InvalidField;
use crate::sink::PathTemplate;
use crate::sink::batch_file::Compression;

const DEFAULT_DIR: &str = "/mysqlbinlog";
const DEFAULT_PATH: &str = "{db}/{table}/dt={date}";
const DEFAULT_MAX_EVENTS: usize = 500_000;
/// One HDFS block (128 MiB) of input.
const DEFAULT_MAX_BYTES: usize = 128 * 1024 * 1024;
/// Ten seconds: rows land within seconds, and a busy partition gets at most 8,640 files a day.
const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(10);
const DEFAULT_MAX_OPEN_FILES: usize = 16;
const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_GIVE_UP_AFTER: Duration = Duration::from_secs(600);

/// `[sink.hdfs]`: JSON Lines files in HDFS, committed exactly once.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HdfsSinkConfig {
    /// The file system: `hdfs://host:port` of a NameNode, or `hdfs://nameservice` of an HA
    /// pair described by `core-site.xml`/`hdfs-site.xml` in `config_dir` (or
    /// `$HADOOP_CONF_DIR`). Default: `fs.defaultFS` of those files.
    #[serde(default)]
    pub url: Option<String>,
    /// Directory holding `core-site.xml` and `hdfs-site.xml`. Default `$HADOOP_CONF_DIR`, else
    /// `$HADOOP_HOME/etc/hadoop`.
    #[serde(default)]
    pub config_dir: Option<PathBuf>,
    /// The HDFS user the files belong to (simple authentication). Default
    /// `$HADOOP_USER_NAME`, else the login user; with Kerberos, the principal.
    #[serde(default)]
    pub user: Option<String>,
    /// Kerberos principal, e.g. `wproc/host@REALM`. Kerberos needs `libgssapi_krb5.so.2` at run
    /// time and `hadoop.security.authentication = kerberos` in the Hadoop configuration.
    #[serde(default)]
    pub kerberos_principal: Option<String>,
    /// Kerberos keytab file for `kerberos_principal`.
    #[serde(default)]
    pub kerberos_keytab: Option<PathBuf>,
    /// Kerberos credential cache (instead of a keytab), e.g. after `kinit`.
    #[serde(default)]
    pub kerberos_cache: Option<PathBuf>,
    /// Absolute root directory of the output in HDFS. Default `/mysqlbinlog`.
    #[serde(default = "default_dir")]
    pub dir: String,
    /// Directory of each file below `dir`: `{db}`, `{table}`, `{date}`, `{hour}`, `{route}`.
    /// Default `{db}/{table}/dt={date}`.
    #[serde(default = "default_path")]
    pub path: String,
    /// `none` (`.jsonl`), `gzip` (`.jsonl.gz`) or `zstd` (`.jsonl.zst`). Default `none`.
    #[serde(default)]
    pub compression: Compression,
    /// A batch (and so a file per partition) closes after this many events. Default 500000.
    #[serde(default = "default_max_events")]
    pub max_events: NonZeroUsize,
    /// … or after about this many bytes of input. Default 134217728 (128 MiB, one block).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: NonZeroUsize,
    /// … or this long after its first event arrived: the landing latency. Default `10s`, a
    /// balance between latency and the NameNode's count of small files.
    #[serde(default = "default_max_wait", with = "humantime_serde")]
    pub max_wait: Duration,
    /// Files written at the same time, over all shards. Default 16.
    #[serde(default = "default_max_open_files")]
    pub max_open_files: NonZeroUsize,
    /// Longest wait for one HDFS call (create, a write of up to 8 MiB, sync, close, rename);
    /// a hung call counts as a transient failure. Default `60s`.
    #[serde(default = "default_op_timeout", with = "humantime_serde")]
    pub op_timeout: Duration,
    /// How long a continuing outage is retried before it becomes a definite error that stops
    /// the pipeline. Default `10m`.
    #[serde(default = "default_give_up_after", with = "humantime_serde")]
    pub give_up_after: Duration,
}

fn default_dir() -> String {
    DEFAULT_DIR.to_owned()
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
const fn default_max_open_files() -> NonZeroUsize {
    NonZeroUsize::new(DEFAULT_MAX_OPEN_FILES).expect("constant is non-zero")
}
const fn default_op_timeout() -> Duration {
    DEFAULT_OP_TIMEOUT
}
const fn default_give_up_after() -> Duration {
    DEFAULT_GIVE_UP_AFTER
}

impl Default for HdfsSinkConfig {
    fn default() -> Self {
        Self {
            url: None,
            config_dir: None,
            user: None,
            kerberos_principal: None,
            kerberos_keytab: None,
            kerberos_cache: None,
            dir: default_dir(),
            path: default_path(),
            compression: Compression::None,
            max_events: default_max_events(),
            max_bytes: default_max_bytes(),
            max_wait: DEFAULT_MAX_WAIT,
            max_open_files: default_max_open_files(),
            op_timeout: DEFAULT_OP_TIMEOUT,
            give_up_after: DEFAULT_GIVE_UP_AFTER,
        }
    }
}

impl HdfsSinkConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<(), InvalidField> {
        PathTemplate::parse(&self.path).map_err(|m| InvalidField::new("sink.hdfs.path", m))?;
        if !self.dir.starts_with('/') || self.dir.split('/').any(|s| s == "..") {
            return Err(InvalidField::new(
                "sink.hdfs.dir",
                format!("{:?} must be an absolute path without `..`", self.dir),
            ));
        }
        if let Some(url) = &self.url
            && !(url.starts_with("hdfs://") || url.starts_with("viewfs://"))
        {
            return Err(InvalidField::new(
                "sink.hdfs.url",
                format!("{url:?} must start with hdfs:// or viewfs://"),
            ));
        }
        if self.op_timeout.is_zero() {
            return Err(InvalidField::new("sink.hdfs.op_timeout", "must not be 0"));
        }
        Ok(())
    }
}
