//! The sandbox with the misbehaving guest: each limit stops it with a typed error naming the
//! transform and the batch, and the next batch runs on a fresh instance.

mod common;

use std::time::{Duration, Instant};

use common::{batch, cache_dir, events, guest, settings};
use wproc::event::Value;
use wproc::runtime::wasm::{
    CacheOutcome, ErrorPolicy, GuestError, TransformChain, TransformConfig, TransformSettings,
    WasmEngine, WasmError,
};

const GOOD: &str = r#"{"op":"insert","db":"d","table":"ok","pos":{"file":"b.000001","offset":100,"row":0,"gtid":null},"after":{"id":1}}"#;
const BAD: &str = r#"{"op":"insert","db":"d","table":"ok","pos":{"file":"b.000001","offset":200,"row":0,"gtid":null},"after":{"id":2}}
{"op":"insert","db":"d","table":"boom","pos":{"file":"b.000001","offset":200,"row":1,"gtid":null},"after":{"id":3}}"#;

fn misbehave(config: &str, tweak: impl FnOnce(&mut TransformConfig)) -> TransformSettings {
    let mut c = TransformConfig::for_path(guest("misbehave"));
    c.config = Some(serde_json::Value::String(config.to_owned()));
    c.cache_dir = Some(cache_dir());
    tweak(&mut c);
    c.validate("transform").unwrap()
}

/// Runs a bad batch (must fail with the returned error), then a good one on the same chain:
/// it must pass on a fresh instance when the error killed the first one. Also returns how long
/// the bad batch ran.
fn bad_then_good(s: TransformSettings) -> (WasmError, Duration) {
    let chain = TransformChain::load(std::slice::from_ref(&s)).unwrap();
    let mut bad = batch(10, events(BAD));
    let started = Instant::now();
    let err = chain.run_blocking(&mut bad).unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(bad.events.len(), 2, "a failed batch is left as it was");
    let text = err.to_string();
    assert!(text.contains("transform misbehave"), "{text}");
    assert!(
        text.contains("shard 0 [10..12) from b.000001:200 row 0"),
        "{text}"
    );
    let mut good = batch(12, events(GOOD));
    chain.run_blocking(&mut good).unwrap();
    assert_eq!(good.events.len(), 1);
    let stats = chain.stats(0).unwrap();
    let fresh = stats
        .reinstantiations
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(fresh, u64::from(err.kills_instance()));
    (err, elapsed)
}

#[test]
fn endless_loop_is_stopped_at_its_deadline() {
    let deadline = Duration::from_millis(300);
    let s = misbehave("mode=loop, table=boom", |c| c.deadline = deadline);
    let (err, elapsed) = bad_then_good(s);
    assert!(
        matches!(&err, WasmError::Deadline { deadline: d, .. } if *d == deadline),
        "{err}"
    );
    assert!(err.kills_instance() && !err.is_retriable());
    // Generous bound: the loop must not run on for long past its deadline.
    assert!(
        elapsed >= deadline && elapsed < deadline * 20,
        "{elapsed:?}"
    );
}

#[test]
fn allocation_is_stopped_at_the_memory_cap() {
    let s = misbehave("mode=alloc, table=boom", |c| c.memory = "8MiB".into());
    let (err, _) = bad_then_good(s);
    match &err {
        WasmError::MemoryCap { cap, requested, .. } => {
            assert_eq!(*cap, 8 << 20);
            assert!(*requested > 8 << 20);
        }
        other => panic!("expected MemoryCap, got {other}"),
    }
}

#[test]
fn panic_is_reported_with_its_message() {
    let s = misbehave("mode=panic, table=boom, message=guest bug 42", |_| {});
    let (err, _) = bad_then_good(s);
    assert!(matches!(&err, WasmError::Trap { .. }), "{err}");
    assert!(err.to_string().contains("guest bug 42"), "{err}");
}

