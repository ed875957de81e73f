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

/// The JSON Lines of every change event in a fixture.
fn lines(name: &str) -> Vec<serde_json::Value> {
    let (result, events) = dump(name);
    result.unwrap_or_else(|e| panic!("{name}: {e}"));
    events
        .iter()
        .filter(|e| e.op != crate::event::Op::Ddl)
        .map(|e| serde_json::from_str(&crate::event::jsonl::to_line(e)).unwrap())
        .collect()
}

#[test]
fn mysql_fixtures_decode_to_their_known_contents() {
    use serde_json::json;
    if fixtures_root().is_none() {
        return;
    }
    // MySQL 9.0 JSON opaque values (the crate's own test lists them).
    let json: Vec<_> = lines("json-opaque.binlog")
        .into_iter()
        .map(|e| e["after"]["a"].clone())
        .collect();
    assert_eq!(
        json,
        [
            json!({"a": "base64:type15:VQ=="}),
            json!({"b": "2012-03-18"}),
            json!({"c": "2012-03-18 11:30:45.000000"}),
            json!({"c": "87:31:46.654321"}),
            json!({"d": "123.456"}),
            json!({"e": "9.00"}),
            json!({"e": [0, 1, true, false]}),
            json!({"e": null}),
        ]
    );
    // MySQL 9.0 VECTOR(3): three little-endian f32 (1.1, 2.2, 3.3).
    let vector = &lines("vector.binlog")[0];
    assert_eq!(vector["after"]["id"], 1);
    assert_eq!(
        vector["after"]["vector_column"]["base64"],
        "zcyMP83MDEAzM1NA"
    );
    // ENUM and SET labels from the optional metadata.
    let enums = lines("mysql-enum-string-set.000001");
    let deleted = &enums.last().unwrap()["before"];
    assert_eq!(deleted["f1"], "field1");
    assert_eq!(deleted["f2"], "field_2");
    assert_eq!(deleted["f3"], "variant2");
    assert_eq!(deleted["f4"], "two,four");
    // MINIMAL row image and metadata: the logged columns only, unsigned INT intact.
    let minimal = &lines("minimal_row_metadata.000001")[0]["after"];
    assert_eq!(minimal, &json!({"@1": 1, "@3": "a", "@5": 3230202323u64}));
    // TIME with days (MySQL prints -507:48:27).
    assert_eq!(lines("time_issue.000001")[0]["after"]["@1"], "-507:48:27");
    // MySQL 8 compressed transaction: the inner row has the payload's position.
    let compressed = lines("transaction_compression.000001");
    assert_eq!(compressed.len(), 1);
    assert_eq!(compressed[0]["after"]["@1"], 1);
    assert_eq!(compressed[0]["pos"]["offset"], 274);
    // Tagged and untagged MySQL GTIDs.
    let tagged = lines("binlog_transaction_with_GTID_TAG.000001");
    assert!(
        tagged[0]["pos"]["gtid"].as_str().unwrap().contains(':'),
        "{}",
        tagged[0]
    );
}

