//! `wproc transform new` scaffolds a crate that builds as it is, to a component that
//! `wproc transform test` runs.

mod common;

use std::process::Command;

#[test]
fn scaffolded_crate_builds_and_runs_through_transform_test() {
    let wproc = env!("CARGO_BIN_EXE_wproc");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(wproc)
        .args(["transform", "new", "keep-orders", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let krate = dir.path().join("keep-orders");
    for f in [
        "Cargo.toml",
        ".cargo/config.toml",
        "src/lib.rs",
        "README.md",
    ] {
        assert!(krate.join(f).is_file(), "{f} missing");
    }
    // Same dependency versions as the guest examples (no registry resolution needed).
    let lock =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../guest-examples/Cargo.lock");
    std::fs::copy(lock, krate.join("Cargo.lock")).unwrap();
    let target = common::guest_target_dir();
    let build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        build.status.success(),
        "{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let component = target.join("wasm32-wasip2/release/keep_orders.wasm");
    assert!(component.is_file());

    let input = dir.path().join("events.jsonl");
    std::fs::write(
        &input,
        concat!(
            r#"{"op":"insert","db":"shop","table":"orders","ts_ms":1,"pos":{"file":"b.000001","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1}}"#,
            "\n",
            r#"{"op":"insert","db":"shop","table":"audit","ts_ms":1,"pos":{"file":"b.000001","offset":4,"row":1,"gtid":null},"before":null,"after":{"id":2}}"#,
            "\n"
        ),
    )
    .unwrap();
    let run = Command::new(wproc)
        .args(["transform", "test"])
        .arg(&component)
        .arg("--input")
        .arg(&input)
        .args(["--config", r#"{"tables": ["orders"]}"#])
        .env("WPROC_COMPONENT_CACHE", common::cache_dir())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        concat!(
            r#"{"op":"insert","db":"shop","table":"orders","ts_ms":1,"pos":{"file":"b.000001","offset":4,"row":0,"gtid":null},"before":null,"after":{"id":1}}"#,
            "\n"
        )
    );
    assert!(stderr.contains("events in: 2, out: 1"), "{stderr}");
    assert!(stderr.contains("records/s"), "{stderr}");
}

#[test]
fn transform_test_prints_routes_and_failures() {
    let wproc = env!("CARGO_BIN_EXE_wproc");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("events.jsonl");
    std::fs::write(
        &input,
        r#"{"op":"insert","db":"d","table":"t","after":{"id":1,"country":"NL"}}
{"op":"insert","db":"d","table":"boom","after":{"id":2}}
"#,
    )
    .unwrap();
    let route = Command::new(wproc)
        .args(["transform", "test"])
        .arg(common::guest("route"))
        .arg("--input")
        .arg(&input)
        .args(["--config", r#"{"template": "{table}/{col:country}"}"#])
        .env("WPROC_COMPONENT_CACHE", common::cache_dir())
        .output()
        .unwrap();
    assert!(route.status.success());
    let stdout = String::from_utf8_lossy(&route.stdout);
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .ends_with(r#","route":"t/NL"}"#),
        "{stdout}"
    );
    let fail = Command::new(wproc)
        .args(["transform", "test"])
        .arg(common::guest("misbehave"))
        .arg("--input")
        .arg(&input)
        .args([
            "--config",
            "mode=panic, table=boom, message=kaputt",
            "--batch-size",
            "1",
        ])
        .env("WPROC_COMPONENT_CACHE", common::cache_dir())
        .output()
        .unwrap();
    assert!(!fail.status.success());
    let stderr = String::from_utf8_lossy(&fail.stderr);
    assert!(
        stderr.contains("kaputt") && stderr.contains("failed 1"),
        "{stderr}"
    );
    assert_eq!(
        String::from_utf8_lossy(&fail.stdout).lines().count(),
        1,
        "the good batch"
    );
}
