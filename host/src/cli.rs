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
    Run(RunArgs),
    /// Run only capture: read the binlog and append to the transport.
    Capture(ConfigArgs),
    /// Work with local binlog files.
    Binlog {
        /// What to do with them.
        #[command(subcommand)]
        command: BinlogCommand,
    },
    /// Develop WebAssembly transforms.
    Transform {
        /// What to do.
        #[command(subcommand)]
        command: TransformCommand,
    },
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

/// `wproc run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The configuration.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// A WebAssembly transform to run after the `[[transform]]` entries of the config:
    /// `FILE.wasm`, or `FILE.wasm=CONFIG_FILE` to pass the content of CONFIG_FILE to its init
    /// (read from a file so that no secret is written on the command line). Repeatable;
    /// chained in the order given, with default limits and `on_error = "fail"`.
    #[arg(long = "transform", value_name = "FILE.wasm[=CONFIG_FILE]")]
    pub transforms: Vec<String>,
}

/// `wproc transform` subcommands.
#[derive(Debug, Subcommand)]
pub enum TransformCommand {
    /// Run a transform over JSON Lines events: prints the output events as JSON Lines on
    /// stdout (with a `route` key when the transform set one), rejected events and failures
    /// on stderr, then the timing (per batch and records/s, transform time only).
    Test(TransformTestArgs),
    /// Create a new transform crate (Rust, wproc-sdk) that builds as it is.
    New(TransformNewArgs),
}

/// `wproc transform test` arguments.
#[derive(Debug, Args)]
pub struct TransformTestArgs {
    /// The component (`.wasm`).
    pub file: PathBuf,
    /// Input events, JSON Lines (the format wproc writes; see docs/jsonl-format.md).
    #[arg(long)]
    pub input: PathBuf,
    /// The string passed to the transform's init.
    #[arg(long, default_value = "")]
    pub config: String,
    /// Events per batch.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// CPU deadline per batch, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub deadline_ms: u64,
    /// Memory cap, e.g. `64MiB`.
    #[arg(long, default_value = "64MiB")]
    pub memory: String,
    /// Run the input this many times (for timing).
    #[arg(long, default_value_t = 1)]
    pub repeat: usize,
    /// Do not print the output events (timing only).
    #[arg(long)]
    pub no_output: bool,
}

/// `wproc transform new` arguments.
#[derive(Debug, Args)]
pub struct TransformNewArgs {
    /// Crate name (letters, digits, `-`, `_`).
    pub name: String,
    /// Directory to create the crate in (as `DIR/NAME`).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// The wproc-sdk crate to depend on (a path). Default: the SDK of the wproc source tree
    /// this binary was built from.
    #[arg(long)]
    pub sdk: Option<PathBuf>,
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
