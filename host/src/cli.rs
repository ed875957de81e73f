//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::telemetry::LogFormat;

/// MySQL/MariaDB binlog to HDFS or files, with WebAssembly transforms.
#[derive(Debug, Parser)]
#[command(name = "wproc", version, about, long_about = None)]
pub struct Cli {
    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less log output (-q warnings only, -qq errors only).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub quiet: u8,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline: capture (when a source is configured and the transport is local) and
    /// processing into the sink, until SIGINT or SIGTERM.
    Run(ConfigArgs),
    /// Run only capture: read the binlog and append to the transport.
    Capture(ConfigArgs),
    /// Work with local binlog files.
    Binlog {
        /// What to do with them.
        #[command(subcommand)]
        command: BinlogCommand,
    },
    /// Run a local SLS-compatible server (for tests and demos) until SIGINT or SIGTERM.
    SlsServer(crate::sls::server::SlsServerArgs),
    /// Check a configuration file and exit: 0 when valid, 2 with the reason when not.
    Validate {
        /// The configuration file.
        file: PathBuf,
    },
}

/// `wproc binlog` subcommands.
#[derive(Debug, Subcommand)]
pub enum BinlogCommand {
    /// Decode binlog files (e.g. downloaded from RDS backups) into JSON Lines change events on
    /// stdout, in file order. A file that is corrupt or truncated ends with an error naming the
    /// file and the offset (exit 1), after the events decoded before it.
    Dump {
        /// Binlog files, decoded in the order given.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// Where the configuration comes from.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML).
    #[arg(short, long, env = "WPROC_CONFIG", default_value = "wproc.toml")]
    pub config: PathBuf,
}

impl Cli {
    /// `-v` count minus `-q` count.
    pub fn verbosity(&self) -> i8 {
        self.verbose.min(4) as i8 - self.quiet.min(4) as i8
    }
}
