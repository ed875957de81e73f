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

// Regression inputs of the `binlog_file` fuzz target (scripts/fuzz.sh), and synthetic binlogs
// built around a real MySQL 8.0.22 FORMAT_DESCRIPTION (CRC32 checksums).

/// The FORMAT_DESCRIPTION event (header included) of a MySQL 8.0.22 binlog: checksum CRC32.
const FDE_8_0_22: [u8; 121] = [
    0xdc, 0x1d, 0x4f, 0x60, 0x0f, 0x01, 0x00, 0x00, 0x00, 0x79, 0x00, 0x00, 0x00, 0x7d, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x04, 0x00, 0x38, 0x2e, 0x30, 0x2e, 0x32, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xdc, 0x1d, 0x4f, 0x60, 0x13, 0x00, 0x0d, 0x00, 0x08,
    0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00, 0x00, 0x00, 0x61, 0x00, 0x04, 0x1a, 0x08, 0x00,
    0x00, 0x00, 0x08, 0x08, 0x08, 0x02, 0x00, 0x00, 0x00, 0x0a, 0x0a, 0x0a, 0x2a, 0x2a, 0x00, 0x12,
    0x34, 0x00, 0x0a, 0x28, 0x01, 0xb4, 0x9e, 0xea, 0x21,
];

/// A binlog file: the magic, [`FDE_8_0_22`], then each `(type, body)` as an event with a correct
/// size and end position and a (zero) checksum.
fn binlog(events: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FDE_8_0_22);
    for (type_code, body) in events {
        let size = (EVENT_HEADER_LEN + body.len() + CHECKSUM_LEN) as u32;
        out.extend_from_slice(&event_header(*type_code, size, out.len() as u32 + size));
        out.extend_from_slice(body);
        out.extend_from_slice(&[0; CHECKSUM_LEN]);
    }
    out
}

fn event_header(type_code: u8, size: u32, log_pos: u32) -> Vec<u8> {
    let mut header = vec![0, 0, 0, 0, type_code, 1, 0, 0, 0];
    header.extend_from_slice(&size.to_le_bytes());
    header.extend_from_slice(&log_pos.to_le_bytes());
    header.extend_from_slice(&[0, 0]);
    header
}

/// A TABLE_MAP (table id 7, `d.t`) with the given column types and no metadata.
fn table_map(types: &[u8]) -> (u8, Vec<u8>) {
    let mut body = vec![7, 0, 0, 0, 0, 0, 1, 0, 1, b'd', 0, 1, b't', 0];
    body.push(types.len() as u8);
    body.extend_from_slice(types);
    body.push(0);
    body.extend(std::iter::repeat_n(0xff, types.len().div_ceil(8)));
    (19, body)
}

/// A WRITE_ROWS (v2) event for table id 7: `columns` columns, present bitmap, then `rows`.
fn write_rows(columns: u8, present: &[u8], rows: &[u8]) -> (u8, Vec<u8>) {
    let mut body = vec![7, 0, 0, 0, 0, 0, 1, 0, 2, 0, columns];
    body.extend_from_slice(present);
    body.extend_from_slice(rows);
    (30, body)
}

