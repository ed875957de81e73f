//! `wproc transform test|new` and `wproc run --transform`: the developer's side of transforms.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::cli::{TransformCommand, TransformNewArgs, TransformTestArgs};
use crate::config::Config;
use crate::event::jsonl::{write_event, write_event_with};
use crate::event::jsonl_read::read_events;
use crate::runtime::wasm::{TransformConfig, WasmEngine, parse_cli_transform};
use crate::sink::OutputBatch;

/// Runs a `wproc transform` subcommand.
pub fn run(command: &TransformCommand) -> ExitCode {
    let result = match command {
        TransformCommand::Test(args) => transform_test(args),
        TransformCommand::New(args) => transform_new(args).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("wproc transform: {message}");
            ExitCode::from(2)
        }
    }
}

/// Appends the `--transform` arguments of `wproc run` to the config's transforms and
/// validates them.
pub fn add_cli_transforms(mut config: Config, args: &[String]) -> Result<Config, String> {
    for arg in args {
        config.transforms.push(parse_cli_transform(arg)?);
    }
    config
        .transform_settings()
        .map_err(|f| format!("`{}`: {}", f.field, f.message))?;
    Ok(config)
}

/// `wproc transform test`: Ok(false) when a batch failed.
fn transform_test(a: &TransformTestArgs) -> Result<bool, String> {
    let text = std::fs::read_to_string(&a.input)
        .map_err(|e| format!("cannot read {}: {e}", a.input.display()))?;
    let events = read_events(&text).map_err(|e| format!("{}: {e}", a.input.display()))?;
    let mut config = TransformConfig::for_path(&a.file);
    config.config = Some(serde_json::Value::String(a.config.clone()));
    config.deadline = Duration::from_millis(a.deadline_ms);
    config.memory = a.memory.clone();
    let settings = config
        .validate("transform")
        .map_err(|f| format!("{}: {}", f.field, f.message))?;
    let engine = WasmEngine::shared().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let (loaded, cache) = engine.load(&settings).map_err(|e| e.to_string())?;
    let load_time = started.elapsed();
    let started = Instant::now();
    let mut instance = Some(loaded.instantiate().map_err(|e| e.to_string())?);
    let init_time = started.elapsed();

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut line = Vec::with_capacity(1 << 16);
    let (mut times, mut count_in, mut count_out, mut rejected, mut failed) =
        (Vec::new(), 0usize, 0usize, 0usize, 0usize);
    let batch_size = a.batch_size.max(1);
    for _ in 0..a.repeat.max(1) {
        for (i, chunk) in events.chunks(batch_size).enumerate() {
            let start = (i * batch_size) as u64;
            let mut batch = OutputBatch {
                shard: 0,
                start,
                end: start + chunk.len() as u64,
                events: chunk.to_vec(),
                routes: Vec::new(),
            };
            if instance.is_none() {
                instance = Some(loaded.instantiate().map_err(|e| e.to_string())?);
            }
            let Some(inst) = instance.as_mut() else {
                continue;
            };
            let t = Instant::now();
            let result = inst.process(&mut batch);
            times.push(t.elapsed());
            count_in += chunk.len();
            match result {
                Ok(refused) => {
                    count_out += batch.events.len();
                    rejected += refused.len();
                    for r in refused {
                        eprintln!(
                            "rejected: event {} of batch {start}: {}",
                            start + u64::from(r.index),
                            r.error
                        );
                    }
                    if a.no_output {
                        continue;
                    }
                    for (j, e) in batch.events.iter().enumerate() {
                        match batch.route(j) {
                            Some(route) => write_event_with(&mut line, e, "route", route),
                            None => write_event(&mut line, e),
                        }
                    }
                    out.write_all(&line).map_err(|e| e.to_string())?;
                    line.clear();
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("failed: {e}");
                    if e.kills_instance() {
                        instance = None;
                    }
                }
            }
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    drop(out);
    print_timing(&times, count_in, count_out, rejected, failed);
    eprintln!(
        "load: {:.1} ms ({cache:?}), instantiate + init: {:.2} ms",
        load_time.as_secs_f64() * 1e3,
        init_time.as_secs_f64() * 1e3
    );
    Ok(failed == 0)
}

fn print_timing(
    times: &[Duration],
    count_in: usize,
    count_out: usize,
    rejected: usize,
    failed: usize,
) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e3).collect();
    ms.sort_by(f64::total_cmp);
    let median = ms.get(ms.len() / 2).copied().unwrap_or(0.0);
    let max = ms.last().copied().unwrap_or(0.0);
    let total: f64 = times.iter().map(Duration::as_secs_f64).sum();
    let rate = if total > 0.0 {
        count_in as f64 / total
    } else {
        0.0
    };
    eprintln!(
        "batches: {} (failed {failed}), events in: {count_in}, out: {count_out}, rejected: {rejected}",
        times.len()
    );
    eprintln!("per batch: median {median:.3} ms, max {max:.3} ms; records/s: {rate:.0}");
}

