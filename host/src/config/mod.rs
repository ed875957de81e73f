//! The configuration file: TOML, versioned, with `${ENV}` substitution for secrets.
//!
//! ```toml
//! version = 1
//! [source.mysql]            # optional: without it `wproc run` only processes the transport
//! host = "127.0.0.1"
//! user = "wproc"
//! password = "${WPROC_MYSQL_PASSWORD}"
//! [transport.local]         # the default transport
//! dir = "wproc-data/log"
//! [sink.files]              # the default sink
//! dir = "wproc-out"
//! ```
//! Loading is parse-then-validate: [`load`] substitutes `${NAME}` from the environment (an unset
//! variable is an error naming it; `$${` writes a literal `${`), parses with unknown keys
//! rejected, then [`Config::validate`] checks the values. Every field has a default, documented on
//! the field, so an empty `[sink.files]` section is valid.

mod env;
mod secret;

use std::path::Path;

use serde::Deserialize;

pub use env::substitute_env;
pub use secret::Secret;

use crate::runtime::wasm::{TransformConfig, TransformSettings};
use crate::sink::SinkConfig;
use crate::source::SourceConfig;
use crate::transport::TransportConfig;

/// The only configuration version so far.
pub const CONFIG_VERSION: u32 = 1;

/// The whole configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Configuration format version; must be 1.
    pub version: u32,
    /// Where changes come from. Absent: `wproc run` only consumes the transport.
    #[serde(default)]
    pub source: Option<SourceConfig>,
    /// What carries changes from capture to processing. Default: the embedded local log.
    #[serde(default)]
    pub transport: TransportConfig,
    /// Where processed changes land. Default: local files under `wproc-out`.
    #[serde(default)]
    pub sink: SinkConfig,
    /// `[[transform]]` entries: WebAssembly transforms run over each batch before the sink,
    /// in this order (see `docs/transforms.md`). Default: none.
    #[serde(default, rename = "transform")]
    pub transforms: Vec<TransformConfig>,
}

/// A configuration that could not be loaded, with the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// `${NAME}` names an unset variable, or the syntax is broken.
    #[error("config file {path}: {message}")]
    Env {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// TOML syntax, an unknown key, or a value of the wrong type.
    #[error("config file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message, which names the key and line.
        source: Box<toml::de::Error>,
    },
    /// A value is out of its allowed range.
    #[error("config file {path}: `{field}`: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Dotted path of the field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// A field-level validation failure, before the file name is attached.
#[derive(Debug)]
pub struct InvalidField {
    /// Dotted path of the field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl InvalidField {
    /// A failure of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl Config {
    /// Parses configuration text (after environment substitution) and validates it.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let path = origin.to_owned();
        let text = substitute_env(text, |name| std::env::var(name).ok()).map_err(|message| {
            ConfigError::Env {
                path: path.clone(),
                message,
            }
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.clone(),
            source: Box::new(e),
        })?;
        config
            .validate()
            .map_err(|InvalidField { field, message }| ConfigError::Invalid {
                path,
                field,
                message,
            })?;
        Ok(config)
    }

    /// Checks values that parsing alone cannot.
    pub fn validate(&self) -> Result<(), InvalidField> {
        if self.version != CONFIG_VERSION {
            return Err(InvalidField::new(
                "version",
                format!(
                    "unsupported version {}, this wproc reads version 1",
                    self.version
                ),
            ));
        }
        if let Some(source) = &self.source {
            source.validate()?;
        }
        self.transport.validate()?;
        self.sink.validate()?;
        self.transform_settings()?;
        Ok(())
    }

    /// The validated `[[transform]]` entries, in order.
    pub fn transform_settings(&self) -> Result<Vec<TransformSettings>, InvalidField> {
        self.transforms
            .iter()
            .enumerate()
            .map(|(i, t)| t.validate(&format!("transform[{i}]")))
            .collect()
    }
}

/// Reads, substitutes, parses and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Config::from_toml(&text, &path.display().to_string())
}

#[cfg(test)]
mod tests;