#[test]
fn synthetic_binlogs_decode() {
    // One INT column, all present, one row: null bitmap then 4 bytes.
    let bytes = binlog(&[
        table_map(&[3]),
        write_rows(1, &[0x01], &[0x00, 42, 0, 0, 0]),
        (16, vec![1, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    assert_eq!(
        decode_bytes(&bytes).unwrap(),
        DumpStats {
            events: 4,
            changes: 1
        }
    );
}

/// Fuzzing (OOM): a rows event whose image has no columns consumes no bytes per row, and the
/// row loop pushed empty rows until the allocation limit. Found with a TABLE_MAP whose column
/// count had been zeroed; an all-clear column bitmap does the same.
#[test]
fn rows_without_columns_are_an_error_not_an_endless_loop() {
    for events in [
        vec![table_map(&[]), write_rows(0, &[], &[0x01, 0x02, 0x03])],
        vec![
            table_map(&[3]),
            write_rows(1, &[0x00], &[0x00, 42, 0, 0, 0]),
        ],
    ] {
        let error = decode_bytes(&binlog(&events)).unwrap_err().to_string();
        assert!(error.contains("row image has no columns"), "{error}");
    }
}

/// Fuzzing (panic, minimized): after a FORMAT_DESCRIPTION naming a checksum algorithm (here an
/// unknown one, 0x1e), a 20-byte event has a 1-byte body; `mysql_common` cut its 4-byte
/// checksum off with an overflowing subtraction.
#[test]
fn event_shorter_than_its_checksum_is_an_error() {
    const FUZZ_PANIC: [u8; 146] = [
        0xfe, 0x62, 0x69, 0x6e, 0xdc, 0x1d, 0x4f, 0x60, 0x0f, 0x01, 0x00, 0x00, 0x00, 0x79, 0x00,
        0x00, 0x00, 0x7d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x38, 0x2e, 0x30, 0x2e, 0x32,
        0x32, 0x00, 0x00, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xdc, 0x1d, 0x4f, 0x60, 0x13, 0x04, 0xff, 0x00, 0x04, 0x00, 0x00, 0x00, 0x34, 0x00, 0x00,
        0x00, 0x00, 0x03, 0x00, 0x33, 0x00, 0x19, 0x00, 0x03, 0xff, 0xff, 0xff, 0x3f, 0x00, 0x20,
        0x00, 0x04, 0x00, 0x05, 0x18, 0x00, 0x52, 0xad, 0x71, 0x6c, 0x00, 0x42, 0x45, 0x47, 0x49,
        0x1e, 0x01, 0x00, 0x00, 0x00, 0xf7, 0x00, 0x00, 0x00, 0x36, 0x09, 0x00, 0x00, 0x00, 0x14,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x52, 0xad,
    ];
    let error = decode_bytes(&FUZZ_PANIC).unwrap_err().to_string();
    assert!(error.contains("checksum"), "{error}");
    // The same with the CRC32 FORMAT_DESCRIPTION and an empty body.
    let mut bytes = binlog(&[]);
    bytes.extend_from_slice(&event_header(16, 19, bytes.len() as u32 + 19));
    let error = decode_bytes(&bytes).unwrap_err().to_string();
    assert!(error.contains("checksum"), "{error}");
}

/// A TRANSACTION_PAYLOAD event: compression, declared uncompressed size, then `payload`.
fn transaction_payload(compression: &[u8], uncompressed: u64, payload: &[u8]) -> (u8, Vec<u8>) {
    let mut body = vec![0x02, compression.len() as u8];
    body.extend_from_slice(compression);
    body.extend_from_slice(&[0x03, 9, 0xfe]);
    body.extend_from_slice(&uncompressed.to_le_bytes());
    body.extend_from_slice(&[0x01, 9, 0xfe]);
    body.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    body.push(0x00);
    body.extend_from_slice(payload);
    (40, body)
}

/// An inner event of a compressed transaction: no position, no checksum.
fn inner_event(type_code: u8, body: &[u8]) -> Vec<u8> {
    let mut event = event_header(type_code, (EVENT_HEADER_LEN + body.len()) as u32, 0);
    event.extend_from_slice(body);
    event
}

/// `danger_decompress` allocated the declared uncompressed size whole (a terabyte here), and
/// `Event::read` allocated an inner event's declared size and unwrapped the short read.
#[test]
fn compressed_transaction_sizes_are_not_trusted() {
    const ZSTD: &[u8] = &[0];
    const NONE: &[u8] = &[0xfc, 0xff, 0x00];
    let xid = inner_event(16, &[1, 0, 0, 0, 0, 0, 0, 0]);
    let zstd = zstd::bulk::compress(&xid, 1).unwrap();
    let stats = decode_bytes(&binlog(&[transaction_payload(ZSTD, 1 << 40, &zstd)])).unwrap();
    assert_eq!(stats.events, 2);
    // An inner event declaring 1000 bytes of which 27 are there.
    let mut cut = event_header(16, 1000, 0);
    cut.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
    for compression in [NONE, ZSTD] {
        let payload = if compression == NONE {
            cut.clone()
        } else {
            zstd::bulk::compress(&cut, 1).unwrap()
        };
        let bytes = binlog(&[transaction_payload(compression, 1000, &payload)]);
        let error = decode_bytes(&bytes).unwrap_err().to_string();
        assert!(
            error.contains("compressed transaction: truncated event"),
            "{error}"
        );
    }
    // Corrupt zstd data is an error too.
    let bytes = binlog(&[transaction_payload(ZSTD, 27, b"not zstd")]);
    assert!(decode_bytes(&bytes).is_err());
    // An unknown compression type, which the parser unwraps.
    let bytes = binlog(&[transaction_payload(&[7], 27, &xid)]);
    let error = decode_bytes(&bytes).unwrap_err().to_string();
    assert!(error.contains("compression type 7"), "{error}");
}

/// Every crashing input the fuzz target found (fuzz/regressions/binlog_file/) decodes to an
/// error now, without a panic, an abort or an unbounded allocation.
#[test]
fn fuzz_regressions_are_errors() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/binlog_file");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(decode_bytes(&bytes).is_err(), "{} decodes", path.display());
        count += 1;
    }
    assert!(count >= 3, "{count} regressions in {}", dir.display());
}
