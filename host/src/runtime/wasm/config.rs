//! `[[transform]]` entries of the pipeline config, and `wproc run --transform`.
//!
//! ```toml
//! [[transform]]
//! path = "transforms/filter.wasm"
//! name = "only-shop"                 # default: the file stem
//! config = { tables = ["shop.*"] }   # a string is passed as is, a table as JSON text
//! deadline = "2s"                    # CPU deadline per batch
//! memory = "64MiB"                   # memory cap of the instance
//! on_error = "dead-letter"           # fail (default) | skip | dead-letter
//! dead_letter_dir = "wproc-dead"
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::engine::default_cache_dir;
use super::limits::{DEFAULT_DEADLINE, Limits, parse_size};
use crate::config::InvalidField;

const DEFAULT_MEMORY: &str = "64MiB";

/// What happens to a batch a transform fails on (trap, deadline, memory cap, returned error,
/// invalid output), and to events it rejects one by one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorPolicy {
    /// Stop the pipeline; nothing past the previous batch is committed.
    #[default]
    Fail,
    /// Log and count; the batch's range commits without output (rejected events are dropped).
    Skip,
    /// Write the failed batch's events (or the rejected events) and the error as JSON Lines
    /// under `dead_letter_dir`, durably, then commit as `skip` does.
    DeadLetter,
}

/// One `[[transform]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformConfig {
    /// The component (`.wasm`, built for `wasm32-wasip2`).
    pub path: PathBuf,
    /// Name in logs, errors and dead-letter paths. Default: the file name without `.wasm`.
    #[serde(default)]
    pub name: Option<String>,
    /// Passed to the transform's `init`: a string as is, a table or array as JSON text.
    /// `${ENV}` works here as everywhere in the file (for secrets such as a hashing salt).
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// CPU deadline of one call (`init` or one batch). Default `2s`.
    #[serde(default = "default_deadline", with = "humantime_serde")]
    pub deadline: Duration,
    /// Memory cap of the instance, e.g. `64MiB` (the default).
    #[serde(default = "default_memory")]
    pub memory: String,
    /// Error policy: `fail` (default), `skip` or `dead-letter`.
    #[serde(default)]
    pub on_error: ErrorPolicy,
    /// Directory for dead letters; required with `on_error = "dead-letter"`.
    #[serde(default)]
    pub dead_letter_dir: Option<PathBuf>,
    /// Directory of compiled components. Default `$WPROC_COMPONENT_CACHE`, else
    /// `~/.cache/wproc/components`.
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
}

const fn default_deadline() -> Duration {
    DEFAULT_DEADLINE
}

fn default_memory() -> String {
    DEFAULT_MEMORY.to_owned()
}

impl TransformConfig {
    /// An entry with defaults for a component path (what `--transform FILE` gives).
    pub fn for_path(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            name: None,
            config: None,
            deadline: DEFAULT_DEADLINE,
            memory: DEFAULT_MEMORY.to_owned(),
            on_error: ErrorPolicy::Fail,
            dead_letter_dir: None,
            cache_dir: None,
        }
    }

    /// Checks the values and resolves defaults; `field` is the entry's path, e.g. `transform[0]`.
    pub fn validate(&self, field: &str) -> Result<TransformSettings, InvalidField> {
        let invalid =
            |name: &str, message: String| InvalidField::new(format!("{field}.{name}"), message);
        let memory_bytes = parse_size(&self.memory).map_err(|m| invalid("memory", m))?;
        if memory_bytes < 2 << 20 {
            return Err(invalid("memory", "must be at least 2MiB".into()));
        }
        if self.deadline.is_zero() {
            return Err(invalid("deadline", "must be more than zero".into()));
        }
        if self.on_error == ErrorPolicy::DeadLetter && self.dead_letter_dir.is_none() {
            return Err(invalid(
                "dead_letter_dir",
                "required with on_error = \"dead-letter\"".into(),
            ));
        }
        let name = match &self.name {
            Some(n) if n.is_empty() || n.contains(['/', '\\']) => {
                return Err(invalid("name", "must be non-empty, without slashes".into()));
            }
            Some(n) => n.clone(),
            None => self
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid("path", "names no file".into()))?,
        };
        let init_config = match &self.config {
            None => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        Ok(TransformSettings {
            name: name.into(),
            path: self.path.clone(),
            init_config,
            limits: Limits {
                deadline: self.deadline,
                memory_bytes,
            },
            policy: self.on_error,
            dead_letter_dir: self.dead_letter_dir.clone(),
            cache_dir: self.cache_dir.clone().unwrap_or_else(default_cache_dir),
        })
    }
}

/// A validated transform entry.
#[derive(Clone, Debug)]
pub struct TransformSettings {
    /// Name in logs, errors and dead-letter paths.
    pub name: Arc<str>,
    /// The component.
    pub path: PathBuf,
    /// The string passed to `init`.
    pub init_config: String,
    /// CPU deadline and memory cap.
    pub limits: Limits,
    /// The error policy.
    pub policy: ErrorPolicy,
    /// Where dead letters go (set when the policy is `dead-letter`).
    pub dead_letter_dir: Option<PathBuf>,
    /// Directory of compiled components.
    pub cache_dir: PathBuf,
}

/// Parses `wproc run --transform PATH[=CONFIG_FILE]`: the init config is read from a file, so
/// no secret is ever written on the command line.
pub fn parse_cli_transform(arg: &str) -> Result<TransformConfig, String> {
    let (path, config_file) = match arg.split_once('=') {
        Some((p, c)) => (p, Some(c)),
        None => (arg, None),
    };
    if path.is_empty() {
        return Err(format!("--transform {arg:?}: no component path"));
    }
    let mut t = TransformConfig::for_path(path);
    if let Some(file) = config_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("--transform {arg:?}: cannot read config file {file}: {e}"))?;
        t.config = Some(serde_json::Value::String(text.trim_end().to_owned()));
    }
    Ok(t)
}
