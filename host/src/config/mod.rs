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

mod alibaba;
mod env;
pub(crate) mod overrides;
mod secret;

use std::path::Path;

use serde::Deserialize;

pub use alibaba::{
    AlibabaCredentials, CredentialFields, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET,
    ENV_SECURITY_TOKEN, alibaba_credentials, alibaba_credentials_from,
};
pub use env::substitute_env;
pub use overrides::Override;
pub use secret::Secret;

use crate::pipeline::shutdown::ShutdownConfig;
use crate::sink::SinkConfig;
use crate::source::SourceConfig;
use crate::telemetry::TelemetryConfig;
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
    /// The metrics and health endpoint. Default: off.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// Draining on SIGINT/SIGTERM. Default: `drain_timeout = "30s"`.
    #[serde(default)]
    pub shutdown: ShutdownConfig,
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
    #[error("config file {path}: {}{source}", if key.is_empty() { String::new() } else { format!("`{key}`: ") })]
    Parse {
        /// The file.
        path: String,
        /// Dotted path of the key at fault (`sink.files.max_evnts`), when known.
        key: String,
        /// The parser's message, which names the key and line.
        source: Box<toml::de::Error>,
    },
    /// A command-line override does not fit the file's structure.
    #[error("config file {path}: {message}")]
    Override {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
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
        Self::from_toml_with(text, origin, &[])
    }

    /// [`Config::from_toml`] with command-line overrides applied to the text's values before
    /// parsing (see [`Override`]).
    pub fn from_toml_with(
        text: &str,
        origin: &str,
        overrides: &[Override],
    ) -> Result<Self, ConfigError> {
        let path = origin.to_owned();
        let text = substitute_env(text, |name| std::env::var(name).ok()).map_err(|message| {
            ConfigError::Env {
                path: path.clone(),
                message,
            }
        })?;
        let parse_error = |e| ConfigError::Parse {
            path: path.clone(),
            key: String::new(),
            source: Box::new(e),
        };
        let keyed_error = |e: serde_path_to_error::Error<toml::de::Error>| {
            let key = e.path().to_string();
            ConfigError::Parse {
                path: path.clone(),
                key: if key == "." { String::new() } else { key },
                source: Box::new(e.into_inner()),
            }
        };
        let config: Config = if overrides.is_empty() {
            // Straight from the text, so that errors name the line as well as the key.
            let deserializer = toml::Deserializer::parse(&text).map_err(parse_error)?;
            serde_path_to_error::deserialize(deserializer).map_err(keyed_error)?
        } else {
            let mut table: toml::Table = toml::from_str(&text).map_err(parse_error)?;
            for o in overrides {
                overrides::apply(&mut table, o).map_err(|message| ConfigError::Override {
                    path: path.clone(),
                    message,
                })?;
            }
            serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(keyed_error)?
        };
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
        self.telemetry.validate()?;
        self.shutdown.validate()?;
        Ok(())
    }
}

/// Reads, substitutes, parses and validates a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    load_with_overrides(path, &[])
}

/// [`load`] with command-line overrides (see [`Override`]).
pub fn load_with_overrides(path: &Path, overrides: &[Override]) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Config::from_toml_with(&text, &path.display().to_string(), overrides)
}

#[cfg(test)]
mod tests;