#[test]
fn returned_error_is_typed_and_keeps_the_instance() {
    let s = misbehave(
        "mode=error, table=boom, kind=unsupported, message=cannot do boom",
        |_| {},
    );
    let (err, _) = bad_then_good(s);
    match &err {
        WasmError::Guest { error, .. } => {
            assert_eq!(*error, GuestError::Unsupported("cannot do boom".into()))
        }
        other => panic!("expected Guest, got {other}"),
    }
    assert!(!err.kills_instance());
}

#[test]
fn failing_init_stops_loading() {
    let s = misbehave("mode=error, at=init, message=bad config", |_| {});
    let err = TransformChain::load(&[s]).unwrap_err();
    assert!(matches!(&err, WasmError::Init { .. }), "{err}");
    assert!(err.to_string().contains("bad config"), "{err}");
}

#[test]
fn wasi_grants_nothing() {
    let s = misbehave("mode=probe", |_| {});
    let chain = TransformChain::load(&[s]).unwrap();
    let mut b = batch(0, events(GOOD));
    chain.run_blocking(&mut b).unwrap();
    let e = &b.events[0];
    let fs = e.value("probe_fs").unwrap();
    assert!(
        matches!(fs, Value::String(m) if m != "ok" && !m.is_empty()),
        "reading /etc/passwd must fail: {fs:?}"
    );
    assert_eq!(e.value("probe_env"), Some(&Value::Int(0)), "no environment");
    assert_eq!(e.value("probe_args"), Some(&Value::Int(0)), "no arguments");
    assert_eq!(e.value("id"), Some(&Value::Int(1)));
}

#[test]
fn a_core_module_is_not_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("core.wasm");
    std::fs::write(&file, b"\0asm\x01\0\0\0").unwrap();
    let mut c = TransformConfig::for_path(&file);
    c.cache_dir = Some(dir.path().join("cache"));
    let err = TransformChain::load(&[c.validate("transform").unwrap()]).unwrap_err();
    assert!(matches!(&err, WasmError::Load { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("not a component") && text.contains("wasm32-wasip2"),
        "{text}"
    );
    std::fs::write(&file, b"hello").unwrap();
    let err = TransformChain::load(&[c.validate("transform").unwrap()]).unwrap_err();
    assert!(err.to_string().contains("not a WebAssembly file"), "{err}");
}

#[test]
fn the_disk_cache_is_hit_on_the_second_load() {
    let cache = tempfile::tempdir().unwrap();
    let s = settings("passthrough", "", cache.path());
    let engine = WasmEngine::shared().unwrap();
    assert_eq!(engine.load(&s).unwrap().1, CacheOutcome::Compiled);
    assert_eq!(engine.load(&s).unwrap().1, CacheOutcome::Hit);
    let files: Vec<_> = std::fs::read_dir(cache.path()).unwrap().collect();
    assert_eq!(files.len(), 1, "one artifact: {files:?}");
    // A corrupt artifact is recompiled, not trusted.
    let path = files[0].as_ref().unwrap().path();
    std::fs::write(&path, b"garbage").unwrap();
    assert_eq!(engine.load(&s).unwrap().1, CacheOutcome::Compiled);
    assert_eq!(engine.load(&s).unwrap().1, CacheOutcome::Hit);
}

#[test]
fn policy_is_parsed_from_toml() {
    let c: TransformConfig = toml::from_str(
        "path = \"x.wasm\"\non_error = \"dead-letter\"\ndead_letter_dir = \"dl\"\nconfig = { tables = [\"a\"] }\nmemory = \"16MiB\"\ndeadline = \"250ms\"",
    )
    .unwrap();
    let s = c.validate("transform[0]").unwrap();
    assert_eq!(s.policy, ErrorPolicy::DeadLetter);
    assert_eq!(&*s.name, "x");
    assert_eq!(s.init_config, r#"{"tables":["a"]}"#);
    assert_eq!(s.limits.memory_bytes, 16 << 20);
    assert_eq!(s.limits.deadline, Duration::from_millis(250));
    let bad: TransformConfig =
        toml::from_str("path = \"x.wasm\"\non_error = \"dead-letter\"").unwrap();
    let err = bad.validate("transform[0]").unwrap_err();
    assert_eq!(err.field, "transform[0].dead_letter_dir");
}