/// MySQL 8.0.22 `json.binlog.000001`: table `mysql.t(id INT PRIMARY KEY, json_col JSON,
/// name VARCHAR(100) AS (json_col->>'$.name'), age INT AS (json_col->'$.age'))`, six inserts,
/// a full-image UPDATE_ROWS setting age + 1, then (binlog_row_image=MINIMAL,
/// PARTIAL_JSON) a PARTIAL_UPDATE_ROWS at 3750 setting age + 1 again: before images log `id`
/// only, after images the JSON diff `REPLACE $.age` and the generated columns. The values are
/// those mysql_common's own `BinlogRow` decoding gives for the file.
#[test]
fn json_fixture_decodes_partial_json_updates() {
    use crate::event::Value;
    use serde_json::json;
    if fixtures_root().is_none() {
        return;
    }
    let (result, events) = dump("json.binlog.000001");
    let stats = result.unwrap();
    assert_eq!((stats.events, stats.changes), (36, 19));
    let rows = lines("json.binlog.000001");
    assert_eq!(rows.len(), 18);
    let ops: Vec<&str> = rows.iter().map(|r| r["op"].as_str().unwrap()).collect();
    assert_eq!(ops, [["insert"; 6], ["update"; 6], ["update"; 6]].concat());
    let people = [("Joe", 24, 'x'), ("Sue", 32, 'y'), ("Pete", 40, 'z')];
    for (i, row) in rows[..6].iter().enumerate() {
        let (name, age, c) = people[i % 3];
        assert_eq!(
            row["after"],
            json!({"@1": i + 1, "@2": {"age": age, "data": c.to_string().repeat(10), "name": name},
                   "@3": name, "@4": age}),
            "insert {i}"
        );
        assert_eq!(row["before"], json!(null));
    }
    // UPDATE_ROWS at 2612 (full images): age + 1 in the document and the generated column.
    for (i, row) in rows[6..12].iter().enumerate() {
        let (name, age, c) = people[i % 3];
        let data = c.to_string().repeat(10);
        assert_eq!(row["pos"]["offset"], 2612);
        assert_eq!(
            row["before"],
            json!({"@1": i + 1, "@2": {"age": age, "data": data, "name": name}, "@3": name, "@4": age})
        );
        assert_eq!(
            row["after"],
            json!({"@1": i + 1, "@2": {"age": age + 1, "data": data, "name": name}, "@3": name,
                   "@4": age + 1})
        );
    }
    // PARTIAL_UPDATE_ROWS at 3750 (MINIMAL): different columns in the two images, the JSON
    // change as the mysqlbinlog expression since the before image has no document.
    for (i, row) in rows[12..].iter().enumerate() {
        let (name, age, _) = people[i % 3];
        assert_eq!(row["pos"]["offset"], 3750);
        assert_eq!(row["pos"]["row"], i);
        assert_eq!(row["before"], json!({"@1": i + 1}));
        assert_eq!(
            row["after"],
            json!({"@2": format!("JSON_REPLACE(@2, '$.age', {})", age + 2), "@3": name,
                   "@4": age + 2})
        );
    }
    // In the events themselves: the union of the columns, Absent where an image lacks one.
    let partial = events.iter().find(|e| e.pos.offset == 3750).unwrap();
    let names: Vec<&str> = partial.columns.iter().map(|c| &*c.name).collect();
    assert_eq!(names, ["@1", "@2", "@3", "@4"]);
    assert_eq!(
        partial.before.as_deref().unwrap(),
        [Value::Int(1), Value::Absent, Value::Absent, Value::Absent]
    );
    assert_eq!(
        partial.after.as_deref().unwrap(),
        [
            Value::Absent,
            Value::Json(r#""JSON_REPLACE(@2, '$.age', 26)""#.into()),
            Value::String("Joe".into()),
            Value::Int(26),
        ]
    );
}

#[test]
fn positions_are_unique_and_increasing_in_every_fixture() {
    if fixtures_root().is_none() {
        return;
    }
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        // Relay logs carry their source's positions, which repeat after a reconnect.
        if path.to_string_lossy().contains("relay") {
            continue;
        }
        let mut events = Vec::new();
        let _ = dump_file(&path, |e| events.push(e.pos.clone()));
        // Relay logs and multi-server files restart their positions at each ROTATE; the
        // order holds within one source file.
        for pair in events.windows(2) {
            if pair[0].file == pair[1].file {
                assert!(
                    pair[0] < pair[1],
                    "{}: {} then {}",
                    path.display(),
                    pair[0],
                    pair[1]
                );
            }
        }
    }
}

#[test]
fn decode_bytes_never_panics_on_cut_or_flipped_input() {
    if fixtures_root().is_none() {
        return;
    }
    let bytes = std::fs::read(fixtures().join("json.binlog.000001")).unwrap();
    for cut in (0..bytes.len()).step_by(7) {
        let _ = decode_bytes(&bytes[..cut]);
    }
    let mut flipped = bytes.clone();
    for i in (4..flipped.len()).step_by(13) {
        flipped[i] ^= 0x5A;
        let _ = decode_bytes(&flipped);
        flipped[i] ^= 0x5A;
    }
}