/// The SDK of the source tree this binary was built from.
fn default_sdk() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../sdk")
        .canonicalize()
        .ok()
        .filter(|p| p.join("Cargo.toml").is_file())
}

const TEMPLATE_LIB: &str = r##"//! A wproc transform: keeps the events of the tables named in the config.
//!
//! Config (JSON): `{"tables": ["shop.orders", "users"]}`; an empty list keeps everything.

use wproc_sdk::{Batch, Output, Result, Transform};

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    tables: Vec<String>,
}

/// The transform.
pub struct Keep {
    tables: Vec<String>,
}

impl Transform for Keep {
    fn init(config: &str) -> Result<Self> {
        let c: Config = wproc_sdk::config::json(config)?;
        Ok(Keep { tables: c.tables })
    }

    fn process(&mut self, batch: &Batch<'_>, out: &mut Output) -> Result<()> {
        // One host call for the tables of the batch, one for the op and table of every event.
        let keep: Vec<bool> = batch
            .tables()
            .iter()
            .map(|t| self.tables.is_empty() || self.tables.iter().any(|p| t.matches(p)))
            .collect();
        for (i, h) in batch.headers().iter().enumerate() {
            if keep[h.table as usize] {
                out.keep_index(i as u32);
            }
        }
        Ok(())
    }
}

wproc_sdk::export_transform!(Keep);

#[cfg(test)]
mod tests {
    use wproc_sdk::testing::Harness;

    use super::Keep;

    #[test]
    fn keeps_the_configured_tables() {
        let mut h = Harness::<Keep>::new(r#"{"tables": ["orders"]}"#).unwrap();
        let out = h
            .process_jsonl(
                r#"{"op":"insert","db":"shop","table":"orders","after":{"id":1}}
{"op":"insert","db":"shop","table":"audit","after":{"id":2}}"#,
            )
            .unwrap();
        assert_eq!(out.tables(), ["shop.orders"]);
    }
}
"##;

/// `wproc transform new`.
fn transform_new(a: &TransformNewArgs) -> Result<(), String> {
    let name = &a.name;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.starts_with(|c: char| c.is_ascii_alphabetic());
    if !valid {
        return Err(format!(
            "invalid crate name {name:?}: letters, digits, - and _, starting with a letter"
        ));
    }
    let sdk = match &a.sdk {
        Some(p) => p
            .canonicalize()
            .map_err(|e| format!("--sdk {}: {e}", p.display()))?,
        None => default_sdk().ok_or(
            "the wproc-sdk sources were not found next to this binary's source tree: \
             pass --sdk PATH (the sdk/ directory of a wproc checkout)",
        )?,
    };
    let dir = a.dir.join(name);
    if dir.exists() {
        return Err(format!("{} already exists", dir.display()));
    }
    let lib = name.replace('-', "_");
    let cargo = format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
# The wproc guest SDK (it ships the WIT contract). Outside this machine, point it at the
# sdk/ directory of a wproc checkout, or at the repository holding it:
#   wproc-sdk = {{ git = "<wproc repository URL>", tag = "<wproc version>" }}
wproc-sdk = {{ path = "{sdk}" }}
serde = {{ version = "1", features = ["derive"] }}

# Small components: ~50 KB instead of ~2.5 MB with the default release profile.
[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
strip = true

# A workspace of its own, so the crate also builds inside another workspace's tree.
[workspace]
"#,
        sdk = sdk.display()
    );
    let readme = format!(
        "# {name}\n\nA wproc transform (see wproc's docs/transforms.md).\n\n\
         - build: `cargo build --release` (target wasm32-wasip2, set in .cargo/config.toml;\n  \
         `rustup target add wasm32-wasip2` once)\n\
         - native tests: `cargo test --target x86_64-unknown-linux-gnu`\n\
         - try it: `wproc transform test target/wasm32-wasip2/release/{lib}.wasm --input events.jsonl --config '{{\"tables\": [\"orders\"]}}'`\n\
         - run it: `wproc run --transform target/wasm32-wasip2/release/{lib}.wasm`\n"
    );
    let files: [(&str, &str); 5] = [
        ("Cargo.toml", &cargo),
        (
            ".cargo/config.toml",
            "[build]\ntarget = \"wasm32-wasip2\"\n",
        ),
        ("src/lib.rs", TEMPLATE_LIB),
        ("README.md", &readme),
        (".gitignore", "/target\n"),
    ];
    for (path, content) in files {
        let file = dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&file, content).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    println!("created {}", dir.display());
    println!("build it:  cd {} && cargo build --release", dir.display());
    println!("component: target/wasm32-wasip2/release/{lib}.wasm");
    Ok(())
}
