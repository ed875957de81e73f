//! `[telemetry]` configuration.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::config::InvalidField;

/// `[telemetry]`: the HTTP endpoint for Prometheus and health checks.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Address of the HTTP endpoint serving `/metrics` (Prometheus/OpenMetrics text),
    /// `/health` and `/ready`, e.g. `"127.0.0.1:9184"` (the conventional wproc port);
    /// `"127.0.0.1:0"` picks a free port and logs it. Default: none, the endpoint is off (two
    /// wproc processes on one host, `capture` and `run`, would otherwise clash on one port).
    /// `--metrics-listen` sets it from the command line.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
}

impl TelemetryConfig {
    /// Checks the values (the address is checked by parsing).
    pub fn validate(&self) -> Result<(), InvalidField> {
        Ok(())
    }
}
