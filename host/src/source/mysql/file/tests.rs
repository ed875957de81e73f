use std::path::PathBuf;

use super::*;

/// The shared fixtures: `$WPROC_FIXTURES`, else `shared/fixtures/binlogs` beside the checkout
/// or any of its ancestors (worktrees sit deeper than the main checkout).
pub(crate) fn fixtures_root() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("WPROC_FIXTURES") {
        return Some(PathBuf::from(dir));
    }
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = manifest
        .ancestors()
        .map(|a| a.join("shared/fixtures/binlogs"))
        .find(|p| p.is_dir());
    if found.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "shared/fixtures/binlogs is missing under CI"
        );
        eprintln!("skipping: shared/fixtures/binlogs not found beside the checkout");
    }
    found
}

fn fixtures() -> PathBuf {
    fixtures_root()
        .map(|r| r.join("mysql-common"))
        .unwrap_or_default()
}

fn dump(name: &str) -> (Result<DumpStats, MysqlError>, Vec<ChangeEvent>) {
    let mut events = Vec::new();
    let result = dump_file(&fixtures().join(name), |e| events.push(e.clone()));
    (result, events)
}

#[test]
fn every_fixture_decodes_or_fails_clearly_without_panicking() {
    if fixtures_root().is_none() {
        return;
    }
    let dir = fixtures();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fixtures at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("LICENSE")
        })
        .collect();
    files.sort();
    assert!(
        files.len() >= 40,
        "expected the shared fixtures, found {}",
        files.len()
    );
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let outcome = std::panic::catch_unwind(|| dump_file(&path, |_| {}));
        let Ok(result) = outcome else {
            panic!("decoder panicked on {name}")
        };
        if let Err(e) = result {
            let text = e.to_string();
            assert!(
                text.contains(&name),
                "error for {name} does not name the file: {text}"
            );
        }
    }
}

#[test]
fn mariadb_fixture_has_named_columns() {
    if fixtures_root().is_none() {
        return;
    }
    let (result, events) = dump("mariadb-bin.000001");
    let stats = result.unwrap();
    assert!(stats.changes > 0 && stats.events > stats.changes / 100);
    let rows: Vec<_> = events
        .iter()
        .filter(|e| e.op != crate::event::Op::Ddl)
        .collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|e| e.columns.iter().all(|c| !c.name.starts_with('@')))
    );
    assert!(
        rows.iter().all(|e| e.pos.gtid.is_some()),
        "MariaDB GTIDs are attached"
    );
    assert!(
        events.windows(2).all(|w| w[0].pos < w[1].pos),
        "positions increase"
    );
}

#[test]
fn truncated_file_names_file_and_offset() {
    if fixtures_root().is_none() {
        return;
    }
    let (result, _) = dump("binlog_truncated_event.000001");
    let text = result.unwrap_err().to_string();
    assert!(text.contains("binlog_truncated_event.000001:"), "{text}");
}
