//! End to end on the embedded defaults: a real MariaDB (started by tests/harness/mariadb.sh),
//! `wproc run` as a child process, the local log and the files sink.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use wproc_tests::{
    Lcg, MariaDb, Workspace, position_key, read_output, rebuild_state, row_events, sigterm,
    wait_until,
};

const TYPES_TABLE: &str = "CREATE TABLE types (
    id BIGINT PRIMARY KEY, i INT, s VARCHAR(64), d DECIMAL(12,2), dt DATETIME(3), dbl DOUBLE,
    tx TEXT, tu TINYINT UNSIGNED, dd DATE, ts TIMESTAMP(6) NULL, bu BIGINT UNSIGNED,
    mi MEDIUMINT, tm TIME(4), b VARBINARY(16))";

/// A private MariaDB with `setup` statements run, a wproc workspace reading it, a runtime and
/// a pool for the test's own SQL.
fn start(
    setup: &[String],
) -> (
    MariaDb,
    Workspace,
    tokio::runtime::Runtime,
    mysql_async::Pool,
) {
    let db = MariaDb::start().unwrap();
    let ws = Workspace::new(&db).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pool = db.pool();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        for statement in setup {
            conn.query_drop(statement.as_str()).await.unwrap();
        }
    });
    (db, ws, rt, pool)
}

/// Converts one canonical JSON value to the text MariaDB prints for it, for comparison with
/// `SELECT CAST(col AS CHAR)`.
fn as_server_text(column: &str, v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) if column == "ts" => Some(s.trim_end_matches('Z').replacen('T', " ", 1)),
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => {
            let b64 = o.get("base64")?.as_str()?;
            Some(hex_of_base64(b64))
        }
        other => Some(other.to_string()),
    }
}

fn hex_of_base64(b64: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = String::new();
    for c in b64.bytes().filter(|c| *c != b'=') {
        let v = ALPHABET.iter().position(|a| *a == c).unwrap() as u32;
        bits = bits << 6 | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push_str(&format!("{:02X}", (bits >> nbits) & 0xFF));
        }
    }
    out
}

#[test]
fn rows_land_as_typed_json_lines() {
    let (_db, ws, rt, pool) = start(&[TYPES_TABLE.to_owned()]);
    let mut child = ws.spawn_run().unwrap();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        conn.query_drop(
            "INSERT INTO types VALUES
             (1, -2147483648, 'héllo ☃ \"q\"', -12345.67, '2024-02-29 23:59:58.123', 0.1,
              'text\nline', 255, '2024-01-02', '2038-01-19 03:14:07.999999',
              18446744073709551615, -8388608, '-838:59:59.0001', x'00FF10'),
             (2, 7, '', 0.05, '1000-01-01 00:00:00.000', -1.5e300, NULL, 0, '9999-12-31',
              '1970-01-01 00:00:01', 0, 8388607, '00:00:00', x''),
             (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
        )
        .await
        .unwrap();
        conn.query_drop("UPDATE types SET s = 'changed', d = 99.99 WHERE id = 2")
            .await
            .unwrap();
        conn.query_drop("DELETE FROM types WHERE id = 3")
            .await
            .unwrap();
    });
    let out = ws.out();
    let landed = wait_until(Duration::from_secs(30), || {
        row_events(&out, "types")
            .map(|e| e.len() >= 5)
            .unwrap_or(false)
    });
    assert!(landed, "rows did not land; wproc log:\n{}", ws.log());
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "wproc exited with {status}; log:\n{}",
        ws.log()
    );

    let events = row_events(&out, "types").unwrap();
    let ops: Vec<&str> = events.iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["insert", "insert", "insert", "update", "delete"]);

    // The exact line for the first row, every type in its canonical form.
    let first = &events[0];
    assert_eq!(first["db"], "wproc_test");
    assert_eq!(first["before"], Value::Null);
    assert_eq!(
        first["after"],
        json!({
            "id": 1, "i": -2147483648i64, "s": "héllo ☃ \"q\"", "d": "-12345.67",
            "dt": "2024-02-29 23:59:58.123", "dbl": 0.1, "tx": "text\nline", "tu": 255,
            "dd": "2024-01-02", "ts": "2038-01-19T03:14:07.999999Z",
            "bu": 18446744073709551615u64, "mi": -8388608, "tm": "-838:59:59.0001",
            "b": {"base64": "AP8Q"}
        })
    );
    assert!(
        first["pos"]["file"]
            .as_str()
            .unwrap()
            .starts_with("mariadb-bin.")
    );
    assert!(first["pos"]["gtid"].as_str().unwrap().starts_with("0-101-"));
    assert!(first["ts_ms"].as_u64().unwrap() > 1_700_000_000_000);
    let update = &events[3];
    assert_eq!(update["before"]["s"], "");
    assert_eq!(update["after"]["s"], "changed");
    assert_eq!(update["after"]["d"], "99.99");
    assert_eq!(events[4]["before"]["id"], 3);
    assert_eq!(events[4]["after"], Value::Null);

    // The state rebuilt from the files equals the table in MariaDB, column by column.
    let state = rebuild_state(&events);
    let columns = [
        "id", "i", "s", "d", "dt", "dbl", "tx", "tu", "dd", "ts", "bu", "mi", "tm", "b",
    ];
    let select = columns
        .iter()
        .map(|c| match *c {
            "b" => "HEX(b)".to_owned(),
            "dbl" => "dbl".to_owned(),
            c => format!("CAST({c} AS CHAR)"),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<mysql_async::Row> = rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        conn.query(format!("SELECT {select} FROM types ORDER BY id"))
            .await
            .unwrap()
    });
    assert_eq!(rows.len(), state.len());
    for row in rows {
        let id: i64 = row.get::<String, _>(0).unwrap().parse().unwrap();
        let ours = &state[&("types".to_owned(), id)];
        for (i, column) in columns.iter().enumerate() {
            if *column == "dbl" {
                let server: Option<f64> = row.get(i).unwrap();
                assert_eq!(server, ours[*column].as_f64(), "row {id} column dbl");
                continue;
            }
            let server: Option<String> = row.get(i).unwrap();
            assert_eq!(
                server,
                as_server_text(column, &ours[*column]),
                "row {id} column {column}"
            );
        }
    }
    drop(pool);
}

