//! Capture from a live MariaDB through `wproc run`: MariaDB compressed events, MariaDB JSON as
//! JSON (schema tracker), DDL events and schema refresh, filters, GTID start and resume, and a
//! purged position that stops capture with a definite error.

use std::process::Child;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::{Value, json};
use wproc_tests::{MariaDb, Workspace, read_output, row_events, sigterm, wait_until};

/// A workspace whose `wproc.toml` reads `db` with `extra` lines added to `[source.mysql]`.
fn workspace(db: &MariaDb, start: &str, extra: &str) -> Workspace {
    let ws = Workspace::new(db).unwrap();
    let config = format!(
        r#"version = 1
[source.mysql]
host = "127.0.0.1"
port = {port}
user = "wproc"
password = "${{TEST_MYSQL_PASSWORD}}"
start = "{start}"
server_id = 5002
{extra}
[transport.local]
dir = "log"
shards = 1
[sink.files]
dir = "out"
max_wait = "300ms"
"#,
        port = db.port
    );
    std::fs::write(ws.dir.path().join("wproc.toml"), config).unwrap();
    ws
}

fn sql(db: &MariaDb, statements: &[&str]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let pool = db.pool();
    rt.block_on(async {
        let mut conn = pool.get_conn().await.unwrap();
        for s in statements {
            conn.query_drop(*s)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        drop(conn);
        pool.disconnect().await.unwrap();
    });
}

fn stop(ws: &Workspace, mut child: Child) {
    sigterm(&child);
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "wproc exited {status}; log:\n{}",
        ws.log()
    );
}

fn all_events(ws: &Workspace) -> Vec<Value> {
    let mut events: Vec<Value> = read_output(&ws.out())
        .unwrap()
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    events.sort_by_key(wproc_tests::position_key);
    events
}

