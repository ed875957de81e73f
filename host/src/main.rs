//! The `wproc` binary: parse the command line, set up logging, load the config, run.

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};
use wproc::cli::{BinlogCommand, Cli, Command};
use wproc::pipeline::{self, Halves};

fn main() -> ExitCode {
    let cli = Cli::parse();
    wproc::telemetry::init(cli.log_format, cli.verbosity());
    let (config_path, halves) = match &cli.command {
        Command::Validate { file } => {
            return match wproc::config::load(file) {
                Ok(_) => {
                    println!("{}: valid", file.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Binlog {
            command: BinlogCommand::Dump { files },
        } => return dump(files),
        Command::Check(args) => return wproc::source::mysql::preflight::main(&args.config),
        Command::Run(args) => (args.config.clone(), Halves::All),
        Command::Capture(args) => (args.config.clone(), Halves::CaptureOnly),
    };
    let config = match wproc::config::load(&config_path) {
        Ok(c) => c,
        Err(e) => {
            error!(message = "Invalid configuration.", error = %e);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            error!(message = "Cannot start the async runtime.", error = %e);
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let shutdown = CancellationToken::new();
        tokio::spawn(watch_signals(shutdown.clone()));
        match pipeline::run(config, halves, shutdown).await {
            Ok(()) => {
                info!(message = "Stopped cleanly.");
                ExitCode::SUCCESS
            }
            Err(e) => {
                error!(message = "Stopped on error.", error = %e);
                ExitCode::FAILURE
            }
        }
    })
}

/// `wproc binlog dump`: JSON Lines on stdout, a summary on stderr.
fn dump(files: &[std::path::PathBuf]) -> ExitCode {
    use std::io::Write;
    // `line` is the buffer: whole 64 KiB chunks go straight to stdout, without a second copy.
    let mut out = std::io::stdout().lock();
    let mut line = Vec::with_capacity(1 << 16);
    let mut write_failed = None;
    for file in files {
        let result = wproc::source::mysql::dump_file(file, |event| {
            wproc::event::jsonl::write_event(&mut line, event);
            if line.len() >= 1 << 16 && write_failed.is_none() {
                write_failed = out.write_all(&line).err();
                line.clear();
            }
        });
        if write_failed.is_none() {
            write_failed = out.write_all(&line).and_then(|()| out.flush()).err();
        }
        line.clear();
        if let Some(e) = write_failed.take() {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return ExitCode::SUCCESS;
            }
            eprintln!("wproc binlog dump: writing stdout: {e}");
            return ExitCode::FAILURE;
        }
        match result {
            Ok(stats) => info!(
                message = "Decoded.",
                file = %file.display(),
                events = stats.events,
                changes = stats.changes
            ),
            Err(e) => {
                eprintln!("wproc binlog dump: {}: {e}", file.display());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

/// First SIGINT/SIGTERM: graceful shutdown. Second: exit at once (state on disk stays
/// consistent: every checkpoint is written atomically after the data it covers).
async fn watch_signals(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        warn!(message = "Cannot install signal handlers.");
        return;
    };
    tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    info!(message = "Signal received; draining. Send it again to exit at once.");
    shutdown.cancel();
    tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
    warn!(message = "Second signal; exiting now.");
    std::process::exit(130);
}
