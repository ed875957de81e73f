//! Shared by the `wasm_*` tests: the guest-examples components, built once per test binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use wproc::event::ChangeEvent;
use wproc::event::jsonl::write_event;
use wproc::event::jsonl_read::read_events;
use wproc::runtime::wasm::{TransformConfig, TransformSettings};
use wproc::sink::OutputBatch;

/// Where the guest examples are built: shared with `scripts/test.sh`.
pub fn guest_target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("WPROC_GUEST_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    Path::new(&home).join(".cache/wproc/target-guests")
}

/// Builds `guest-examples` (release, wasm32-wasip2) once, then returns the component of
/// example `name`.
pub fn guest(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-examples");
    let target = guest_target_dir();
    BUILT
        .get_or_init(|| {
            let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--release", "--locked"])
                .current_dir(&root)
                .env("CARGO_TARGET_DIR", &target)
                .env_remove("RUSTFLAGS")
                .output()
                .map_err(|e| format!("cargo: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            }
        })
        .as_ref()
        .unwrap_or_else(|e| panic!("building guest-examples failed (scripts/install-deps.sh adds the wasm32-wasip2 target):\n{e}"));
    target.join(format!("wasm32-wasip2/release/{name}.wasm"))
}

/// Settings for guest `name` with `config`, the component cache in `cache`.
pub fn settings(name: &str, config: &str, cache: &Path) -> TransformSettings {
    let mut c = TransformConfig::for_path(guest(name));
    c.config = Some(serde_json::Value::String(config.to_owned()));
    c.cache_dir = Some(cache.to_path_buf());
    c.validate("transform").unwrap()
}

/// A batch of shard 0 over `[start, start + events)`.
pub fn batch(start: u64, events: Vec<ChangeEvent>) -> OutputBatch {
    OutputBatch {
        shard: 0,
        start,
        end: start + events.len() as u64,
        events,
        routes: Vec::new(),
    }
}

/// Events from JSON Lines.
pub fn events(jsonl: &str) -> Vec<ChangeEvent> {
    read_events(jsonl).unwrap()
}

/// The batch's events as JSON Lines, with `"route"` where set.
pub fn lines(batch: &OutputBatch) -> Vec<String> {
    batch
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut out = Vec::new();
            match batch.route(i) {
                Some(r) => wproc::event::jsonl::write_event_with(&mut out, e, "route", r),
                None => write_event(&mut out, e),
            }
            String::from_utf8(out).unwrap().trim_end().to_owned()
        })
        .collect()
}

/// The component cache of the tests: kept across runs (artifacts are keyed by the engine's
/// compatibility hash and the component's hash, so a stale one is never used), which spares
/// the debug-build compile of each guest on every run.
pub fn cache_dir() -> PathBuf {
    guest_target_dir().join("components-test")
}
