//! The `wproc` binary: parse the command line, set up logging, load the config, run.

use std::process::ExitCode;

use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};
use wproc::cli::{BinlogCommand, Cli, Command};
use wproc::pipeline::{self, Halves, shutdown};
use wproc::telemetry::metrics::Stage;
use wproc::telemetry::status;

/// mimalloc instead of glibc's malloc: the data path allocates and frees many small buffers
/// (row values, LogGroup contents) across threads, where glibc spent about a quarter of the
/// CPU time of each process in `bench/sls.sh` (perf, 2026-12-04).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    wproc::telemetry::init(cli.log_format, cli.verbosity());
    let show_progress = status::enabled(cli.log_format, cli.no_progress);
    let (args, halves) = match &cli.command {
        Command::Validate { file, overrides } => {
            return match wproc::config::load_with_overrides(file, &overrides.overrides()) {
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
        } => return dump(files, show_progress),
        Command::SlsServer(args) => return wproc::sls::server::run_cli(args),
        Command::Check(args) => {
            return wproc::source::mysql::preflight::main(
                &args.config,
                &args.overrides.overrides(),
            );
        }
        Command::Transform { command } => return wproc::runtime::tool::run(command),
        Command::Run(args) => (&args.config, Halves::All),
        Command::Capture(args) => (args, Halves::CaptureOnly),
    };
    let config = match wproc::config::load_with_overrides(&args.config, &args.overrides.overrides())
        .map_err(|e| e.to_string())
        .and_then(|c| match &cli.command {
            Command::Run(args) => wproc::runtime::tool::add_cli_transforms(c, &args.transforms),
            _ => Ok(c),
        }) {
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
        let stop = CancellationToken::new();
        tokio::spawn(shutdown::watch_signals(
            stop.clone(),
            config.shutdown.drain_timeout,
        ));
        let status_done = CancellationToken::new();
        let status_line = show_progress.then(|| {
            let stage = match halves {
                Halves::All => Stage::Sink,
                Halves::CaptureOnly => Stage::Capture,
            };
            tokio::spawn(status::run_status_line(stage, status_done.clone()))
        });
        let result = pipeline::run(config, halves, stop).await;
        status_done.cancel();
        if let Some(task) = status_line {
            let _ = task.await;
        }
        match result {
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

/// `wproc binlog dump`: JSON Lines on stdout, a summary on stderr, a progress bar on a terminal.
fn dump(files: &[std::path::PathBuf], show_progress: bool) -> ExitCode {
    use std::io::Write;
    /// Events between progress bar updates.
    const PROGRESS_EVERY: u32 = 4096;
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = status::byte_progress(show_progress, total, "decoding");
    // `line` is the buffer: whole 64 KiB chunks go straight to stdout, without a second copy.
    let mut out = std::io::stdout().lock();
    let mut line = Vec::with_capacity(1 << 16);
    let mut write_failed = None;
    let mut done_before = 0u64;
    let mut since_update = 0u32;
    let code = 'files: {
        for file in files {
            let result = wproc::source::mysql::dump_file(file, |event| {
                wproc::event::jsonl::write_event(&mut line, event);
                if line.len() >= 1 << 16 && write_failed.is_none() {
                    write_failed = out.write_all(&line).err();
                    line.clear();
                }
                since_update += 1;
                if since_update >= PROGRESS_EVERY {
                    since_update = 0;
                    if let Some(bar) = &bar {
                        bar.set_position(done_before + event.pos.offset);
                    }
                }
            });
            done_before += std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            if let Some(bar) = &bar {
                bar.set_position(done_before);
            }
            if write_failed.is_none() {
                write_failed = out.write_all(&line).and_then(|()| out.flush()).err();
            }
            line.clear();
            if let Some(e) = write_failed.take() {
                if e.kind() == std::io::ErrorKind::BrokenPipe {
                    break 'files ExitCode::SUCCESS;
                }
                status::finish_progress(bar.clone());
                eprintln!("wproc binlog dump: writing stdout: {e}");
                break 'files ExitCode::FAILURE;
            }
            match result {
                Ok(stats) => info!(
                    message = "Decoded.",
                    file = %file.display(),
                    events = stats.events,
                    changes = stats.changes
                ),
                Err(e) => {
                    status::finish_progress(bar.clone());
                    eprintln!("wproc binlog dump: {}: {e}", file.display());
                    break 'files ExitCode::FAILURE;
                }
            }
        }
        ExitCode::SUCCESS
    };
    status::finish_progress(bar);
    code
}
