use std::sync::Arc;

use super::sink::batch_name;
use super::*;
use crate::event::{ChangeEvent, Column, EventPosition, Op, Value};
use crate::sink::OutputBatch;

fn sink(dir: &std::path::Path) -> FilesSink {
    let config = FilesSinkConfig {
        dir: dir.to_path_buf(),
        ..FilesSinkConfig::default()
    };
    FilesSink::new(&config).unwrap()
}

fn event(table: &str, id: i64) -> ChangeEvent {
    ChangeEvent {
        op: Op::Insert,
        db: "shop".into(),
        table: table.into(),
        ts_ms: 1_732_437_000_000,
        pos: EventPosition {
            file: "bin.000001".into(),
            offset: id as u64,
            row: 0,
            gtid: None,
        },
        columns: Arc::from(vec![Column {
            name: "id".into(),
            sql_type: "int".into(),
        }]),
        before: None,
        after: Some(vec![Value::Int(id)]),
        sql: None,
    }
}

fn batch(shard: usize, start: u64, end: u64, events: Vec<ChangeEvent>) -> OutputBatch {
    OutputBatch {
        shard,
        start,
        end,
        events,
        routes: Vec::new(),
    }
}

#[test]
fn routes_set_by_a_transform_pick_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let config = FilesSinkConfig {
        dir: dir.path().to_path_buf(),
        path: "{route}/{table}".into(),
        ..FilesSinkConfig::default()
    };
    let sink = FilesSink::new(&config).unwrap();
    let mut out = batch(0, 0, 5, vec![event("a", 1), event("a", 2), event("a", 3)]);
    out.routes = vec![Some("eu".into()), None, Some("eu".into())];
    assert_eq!(sink.write_batch(&out).unwrap(), 2);
    let (name, _) = batch_name(0, 0, 5);
    let eu = std::fs::read_to_string(dir.path().join("eu/a").join(&name)).unwrap();
    assert_eq!(eu.lines().count(), 2);
    assert!(dir.path().join("_default/a").join(&name).exists());
}

#[test]
fn writes_one_file_per_partition_named_by_range() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink(dir.path());
    let events = vec![event("a", 1), event("b", 2), event("a", 3)];
    assert_eq!(sink.write_batch(&batch(1, 100, 250, events)).unwrap(), 2);
    let (final_name, _) = batch_name(1, 100, 250);
    let a =
        std::fs::read_to_string(dir.path().join("shop/a/dt=2024-11-24").join(&final_name)).unwrap();
    assert_eq!(a.lines().count(), 2);
    assert!(
        a.lines()
            .all(|l| l.starts_with(r#"{"op":"insert","db":"shop","table":"a""#))
    );
    assert_eq!(sink.recover(&[1]).unwrap().get(&1), Some(&250));
    assert_eq!(sink.recover(&[0]).unwrap().get(&1), None);
    assert_eq!(sink.write_batch(&batch(1, 250, 260, vec![])).unwrap(), 0);
}

#[test]
fn recovery_completes_a_partly_renamed_batch_and_drops_an_unrenamed_one() {
    let dir = tempfile::tempdir().unwrap();
    let sink = sink(dir.path());
    let part = dir.path().join("shop/a/dt=2024-11-24");
    let other = dir.path().join("shop/b/dt=2024-11-24");
    std::fs::create_dir_all(&part).unwrap();
    std::fs::create_dir_all(&other).unwrap();
    // Batch [0,10): one file renamed, one still temporary -> the temporary is completed.
    let (final0, temp0) = batch_name(0, 0, 10);
    std::fs::write(part.join(&final0), "{}\n").unwrap();
    std::fs::write(other.join(&temp0), "{}\n").unwrap();
    // Batch [10,20): nothing renamed -> removed, to be processed again.
    let (_, temp1) = batch_name(0, 10, 20);
    std::fs::write(part.join(&temp1), "{}\n").unwrap();

    // Recovering another shard leaves shard 0's temporaries alone (another worker's).
    assert!(sink.recover(&[1]).unwrap().is_empty());
    assert!(other.join(&temp0).exists());
    let ends = sink.recover(&[0]).unwrap();
    assert_eq!(ends.get(&0), Some(&10));
    assert!(other.join(&final0).exists());
    assert!(!other.join(&temp0).exists());
    assert!(!part.join(&temp1).exists());
}

#[test]
fn gzip_files_hold_the_same_lines_and_a_retry_after_renaming_only_finishes_it() {
    let dir = tempfile::tempdir().unwrap();
    let config = FilesSinkConfig {
        dir: dir.path().to_path_buf(),
        compression: crate::sink::Compression::Gzip,
        ..FilesSinkConfig::default()
    };
    let sink = FilesSink::new(&config).unwrap();
    let out = batch(0, 0, 3, vec![event("a", 1), event("b", 2)]);
    assert_eq!(sink.write_batch(&out).unwrap(), 2);
    let part = dir.path().join("shop/a/dt=2024-11-24");
    let name = "part-0000-00000000000000000000-00000000000000000003.jsonl.gz";
    let gz = std::fs::read(part.join(name)).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut text).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains(r#""table":"a""#));
    // A crash after one rename: the other file is back to its temporary. A retry of the same
    // batch finishes the rename and leaves the renamed file as it was.
    let other = dir.path().join("shop/b/dt=2024-11-24");
    std::fs::rename(other.join(name), other.join(format!(".{name}.tmp"))).unwrap();
    assert_eq!(sink.write_batch(&out).unwrap(), 2);
    assert!(other.join(name).exists() && !other.join(format!(".{name}.tmp")).exists());
    assert_eq!(std::fs::read(part.join(name)).unwrap(), gz);
    assert_eq!(sink.recover(&[0]).unwrap().get(&0), Some(&3));
}