#[test]
fn compressed_events_json_ddl_and_filters() {
    let db = MariaDb::start_with(&["log_bin_compress=ON", "log_bin_compress_min_len=10"]).unwrap();
    let filter = r#"
[source.mysql.filter]
include = ['wproc_test\..*']
exclude = ['wproc_test\.skip_.*']
delete = false
[[source.mysql.filter.exclude_columns]]
tables = 'wproc_test\.docs'
columns = ['secret']
"#;
    let ws = workspace(&db, "earliest", filter);
    let child = ws.spawn_run().unwrap();
    sql(
        &db,
        &[
            "CREATE TABLE docs (id INT PRIMARY KEY, doc JSON, secret VARCHAR(20), note TEXT)",
            "CREATE TABLE skip_me (id INT PRIMARY KEY)",
            "INSERT INTO skip_me VALUES (1)",
            "INSERT INTO docs VALUES (1, '{\"a\": [1, 2], \"b\": \"☃\"}', 'pw', REPEAT('long text ', 50)),
                                     (2, NULL, 'pw2', 'x')",
            "UPDATE docs SET doc = JSON_SET(doc, '$.c', 3) WHERE id = 1",
            "DELETE FROM docs WHERE id = 2",
            "ALTER TABLE docs ADD COLUMN added BIGINT UNSIGNED AFTER doc",
            "INSERT INTO docs VALUES (3, '[true]', 18446744073709551615, 'pw3', 'y')",
        ],
    );
    let out = ws.out();
    let landed = wait_until(Duration::from_secs(30), || {
        row_events(&out, "docs").is_ok_and(|e| e.len() >= 4)
    });
    assert!(landed, "rows did not land; log:\n{}", ws.log());
    stop(&ws, child);
    // The binlog really holds compressed events (types 165-171).
    let dump = std::process::Command::new("mariadb-binlog")
        .arg(db.binlog_dir().join("mariadb-bin.000001"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&dump.stdout);
    assert!(
        text.contains("Write_compressed_rows") || text.contains("Query_compressed"),
        "expected compressed events in the binlog"
    );

    let events = all_events(&ws);
    assert!(
        events.iter().all(|e| e["table"] != "skip_me"),
        "excluded table"
    );
    let rows: Vec<&Value> = events.iter().filter(|e| e["table"] == "docs").collect();
    let ops: Vec<&str> = rows.iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(
        ops,
        ["ddl", "insert", "insert", "update", "ddl", "insert"],
        "deletes are switched off"
    );
    // MariaDB JSON arrives as JSON values, not strings; the excluded column is gone.
    assert_eq!(rows[1]["after"]["doc"], json!({"a": [1, 2], "b": "☃"}));
    assert!(rows[1]["after"].get("secret").is_none());
    assert_eq!(
        rows[1]["after"]["note"],
        "long text ".repeat(50),
        "compressed row images are inflated"
    );
    assert_eq!(rows[3]["after"]["doc"]["c"], 3);
    // DDL events name their table; after the ALTER the tracked schema still maps the rows.
    assert_eq!(
        rows[4]["sql"],
        "ALTER TABLE docs ADD COLUMN added BIGINT UNSIGNED AFTER doc"
    );
    assert_eq!(rows[5]["after"]["added"], json!(18446744073709551615u64));
    assert_eq!(rows[5]["after"]["doc"], json!([true]));
    // Positions are unique and increasing.
    let keys: Vec<_> = events.iter().map(wproc_tests::position_key).collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
}

#[test]
fn gtid_start_resume_and_purged_position() {
    let db = MariaDb::start().unwrap();
    sql(
        &db,
        &[
            "CREATE TABLE g (id INT PRIMARY KEY)",
            "INSERT INTO g VALUES (1)",
            "INSERT INTO g VALUES (2)",
        ],
    );
    // Start just after the transaction that inserted 1: only 2 and later arrive.
    let gtid = db.root_sql("SELECT @@gtid_binlog_pos").unwrap();
    let last: u64 = gtid.trim().rsplit('-').next().unwrap().parse().unwrap();
    let start = format!("gtid:0-101-{}", last - 1);
    let ws = workspace(&db, &start, "");
    let child = ws.spawn_run().unwrap();
    let out = ws.out();
    assert!(
        wait_until(Duration::from_secs(30), || {
            row_events(&out, "g").is_ok_and(|e| !e.is_empty())
        }),
        "log:\n{}",
        ws.log()
    );
    stop(&ws, child);
    let events = row_events(&out, "g").unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["after"]["id"], 2);
    assert_eq!(events[0]["pos"]["gtid"], format!("0-101-{last}"));
    let checkpoint =
        std::fs::read_to_string(ws.dir.path().join("log/capture.json")).unwrap_or_default();
    assert!(
        checkpoint.contains(&format!("0-101-{last}")),
        "the checkpoint keeps the GTID position: {checkpoint}"
    );

    // Resume by GTID after a binlog switch: the next transaction arrives once.
    sql(&db, &["FLUSH BINARY LOGS", "INSERT INTO g VALUES (3)"]);
    let child = ws.spawn_run().unwrap();
    assert!(
        wait_until(Duration::from_secs(30), || {
            row_events(&out, "g").is_ok_and(|e| e.len() >= 2)
        }),
        "log:\n{}",
        ws.log()
    );
    stop(&ws, child);
    let ids: Vec<i64> = row_events(&out, "g")
        .unwrap()
        .iter()
        .map(|e| e["after"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3]);

    // A file-position workspace, then its position purged: a definite error naming it.
    let ws_file = workspace(&db, "earliest", "");
    let child = ws_file.spawn_run().unwrap();
    let out_file = ws_file.out();
    assert!(wait_until(Duration::from_secs(30), || {
        row_events(&out_file, "g").is_ok_and(|e| e.len() >= 3)
    }));
    stop(&ws_file, child);
    let checkpoint = std::fs::read_to_string(ws_file.dir.path().join("log/capture.json")).unwrap();
    sql(&db, &["FLUSH BINARY LOGS", "FLUSH BINARY LOGS"]);
    let current = db.root_sql("SHOW MASTER STATUS").unwrap();
    let current = current.split_whitespace().next().unwrap().to_owned();
    let position: Value = serde_json::from_str(&checkpoint).unwrap();
    let file = position["binlog"]["file"].as_str().unwrap().to_owned();
    // The server skips files a (just closed) dump thread still holds: retry until it is gone.
    let purged = wait_until(Duration::from_secs(20), || {
        db.root_sql(&format!("PURGE BINARY LOGS TO '{current}'"))
            .unwrap();
        !db.root_sql("SHOW BINARY LOGS").unwrap().contains(&file)
    });
    assert!(purged, "{file} was not purged");
    let mut child = ws_file.spawn_run().unwrap();
    let exited = wait_until(Duration::from_secs(30), || {
        child.try_wait().unwrap().is_some()
    });
    assert!(
        exited,
        "wproc kept running on a purged position; log:\n{}",
        ws_file.log()
    );
    let status = child.wait().unwrap();
    assert!(!status.success());
    let log = ws_file.log();
    let offset = position["binlog"]["offset"].as_u64().unwrap();
    assert!(
        log.contains(&format!("{file}:{offset}")) && log.contains("purged"),
        "the error names the purged position {file}:{offset}; log:\n{log}"
    );
}

#[test]
fn reconnects_when_the_server_drops_the_stream() {
    let db = MariaDb::start().unwrap();
    sql(
        &db,
        &[
            "CREATE TABLE r (id INT PRIMARY KEY)",
            "INSERT INTO r VALUES (1)",
        ],
    );
    let ws = workspace(&db, "earliest", "");
    let child = ws.spawn_run().unwrap();
    let out = ws.out();
    assert!(wait_until(Duration::from_secs(30), || {
        row_events(&out, "r").is_ok_and(|e| e.len() == 1)
    }));
    // Kill the binlog dump thread: capture reconnects from its checkpoint, losing nothing and
    // repeating nothing.
    let threads = db
        .root_sql("SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Binlog Dump'")
        .unwrap();
    assert!(!threads.trim().is_empty(), "no dump thread");
    for id in threads.split_whitespace() {
        db.root_sql(&format!("KILL {id}")).unwrap();
    }
    sql(
        &db,
        &["INSERT INTO r VALUES (2)", "INSERT INTO r VALUES (3)"],
    );
    let landed = wait_until(Duration::from_secs(30), || {
        row_events(&out, "r").is_ok_and(|e| e.len() >= 3)
    });
    stop(&ws, child);
    assert!(landed, "log:\n{}", ws.log());
    let ids: Vec<i64> = row_events(&out, "r")
        .unwrap()
        .iter()
        .map(|e| e["after"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    assert!(ws.log().contains("reconnecting"), "{}", ws.log());
}