#[test]
fn sigkill_and_restart_lose_and_duplicate_nothing() {
    let tables: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|t| format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, v VARCHAR(32), n INT)"))
        .collect();
    let (_db, ws, rt, pool) = start(&tables);

    let writer_pool = pool.clone();
    let writer = rt.spawn(async move {
        let mut conn = writer_pool.get_conn().await.unwrap();
        let mut expected: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
        for tx in 0..300i64 {
            let table = ["a", "b", "c"][tx as usize % 3];
            let counts = expected.entry(table).or_default();
            let mut t = conn.start_transaction(Default::default()).await.unwrap();
            for k in 0..5 {
                let id = tx * 10 + k;
                t.exec_drop(
                    format!("INSERT INTO {table} VALUES (?, ?, ?)"),
                    (id, format!("v{id}"), id % 7),
                )
                .await
                .unwrap();
                counts[0] += 1;
            }
            if tx >= 3 && tx % 4 == 0 {
                let old = (tx - 3) * 10;
                t.exec_drop(
                    format!("UPDATE {table} SET n = n + 100 WHERE id = ?"),
                    (old,),
                )
                .await
                .unwrap();
                counts[1] += 1;
                t.exec_drop(format!("DELETE FROM {table} WHERE id = ?"), (old + 1,))
                    .await
                    .unwrap();
                counts[2] += 1;
            }
            t.commit().await.unwrap();
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        expected
    });

    let mut rng = Lcg::new(std::process::id() as u64);
    let mut child = ws.spawn_run().unwrap();
    let mut kills = 0;
    while !writer.is_finished() || kills < 3 {
        std::thread::sleep(Duration::from_millis(300 + rng.next(900)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        child = ws.spawn_run().unwrap();
    }
    let expected = rt.block_on(writer).unwrap();
    // Another kill right after the load stopped, then let it catch up.
    std::thread::sleep(Duration::from_millis(rng.next(500)));
    child.kill().unwrap();
    child.wait().unwrap();
    child = ws.spawn_run().unwrap();

    let server_state = rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        let mut rows = BTreeMap::new();
        for t in ["a", "b", "c"] {
            let r: Vec<(i64, String, i64)> = conn
                .query(format!("SELECT id, v, n FROM {t}"))
                .await
                .unwrap();
            for (id, v, n) in r {
                rows.insert((t.to_owned(), id), (v, n));
            }
        }
        rows
    });
    let out = ws.out();
    let total: u64 = expected.values().map(|c| c.iter().sum::<u64>()).sum();
    let caught_up = wait_until(Duration::from_secs(60), || {
        let n: usize = read_output(&out)
            .map(|l| l.iter().filter(|(_, v)| v["op"] != "ddl").count())
            .unwrap_or(0);
        n as u64 >= total
    });
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(
        caught_up,
        "output did not catch up after {kills} kills; log:\n{}",
        ws.log()
    );
    assert!(status.success(), "exit {status}; log:\n{}", ws.log());

    let all: Vec<Value> = read_output(&out)
        .unwrap()
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v["op"] != "ddl")
        .collect();
    let unique: HashSet<_> = all.iter().map(position_key).collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "duplicated events after {kills} kills"
    );
    assert_eq!(all.len() as u64, total, "lost events after {kills} kills");
    for (table, [ins, upd, del]) in &expected {
        let count = |op: &str| {
            all.iter()
                .filter(|v| v["table"] == *table && v["op"] == op)
                .count() as u64
        };
        assert_eq!(
            (count("insert"), count("update"), count("delete")),
            (*ins, *upd, *del)
        );
    }
    let mut sorted = all.clone();
    sorted.sort_by_key(position_key);
    let state = rebuild_state(&sorted);
    let rebuilt: BTreeMap<(String, i64), (String, i64)> = state
        .into_iter()
        .map(|(k, row)| {
            (
                k,
                (
                    row["v"].as_str().unwrap().to_owned(),
                    row["n"].as_i64().unwrap(),
                ),
            )
        })
        .collect();
    assert_eq!(rebuilt, server_state);
    let log = ws.log();
    eprintln!(
        "kill/restart: {kills} SIGKILLs, {} events, all exactly once; {} replays deduplicated by \
         the log, {} batches completed by sink recovery, {} checkpoints repaired from the sink",
        all.len(),
        log.matches("already holds").count(),
        log.matches("Completing a batch").count(),
        log.matches("Sink holds a batch past the checkpoint")
            .count(),
    );
    drop(pool);
}
