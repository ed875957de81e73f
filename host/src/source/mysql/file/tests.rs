use std::path::PathBuf;

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/binlogs/mysql-common")
}

fn dump(name: &str) -> (Result<DumpStats, MysqlError>, Vec<ChangeEvent>) {
    let mut events = Vec::new();
    let result = dump_file(&fixtures().join(name), |e| events.push(e.clone()));
    (result, events)
}

#[test]
fn every_fixture_decodes_or_fails_clearly_without_panicking() {
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
    let (result, _) = dump("binlog_truncated_event.000001");
    let text = result.unwrap_err().to_string();
    assert!(text.contains("binlog_truncated_event.000001:"), "{text}");
}
