use std::fs::OpenOptions;
use std::io::Write;
use std::num::NonZeroU32;
use std::sync::Arc;

use super::*;
use crate::event::{ChangeEvent, Column, EventPosition, Op, Value};
use crate::position::BinlogPosition;
use crate::source::SourceCheckpoint;

fn config(dir: &std::path::Path, shards: u32, segment_bytes: u64) -> LocalLogConfig {
    LocalLogConfig {
        dir: dir.to_path_buf(),
        shards: NonZeroU32::new(shards).unwrap(),
        segment_bytes,
        ..LocalLogConfig::default()
    }
}

fn event(table: &str, offset: u64, row: u32) -> ChangeEvent {
    ChangeEvent {
        op: Op::Insert,
        db: "db".into(),
        table: table.into(),
        ts_ms: 1,
        pos: EventPosition {
            file: "bin.000001".into(),
            offset,
            row,
            gtid: None,
        },
        columns: Arc::from(vec![Column {
            name: "id".into(),
            sql_type: "int".into(),
        }]),
        before: None,
        after: Some(vec![Value::Int(offset as i64 * 100 + i64::from(row))]),
        sql: None,
    }
}

fn read_all(log: &Arc<LocalLog>, shard: usize, from: u64) -> Vec<Record> {
    let mut reader = log.reader(shard, from);
    let mut out = Vec::new();
    loop {
        let records = reader.read(1 << 20).unwrap();
        if records.is_empty() {
            return out;
        }
        out.extend(records);
    }
}

#[test]
fn appends_are_read_back_in_order_across_segments() {
    let dir = tempfile::tempdir().unwrap();
    let log = LocalLog::open(&config(dir.path(), 1, 4096)).unwrap();
    let mut appender = log.appender().unwrap();
    for i in 0..200 {
        assert_eq!(
            appender
                .append(vec![event("t", 100 + i, 0), event("t", 100 + i, 1)])
                .unwrap(),
            2
        );
    }
    let records = read_all(&log, 0, 0);
    let events: Vec<_> = records.iter().flat_map(|r| r.events.iter()).collect();
    assert_eq!(events.len(), 400);
    assert!(events.windows(2).all(|w| w[0].pos < w[1].pos));
    let segments = std::fs::read_dir(dir.path().join("shard-0000"))
        .unwrap()
        .count();
    assert!(segments > 2, "expected rolled segments, got {segments}");
    // A reader can start at any record boundary.
    let tail = read_all(&log, 0, records[150].offset);
    assert_eq!(tail.len(), 50);
    assert_eq!(tail[0].events, records[150].events);
}

#[test]
fn replayed_events_are_dropped_per_shard() {
    let dir = tempfile::tempdir().unwrap();
    let log = LocalLog::open(&config(dir.path(), 4, 1 << 20)).unwrap();
    let mut appender = log.appender().unwrap();
    let batch: Vec<_> = (0..20)
        .map(|i| event(&format!("t{}", i % 5), 10 + i, 0))
        .collect();
    assert_eq!(appender.append(batch.clone()).unwrap(), 20);
    drop(appender);
    // Reopen (as after a crash) and replay an overlapping range: only new events are kept.
    let log = LocalLog::open(&config(dir.path(), 4, 1 << 20)).unwrap();
    let mut appender = log.appender().unwrap();
    let replay: Vec<_> = (0..25)
        .map(|i| event(&format!("t{}", i % 5), 10 + i, 0))
        .collect();
    assert_eq!(appender.append(replay).unwrap(), 5);
    let total: usize = (0..4)
        .map(|s| {
            read_all(&log, s, 0)
                .iter()
                .map(|r| r.events.len())
                .sum::<usize>()
        })
        .sum();
    assert_eq!(total, 25);
}

#[test]
fn torn_tail_is_truncated_on_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let log = LocalLog::open(&config(dir.path(), 1, 1 << 20)).unwrap();
    let mut appender = log.appender().unwrap();
    appender.append(vec![event("t", 1, 0)]).unwrap();
    drop(appender);
    let segment = dir.path().join("shard-0000").join(format!("{:020}.seg", 0));
    let good_len = std::fs::metadata(&segment).unwrap().len();
    // A crash in the middle of writing the next record.
    let mut file = OpenOptions::new().append(true).open(&segment).unwrap();
    file.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, 9, 9]).unwrap();
    drop(file);

    let log = LocalLog::open(&config(dir.path(), 1, 1 << 20)).unwrap();
    let mut appender = log.appender().unwrap();
    assert_eq!(std::fs::metadata(&segment).unwrap().len(), good_len);
    appender.append(vec![event("t", 2, 0)]).unwrap();
    let records = read_all(&log, 0, 0);
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].events[0].pos.offset, 2);
}

#[test]
fn corrupt_record_before_the_end_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = LocalLog::open(&config(dir.path(), 1, 1 << 20)).unwrap();
    let mut appender = log.appender().unwrap();
    appender.append(vec![event("t", 1, 0)]).unwrap();
    appender.append(vec![event("t", 2, 0)]).unwrap();
    let segment = dir.path().join("shard-0000").join(format!("{:020}.seg", 0));
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes[12] ^= 0xFF; // inside the first payload
    std::fs::write(&segment, bytes).unwrap();
    let err = log.reader(0, 0).read(1 << 20).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("offset 0") && text.contains("CRC"), "{text}");
}

#[test]
fn second_appender_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = LocalLog::open(&config(dir.path(), 1, 1 << 20)).unwrap();
    let _appender = log.appender().unwrap();
    let other = LocalLog::open(&config(dir.path(), 1, 1 << 20)).unwrap();
    let err = other.appender().unwrap_err();
    assert!(err.to_string().contains("another wproc process"), "{err}");
}

#[test]
fn shard_count_is_fixed_at_creation() {
    let dir = tempfile::tempdir().unwrap();
    LocalLog::open(&config(dir.path(), 2, 1 << 20)).unwrap();
    let err = LocalLog::open(&config(dir.path(), 3, 1 << 20)).unwrap_err();
    assert!(matches!(
        err,
        LocalLogError::ShardMismatch {
            found: 2,
            configured: 3,
            ..
        }
    ));
}

#[test]
fn checkpoints_persist_and_consumed_segments_are_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let log = LocalLog::open(&config(dir.path(), 1, 4096)).unwrap();
    assert_eq!(log.capture_checkpoint().unwrap(), None);
    let cp = SourceCheckpoint {
        binlog: BinlogPosition::new("bin.000002", 77),
        gtid: None,
    };
    log.write_capture_checkpoint(&cp).unwrap();
    assert_eq!(log.capture_checkpoint().unwrap(), Some(cp));

    let mut appender = log.appender().unwrap();
    for i in 0..200 {
        appender.append(vec![event("t", 100 + i, 0)]).unwrap();
    }
    let shard_dir = dir.path().join("shard-0000");
    let before = std::fs::read_dir(&shard_dir).unwrap().count();
    let records = read_all(&log, 0, 0);
    let end = records.last().unwrap().next;
    assert_eq!(log.committed("g", 0).unwrap(), 0);
    log.commit("g", 0, end).unwrap();
    assert_eq!(log.committed("g", 0).unwrap(), end);
    let after = std::fs::read_dir(&shard_dir).unwrap().count();
    assert!(
        after == 2 && before > 2,
        "segments before {before}, after {after}"
    );
    // Reading from the committed offset still works after the deletion.
    appender.append(vec![event("t", 1000, 0)]).unwrap();
    assert_eq!(read_all(&log, 0, end).len(), 1);
}
