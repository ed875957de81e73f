//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Override;
use crate::telemetry::LogFormat;

/// MySQL/MariaDB binlog to HDFS or files, with WebAssembly transforms.
///
/// wproc reads the binlog of a MySQL or MariaDB server as a replica, carries the changes through
/// a durable transport (the embedded local log, or Alibaba Cloud SLS), runs users' WebAssembly
/// transforms on them and lands them exactly once as JSON Lines files (local or HDFS).
/// Configuration is a TOML file (`wproc validate FILE` checks one); `docs/configuration.md`
/// lists every field and its default.
#[derive(Debug, Parser)]
#[command(name = "wproc", version, about)]
pub struct Cli {
    /// More log output (-v debug, -vv trace).
    ///
    /// Counts against -q. The environment variable RUST_LOG, when set, overrides both (for
    /// example RUST_LOG=wproc=debug,mysql_async=info).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less log output (-q warnings only, -qq errors only).
    ///
    /// Counts against -v; RUST_LOG overrides both.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub quiet: u8,
    /// Log format on stderr: text or json.
    ///
    /// `text` is for people; `json` writes one JSON object per line (fields flattened:
    /// timestamp, level, target, message and the event's fields) for log collectors, and turns
    /// off the status line and progress bars.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    /// Never draw the status line or progress bars.
    ///
    /// They are drawn on stderr only when stderr is a terminal and the log format is text: a
    /// status line with rows/s and replication lag during `run` and `capture`, a progress bar
    /// during `binlog dump`.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline: capture (when a source is configured and the transport is local) and
    /// processing into the sink, until SIGINT or SIGTERM.
    ///
    /// The first SIGINT/SIGTERM drains: the source stops, what was read is appended and
    /// checkpointed, the sink writes and commits everything captured, and wproc exits 0. A
    /// second signal exits at once (130); a drain longer than `shutdown.drain_timeout` exits
    /// with 124. Neither loses data: checkpoints only follow durable writes. Exit 1 on a
    /// definite error, 2 on an invalid configuration.
    Run(ConfigArgs),
    /// Run only capture: read the binlog and append to the transport.
    ///
    /// For a separate processing process (`wproc run` with the same transport and no
    /// `[source]`), or a scaled-out deployment through SLS. Shutdown as for `run`.
    Capture(ConfigArgs),
    /// Work with local binlog files.
    ///
    /// Offline tools that need no server: `wproc binlog dump FILE...`.
    Binlog {
        /// What to do with them.
        #[command(subcommand)]
        command: BinlogCommand,
    },
    /// Run a local SLS-compatible server (for tests and demos) until SIGINT or SIGTERM.
    SlsServer(crate::sls::server::SlsServerArgs),
    /// Check the configured MySQL/MariaDB server for capture (binlog settings, privileges,
    /// server_id): one line per check; exit 1 when any check fails.
    Check(ConfigArgs),
    /// Check a configuration file and exit: 0 when valid, 2 with the reason when not.
    ///
    /// Does everything `run` does with the file except connecting: reads it, substitutes
    /// `${ENV}` variables (an unset one is an error), rejects unknown keys with their path and
    /// line, and checks every value. Overrides (`--set`, `--start`, ...) are applied as `run`
    /// would apply them.
    Validate {
        /// The configuration file to check.
        ///
        /// TOML, `version = 1`; see `examples/wproc.toml` and `docs/configuration.md`.
        file: PathBuf,
        /// Overrides, applied before validation as `run` applies them.
        #[command(flatten)]
        overrides: OverrideArgs,
    },
}

/// `wproc binlog` subcommands.
#[derive(Debug, Subcommand)]
pub enum BinlogCommand {
    /// Decode binlog files (e.g. downloaded from RDS backups) into JSON Lines on stdout.
    ///
    /// Decode binlog files (e.g. downloaded from RDS backups) into JSON Lines change events on
    /// stdout, in file order, in the same format as the files sink writes. A file that is
    /// corrupt or truncated ends with an error naming the file and the offset (exit 1), after
    /// the events decoded before it. On a terminal a progress bar shows the bytes decoded.
    Dump {
        /// Binlog files, decoded in the order given.
        ///
        /// Files as the server writes them (`mysql-bin.000042`, `mariadb-bin.000003`), with or
        /// without checksums. Rows need `binlog_row_metadata=FULL` for column names.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Where the configuration comes from.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML).
    ///
    /// Read from the environment variable WPROC_CONFIG when not given; default `wproc.toml` in
    /// the working directory. `${NAME}` in it is replaced by the environment variable NAME.
    #[arg(short, long, env = "WPROC_CONFIG", default_value = "wproc.toml")]
    pub config: PathBuf,
    /// Overrides of configuration values.
    #[command(flatten)]
    pub overrides: OverrideArgs,
}

/// Command-line overrides of the configuration file (see `config::Override`).
#[derive(Debug, Args, Default)]
pub struct OverrideArgs {
    /// Override one configuration value: KEY=VALUE, repeatable.
    ///
    /// KEY is the dotted path of the field, VALUE a TOML value or a bare string, e.g.
    /// `--set sink.files.max_wait=500ms --set transport.local.shards=4`. Applied after the
    /// file and before the named flags below; checked like the file (unknown keys rejected).
    /// Secrets (passwords, keys, tokens) are refused: put `${VAR}` in the file instead.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<Override>,
    /// Where capture starts when it has no checkpoint: earliest, latest or FILE:OFFSET.
    ///
    /// Same as `--set source.mysql.start=...`. Ignored once a checkpoint exists (delete the
    /// transport directory to start over).
    #[arg(long, value_name = "POSITION")]
    pub start: Option<String>,
    /// Output directory of the files sink.
    ///
    /// Same as `--set sink.files.dir=...`.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Serve /metrics, /health and /ready on this address, e.g. 127.0.0.1:9184.
    ///
    /// Same as `--set telemetry.listen=...`. Port 0 picks a free port (logged at start).
    /// Off unless this or `[telemetry] listen` is set.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// How long draining may take after SIGINT/SIGTERM before wproc exits with code 124.
    ///
    /// Same as `--set shutdown.drain_timeout=...`, e.g. `10s`, `2m`. Default 30s.
    #[arg(long, value_name = "DURATION")]
    pub drain_timeout: Option<String>,
}

impl OverrideArgs {
    /// Every override, in precedence order (later wins).
    pub fn overrides(&self) -> Vec<Override> {
        let mut all = self.set.clone();
        if let Some(start) = &self.start {
            all.push(Override::string("source.mysql.start", start));
        }
        if let Some(dir) = &self.out_dir {
            all.push(Override::string(
                "sink.files.dir",
                dir.display().to_string(),
            ));
        }
        if let Some(addr) = &self.metrics_listen {
            all.push(Override::string("telemetry.listen", addr.to_string()));
        }
        if let Some(timeout) = &self.drain_timeout {
            all.push(Override::string("shutdown.drain_timeout", timeout));
        }
        all
    }
}

impl Cli {
    /// `-v` count minus `-q` count.
    pub fn verbosity(&self) -> i8 {
        self.verbose.min(4) as i8 - self.quiet.min(4) as i8
    }
}
